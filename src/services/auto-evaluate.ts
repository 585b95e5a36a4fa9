/**
 * Every newly analyzed (or imported) image evaluated against its account's active bundle right
 * away (issue 19 item 6), so the dashboard and the image list show a verdict instead of "not
 * evaluated". The same path as a user's check (services/check.ts checkImage, stored through
 * store/policies.ts, whose evaluationStored event sets the summary row's verdict). Tags with an
 * active policy_eval subscription are left to the watcher's evaluation after analysis
 * (services/watch.ts afterAnalysis), which also announces a changed result.
 */
import type { Sbom } from '../sbom/model.js';
import type { CatalogStore } from '../store/catalog.js';
import type { PolicyStore } from '../store/policies.js';
import { checkImage } from './check.js';
import type { VulnReports } from './reports.js';

export interface AutoEvaluateDeps {
  catalog: CatalogStore;
  policies: PolicyStore;
  reports: VulnReports;
  /** Tags evaluated elsewhere after analysis (an active policy_eval subscription); default none. */
  evaluatedElsewhere?: (account: string, fulltag: string) => Promise<boolean>;
}

/** Evaluate the analyzed image for each of its tags and store the evaluations; how many were stored. */
export async function evaluateAnalyzed(deps: AutoEvaluateDeps, account: string, imageDigest: string, sbom?: Sbom): Promise<number> {
  const image = await deps.catalog.getImage(account, imageDigest);
  if (!image || image.analysisStatus !== 'analyzed') return 0;
  const doc = sbom ?? await deps.catalog.getSbom(account, imageDigest);
  if (!doc) return 0;
  const scan = await deps.reports.scan({ account, imageDigest, ...(image.analyzedAt ? { analyzedAt: image.analyzedAt } : {}) }, async () => doc);
  let stored = 0;
  for (const { fulltag } of image.tags) {
    if (await deps.evaluatedElsewhere?.(account, fulltag)) continue;
    await checkImage(deps.policies, account, { imageDigest, tag: fulltag, sbom: doc, scan });
    stored++;
  }
  return stored;
}
