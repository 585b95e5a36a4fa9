/**
 * OCI image layout, as a directory (`oci-dir:PATH[:TAG]`) or a tar of one (`oci-archive:PATH[:TAG]`).
 * `index.json` names images by `org.opencontainers.image.ref.name`; an entry may itself be an index,
 * from which the platform is chosen.
 */
import { LadingError } from '../../errors.js';
import { parseManifest, parseConfig, verifyBytes, pairLayers } from '../manifest.js';
import { choosePlatform, DEFAULT_PLATFORM } from '../platform.js';
import type { Limits } from '../limits.js';
import type { Descriptor, ImageIndex, ImageOrigin, ImageSource, ResolveOptions, ResolvedImage } from '../types.js';
import type { FileStore } from './store.js';

const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';

export function blobPath(digest: string): string {
  const [alg, hex] = digest.split(':');
  if (!alg || !hex || !/^[a-z0-9]+$/.test(alg) || !/^[a-zA-Z0-9=_-]+$/.test(hex)) {
    throw new LadingError('BAD_INPUT', `"${digest}" is not a valid digest`);
  }
  return `blobs/${alg}/${hex}`;
}

/** Resolve an image from an OCI layout held in `store`. `selector` is a tag (ref name) or a digest. */
export async function resolveFromLayout(
  store: FileStore,
  selector: string | undefined,
  kind: 'oci-dir' | 'oci-archive',
  input: string,
  limits: Limits,
  options: ResolveOptions,
): Promise<ResolvedImage> {
  const what = `${kind} ${store.name}`;
  if (!(await store.exists('index.json'))) throw new LadingError('BAD_INPUT', `${what} is not an OCI image layout (no index.json)`);
  const top = parseManifest(await store.read('index.json', limits.maxManifestBytes), `${what}: index.json`, limits);
  if (top.kind !== 'index') throw new LadingError('BAD_INPUT', `${what}: index.json is not an image index`);
  const entry = pickEntry(top.index, selector, what);
  const tags = [entry.annotations?.[REF_NAME], entry.annotations?.[CONTAINERD_NAME]].filter((t): t is string => !!t);

  const readDoc = async (desc: Descriptor) => {
    const bytes = await store.read(blobPath(desc.digest), limits.maxManifestBytes);
    verifyBytes(bytes, desc.digest, `${what}: manifest`, desc.size);
    return parseManifest(bytes, `${what}: manifest ${desc.digest}`, limits, desc.mediaType);
  };

  let desc = entry;
  let doc = await readDoc(desc);
  let indexDigest: string | undefined;
  const want = options.platform ?? DEFAULT_PLATFORM;
  for (let depth = 0; doc.kind === 'index'; depth++) {
    if (depth > 4) throw new LadingError('BAD_INPUT', `${what}: indexes nest too deeply`);
    indexDigest ??= desc.digest;
    desc = choosePlatform(doc.index.manifests, want, `${what} (${selector ?? desc.digest})`);
    doc = await readDoc(desc);
  }
  const manifest = doc.manifest;
  const configBytes = await store.read(blobPath(manifest.config.digest), limits.maxConfigBytes);
  verifyBytes(configBytes, manifest.config.digest, `${what}: config`, manifest.config.size);
  const config = parseConfig(configBytes, `${what}: config ${manifest.config.digest}`, limits);
  const layers = pairLayers(manifest, config, what);
  for (const l of layers) {
    if (!(await store.exists(blobPath(l.digest)))) throw new LadingError('NOT_FOUND', `${what}: layer blob ${l.digest} is missing`);
  }
  const origin: ImageOrigin = { kind, input, tags, ...(tags[0] ? { tag: tags[0] } : {}) };
  return {
    origin,
    manifestDigest: desc.digest,
    manifestMediaType: doc.mediaType,
    manifest,
    ...(indexDigest ? { indexDigest } : {}),
    platform: { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) },
    config,
    configDigest: manifest.config.digest,
    layers,
    openBlob: async (d) => store.stream(blobPath(d.digest)),
  };
}

function pickEntry(index: ImageIndex, selector: string | undefined, what: string): Descriptor {
  const entries = index.manifests;
  if (entries.length === 0) throw new LadingError('NOT_FOUND', `${what} holds no images`);
  const name = (d: Descriptor) => d.annotations?.[REF_NAME];
  if (selector === undefined) {
    if (entries.length === 1) return entries[0]!;
    throw new LadingError('BAD_INPUT', `${what} holds ${entries.length} images; name one: ${entries.map((d) => name(d) ?? d.digest).join(', ')}`);
  }
  const found = selector.includes(':') && /^[a-z0-9]+:/.test(selector) && !entries.some((d) => name(d) === selector)
    ? entries.find((d) => d.digest === selector)
    : entries.find((d) => name(d) === selector || d.annotations?.[CONTAINERD_NAME] === selector);
  if (!found) {
    const names = entries.map((d) => name(d)).filter(Boolean);
    throw new LadingError('NOT_FOUND', `${what} has no image "${selector}"; it has: ${names.length ? names.join(', ') : entries.map((d) => d.digest).join(', ')}`);
  }
  return found;
}

export class OciLayoutSource implements ImageSource {
  constructor(
    private readonly store: FileStore,
    private readonly selector: string | undefined,
    private readonly kind: 'oci-dir' | 'oci-archive',
    private readonly input: string,
    private readonly limits: Limits,
  ) {}

  resolve(options: ResolveOptions): Promise<ResolvedImage> {
    return resolveFromLayout(this.store, this.selector, this.kind, this.input, this.limits, options);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
