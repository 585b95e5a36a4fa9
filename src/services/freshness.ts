/**
 * Keeping every stored image's findings current with the vulnerability data (issue 15), over the
 * set-based engine (store/findings.ts):
 * - `rematchFindings`: after any data change (the service's sync, `lading db import` from another
 *   process, a feed deleted), re-match the changed package variants, move the counts of the
 *   engine and of the summary rows (the image list and dashboard) by difference, and publish a
 *   `findingsChanged` event per image whose findings changed (vuln_update events and
 *   notifications, the summary row's findings; composeRoot);
 * - `indexMissingImages`: images analyzed before the engine existed get their rows, a few per run.
 */
import { sql } from 'kysely';
import type { FindingsRematchResult, ImageFindingDiff } from '../store/findings.js';
import type { ImageStores } from './root.js';

type Stores = Pick<ImageStores, 'db' | 'catalog' | 'findings' | 'lifecycle' | 'summaries'>;

const changed = (d: ImageFindingDiff) => d.added.length + d.updated.length + d.removed.length > 0;

/** Re-match what changed since the engine's cursor; then tell the lifecycle of each image whose findings changed. */
export async function rematchFindings(stores: Stores): Promise<FindingsRematchResult & { notified: number }> {
  const diffs: ImageFindingDiff[] = [];
  const r = await stores.findings.rematch({ summaries: true, onDiffs: async (_trx, page) => { diffs.push(...page.filter(changed)); } });
  for (const { account, imageDigest, added, updated, removed } of diffs) {
    await stores.lifecycle.committed('findingsChanged', { account, imageDigest, diff: { added, updated, removed } });
  }
  return { ...r, notified: diffs.length };
}

/** Give up to `limit` analyzed images the engine has no rows for (stored before it) their findings and counts; how many. */
export async function indexMissingImages(stores: Stores, limit = 200): Promise<number> {
  const { db, catalog, findings, summaries } = stores;
  const rows = await db.kysely.selectFrom('catalog_images as i')
    .leftJoin('finding_images as f', (j) => j.onRef('f.account', '=', 'i.account').onRef('f.image_digest', '=', 'i.image_digest'))
    .select(['i.account', 'i.image_digest', 'i.analyzed_at']).where('i.analysis_status', '=', 'analyzed').where('f.id', 'is', null)
    .limit(limit).execute();
  let indexed = 0;
  for (const r of rows) {
    const sbom = await catalog.getSbom(r.account, r.image_digest);
    if (!sbom) continue;
    const prepared = await findings.prepareImage(sbom);
    indexed += await db.kysely.transaction().execute(async (trx) => {
      // Still the same analysis (not deleted or re-analyzed meanwhile: those store their own rows).
      const same = await trx.selectFrom('catalog_images').select('image_digest').where('account', '=', r.account).where('image_digest', '=', r.image_digest)
        .where((eb) => eb(eb.fn.coalesce('analyzed_at', sql.lit('')), '=', r.analyzed_at ?? '')).executeTakeFirst();
      if (!same) return 0;
      await findings.storeImage(trx, r.account, r.image_digest, prepared);
      await summaries.refreshIn(trx, r.account, r.image_digest, sbom);
      return 1;
    });
  }
  return indexed;
}
