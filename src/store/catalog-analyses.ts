/**
 * The catalog's analysis rows (catalog_analyses, owned by the catalog: store/catalog.ts saves and
 * reads them per image) as the object-store tools see them (store/objects/migrate.ts): keys page
 * by page, a row's document columns, the compare-and-set that moves a document, and counts.
 */
import { sql, type Kysely } from 'kysely';
import type { DocumentColumns, DocumentRef } from './objects/documents.js';
import type { ObjectStoreName } from './objects/types.js';
import type { Database } from './schema.js';

export interface AnalysisKey { account: string; image_digest: string }
export type AnalysisRow = DocumentRef & AnalysisKey & { created_at: string };

/** A page of analysis keys after `after` in key order, optionally only those not in one store. */
export async function analysisKeysAfter(db: Kysely<Database>, notIn: ObjectStoreName | undefined, after: AnalysisKey | undefined, limit: number): Promise<AnalysisKey[]> {
  let q = db.selectFrom('catalog_analyses').select(['account', 'image_digest']);
  if (notIn) q = q.where('store', '<>', notIn);
  if (after) q = q.where((eb) => eb.or([eb('account', '>', after.account), eb.and([eb('account', '=', after.account), eb('image_digest', '>', after.image_digest)])]));
  return q.orderBy('account').orderBy('image_digest').limit(limit).execute();
}

/** One analysis row with where its document is (and, for the db store, its bytes). */
export async function analysisRow(db: Kysely<Database>, account: string, imageDigest: string): Promise<AnalysisRow | undefined> {
  return db.selectFrom('catalog_analyses').select(['account', 'image_digest', 'created_at', 'sbom_gz', 'store', 'object_key', 'doc_sha256'])
    .where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
}

/** Point a row at its document's new place, unless the row changed since it was read (saved again); whether it switched. */
export async function switchAnalysisDocument(db: Kysely<Database>, row: AnalysisRow, placed: DocumentColumns): Promise<boolean> {
  let q = db.updateTable('catalog_analyses').set(placed).where('account', '=', row.account).where('image_digest', '=', row.image_digest)
    .where('store', '=', row.store).where('created_at', '=', row.created_at);
  q = row.object_key === null ? q.where('object_key', 'is', null) : q.where('object_key', '=', row.object_key);
  return Number((await q.executeTakeFirst()).numUpdatedRows) > 0;
}

/** Whether any row still names this object (content-named keys are shared by equal documents). */
export async function documentNamed(db: Kysely<Database>, store: string, objectKey: string): Promise<boolean> {
  return !!(await db.selectFrom('catalog_analyses').select('image_digest').where('store', '=', store).where('object_key', '=', objectKey).executeTakeFirst());
}

/** How many analysis rows there are (only those not in one store, when given). */
export async function countAnalyses(db: Kysely<Database>, notIn?: ObjectStoreName): Promise<number> {
  let q = db.selectFrom('catalog_analyses').select((eb) => eb.fn.countAll().as('n'));
  if (notIn) q = q.where('store', '<>', notIn);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

/** Documents and stored bytes per object store. */
export async function analysisCountsByStore(db: Kysely<Database>): Promise<{ store: string; documents: number; bytes: number }[]> {
  const r = await db.selectFrom('catalog_analyses')
    .select((eb) => ['store', eb.fn.countAll().as('n'), sql<string | number>`sum(coalesce(doc_bytes, length(sbom_gz)))`.as('bytes')])
    .groupBy('store').orderBy('store').execute();
  return r.map((x) => ({ store: x.store, documents: Number(x.n), bytes: Number(x.bytes ?? 0) }));
}
