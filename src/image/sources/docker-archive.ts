/**
 * The tar `docker save` (and `skopeo copy ... docker-archive:`) writes: `manifest.json` lists each
 * image's config and layer members, in either the legacy layout (`<id>/layer.tar`) or docker 25+'s
 * OCI-style one (`blobs/sha256/<hex>`, plus `index.json`).
 */
import { createHash } from 'node:crypto';
import { LadingError } from '../../errors.js';
import { parseConfig, verifyBytes, sha256Digest, parseManifest } from '../manifest.js';
import { formatPlatform, normalizePlatform } from '../platform.js';
import type { Limits } from '../limits.js';
import { MediaTypes, type ImageManifest, type ImageSource, type LayerDescriptor, type ResolveOptions, type ResolvedImage, type Descriptor } from '../types.js';
import type { FileStore } from './store.js';
import { blobPath } from './oci-layout.js';

interface ArchiveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

function readEntries(bytes: Buffer, what: string): ArchiveEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${what}: manifest.json is not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(doc) || doc.length === 0) throw new LadingError('BAD_INPUT', `${what}: manifest.json is not a non-empty list`);
  return doc.map((e, i) => {
    const ok = e && typeof e === 'object' && typeof e.Config === 'string' && Array.isArray(e.Layers) && e.Layers.every((l: unknown) => typeof l === 'string')
      && (e.RepoTags == null || (Array.isArray(e.RepoTags) && e.RepoTags.every((t: unknown) => typeof t === 'string')));
    if (!ok) throw new LadingError('BAD_INPUT', `${what}: manifest.json entry ${i} needs "Config" (string), "Layers" (list of strings) and optional "RepoTags"`);
    return e as ArchiveEntry;
  });
}

function compressionOf(magic: Buffer): 'gzip' | 'zstd' | 'none' {
  if (magic[0] === 0x1f && magic[1] === 0x8b) return 'gzip';
  if (magic.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

async function head(store: FileStore, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of store.stream(path, 0, 3)) chunks.push(c as Buffer);
  const b = Buffer.concat(chunks);
  return b.length >= 4 ? b : Buffer.concat([b, Buffer.alloc(4 - b.length)]);
}

async function hashMember(store: FileStore, path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of store.stream(path)) h.update(c as Buffer);
  return 'sha256:' + h.digest('hex');
}

export class DockerArchiveSource implements ImageSource {
  constructor(
    private readonly store: FileStore,
    private readonly selector: string | undefined,
    private readonly input: string,
    private readonly limits: Limits,
  ) {}

  async resolve(options: ResolveOptions): Promise<ResolvedImage> {
    const { store, limits } = this;
    const what = `docker-archive ${store.name}`;
    if (!(await store.exists('manifest.json'))) throw new LadingError('BAD_INPUT', `${what} is not a docker-archive (no manifest.json)`);
    const entries = readEntries(await store.read('manifest.json', limits.maxManifestBytes), what);
    const entry = this.pick(entries, what);

    const configBytes = await store.read(entry.Config, limits.maxConfigBytes);
    const configFromName = /^(?:blobs\/sha256\/)?([a-f0-9]{64})(?:\.json)?$/.exec(entry.Config);
    const configDigest = configFromName ? `sha256:${configFromName[1]}` : sha256Digest(configBytes);
    verifyBytes(configBytes, configDigest, `${what}: config ${entry.Config}`);
    const config = parseConfig(configBytes, `${what}: config ${entry.Config}`, limits);
    if (config.rootfs.diff_ids.length !== entry.Layers.length) {
      throw new LadingError('BAD_INPUT', `${what}: manifest.json lists ${entry.Layers.length} layers but the config lists ${config.rootfs.diff_ids.length} diff_ids`);
    }
    if (options.platform) {
      const want = formatPlatform(normalizePlatform(options.platform));
      const have = formatPlatform(normalizePlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) }));
      if (want !== have) throw new LadingError('PLATFORM_NOT_FOUND', `${what} holds an image for ${have}, not ${want}`);
    }

    const pathByDigest = new Map<string, string>();
    const layers: LayerDescriptor[] = [];
    for (const [i, path] of entry.Layers.entries()) {
      if (!(await store.exists(path))) throw new LadingError('NOT_FOUND', `${what}: layer ${i} (${path}) is missing from the archive`);
      const diffId = config.rootfs.diff_ids[i]!;
      const compression = compressionOf(await head(store, path));
      const named = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
      // An uncompressed layer's digest is its diff_id; a compressed one's is read off its bytes.
      const digest = named ? `sha256:${named[1]}` : compression === 'none' ? diffId : await hashMember(store, path);
      const mediaType = compression === 'gzip' ? MediaTypes.ociLayerGzip : compression === 'zstd' ? MediaTypes.ociLayerZstd : MediaTypes.ociLayer;
      pathByDigest.set(digest, path);
      layers.push({ mediaType, digest, size: await store.size(path), diffId });
    }

    const ociManifest = await this.findOciManifest(configDigest, what);
    const manifest: ImageManifest = ociManifest?.manifest ?? {
      schemaVersion: 2,
      mediaType: MediaTypes.dockerManifest,
      config: { mediaType: MediaTypes.dockerConfig, digest: configDigest, size: configBytes.length },
      layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
    };
    const tags = entry.RepoTags ?? [];
    return {
      origin: { kind: 'docker-archive', input: this.input, tags, ...(tags[0] ? { tag: tags[0] } : {}) },
      ...(ociManifest ? { manifestDigest: ociManifest.digest } : {}),
      manifestMediaType: manifest.mediaType ?? MediaTypes.dockerManifest,
      manifest,
      platform: { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) },
      config,
      configDigest,
      layers,
      openBlob: async (d: Descriptor) => {
        const path = pathByDigest.get(d.digest);
        if (!path) throw new LadingError('NOT_FOUND', `${what}: no layer ${d.digest}`);
        return store.stream(path);
      },
    };
  }

  private pick(entries: ArchiveEntry[], what: string): ArchiveEntry {
    if (this.selector === undefined) {
      if (entries.length === 1) return entries[0]!;
      const names = entries.map((e, i) => e.RepoTags?.[0] ?? `#${i}`);
      throw new LadingError('BAD_INPUT', `${what} holds ${entries.length} images; name one after the path: ${names.join(', ')}`);
    }
    const sel = this.selector;
    const byIndex = /^#?(\d+)$/.exec(sel);
    const found = entries.find((e) => e.RepoTags?.some((t) => t === sel || t.endsWith(`/${sel}`) || t === `docker.io/library/${sel}`))
      ?? (byIndex ? entries[Number(byIndex[1])] : undefined);
    if (!found) throw new LadingError('NOT_FOUND', `${what} has no image "${sel}"; it has: ${entries.flatMap((e) => e.RepoTags ?? []).join(', ') || 'untagged images only'}`);
    return found;
  }

  /** docker 25+ archives carry the real OCI manifest: use it (and its digest) when one names our config. */
  private async findOciManifest(configDigest: string, what: string): Promise<{ manifest: ImageManifest; digest: string } | undefined> {
    if (!(await this.store.exists('index.json'))) return undefined;
    try {
      const idx = parseManifest(await this.store.read('index.json', this.limits.maxManifestBytes), `${what}: index.json`, this.limits);
      if (idx.kind !== 'index') return undefined;
      for (const d of idx.index.manifests) {
        if (!(await this.store.exists(blobPath(d.digest)))) continue;
        const bytes = await this.store.read(blobPath(d.digest), this.limits.maxManifestBytes);
        verifyBytes(bytes, d.digest, `${what}: manifest`, d.size);
        const m = parseManifest(bytes, `${what}: manifest ${d.digest}`, this.limits, d.mediaType);
        if (m.kind === 'manifest' && m.manifest.config.digest === configDigest) return { manifest: m.manifest, digest: d.digest };
      }
    } catch (e) {
      if (e instanceof LadingError && e.code === 'DIGEST_MISMATCH') throw e;
      return undefined;
    }
    return undefined;
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
