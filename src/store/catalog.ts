/**
 * The catalog: per-account image records, the tags that named them, stored analyses (the SBOM,
 * compressed, read back instead of recomputed, and the image manifest): tables from
 * store/migrations/0004-catalog.ts, 0005-policy-evals.ts and 0018-object-store.ts. The SBOM is
 * kept in the row or in an object store (store/objects/documents.ts). Policy bundles and
 * evaluations are in policies.ts. Every method takes the account it acts in.
 */
import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import { LadingError } from '../errors.js';
import type { Sbom } from '../sbom/model.js';
import { ReusableQuery } from './compiled.js';
import { AnalysisDocuments, type DocumentRef, type PreparedDocument } from './objects/documents.js';
import { Lifecycle, NOT_NEW, type ChangeContext, type LifecycleEvents, type PreparedEvent, type TransactionalEventName } from './lifecycle.js';
import type { CatalogImageTagsTable, CatalogImagesTable, Database } from './schema.js';

export const ANALYSIS_STATUSES = ['not_analyzed', 'analyzing', 'analyzed', 'analysis_failed'] as const;
export type AnalysisStatus = (typeof ANALYSIS_STATUSES)[number];


/** Summary of an analysis kept on the image row (Anchore's image_content.metadata). */
export interface ImageContentMetadata {
  arch: string;
  distro: string;
  distro_version: string;
  dockerfile_mode: 'Guessed' | 'Actual' | 'N/A';
  image_size: number;
  layer_count: number;
}

export interface ImageTag {
  fulltag: string;
  registry: string;
  repo: string;
  tag: string;
  createdAt: string;
  lastUpdated: string;
}

export interface CatalogImage {
  account: string;
  imageDigest: string;
  imageId?: string;
  manifestDigest: string;
  parentDigest?: string;
  analysisStatus: AnalysisStatus;
  analysisError?: string;
  imageStatus: string;
  annotations: Record<string, unknown>;
  /** The Dockerfile the user supplied (text). */
  dockerfile?: string;
  metadata?: ImageContentMetadata;
  createdAt: string;
  lastUpdated: string;
  analyzedAt?: string;
  tags: ImageTag[];
}

export interface AddImageInput {
  imageDigest: string;
  imageId?: string;
  parentDigest?: string;
  tag: { registry: string; repo: string; tag: string };
  annotations?: Record<string, unknown>;
  dockerfile?: string;
  /** Reset to not_analyzed even when already analyzed. */
  force?: boolean;
}

function parseJson<T>(text: string | null, what: string): T | undefined {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new LadingError('INTERNAL', `stored ${what} is not JSON`);
  }
}

export interface CatalogQuotas {
  /** Images one account may hold; adding another is refused (LIMIT_EXCEEDED). Default: no limit. */
  maxImagesPerAccount?: number;
  /** The JSON size of one image's annotations (merged with those it has). Default 64 KiB. */
  maxAnnotationBytes?: number;
}

export const DEFAULT_MAX_ANNOTATION_BYTES = 64 * 1024;

export interface CatalogStoreOptions {
  now?: () => Date;
  /** Told of every image change (store/lifecycle.ts); default: nobody. */
  lifecycle?: Lifecycle;
  /** Where analysis documents are kept; default in the database, zstd-compressed. */
  documents?: AnalysisDocuments;
  quotas?: CatalogQuotas;
}

/** An event emitted inside a transaction, published once it commits. */
type Emitted = { [K in TransactionalEventName]: { name: K; event: LifecycleEvents[K] } }[TransactionalEventName];

/** What a transaction does once it ends: events to publish and objects to remove after a commit, objects to remove after a rollback. */
interface Pending {
  events: Emitted[];
  committed: (() => Promise<unknown>)[];
  rolledBack: (() => Promise<unknown>)[];
  /** Images (account NUL digest) whose row this transaction inserted and of which no other change was told yet (ChangeContext.newImage). */
  created: Set<string>;
}

const imageKey = (account: string, imageDigest: string) => `${account}\0${imageDigest}`;

/** getImage's two reads (the API answers of most image requests), built and compiled once. */
const IMAGE_ROW = new ReusableQuery<Database, CatalogImagesTable, 'account' | 'imageDigest'>((db, p) => db.selectFrom('catalog_images').selectAll()
  .where('account', '=', p<string>('account')).where('image_digest', '=', p<string>('imageDigest')));
const IMAGE_TAGS = new ReusableQuery<Database, CatalogImageTagsTable, 'account' | 'imageDigest'>((db, p) => db.selectFrom('catalog_image_tags').selectAll()
  .where('account', '=', p<string>('account')).where('image_digest', '=', p<string>('imageDigest')).orderBy('created_at').orderBy('fulltag'));

const REF_COLUMNS = ['sbom_gz', 'store', 'object_key', 'doc_sha256'] as const;

export class CatalogStore {
  private readonly db: Kysely<Database>;
  private readonly now: () => Date;
  readonly lifecycle: Lifecycle;
  readonly documents: AnalysisDocuments;
  /** Set on a store bound to a transaction: what to do once it ends. */
  private readonly pending: Pending | undefined;
  /** The database outside any transaction (what the after-transaction cleanups use). */
  private readonly root: Kysely<Database>;
  private readonly quotas: CatalogQuotas;

  constructor(db: Kysely<Database>, options: CatalogStoreOptions = {}, pending?: Pending, root?: Kysely<Database>) {
    this.db = db;
    this.root = root ?? db;
    this.now = options.now ?? (() => new Date());
    this.lifecycle = options.lifecycle ?? new Lifecycle();
    this.documents = options.documents ?? new AnalysisDocuments();
    this.pending = pending;
    this.quotas = options.quotas ?? {};
  }

  private stamp(): string {
    return this.now().toISOString();
  }

  /**
   * Run fn in one transaction with a catalog bound to it (and the transaction, for the caller's own
   * tables); the lifecycle's after-commit subscribers hear of its changes once it commits. Nested
   * calls run in the outer transaction. `options.now` is the bound catalog's clock (a restore
   * writes the times an archive recorded).
   */
  async transaction<T>(fn: (catalog: CatalogStore, trx: Kysely<Database>) => Promise<T>, options: { now?: () => Date } = {}): Promise<T> {
    if (this.pending) return fn(this, this.db);
    if (this.db.isTransaction) throw new LadingError('INTERNAL', 'a catalog made over a transaction: use catalog.transaction() instead');
    const pending: Pending = { events: [], committed: [], rolledBack: [], created: new Set() };
    let result: T;
    try {
      result = await this.db.transaction().execute((trx) => fn(new CatalogStore(trx, {
        now: options.now ?? this.now, lifecycle: this.lifecycle, documents: this.documents, quotas: this.quotas,
      }, pending, this.db), trx));
    } catch (e) {
      for (const undo of pending.rolledBack) await undo();
      throw e;
    }
    await this.lifecycle.committedAll(pending.events);
    for (const cleanup of pending.committed) await cleanup();
    return result;
  }

  /**
   * Tell the in-transaction subscribers now and queue the event for after the commit. An image this
   * transaction inserted is new to the first change told after its imageAdded (then no longer:
   * that change's subscribers may have written rows keyed by it).
   */
  private async emit<K extends TransactionalEventName>(name: K, event: LifecycleEvents[K], prepared?: PreparedEvent<K>): Promise<void> {
    let context: ChangeContext = NOT_NEW;
    const ref = event as Partial<{ account: string; imageDigest: string }>;
    if (name !== 'imageAdded' && ref.account !== undefined && ref.imageDigest !== undefined) {
      const key = imageKey(ref.account, ref.imageDigest);
      if (this.pending!.created.delete(key)) context = { newImage: true };
    }
    await this.lifecycle.inside(this.db, name, event, prepared, context);
    this.pending!.events.push({ name, event } as Emitted);
  }

  /**
   * Record an image and its tag. A new image (or a forced one, or one whose analysis failed) is
   * `not_analyzed`; returns the record and whether it needs analysis now.
   */
  /** The merged annotations as stored (JSON), refused past the size quota. */
  private boundedAnnotations(current: Record<string, unknown>, added: Record<string, unknown>): string {
    const text = JSON.stringify({ ...current, ...added });
    const max = this.quotas.maxAnnotationBytes ?? DEFAULT_MAX_ANNOTATION_BYTES;
    const bytes = Buffer.byteLength(text);
    if (bytes > max) throw new LadingError('LIMIT_EXCEEDED', `annotations: ${bytes} bytes of JSON, over the limit of ${max} (quotas.max_annotation_bytes)`);
    return text;
  }

  /** Refuse a new image when the account already holds quotas.max_images_per_account. */
  private async checkImageQuota(trx: Kysely<Database>, account: string): Promise<void> {
    const max = this.quotas.maxImagesPerAccount;
    if (max === undefined) return;
    const { n } = await trx.selectFrom('catalog_images').select((eb) => eb.fn.countAll().as('n')).where('account', '=', account).executeTakeFirstOrThrow();
    if (Number(n) >= max) throw new LadingError('LIMIT_EXCEEDED', `account ${account} holds ${Number(n)} images, the most it may (quotas.max_images_per_account is ${max}): delete or archive some first`);
  }

  async addImage(account: string, input: AddImageInput): Promise<{ image: CatalogImage; needsAnalysis: boolean }> {
    const needs = await this.recordImage(account, input);
    return { image: (await this.getImage(account, input.imageDigest))!, needsAnalysis: needs };
  }

  /** Set a tag's own times (an archive restore keeps the original ones). */
  async setTagTimes(account: string, fulltag: string, imageDigest: string, times: { created_at?: string; last_updated?: string }): Promise<void> {
    if (!Object.keys(times).length) return;
    await this.db.updateTable('catalog_image_tags').set(times).where('account', '=', account).where('fulltag', '=', fulltag).where('image_digest', '=', imageDigest).execute();
  }

  /** addImage without reading the record back: whether the image needs analysis now. */
  async recordImage(account: string, input: AddImageInput): Promise<boolean> {
    const t = this.stamp();
    const fulltag = `${input.tag.registry}/${input.tag.repo}:${input.tag.tag}`;
    return this.transaction(async (c, trx) => {
      // A new image is inserted at once (the key's conflict says it exists) unless a quota must count first.
      const inserted = this.quotas.maxImagesPerAccount === undefined && await this.insertImage(trx, account, input, t, true);
      const existing = inserted ? undefined
        : await trx.selectFrom('catalog_images').selectAll().where('account', '=', account).where('image_digest', '=', input.imageDigest).executeTakeFirst();
      let needsAnalysis = true;
      if (inserted) c.pending!.created.add(imageKey(account, input.imageDigest));
      if (!inserted && !existing) {
        await this.checkImageQuota(trx, account);
        await this.insertImage(trx, account, input, t, false);
        c.pending!.created.add(imageKey(account, input.imageDigest));
      } else if (existing) {
        const annotations = input.annotations ? this.boundedAnnotations(parseJson<Record<string, unknown>>(existing.annotations, 'annotations') ?? {}, input.annotations) : undefined;
        const reset = input.force === true || existing.analysis_status === 'analysis_failed';
        needsAnalysis = reset || existing.analysis_status === 'not_analyzed';
        await trx.updateTable('catalog_images').set({
          last_updated: t,
          ...(reset ? { analysis_status: 'not_analyzed', analysis_error: null } : {}),
          ...(annotations !== undefined ? { annotations } : {}),
          ...(input.dockerfile !== undefined && (input.force || existing.dockerfile === null) ? { dockerfile: input.dockerfile } : {}),
        }).where('account', '=', account).where('image_digest', '=', input.imageDigest).execute();
      }
      await trx.insertInto('catalog_image_tags').values({
        account, fulltag, image_digest: input.imageDigest, registry: input.tag.registry, repo: input.tag.repo, tag: input.tag.tag, created_at: t, last_updated: t,
      }).onConflict((oc) => oc.columns(['account', 'fulltag', 'image_digest']).doUpdateSet({ last_updated: t })).execute();
      await c.emit('imageAdded', { account, imageDigest: input.imageDigest });
      return needsAnalysis;
    });
  }

  /**
   * Insert a new image's row (not_analyzed); whether it was. `ifAbsent`: nothing when the image is
   * there already, nor when the annotations alone are over their quota (then the caller reads the
   * row and merges them, which refuses them with the merged size).
   */
  private async insertImage(trx: Kysely<Database>, account: string, input: AddImageInput, t: string, ifAbsent: boolean): Promise<boolean> {
    let annotations = '{}';
    if (input.annotations) {
      try {
        annotations = this.boundedAnnotations({}, input.annotations);
      } catch (e) {
        if (ifAbsent) return false;
        throw e;
      }
    }
    const q = trx.insertInto('catalog_images').values({
      account, image_digest: input.imageDigest, image_id: input.imageId ?? null, manifest_digest: input.imageDigest,
      parent_digest: input.parentDigest ?? null, analysis_status: 'not_analyzed', analysis_error: null, image_status: 'active',
      annotations, dockerfile: input.dockerfile ?? null, metadata: null,
      created_at: t, last_updated: t, analyzed_at: null,
    });
    const r = await (ifAbsent ? q.onConflict((oc) => oc.columns(['account', 'image_digest']).doNothing()) : q).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async getImage(account: string, imageDigest: string): Promise<CatalogImage | undefined> {
    const row = (await IMAGE_ROW.execute(this.db, { account, imageDigest })).rows[0];
    if (!row) return undefined;
    return toImage(row, (await IMAGE_TAGS.execute(this.db, { account, imageDigest })).rows);
  }

  /** The image with this image id (64 hex, the config digest) in the account; the newest when several. */
  async getImageByImageId(account: string, imageId: string): Promise<CatalogImage | undefined> {
    const row = await this.db.selectFrom('catalog_images').select('image_digest').where('account', '=', account).where('image_id', '=', imageId)
      .orderBy('created_at', 'desc').executeTakeFirst();
    return row ? this.getImage(account, row.image_digest) : undefined;
  }

  /**
   * Images of an account, newest first, optionally those a tag names (with `latestOnly`, only the
   * one it names now: its most recently seen digest), in one analysis status or one image status.
   */
  async listImages(account: string, filter: { fulltag?: string; analysisStatus?: string; imageStatus?: string; latestOnly?: boolean } = {}): Promise<CatalogImage[]> {
    let q = this.db.selectFrom('catalog_images').selectAll().where('account', '=', account);
    if (filter.analysisStatus) q = q.where('analysis_status', '=', filter.analysisStatus);
    if (filter.imageStatus) q = q.where('image_status', '=', filter.imageStatus);
    if (filter.fulltag) {
      let tagged = this.db.selectFrom('catalog_image_tags').select('image_digest').where('account', '=', account).where('fulltag', '=', filter.fulltag);
      if (filter.latestOnly) tagged = tagged.orderBy('last_updated', 'desc').orderBy('created_at', 'desc').limit(1);
      const digests = (await tagged.execute()).map((r) => r.image_digest);
      if (!digests.length) return [];
      q = q.where('image_digest', 'in', digests);
    }
    const rows = await q.orderBy('created_at', 'desc').orderBy('image_digest').execute();
    if (!rows.length) return [];
    const tags = await this.db.selectFrom('catalog_image_tags').selectAll().where('account', '=', account)
      .where('image_digest', 'in', rows.map((r) => r.image_digest)).orderBy('created_at').orderBy('fulltag').execute();
    return rows.map((r) => toImage(r, tags.filter((t) => t.image_digest === r.image_digest)));
  }

  /** Remove an image, its tags and its analysis; whether it existed. */
  async deleteImage(account: string, imageDigest: string): Promise<boolean> {
    return this.transaction(async (c, trx) => {
      const ref = await trx.selectFrom('catalog_analyses').select(['store', 'object_key']).where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
      if (ref) c.pending!.committed.push(() => this.discardUnreferenced(ref));
      await trx.deleteFrom('catalog_analyses').where('account', '=', account).where('image_digest', '=', imageDigest).execute();
      await trx.deleteFrom('catalog_image_tags').where('account', '=', account).where('image_digest', '=', imageDigest).execute();
      const r = await trx.deleteFrom('catalog_images').where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
      if (!Number(r.numDeletedRows)) return false;
      await c.emit('imageDeleted', { account, imageDigest });
      return true;
    });
  }

  /** Set the analysis status; false when the image is gone. */
  async setStatus(account: string, imageDigest: string, status: AnalysisStatus, error?: string): Promise<boolean> {
    return this.transaction(async (c, trx) => {
      const r = await trx.updateTable('catalog_images')
        .set({ analysis_status: status, analysis_error: error ?? null, last_updated: this.stamp() })
        .where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
      if (!Number(r.numUpdatedRows)) return false;
      await c.emit('imageStatusChanged', { account, imageDigest, status });
      return true;
    });
  }

  /** How many images (every account) are in each analysis status. */
  async countByStatus(): Promise<Map<string, number>> {
    const rows = await this.db.selectFrom('catalog_images').select((eb) => ['analysis_status', eb.fn.countAll().as('n')]).groupBy('analysis_status').execute();
    return new Map(rows.map((r) => [String(r.analysis_status), Number(r.n)]));
  }

  /**
   * The images still to be analyzed (`not_analyzed`) or being analyzed, of accounts not being
   * deleted (`skipAccounts`), each with the tag added last (undefined when it has none).
   */
  async unfinishedAnalyses(skipAccounts: readonly string[] = []): Promise<{ account: string; imageDigest: string; status: 'not_analyzed' | 'analyzing'; fulltag?: string }[]> {
    let q = this.db.selectFrom('catalog_images as i')
      .select(['i.account', 'i.image_digest', 'i.analysis_status'])
      .select((eb) => eb.selectFrom('catalog_image_tags as t').select('t.fulltag')
        .whereRef('t.account', '=', 'i.account').whereRef('t.image_digest', '=', 'i.image_digest')
        .orderBy('t.last_updated', 'desc').orderBy('t.fulltag').limit(1).as('fulltag'))
      .where('i.analysis_status', 'in', ['not_analyzed', 'analyzing']);
    if (skipAccounts.length) q = q.where('i.account', 'not in', skipAccounts);
    const rows = await q.execute();
    return rows.map((r) => ({
      account: r.account, imageDigest: r.image_digest, status: r.analysis_status as 'not_analyzed' | 'analyzing', ...(r.fulltag ? { fulltag: r.fulltag } : {}),
    }));
  }

  /**
   * Move an `analyzing` image to `status` (with its error), in one conditional statement that
   * also requires `unless` to hold (the queue's condition on the image's job); at `at` (ISO).
   * True when the row changed. No lifecycle event: a reconciler's correction, as before.
   */
  async leaveAnalyzing(account: string, imageDigest: string, status: 'not_analyzed' | 'analysis_failed', error: string | null, at: string,
    unless: (eb: ExpressionBuilder<Database, 'catalog_images'>) => Expression<SqlBool>): Promise<boolean> {
    const r = await this.db.updateTable('catalog_images').set({ analysis_status: status, analysis_error: error, last_updated: at })
      .where('account', '=', account).where('image_digest', '=', imageDigest).where('analysis_status', '=', 'analyzing')
      .where(unless).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Store an analysis (compressed, in the configured object store) and the image manifest, and
   * mark the image analyzed; false when the image was deleted meanwhile. Its lifecycle event is
   * prepared here before the transaction; a caller that stores it inside its own transaction passes
   * the event it prepared before it (`lifecycle.prepare('analysisStored', …)`), and the document it
   * prepared (`prepareDocument`), so that no object store is written while the transaction is open.
   */
  async saveAnalysis(account: string, imageDigest: string, sbom: Sbom, manifest?: unknown, prepared?: PreparedEvent<'analysisStored'>, document?: PreparedDocument): Promise<boolean> {
    const event = prepared?.event ?? { account, imageDigest, sbom };
    if (event.account !== account || event.imageDigest !== imageDigest || event.sbom !== sbom) throw new LadingError('INTERNAL', 'saveAnalysis: the prepared event is of another analysis');
    const ready = prepared ?? (this.pending ? undefined : await this.lifecycle.prepare('analysisStored', event));
    const t = this.stamp();
    const doc = (document ?? await this.prepareDocument(account, imageDigest, sbom)).columns;
    const manifestText = manifest !== undefined ? JSON.stringify(manifest) : null;
    const metadata = contentMetadata(sbom);
    return this.transaction(async (c, trx) => {
      // A document put in an object store for a transaction that does not commit is removed again.
      const unused = async () => this.discardUnreferenced(doc);
      c.pending!.rolledBack.push(unused);
      const r = await trx.updateTable('catalog_images')
        .set({ analysis_status: 'analyzed', analysis_error: null, analyzed_at: t, last_updated: t, metadata: JSON.stringify(metadata), image_id: sbom.source.imageId.replace(/^sha256:/, '') })
        .where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
      if (!Number(r.numUpdatedRows)) {
        c.pending!.committed.push(unused);
        return false;
      }
      // A row this transaction inserted has no stored analysis yet (nothing to discard).
      const old = c.pending!.created.has(imageKey(account, imageDigest)) ? undefined : await trx.selectFrom('catalog_analyses').select(['store', 'object_key']).where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
      if (old && (old.store !== doc.store || old.object_key !== doc.object_key)) c.pending!.committed.push(() => this.discardUnreferenced(old));
      await trx.insertInto('catalog_analyses').values({ account, image_digest: imageDigest, ...doc, manifest: manifestText, created_at: t })
        .onConflict((oc) => oc.columns(['account', 'image_digest']).doUpdateSet({ ...doc, manifest: manifestText, created_at: t })).execute();
      await c.emit('analysisStored', event, ready);
      return true;
    });
  }

  /**
   * Remove a document's object once no row names it (the same image saved again with the same
   * content names the same object). A failure only leaves an unused object behind.
   */
  private async discardUnreferenced(ref: { store: string; object_key: string | null }): Promise<void> {
    if (ref.store === 'db' || !ref.object_key) return;
    const used = await this.root.selectFrom('catalog_analyses').select('image_digest').where('store', '=', ref.store).where('object_key', '=', ref.object_key).executeTakeFirst();
    if (!used) await this.documents.discard(ref);
  }

  /** Remove a prepared document that no analysis row came to name (nothing for the db store). */
  async releaseDocument(document: PreparedDocument): Promise<void> {
    await this.discardUnreferenced(document.columns);
  }

  /** An SBOM encoded and put in the configured object store, for saveAnalysis inside a caller's transaction. */
  async prepareDocument(account: string, imageDigest: string, sbom: Sbom): Promise<PreparedDocument> {
    return this.documents.prepare(account, imageDigest, sbom);
  }

  private async documentRef(account: string, imageDigest: string): Promise<DocumentRef | undefined> {
    return this.db.selectFrom('catalog_analyses').select(REF_COLUMNS).where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
  }

  /**
   * The stored SBOM, decompressed; undefined when the image has no analysis. A document its
   * object store lost or corrupted is an INTERNAL error naming the image.
   */
  async getSbom(account: string, imageDigest: string): Promise<Sbom | undefined> {
    const ref = await this.documentRef(account, imageDigest);
    return ref ? this.documents.load<Sbom>(account, imageDigest, ref) : undefined;
  }

  /** The stored analysis as kept (the encoded SBOM bytes, gzip, zstd or JSON, and the manifest text), for copying it elsewhere. */
  async getStoredAnalysis(account: string, imageDigest: string): Promise<{ encoded: Buffer; manifest: string | null } | undefined> {
    const row = await this.db.selectFrom('catalog_analyses').select([...REF_COLUMNS, 'manifest']).where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
    return row ? { encoded: await this.documents.bytes(account, imageDigest, row), manifest: row.manifest } : undefined;
  }

  /** Every account with at least one image. */
  async accounts(): Promise<string[]> {
    return (await this.db.selectFrom('catalog_images').select('account').distinct().execute()).map((r) => r.account);
  }

  /** The image manifest stored with the analysis; undefined when none was stored. */
  async getManifest(account: string, imageDigest: string): Promise<unknown> {
    const row = await this.db.selectFrom('catalog_analyses').select('manifest').where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
    return parseJson<unknown>(row?.manifest ?? null, 'manifest');
  }
}

/** Summary of an analysis kept on the image row. */
function contentMetadata(sbom: Sbom): ImageContentMetadata {
  return {
    arch: sbom.source.platform.architecture,
    distro: sbom.distro?.id ?? 'unknown',
    distro_version: sbom.distro?.versionId ?? 'unknown',
    dockerfile_mode: sbom.source.dockerfile.mode === 'actual' ? 'Actual' : 'Guessed',
    image_size: sbom.source.layers.reduce((n, l) => n + (l.uncompressedSize ?? l.size), 0),
    layer_count: sbom.source.layers.length,
  };
}

function toImage(r: CatalogImagesTable, tags: CatalogImageTagsTable[]): CatalogImage {
  return {
    account: r.account,
    imageDigest: r.image_digest,
    ...(r.image_id !== null ? { imageId: r.image_id } : {}),
    manifestDigest: r.manifest_digest,
    ...(r.parent_digest !== null ? { parentDigest: r.parent_digest } : {}),
    analysisStatus: r.analysis_status as AnalysisStatus,
    ...(r.analysis_error !== null ? { analysisError: r.analysis_error } : {}),
    imageStatus: r.image_status,
    annotations: parseJson<Record<string, unknown>>(r.annotations, 'annotations') ?? {},
    ...(r.dockerfile !== null ? { dockerfile: r.dockerfile } : {}),
    ...(r.metadata !== null ? { metadata: parseJson<ImageContentMetadata>(r.metadata, 'metadata')! } : {}),
    createdAt: r.created_at,
    lastUpdated: r.last_updated,
    ...(r.analyzed_at !== null ? { analyzedAt: r.analyzed_at } : {}),
    tags: tags.map((t) => ({ fulltag: t.fulltag, registry: t.registry, repo: t.repo, tag: t.tag, createdAt: t.created_at, lastUpdated: t.last_updated })),
  };
}
