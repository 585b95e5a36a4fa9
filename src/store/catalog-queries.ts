/**
 * Reads of the catalog's image rows (catalog_images, catalog_image_tags: owned by the catalog,
 * store/catalog.ts) that the image list, the dashboard (services/summaries.ts with
 * store/summaries.ts) and the re-match's backfill (services/freshness.ts) need beside their own
 * tables: keys page by page, live status columns of a page of images, and subqueries of an
 * account's image digests that their queries filter by (`s.image_digest in (…)`).
 */
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Database } from './schema.js';

export interface ImageKey { account: string; image_digest: string }

/** What lists show live from the image row beside a summary row. */
export interface LiveImage { image_id: string | null; analysis_status: string; image_status: string; last_updated: string; live_analyzed_at: string | null }

/** A page of analyzed images after `after` in key order. */
export async function analyzedImagesAfter(db: Kysely<Database>, after: ImageKey | undefined, limit: number): Promise<(ImageKey & { analyzed_at: string | null })[]> {
  let q = db.selectFrom('catalog_images').select(['account', 'image_digest', 'analyzed_at']).where('analysis_status', '=', 'analyzed');
  if (after) q = q.where((eb) => eb.or([eb('account', '>', after.account), eb.and([eb('account', '=', after.account), eb('image_digest', '>', after.image_digest)])]));
  return q.orderBy('account').orderBy('image_digest').limit(limit).execute();
}

/** Whether the image still has the analysis stored at `analyzedAt` (not deleted or re-analyzed). */
export async function sameAnalysis(db: Kysely<Database>, account: string, imageDigest: string, analyzedAt: string | null): Promise<boolean> {
  const r = await db.selectFrom('catalog_images').select('image_digest').where('account', '=', account).where('image_digest', '=', imageDigest)
    .where((eb) => eb(eb.fn.coalesce('analyzed_at', sql.lit('')), '=', analyzedAt ?? '')).executeTakeFirst();
  return !!r;
}

/** Every image's key and analysis time (of one account when given). */
export async function imageAnalysisTimes(db: Kysely<Database>, account?: string): Promise<(ImageKey & { analyzed_at: string | null })[]> {
  let q = db.selectFrom('catalog_images').select(['account', 'image_digest', 'analyzed_at']);
  if (account !== undefined) q = q.where('account', '=', account);
  return q.execute();
}

/** A subquery of images (of one account when given) with their analysis time, to join against. */
export function imageAnalysisTimesQuery(db: Kysely<Database>, account?: string): SelectQueryBuilder<Database, 'catalog_images', ImageKey & { analyzed_at: string | null }> {
  let q = db.selectFrom('catalog_images').select(['account', 'image_digest', 'analyzed_at']);
  if (account !== undefined) q = q.where('account', '=', account);
  return q;
}

/** The live columns of these images of an account (those that exist). */
export async function liveImages(db: Kysely<Database>, account: string, digests: string[]): Promise<Map<string, LiveImage>> {
  if (!digests.length) return new Map();
  const rows = await db.selectFrom('catalog_images')
    .select(['image_digest', 'image_id', 'analysis_status', 'image_status', 'last_updated', 'analyzed_at as live_analyzed_at'])
    .where('account', '=', account).where('image_digest', 'in', digests).execute();
  return new Map(rows.map(({ image_digest, ...live }) => [image_digest, live]));
}

/** An account's image count per analysis status. */
export async function imageStatusCounts(db: Kysely<Database>, account: string): Promise<{ analysis_status: string; n: number }[]> {
  const rows = await db.selectFrom('catalog_images').select(['analysis_status', (eb) => eb.fn.countAll().as('n')])
    .where('account', '=', account).groupBy('analysis_status').execute();
  return rows.map((r) => ({ analysis_status: r.analysis_status, n: Number(r.n) }));
}

/** A subquery of the digests of an account's images (with this analysis status), to filter by. */
export function imageDigests(db: Kysely<Database>, account: string, analysisStatus?: string): SelectQueryBuilder<Database, 'catalog_images', { image_digest: string }> {
  let q = db.selectFrom('catalog_images').select('image_digest').where('account', '=', account);
  if (analysisStatus !== undefined) q = q.where('analysis_status', '=', analysisStatus);
  return q;
}

/** A subquery of the digests of an account's images with a tag in this registry or repository. */
export function taggedImageDigests(db: Kysely<Database>, account: string, column: 'registry' | 'repo', value: string): SelectQueryBuilder<Database, 'catalog_image_tags', { image_digest: string }> {
  return db.selectFrom('catalog_image_tags').select('image_digest').where('account', '=', account).where(column, '=', value);
}
