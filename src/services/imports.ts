/**
 * SBOM imports (Anchore's /imports/images): an image analyzed elsewhere (syft, or any CycloneDX
 * or SPDX JSON producer) becomes a catalog image without a registry pull. An account opens an
 * operation, uploads content to it (the SBOM as `packages`, and optionally the manifest, parent
 * manifest, image config and Dockerfile), each stored gzip-compressed under the sha256 of its bytes,
 * then names those digests in an image add; `importImage` turns them into a stored analysis, and
 * the operation is complete (its uploaded bytes are dropped then; their records stay). Operations
 * expire after a day. The operations and uploads are store/imports.ts's (ImportStore).
 */
import { imageMetadata } from '../analyze/metadata.js';
import { LadingError } from '../errors.js';
import { DEFAULT_LIMITS } from '../image/limits.js';
import { pairLayers, parseConfig, parseManifest, sha256Digest } from '../image/manifest.js';
import { parseReference } from '../image/reference.js';
import { MediaTypes, type ResolvedImage } from '../image/types.js';
import { anchoreTag, parseTag } from '../policy/index.js';
import { readSbom } from '../sbom/formats/index.js';
import type { ImageMetadata, Sbom } from '../sbom/model.js';
import { CatalogStore, type CatalogImage } from '../store/catalog.js';
import { IMPORT_CONTENT_TYPES, IMPORT_OPERATION_ANNOTATION, contentDigest, naming, parseImageManifest, text, type ImportContentType, type ImportStore } from '../store/imports.js';

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
  // The operation is not read first: completing it in the transaction checks it is pending and
  // unexpired, and `imports.pending` says why not only when something fails (the same errors).
  // The SBOM as parsed at its upload when this process took it.
  const parsed = imports.takeParsedSbom(account, uuid, req.contents.packages);
  const content: ImportedContent = {};
  for (const type of IMPORT_CONTENT_TYPES) {
    const digest = req.contents[type];
    if (digest === undefined || (type === 'packages' && parsed)) continue;
    const bytes = await imports.content(account, uuid, type, digest);
    if (!bytes) {
      await imports.pending(account, uuid);
      throw mismatch(`contents.${type}: nothing with digest ${digest} was uploaded as ${type} to import operation ${uuid}`);
    }
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
      await imports.boundTo(trx).pending(account, uuid);
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
