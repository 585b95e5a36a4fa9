/**
 * Every newly analyzed (or imported) image evaluated against its account's active bundle (issue 19
 * item 6): in `lading serve` through a durable `evaluate` job run by a worker shortly after the
 * analysis is stored (below), elsewhere right away, so the dashboard and the image list show a verdict instead of "not
 * evaluated". The same path as a user's check (services/check.ts checkImage, stored through
 * store/policies.ts, whose evaluationStored event sets the summary row's verdict). Tags with an
 * active policy_eval subscription are left to the watcher's evaluation after analysis
 * (services/watch.ts afterAnalysis), which also announces a changed result.
 */
import type { Job, JobQueue } from '../queue/queue.js';
import { PermanentJobError, type JobHandler } from '../queue/worker.js';
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

/**
 * The durable form (config analysis.auto_evaluate in `lading serve`): the storing transaction
 * enqueues an `evaluate` job (services/root.ts), so the request that stored the analysis answers
 * at once, and a worker (role worker, or the embedded one of role all) evaluates it shortly after.
 * One unfinished job per image: a second analysis while one is queued joins it.
 */
export const EVALUATE_JOB = 'evaluate';

export interface EvaluatePayload { account: string; imageDigest: string }

/** Add the evaluation of an image to the queue (a queue bound to the storing transaction makes it part of it). */
export async function enqueueEvaluation(queue: JobQueue, account: string, imageDigest: string): Promise<void> {
  await queue.enqueue<EvaluatePayload>(EVALUATE_JOB, { account, imageDigest }, { key: `${account}/${imageDigest}` });
}

function payloadOf(job: Job<unknown>): EvaluatePayload {
  const p = job.payload as Partial<EvaluatePayload> | null;
  if (!p || typeof p.account !== 'string' || typeof p.imageDigest !== 'string') {
    throw new PermanentJobError(`evaluate job ${job.id}: its payload is not {account, imageDigest}: ${JSON.stringify(p)}`);
  }
  return { account: p.account, imageDigest: p.imageDigest };
}

/**
 * The worker's handler of `evaluate` jobs. An analysis stored again while the job ran (its
 * analyzed_at moved; the running job held the key, so none was queued) is evaluated again.
 */
export function evaluateHandler(deps: AutoEvaluateDeps): JobHandler {
  return async (job) => {
    const { account, imageDigest } = payloadOf(job);
    let stored = 0;
    for (let round = 0; round < 3; round++) {
      const before = (await deps.catalog.getImage(account, imageDigest))?.analyzedAt;
      stored += await evaluateAnalyzed(deps, account, imageDigest);
      if ((await deps.catalog.getImage(account, imageDigest))?.analyzedAt === before) break;
    }
    return { evaluations: stored };
  };
}
