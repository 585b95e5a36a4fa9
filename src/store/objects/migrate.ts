/**
 * Moving analysis documents between object stores (`lading db objects migrate --to DRIVER`), and
 * checking them (`verify`) and counting them (`status`). A move is one document at a time:
 * read it through the store its row names (checking its sha256 and that it decodes), put it in
 * the target, read it back and compare, then switch the row with a compare-and-set on the row's
 * store, key and created_at (a document saved again meanwhile is left to the next run), and only
 * then remove it from where it was. Interrupted anywhere, a rerun finishes the job: rows already
 * in the target are skipped, and a document put but not yet recorded is put again under the same
 * content-named key. At worst an interruption leaves one unused object in the old store.
 */
import { sql, type Kysely } from 'kysely';
import { LadingError, describeError } from '../../errors.js';
import type { Database } from '../schema.js';
import { decodeDocumentText, encodeDocument, sha256Hex } from './codec.js';
import type { AnalysisDocuments, DocumentRef } from './documents.js';
import type { ObjectStore, ObjectStoreName } from './types.js';

export interface DocumentFailure { account: string; imageDigest: string; error: string }

export interface MigrateResult {
  /** Documents moved into the target now. */
  moved: number;
  /** Documents that were in the target already. */
  already: number;
  /** Documents saved again while being moved (left for a rerun, if still elsewhere). */
  changed: number;
  /** Documents that could not be read or written; nothing about them changed. */
  failed: DocumentFailure[];
  /** Stored bytes moved. */
  bytes: number;
}

export interface MigrateOptions {
  /** Re-encode each document with the configured compression while moving it. */
  recompress?: boolean;
  /** Told after each document. */
  onProgress?: (done: number, total: number) => void;
  /** Rows read per page (default 200). */
  pageSize?: number;
}

type Row = DocumentRef & { account: string; image_digest: string; created_at: string };

/** Every analysis row (without its bytes) in key order, a page at a time, optionally only those not in one store. */
async function* rows(db: Kysely<Database>, notIn: ObjectStoreName | undefined, pageSize: number): AsyncGenerator<{ account: string; image_digest: string }> {
  let after: { account: string; image_digest: string } | undefined;
  for (;;) {
    let q = db.selectFrom('catalog_analyses').select(['account', 'image_digest']);
    if (notIn) q = q.where('store', '<>', notIn);
    if (after) {
      const a = after;
      q = q.where((eb) => eb.or([eb('account', '>', a.account), eb.and([eb('account', '=', a.account), eb('image_digest', '>', a.image_digest)])]));
    }
    const page = await q.orderBy('account').orderBy('image_digest').limit(pageSize).execute();
    yield* page;
    if (page.length < pageSize) return;
    after = page[page.length - 1];
  }
}

async function readRow(db: Kysely<Database>, account: string, imageDigest: string): Promise<Row | undefined> {
  return db.selectFrom('catalog_analyses').select(['account', 'image_digest', 'created_at', 'sbom_gz', 'store', 'object_key', 'doc_sha256'])
    .where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
}

/** A row's document, read and checked: its stored bytes and its JSON text. */
async function readChecked(documents: AnalysisDocuments, row: Row): Promise<{ bytes: Buffer; text: string }> {
  const bytes = await documents.bytes(row.account, row.image_digest, row);
  try {
    const text = decodeDocumentText(bytes);
    JSON.parse(text);
    return { bytes, text };
  } catch (e) {
    throw new LadingError('INTERNAL', `the stored analysis of image ${row.image_digest} (account ${row.account}) is corrupt in the ${row.store} object store: ${describeError(e)}`, { cause: e });
  }
}

type MoveOutcome = 'moved' | 'already' | 'changed' | 'gone';

/** Move one row's document into `target`, as the module comment describes. */
async function moveOne(db: Kysely<Database>, documents: AnalysisDocuments, target: ObjectStore, key: { account: string; image_digest: string }, recompress: boolean): Promise<{ outcome: MoveOutcome; bytes: number }> {
  const row = await readRow(db, key.account, key.image_digest);
  if (!row) return { outcome: 'gone', bytes: 0 };
  if (row.store === target.name) return { outcome: 'already', bytes: 0 };
  const { bytes: stored, text } = await readChecked(documents, row);
  const { compression, compression_level: level } = documents.stores.config;
  const bytes = recompress ? encodeDocument(JSON.parse(text), { compression, ...(level !== undefined ? { level } : {}) }) : stored;
  const placed = (await documents.place(row.account, row.image_digest, bytes, target)).columns;
  if (placed.object_key) {
    const back = await target.get(placed.object_key);
    if (!back || sha256Hex(back) !== placed.doc_sha256) {
      throw new LadingError('INTERNAL', `the analysis of image ${row.image_digest} (account ${row.account}) did not read back the same from the ${target.name} object store (key ${placed.object_key})`);
    }
  }
  let q = db.updateTable('catalog_analyses').set(placed).where('account', '=', row.account).where('image_digest', '=', row.image_digest)
    .where('store', '=', row.store).where('created_at', '=', row.created_at);
  q = row.object_key === null ? q.where('object_key', 'is', null) : q.where('object_key', '=', row.object_key);
  const switched = Number((await q.executeTakeFirst()).numUpdatedRows) > 0;
  const unused = switched ? row : placed;
  const stillNamed = unused.object_key && await db.selectFrom('catalog_analyses').select('image_digest')
    .where('store', '=', unused.store).where('object_key', '=', unused.object_key).executeTakeFirst();
  if (!stillNamed) await documents.discard(unused);
  return { outcome: switched ? 'moved' : 'changed', bytes: bytes.length };
}

/** Move every analysis document into the `to` store (see the module comment). */
export async function migrateDocuments(db: Kysely<Database>, documents: AnalysisDocuments, to: ObjectStoreName, options: MigrateOptions = {}): Promise<MigrateResult> {
  const target = documents.stores.get(to);
  const result: MigrateResult = { moved: 0, already: 0, changed: 0, failed: [], bytes: 0 };
  const total = Number((await db.selectFrom('catalog_analyses').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  result.already = total - Number((await db.selectFrom('catalog_analyses').select((eb) => eb.fn.countAll().as('n')).where('store', '<>', to).executeTakeFirstOrThrow()).n);
  let done = result.already;
  for await (const key of rows(db, to, options.pageSize ?? 200)) {
    try {
      const { outcome, bytes } = await moveOne(db, documents, target, key, options.recompress === true);
      if (outcome === 'moved') {
        result.moved++;
        result.bytes += bytes;
      } else if (outcome === 'already') result.already++;
      else if (outcome === 'changed') result.changed++;
    } catch (e) {
      result.failed.push({ account: key.account, imageDigest: key.image_digest, error: describeError(e) });
    }
    options.onProgress?.(++done, total);
  }
  return result;
}

/** Read every document through its store and check it (sha256, decodes to JSON); the failures. */
export async function verifyDocuments(db: Kysely<Database>, documents: AnalysisDocuments, onProgress?: (done: number) => void): Promise<{ checked: number; failed: DocumentFailure[] }> {
  const failed: DocumentFailure[] = [];
  let checked = 0;
  for await (const key of rows(db, undefined, 200)) {
    const row = await readRow(db, key.account, key.image_digest);
    if (!row) continue;
    try {
      await readChecked(documents, row);
    } catch (e) {
      failed.push({ account: row.account, imageDigest: row.image_digest, error: describeError(e) });
    }
    checked++;
    onProgress?.(checked);
  }
  return { checked, failed };
}

export interface StoreCount { store: string; documents: number; bytes: number }

/** Documents and stored bytes per object store. */
export async function documentCounts(db: Kysely<Database>): Promise<StoreCount[]> {
  const r = await db.selectFrom('catalog_analyses')
    .select((eb) => ['store', eb.fn.countAll().as('n'), sql<string | number>`sum(coalesce(doc_bytes, length(sbom_gz)))`.as('bytes')])
    .groupBy('store').orderBy('store').execute();
  return r.map((x) => ({ store: x.store, documents: Number(x.n), bytes: Number(x.bytes ?? 0) }));
}
