/**
 * The SBOM import operations and their uploads (tables image_imports, image_import_contents,
 * store/migrations/0008): an operation per account, each upload checked against what its type says
 * and stored gzip-compressed under the sha256 of its bytes; the uploaded bytes are dropped when the
 * operation completes (their records stay). Operations expire after a day. What an import does with
 * them (the image add) is services/imports.ts's.
 */
import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PostgresAdapter, type Kysely } from 'kysely';
import { LadingError } from '../errors.js';
import { DEFAULT_LIMITS } from '../image/limits.js';
import { parseConfig, parseManifest, sha256Digest } from '../image/manifest.js';
import type { ImageManifest } from '../image/types.js';
import { readSbom } from '../sbom/formats/index.js';
import type { Sbom } from '../sbom/model.js';
import { ReusableQuery } from './compiled.js';
import type { Database, ImageImportsTable } from './schema.js';

export const IMPORT_CONTENT_TYPES = ['packages', 'dockerfile', 'manifest', 'parent_manifest', 'image_config'] as const;
export type ImportContentType = (typeof IMPORT_CONTENT_TYPES)[number];

export type ImportStatus = 'pending' | 'complete' | 'expired' | 'invalidated';

/** How long an operation accepts uploads and an image add (Anchore: 24 hours). */
export const IMPORT_TTL_MS = 24 * 3600 * 1000;
/** Largest upload of one content (Anchore: 100 MB). */
export const MAX_IMPORT_CONTENT_BYTES = 100 * 1024 * 1024;

/** The annotation that ties an imported image to its operation (Anchore's key). */
export const IMPORT_OPERATION_ANNOTATION = 'anchore.system/import_operation_id';

export interface ImportOperation {
  uuid: string;
  account: string;
  status: ImportStatus;
  expiresAt: string;
  createdAt: string;
  lastUpdated: string;
}

export interface ImportContentRecord {
  /** sha256 of the uploaded bytes, hex (Anchore's form: no algorithm prefix). */
  digest: string;
  createdAt: string;
}


/**
 * SBOMs this process parsed when they were uploaded, kept for the image add that names them so
 * the document is read once (an add served by another process reads the stored bytes instead).
 * Bounded by the uploads' total size; each is taken by the first add that uses it.
 */
class ParsedUploads {
  private readonly entries = new Map<string, { sbom: Sbom; bytes: number; restamp: boolean }>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024, private readonly maxEntries = 256) {}

  private static key(account: string, uuid: string, digest: string): string {
    return `${account}\0${uuid}\0${digest}`;
  }

  /** `restamp`: the SBOM's createdAt is when it was read (the document has none): a later read would say later. */
  put(account: string, uuid: string, digest: string, sbom: Sbom, bytes: number, restamp: boolean): void {
    if (bytes > this.maxBytes / 4) return;
    this.take(account, uuid, digest);
    this.entries.set(ParsedUploads.key(account, uuid, digest), { sbom, bytes, restamp });
    this.bytes += bytes;
    while (this.bytes > this.maxBytes || this.entries.size > this.maxEntries) {
      const [oldest, e] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      this.bytes -= e.bytes;
    }
  }

  /** The SBOM as reading the stored bytes now would give it, once. */
  take(account: string, uuid: string, digest: string): Sbom | undefined {
    const key = ParsedUploads.key(account, uuid, digest);
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    this.bytes -= e.bytes;
    return e.restamp ? { ...e.sbom, createdAt: new Date().toISOString() } : e.sbom;
  }
}

// The statements of every import, built and compiled once (store/compiled.ts).
type OperationKey = 'account' | 'uuid';
const INSERT_OPERATION = new ReusableQuery<Database, unknown, keyof ImageImportsTable>((db, p) => db.insertInto('image_imports').values({
  account: p('account'), uuid: p('uuid'), status: p('status'), expires_at: p('expires_at'), created_at: p('created_at'), last_updated: p('last_updated'),
}));
const READ_OPERATION = new ReusableQuery<Database, ImageImportsTable, OperationKey>((db, p) => db.selectFrom('image_imports').selectAll()
  .where('account', '=', p<string>('account')).where('uuid', '=', p<string>('uuid')));
const INSERT_CONTENT = new ReusableQuery<Database, { digest: string; created_at: string }, OperationKey | 'type' | 'digest' | 'content_gz' | 'created_at'>(
  (db, p) => db.insertInto('image_import_contents')
    .values({ account: p<string>('account'), operation_uuid: p<string>('uuid'), content_type: p('type'), digest: p('digest'), content_gz: p('content_gz'), created_at: p('created_at') })
    .onConflict((oc) => oc.columns(['account', 'operation_uuid', 'content_type', 'digest']).doNothing())
    .returning(['digest', 'created_at']));
const COMPLETE_OPERATION = new ReusableQuery<Database, unknown, OperationKey | 't'>((db, p) => db.updateTable('image_imports').set({ status: 'complete', last_updated: p('t') })
  .where('account', '=', p<string>('account')).where('uuid', '=', p<string>('uuid')).where('status', '=', 'pending').where('expires_at', '>', p<string>('t')));
/** PostgreSQL: both in one statement (data-modifying CTEs); the number of operations completed. */
const COMPLETE_AND_EMPTY = new ReusableQuery<Database, { n: string | number }, OperationKey | 't'>((db, p) => db
  .with('done', (qb) => qb.updateTable('image_imports').set({ status: 'complete', last_updated: p('t') })
    .where('account', '=', p<string>('account')).where('uuid', '=', p<string>('uuid')).where('status', '=', 'pending').where('expires_at', '>', p<string>('t'))
    .returning(['account', 'uuid']))
  .with('emptied', (qb) => qb.updateTable('image_import_contents').set({ content_gz: Buffer.alloc(0) })
    .where('account', '=', p<string>('account')).where('operation_uuid', '=', p<string>('uuid')).where((eb) => eb.exists(qb.selectFrom('done').select('uuid')))
    .returning('digest'))
  .selectFrom('done').select((eb) => eb.fn.countAll<string | number>().as('n')));
const EMPTY_CONTENTS = new ReusableQuery<Database, unknown, OperationKey>((db, p) => db.updateTable('image_import_contents').set({ content_gz: Buffer.alloc(0) })
  .where('account', '=', p<string>('account')).where('operation_uuid', '=', p<string>('uuid')));

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export interface ImportStoreOptions {
  now?: () => Date;
  ttlMs?: number;
  maxContentBytes?: number;
}

function toOperation(r: ImageImportsTable): ImportOperation {
  return { uuid: r.uuid, account: r.account, status: r.status as ImportStatus, expiresAt: r.expires_at, createdAt: r.created_at, lastUpdated: r.last_updated };
}

/** A content digest as given (`sha256:<hex>` or bare hex) in the stored form, bare lower-case hex. */
export function contentDigest(text: string): string {
  const hex = text.trim().toLowerCase().replace(/^sha256:/, '');
  if (!/^[a-f0-9]{64}$/.test(hex)) throw new LadingError('BAD_INPUT', `"${text}" is not a content digest (expected sha256:<64 hex digits> or the 64 hex digits)`);
  return hex;
}

export class ImportStore {
  private readonly db: Kysely<Database>;
  private readonly now: () => Date;
  private readonly ttlMs: number;
  private readonly maxContentBytes: number;

  private readonly parsed: ParsedUploads;

  constructor(db: Kysely<Database>, private readonly options: ImportStoreOptions = {}, parsed = new ParsedUploads()) {
    this.db = db;
    this.parsed = parsed;
    this.now = options.now ?? (() => new Date());
    this.ttlMs = options.ttlMs ?? IMPORT_TTL_MS;
    this.maxContentBytes = options.maxContentBytes ?? MAX_IMPORT_CONTENT_BYTES;
  }
  /** This store over a transaction (the import's own). */
  boundTo(trx: Kysely<Database>): ImportStore {
    return new ImportStore(trx, this.options, this.parsed);
  }


  async create(account: string): Promise<ImportOperation> {
    const now = this.now();
    const t = now.toISOString();
    const row: ImageImportsTable = { account, uuid: randomUUID(), status: 'pending', expires_at: new Date(now.getTime() + this.ttlMs).toISOString(), created_at: t, last_updated: t };
    await INSERT_OPERATION.execute(this.db, row);
    return toOperation(row);
  }

  /** Mark the account's pending operations past their expiry `expired`. */
  private async expire(account: string): Promise<void> {
    const t = this.now().toISOString();
    await this.db.updateTable('image_imports').set({ status: 'expired', last_updated: t })
      .where('account', '=', account).where('status', '=', 'pending').where('expires_at', '<=', t).execute();
  }

  /** The account's operations, oldest first. */
  async list(account: string): Promise<ImportOperation[]> {
    await this.expire(account);
    const rows = await this.db.selectFrom('image_imports').selectAll().where('account', '=', account).orderBy('created_at').orderBy('uuid').execute();
    return rows.map(toOperation);
  }

  async get(account: string, uuid: string): Promise<ImportOperation | undefined> {
    const read = async () => (await READ_OPERATION.execute(this.db, { account, uuid })).rows[0];
    let row = await read();
    // Read first, write only when this operation is found past its expiry (then as list() does).
    if (row && row.status === 'pending' && row.expires_at <= this.now().toISOString()) {
      await this.expire(account);
      row = await read();
    }
    return row ? toOperation(row) : undefined;
  }

  /**
   * Invalidate an operation that is still pending or has expired (a complete one stays complete),
   * dropping its uploaded content; the operation as it now is, or undefined when there is none.
   */
  async invalidate(account: string, uuid: string): Promise<ImportOperation | undefined> {
    const op = await this.get(account, uuid);
    if (!op || op.status === 'complete' || op.status === 'invalidated') return op;
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('image_imports').set({ status: 'invalidated', last_updated: this.now().toISOString() })
        .where('account', '=', account).where('uuid', '=', uuid).where('status', 'in', ['pending', 'expired']).execute();
      await trx.deleteFrom('image_import_contents').where('account', '=', account).where('operation_uuid', '=', uuid).execute();
    });
    return this.get(account, uuid);
  }

  /** The operation, which must exist and still accept content. */
  async pending(account: string, uuid: string): Promise<ImportOperation> {
    const op = await this.get(account, uuid);
    if (!op) throw new LadingError('NOT_FOUND', `no import operation ${uuid}`);
    if (op.status !== 'pending') {
      throw new LadingError('BAD_INPUT', `import operation ${uuid} is ${op.status}: it accepts no more content or images (start a new operation)`);
    }
    return op;
  }

  /**
   * Store one upload after checking it is what its type says (a readable SBOM, a manifest, an
   * index, an image config, Dockerfile text); the same bytes uploaded again keep their first record.
   */
  async addContent(account: string, uuid: string, type: ImportContentType, bytes: Buffer, mediaType?: string): Promise<ImportContentRecord> {
    await this.pending(account, uuid);
    if (bytes.length > this.maxContentBytes) {
      throw new LadingError('LIMIT_EXCEEDED', `${type}: the upload is ${bytes.length} bytes, over the limit of ${this.maxContentBytes}`);
    }
    const readFrom = new Date().toISOString();
    const sbom = checkContent(type, bytes, mediaType);
    // A reader stamps a document without a creation time with the time it read it.
    const restamp = sbom !== undefined && ISO_MS.test(sbom.createdAt) && sbom.createdAt >= readFrom && sbom.createdAt <= new Date().toISOString();
    const digest = sha256Digest(bytes).slice('sha256:'.length);
    const t = this.now().toISOString();
    // Kept only until the image add (then emptied), so compressed fast rather than small.
    const stored = (await INSERT_CONTENT.execute(this.db, { account, uuid, type, digest, content_gz: gzipSync(bytes, { level: 1 }), created_at: t })).rows[0]
      ?? await this.db.selectFrom('image_import_contents').select(['digest', 'created_at'])
        .where('account', '=', account).where('operation_uuid', '=', uuid).where('content_type', '=', type).where('digest', '=', digest).executeTakeFirstOrThrow();
    if (sbom) this.parsed.put(account, uuid, digest, sbom, bytes.length, restamp);
    return { digest: stored.digest, createdAt: stored.created_at };
  }

  /** The SBOM uploaded to an operation with this digest as this process parsed it, once; undefined when not at hand. */
  takeParsedSbom(account: string, uuid: string, digest: string): Sbom | undefined {
    return this.parsed.take(account, uuid, contentDigest(digest));
  }

  /** What was uploaded to an operation as one type, oldest first. */
  async listContent(account: string, uuid: string, type: ImportContentType): Promise<ImportContentRecord[]> {
    if (!(await this.get(account, uuid))) throw new LadingError('NOT_FOUND', `no import operation ${uuid}`);
    const rows = await this.db.selectFrom('image_import_contents').select(['digest', 'created_at'])
      .where('account', '=', account).where('operation_uuid', '=', uuid).where('content_type', '=', type)
      .orderBy('created_at').orderBy('digest').execute();
    return rows.map((r) => ({ digest: r.digest, createdAt: r.created_at }));
  }

  /** The bytes uploaded to an operation as `type` with this digest, or undefined (also once the operation is complete: they are dropped then). */
  async content(account: string, uuid: string, type: ImportContentType, digest: string): Promise<Buffer | undefined> {
    const row = await this.db.selectFrom('image_import_contents').select('content_gz')
      .where('account', '=', account).where('operation_uuid', '=', uuid).where('content_type', '=', type).where('digest', '=', contentDigest(digest))
      .executeTakeFirst();
    return row && row.content_gz.length ? gunzipSync(Buffer.from(row.content_gz)) : undefined;
  }

  /**
   * Pending and unexpired → complete, in one statement (with the emptying below, on PostgreSQL); false when it was not (any more). The
   * uploaded bytes are dropped then (the records of what was uploaded stay listed): the stored
   * analysis is what the image keeps, and a complete operation takes nothing more.
   */
  async complete(account: string, uuid: string): Promise<boolean> {
    const t = this.now().toISOString();
    if (this.db.getExecutor().adapter instanceof PostgresAdapter) return Number((await COMPLETE_AND_EMPTY.execute(this.db, { account, uuid, t })).rows[0]?.n ?? 0) > 0;
    const r = await COMPLETE_OPERATION.execute(this.db, { account, uuid, t });
    if (!Number(r.numAffectedRows ?? 0)) return false;
    await EMPTY_CONTENTS.execute(this.db, { account, uuid });
    return true;
  }
}

export function text(bytes: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new LadingError('BAD_INPUT', `${what} is not UTF-8 text`);
  }
}

/** Re-throw a reader's or parser's complaint with what it was about (`packages`, `tags`) in front. */
export function naming<T>(label: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof LadingError) throw new LadingError(e.code, `${label}: ${e.message}`, { cause: e });
    throw e;
  }
}

export function parseImageManifest(bytes: Buffer, mediaType?: string): { mediaType: string; manifest: ImageManifest } {
  const parsed = naming('manifest', () => parseManifest(bytes, 'the image manifest', DEFAULT_LIMITS, mediaType));
  if (parsed.kind !== 'manifest') throw new LadingError('BAD_INPUT', 'manifest: this is a manifest list or index; upload it as parent_manifest');
  return parsed;
}

/** Check an upload is what its type says; the SBOM it holds when it is `packages`. */
function checkContent(type: ImportContentType, bytes: Buffer, mediaType?: string): Sbom | undefined {
  if (bytes.length === 0) throw new LadingError('BAD_INPUT', `${type}: the upload is empty`);
  switch (type) {
    case 'packages':
      return naming(type, () => readSbom(text(bytes, 'the SBOM')));
    case 'dockerfile':
      if (!text(bytes, 'dockerfile: the Dockerfile').trim()) throw new LadingError('BAD_INPUT', 'dockerfile: the Dockerfile is blank');
      return;
    case 'manifest':
      parseImageManifest(bytes, mediaType);
      return;
    case 'parent_manifest':
      if (naming(type, () => parseManifest(bytes, 'the parent manifest', DEFAULT_LIMITS, mediaType)).kind !== 'index') {
        throw new LadingError('BAD_INPUT', 'parent_manifest: this is an image manifest, not a manifest list or index; upload it as manifest');
      }
      return;
    case 'image_config':
      naming(type, () => parseConfig(bytes, 'the image config', DEFAULT_LIMITS));
      return;
  }
}

