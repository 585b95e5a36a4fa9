/**
 * The `registry` image source: a reference (`host/repo:tag`, `repo@sha256:...`) resolved through
 * the registry API to one image for one platform, its manifest and config read and verified.
 */
import type { Readable } from 'node:stream';
import { LadingError } from '../../errors.js';
import type { Limits } from '../limits.js';
import { pairLayers, parseConfig, parseManifest, verifyBytes } from '../manifest.js';
import { DEFAULT_PLATFORM, choosePlatform, formatPlatform } from '../platform.js';
import { formatReference, type ImageReference } from '../reference.js';
import { RegistryClient } from '../registry/client.js';
import type { TokenCache } from '../registry/auth.js';
import type { CredentialLookupOptions, RegistryCredentials } from '../registry/credentials.js';
import type { HttpOptions } from '../registry/http.js';
import type { BlobCache, Descriptor, ImageManifest, ImageSource, Platform, ResolveOptions, ResolvedImage } from '../types.js';

export interface RegistryOptions {
  limits: Limits;
  /** Used as they are; otherwise looked up (options, env, docker config, helpers, ECR) when the registry asks. */
  credentials?: RegistryCredentials;
  /** Options for that lookup, or false for anonymous access only. */
  credentialLookup?: CredentialLookupOptions | false;
  /** Hosts reached without certificate checks, falling back to plain http (docker's --insecure-registry). */
  insecureRegistries?: string[];
  /** Extra CA certificates (PEM) to trust. */
  caFile?: string;
  /** Platform to pick from an index; ResolveOptions.platform wins; default linux/amd64. */
  platform?: Platform;
  /** What the user typed, for the origin record; default the normalised reference. */
  input?: string;
  http?: Partial<HttpOptions>;
  tokenCache?: TokenCache;
  /** Image configs kept by digest between runs (the CLI's layer cache): a warm pull of a tag asks only for its manifest. */
  blobCache?: BlobCache;
}

/** Index nesting followed before giving up (an index whose chosen entry is itself an index). */
const MAX_INDEX_DEPTH = 2;

export class RegistrySource implements ImageSource {
  readonly client: RegistryClient;

  constructor(readonly ref: ImageReference, readonly options: RegistryOptions) {
    this.client = new RegistryClient(ref.registry, {
      limits: options.limits,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.credentialLookup !== undefined ? { credentialLookup: options.credentialLookup } : {}),
      ...(options.insecureRegistries ? { insecureRegistries: options.insecureRegistries } : {}),
      ...(options.caFile ? { caFile: options.caFile } : {}),
      ...(options.http ? { http: options.http } : {}),
      ...(options.tokenCache ? { tokenCache: options.tokenCache } : {}),
    });
  }

  async resolve(options: ResolveOptions = {}): Promise<ResolvedImage> {
    const { ref, client } = this;
    const limits = this.options.limits;
    const signal = options.signal;
    const want = options.platform ?? this.options.platform ?? DEFAULT_PLATFORM;
    const name = formatReference(ref);
    const repo = ref.repository;

    let fetched = await client.getManifest(repo, ref.digest ?? ref.tag ?? 'latest', signal);
    let parsed = parseManifest(fetched.bytes, `manifest of ${name}`, limits, fetched.mediaType);
    let indexDigest: string | undefined;
    for (let depth = 0; parsed.kind === 'index'; depth++) {
      if (depth >= MAX_INDEX_DEPTH) throw new LadingError('UNSUPPORTED', `${name}: image indexes nested more than ${MAX_INDEX_DEPTH} deep`);
      indexDigest ??= fetched.digest;
      const what = depth === 0 ? `${name}` : `${name} (nested index ${fetched.digest})`;
      const chosen: Descriptor = choosePlatform(parsed.index.manifests, want, what);
      fetched = await client.getManifest(repo, chosen.digest, signal);
      if (fetched.bytes.length !== chosen.size) {
        throw new LadingError('DIGEST_MISMATCH', `manifest ${ref.registry}/${repo}@${chosen.digest}: size is ${fetched.bytes.length} bytes, the index says ${chosen.size}`);
      }
      parsed = parseManifest(fetched.bytes, `manifest ${chosen.digest} of ${name} (${formatPlatform(want)})`,
        limits, fetched.mediaType || chosen.mediaType);
    }
    const manifest: ImageManifest = parsed.manifest;
    const configWhat = `config of ${name}`;
    const configBytes = await this.config(manifest.config, configWhat, signal);
    const config = parseConfig(configBytes, configWhat, limits);
    const layers = pairLayers(manifest, config, `image ${name}`);
    return {
      origin: {
        kind: 'registry',
        input: this.options.input ?? name,
        registry: ref.registry,
        repository: repo,
        ...(ref.tag ? { tag: ref.tag } : {}),
        tags: ref.tag ? [ref.tag] : [],
      },
      manifestDigest: fetched.digest,
      manifestMediaType: parsed.mediaType,
      manifest,
      ...(indexDigest ? { indexDigest } : {}),
      platform: {
        os: config.os,
        architecture: config.architecture,
        ...(config.variant ? { variant: config.variant } : {}),
        ...(config['os.version'] ? { 'os.version': config['os.version'] } : {}),
      },
      config,
      configDigest: manifest.config.digest,
      layers,
      openBlob: (desc: Descriptor): Promise<Readable> => client.openBlob(repo, desc, signal),
    };
  }

  /**
   * The config blob: from the blob cache when it holds bytes that hash to the digest (anything else
   * there is ignored and replaced), else from the registry (verified) and then kept.
   */
  private async config(desc: Descriptor, what: string, signal?: AbortSignal): Promise<Buffer> {
    const cache = this.options.blobCache;
    const max = this.options.limits.maxConfigBytes;
    const cached = await cache?.get(desc.digest).catch(() => undefined);
    if (cached && cached.length <= max) {
      try {
        verifyBytes(cached, desc.digest, what, desc.size);
        return cached;
      } catch {
        // not these bytes: fetched again below, and the entry overwritten
      }
    }
    const bytes = await this.client.fetchBlob(this.ref.repository, desc, max, what, signal);
    await cache?.put(desc.digest, bytes).catch(() => undefined);
    return bytes;
  }

  /**
   * The platforms a reference offers: those of its index (attestation manifests, platform
   * unknown/unknown, left out), or an empty list for a single-platform image.
   */
  async platforms(signal?: AbortSignal): Promise<Platform[]> {
    const { ref, client } = this;
    const fetched = await client.getManifest(ref.repository, ref.digest ?? ref.tag ?? 'latest', signal);
    const parsed = parseManifest(fetched.bytes, `manifest of ${formatReference(ref)}`, this.options.limits, fetched.mediaType);
    if (parsed.kind !== 'index') return [];
    const seen = new Map<string, Platform>();
    for (const m of parsed.index.manifests) {
      if (!m.platform || m.platform.os === 'unknown' || m.platform.architecture === 'unknown') continue;
      seen.set(formatPlatform(m.platform), m.platform);
    }
    return [...seen.values()];
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
