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
import type { Kysely } from 'kysely';
import { LadingError, describeError } from '../../errors.js';
import type { Database } from '../schema.js';
import { analysisCountsByStore, analysisKeysAfter, analysisRow, countAnalyses, documentNamed, switchAnalysisDocument, type AnalysisRow } from '../catalog-analyses.js';
import { decodeDocumentText, encodeDocument, sha256Hex } from './codec.js';
import type { AnalysisDocuments } from './documents.js';
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

type Row = AnalysisRow;

/** Every analysis row (without its bytes) in key order, a page at a time, optionally only those not in one store. */
async function* rows(db: Kysely<Database>, notIn: ObjectStoreName | undefined, pageSize: number): AsyncGenerator<{ account: string; image_digest: string }> {
  let after: { account: string; image_digest: string } | undefined;
  for (;;) {
    const page = await analysisKeysAfter(db, notIn, after, pageSize);
    yield* page;
    if (page.length < pageSize) return;
    after = page[page.length - 1];
  }
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
  const row = await analysisRow(db, key.account, key.image_digest);
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
  const switched = await switchAnalysisDocument(db, row, placed);
  const unused = switched ? row : placed;
  const stillNamed = unused.object_key && await documentNamed(db, unused.store, unused.object_key);
  if (!stillNamed) await documents.discard(unused);
  return { outcome: switched ? 'moved' : 'changed', bytes: bytes.length };
}

/** Move every analysis document into the `to` store (see the module comment). */
export async function migrateDocuments(db: Kysely<Database>, documents: AnalysisDocuments, to: ObjectStoreName, options: MigrateOptions = {}): Promise<MigrateResult> {
  const target = documents.stores.get(to);
  const result: MigrateResult = { moved: 0, already: 0, changed: 0, failed: [], bytes: 0 };
  const total = await countAnalyses(db);
  result.already = total - await countAnalyses(db, to);
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
    const row = await analysisRow(db, key.account, key.image_digest);
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
  return analysisCountsByStore(db);
}
