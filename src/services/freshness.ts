/**
 * Keeping every stored image's findings current with the vulnerability data (issue 15), over the
 * set-based engine (store/findings.ts):
 * - `rematchFindings`: after any data change (the service's sync, `lading db import` from another
 *   process, a feed deleted), re-match the changed package variants and, in each batch's own
 *   transaction, move the counts of the engine and of the summary rows (the image list and
 *   dashboard) by difference, rebuild the changed images' finding pairs, and write the outbox set-based
 *   (the batch's change set and one row per image holding a changed variant); then deliver the
 *   outbox (services/finding-changes.ts: vuln_update events and notifications first, then the
 *   policy re-evaluations and policy_eval flips), with any rows an earlier run left when its
 *   process died after the commit;
 * - `indexMissingImages`: images analyzed before the engine existed get their rows, page after
 *   page until none is left.
 */
import { analyzedImagesAfter, sameAnalysis } from '../store/catalog-queries.js';
import type { FindingsRematchResult } from '../store/findings.js';
import type { DeliveryResult } from './finding-changes.js';
import type { ImageStores } from './root.js';

type Stores = Pick<ImageStores, 'db' | 'catalog' | 'findings' | 'summaries' | 'changes'>;

export interface RematchFindingsOptions {
  /** For the crash test: called once the re-match committed, before its outbox is delivered. */
  afterCommit?: () => Promise<void>;
  signal?: AbortSignal;
  /** Told when every vuln_update announcement is queued, then when every verdict is current (the bench's marks). */
  onProgress?: (phase: 'announced' | 'evaluated') => void;
}

/** Re-match what changed since the engine's cursor (its outbox rows written in its transactions); then deliver the outbox. */
export async function rematchFindings(stores: Stores, options: RematchFindingsOptions = {}): Promise<FindingsRematchResult & DeliveryResult> {
  const r = await stores.findings.rematch({ summaries: true, onChangeSet: async (trx, batch) => { await stores.changes.recordChangeSet(trx, batch); } });
  await options.afterCommit?.();
  const d = await stores.changes.deliver({ ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  return { ...r, ...d };
}

/**
 * Give every analyzed image the engine has no rows for (stored before it) its findings and
 * counts, `page` images per read, until none is left (or `signal` aborts); how many.
 */
export async function indexMissingImages(stores: Stores, options: { page?: number; signal?: AbortSignal } = {}): Promise<number> {
  const { db, findings } = stores;
  const page = options.page ?? 500;
  let indexed = 0;
  let after: { account: string; digest: string } | undefined;
  while (!options.signal?.aborted) {
    // Keyset paging over the analyzed images; an image that cannot be indexed (no stored SBOM) is not read again.
    const rows = await analyzedImagesAfter(db.kysely, after && { account: after.account, image_digest: after.digest }, page);
    const indexedAlready = await findings.indexedImages(rows);
    for (const r of rows) if (!indexedAlready.has(`${r.account}\0${r.image_digest}`)) indexed += await indexOne(stores, r);
    if (rows.length < page) break;
    const last = rows[rows.length - 1]!;
    after = { account: last.account, digest: last.image_digest };
  }
  return indexed;
}

async function indexOne({ db, catalog, findings, summaries }: Stores, r: { account: string; image_digest: string; analyzed_at: string | null }): Promise<number> {
  const sbom = await catalog.getSbom(r.account, r.image_digest);
  if (!sbom) return 0;
  const prepared = await findings.prepareImage(sbom);
  return db.kysely.transaction().execute(async (trx) => {
    // Still the same analysis (not deleted or re-analyzed meanwhile: those store their own rows).
    if (!(await sameAnalysis(trx, r.account, r.image_digest, r.analyzed_at))) return 0;
    await findings.storeImage(trx, r.account, r.image_digest, prepared);
    await summaries.refreshIn(trx, r.account, r.image_digest, sbom);
    return 1;
  });
}
