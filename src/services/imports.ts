/**
 * SBOM imports (Anchore's /imports/images): an image analyzed elsewhere (syft, or any CycloneDX
 * or SPDX JSON producer) becomes a catalog image without a registry pull. An account opens an
 * operation, uploads content to it (the SBOM as `packages`, and optionally the manifest, parent
 * manifest, image config and Dockerfile), each stored gzip-compressed under the sha256 of its bytes,
 * then names those digests in an image add; `importImage` turns them into a stored analysis, and
 * the operation is complete (its uploaded bytes are dropped then; their records stay). Operations
 * expire after a day; tables from store/migrations/0008.
 */
import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Kysely } from 'kysely';
import { imageMetadata } from '../analyze/metadata.js';
import { LadingError } from '../errors.js';
import { DEFAULT_LIMITS } from '../image/limits.js';
import { pairLayers, parseConfig, parseManifest, sha256Digest } from '../image/manifest.js';
import { parseReference } from '../image/reference.js';
import { MediaTypes, type ImageManifest, type ResolvedImage } from '../image/types.js';
import { anchoreTag, parseTag } from '../policy/index.js';
import { readSbom } from '../sbom/formats/index.js';
import type { ImageMetadata, Sbom } from '../sbom/model.js';
import { CatalogStore, type CatalogImage } from '../store/catalog.js';
import type { Database, ImageImportsTable } from '../store/schema.js';

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
    await this.db.insertInto('image_imports').values(row).execute();
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
    const read = () => this.db.selectFrom('image_imports').selectAll().where('account', '=', account).where('uuid', '=', uuid).executeTakeFirst();
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
    const stored = await this.db.insertInto('image_import_contents')
      .values({ account, operation_uuid: uuid, content_type: type, digest, content_gz: gzipSync(bytes, { level: 1 }), created_at: t })
      .onConflict((oc) => oc.columns(['account', 'operation_uuid', 'content_type', 'digest']).doNothing())
      .returning(['digest', 'created_at']).executeTakeFirst()
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
   * Pending and unexpired → complete, in one statement; false when it was not (any more). The
   * uploaded bytes are dropped then (the records of what was uploaded stay listed): the stored
   * analysis is what the image keeps, and a complete operation takes nothing more.
   */
  async complete(account: string, uuid: string): Promise<boolean> {
    const t = this.now().toISOString();
    const r = await this.db.updateTable('image_imports').set({ status: 'complete', last_updated: t })
      .where('account', '=', account).where('uuid', '=', uuid).where('status', '=', 'pending').where('expires_at', '>', t).executeTakeFirst();
    if (!Number(r.numUpdatedRows)) return false;
    await this.db.updateTable('image_import_contents').set({ content_gz: Buffer.alloc(0) }).where('account', '=', account).where('operation_uuid', '=', uuid).execute();
    return true;
  }
}

function text(bytes: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new LadingError('BAD_INPUT', `${what} is not UTF-8 text`);
  }
}

/** Re-throw a reader's or parser's complaint with what it was about (`packages`, `tags`) in front. */
function naming<T>(label: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof LadingError) throw new LadingError(e.code, `${label}: ${e.message}`, { cause: e });
    throw e;
  }
}

function parseImageManifest(bytes: Buffer, mediaType?: string): { mediaType: string; manifest: ImageManifest } {
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

/** The image add's `source.import` (Anchore's ImageImportManifest), digests as uploaded. */
export interface ImportManifest {
  /** The image (manifest) digest it is recorded under. */
  digest: string;
  tags: string[];
  operationUuid: string;
  localImageId?: string;
  /** When given, the uploaded manifest must hash to it. */
  manifestDigest?: string;
  /** The manifest list / index the image was reached through. */
  parentDigest?: string;
  contents: { packages: string } & Partial<Record<Exclude<ImportContentType, 'packages'>, string>>;
}

export interface ImportImageOptions {
  /** Replace an existing analysis of the same digest (otherwise an analyzed image keeps its own). */
  force?: boolean;
  annotations?: Record<string, unknown>;
}

type ImageTag = { registry: string; repo: string; tag: string };

/** A full tag as Anchore records it; a reference by digest is refused. */
export function importTag(text: string): ImageTag {
  const ref = naming('tags', () => parseReference(text));
  if (ref.digest) throw new LadingError('BAD_INPUT', `tags: "${text}" names a digest; give registry/repository:tag`);
  const t = parseTag(anchoreTag(`${ref.registry}/${ref.repository}:${ref.tag ?? 'latest'}`));
  return { registry: t.registry, repo: t.repo, tag: t.tag ?? 'latest' };
}

const fulltag = (t: ImageTag) => `${t.registry}/${t.repo}:${t.tag}`;

function mismatch(message: string): LadingError {
  return new LadingError('DIGEST_MISMATCH', message);
}

interface ImportedContent {
  /** The SBOM's bytes, unless `sbom` gives it read. */
  packages?: Buffer;
  manifest?: Buffer;
  parent_manifest?: Buffer;
  image_config?: Buffer;
  dockerfile?: Buffer;
}

/**
 * The analysis of an imported image: the packages and distro of the uploaded SBOM, the image
 * metadata (platform, config, history, layers) from the uploaded config and manifest when there
 * are, otherwise what the SBOM says, under the request's digest and tags. The image id is the
 * config's digest, else local_image_id, else the SBOM's.
 */
export function importedAnalysis(req: ImportManifest, tags: ImageTag[], content: ImportedContent, read?: Sbom): Sbom {
  const sbom = read ?? naming('packages', () => readSbom(text(content.packages ?? Buffer.alloc(0), 'the SBOM')));
  const first = tags[0];
  if (!first) throw new LadingError('BAD_INPUT', 'tags: at least one tag is required');
  const manifest = content.manifest ? parseImageManifest(content.manifest) : undefined;
  if (content.manifest && req.manifestDigest) {
    const actual = sha256Digest(content.manifest);
    if (actual !== `sha256:${contentDigest(req.manifestDigest)}`) throw mismatch(`manifest_digest ${req.manifestDigest} is not the digest of the uploaded manifest (${actual})`);
  }
  if (content.parent_manifest) {
    const actual = sha256Digest(content.parent_manifest);
    if (req.parentDigest && actual !== `sha256:${contentDigest(req.parentDigest)}`) {
      throw mismatch(`parent_digest ${req.parentDigest} is not the digest of the uploaded parent manifest (${actual})`);
    }
    const index = parseManifest(content.parent_manifest, 'the parent manifest', DEFAULT_LIMITS);
    if (index.kind === 'index' && !index.index.manifests.some((m) => m.digest === req.digest)) {
      throw mismatch(`the uploaded parent manifest does not list the image digest ${req.digest}`);
    }
  }
  const dockerfile = content.dockerfile ? text(content.dockerfile, 'dockerfile') : undefined;
  const identity = {
    manifestDigest: req.digest,
    ...(req.parentDigest ? { indexDigest: req.parentDigest } : {}),
    tags: tags.map(fulltag),
    registry: first.registry,
    repository: first.repo,
  };

  let source: ImageMetadata;
  if (content.image_config) {
    const config = parseConfig(content.image_config, 'image_config', DEFAULT_LIMITS);
    const configDigest = sha256Digest(content.image_config);
    if (manifest && manifest.manifest.config.digest !== configDigest) {
      throw mismatch(`the uploaded manifest names config ${manifest.manifest.config.digest}, but the uploaded image_config is ${configDigest}`);
    }
    const image: ResolvedImage = {
      origin: { kind: 'registry', input: fulltag(first), registry: first.registry, repository: first.repo, tags: [] },
      manifestDigest: req.digest,
      manifestMediaType: manifest?.mediaType ?? (sbom.source.mediaType || MediaTypes.ociManifest),
      manifest: manifest?.manifest ?? { schemaVersion: 2, config: { mediaType: MediaTypes.ociConfig, digest: configDigest, size: content.image_config.length }, layers: [] },
      platform: { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) },
      config,
      configDigest,
      layers: manifest ? pairLayers(manifest.manifest, config, 'the imported image') : [],
      openBlob: () => Promise.reject(new LadingError('UNSUPPORTED', `image ${req.digest} was imported from an SBOM: its layers are not available`)),
    };
    source = { ...imageMetadata(image, undefined, dockerfile), ...identity };
    // Without a manifest the layers are those the SBOM names (syft lists them).
    if (!manifest) source.layers = sbom.source.layers;
  } else {
    const localId = req.localImageId ? `sha256:${req.localImageId.replace(/^sha256:/, '')}` : undefined;
    source = {
      ...sbom.source,
      ...identity,
      imageId: localId ?? (sbom.source.imageId || req.digest),
      ...(manifest ? { mediaType: manifest.mediaType } : {}),
      ...(dockerfile !== undefined ? { dockerfile: { mode: 'actual', text: dockerfile } } : {}),
    };
  }
  return { ...sbom, source };
}

/**
 * Finish an import: check the operation and the content digests, build the analysis, then in one
 * transaction record the image under each tag, store the analysis (the image is `analyzed` as soon
 * as it is visible, so nothing queues a registry pull for it) and mark the operation complete.
 */
export async function importImage(stores: { imports: ImportStore; catalog: CatalogStore }, account: string, req: ImportManifest, options: ImportImageOptions = {}): Promise<CatalogImage> {
  if (!/^sha256:[a-f0-9]{64}$/.test(req.digest)) throw new LadingError('BAD_INPUT', `digest "${req.digest}" is not an image digest (expected sha256:<64 hex digits>)`);
  const tags = req.tags.map(importTag);
  const { imports } = stores;
  const uuid = req.operationUuid;
  await imports.pending(account, uuid);
  // The SBOM as parsed at its upload when this process took it (the operation is pending, so it is still uploaded).
  const parsed = imports.takeParsedSbom(account, uuid, req.contents.packages);
  const content: ImportedContent = {};
  for (const type of IMPORT_CONTENT_TYPES) {
    const digest = req.contents[type];
    if (digest === undefined || (type === 'packages' && parsed)) continue;
    const bytes = await imports.content(account, uuid, type, digest);
    if (!bytes) throw mismatch(`contents.${type}: nothing with digest ${digest} was uploaded as ${type} to import operation ${uuid}`);
    content[type] = bytes;
  }
  const sbom = importedAnalysis(req, tags, content, parsed);
  const imageId = sbom.source.imageId.replace(/^sha256:/, '');
  const dockerfile = sbom.source.dockerfile.mode === 'actual' ? sbom.source.dockerfile.text : undefined;

  // Matched before the transaction (store/lifecycle.ts); stored inside it only when the image needs analysis.
  const prepared = await stores.catalog.lifecycle.prepare('analysisStored', { account, imageDigest: req.digest, sbom });
  // Put in its object store before the transaction too (saveAnalysis removes it again if unused).
  const document = await stores.catalog.prepareDocument(account, req.digest, sbom);
  let used = false;
  const image = await stores.catalog.transaction(async (catalog, trx) => {
    if (!(await imports.boundTo(trx).complete(account, uuid))) {
      throw new LadingError('BAD_INPUT', `import operation ${uuid} was completed, invalidated or expired meanwhile`);
    }
    let needsAnalysis = false;
    for (const [i, tag] of tags.entries()) {
      const needs = await catalog.recordImage(account, {
        imageDigest: req.digest,
        ...(imageId ? { imageId } : {}),
        ...(req.parentDigest ? { parentDigest: req.parentDigest } : {}),
        tag,
        annotations: { ...options.annotations, [IMPORT_OPERATION_ANNOTATION]: uuid },
        ...(dockerfile !== undefined ? { dockerfile } : {}),
        force: i === 0 && options.force === true,
      });
      if (i === 0) needsAnalysis = needs;
    }
    if (needsAnalysis) used = await catalog.saveAnalysis(account, req.digest, sbom, undefined, prepared, document);
    return (await catalog.getImage(account, req.digest))!;
  }).catch(async (e: unknown) => {
    if (!used) await stores.catalog.releaseDocument(document);
    throw e;
  });
  if (!used) await stores.catalog.releaseDocument(document);
  return image;
}
