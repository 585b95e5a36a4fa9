/**
 * From what a user typed to an ImageSource: one entry per scheme (`registry:`, `docker-archive:`,
 * `oci-dir:`, `oci-archive:`, `dir:` and its alias `rootfs:`), and detection for a bare path or reference.
 */
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LadingError } from '../../errors.js';
import { withLimits, type Limits } from '../limits.js';
import { parseReference } from '../reference.js';
import type { BlobCache, ImageSource } from '../types.js';
import { RegistryClient } from '../registry/client.js';
import type { CredentialLookupOptions, RegistryCredentials } from '../registry/credentials.js';
import type { OutboundGuard } from '../registry/guard.js';
import { DirStore, TarStore } from './store.js';
import { OciLayoutSource } from './oci-layout.js';
import { DockerArchiveSource } from './docker-archive.js';
import { RegistrySource } from './registry.js';
import { splitPathSelector } from './local-path.js';
import { DirectorySource } from './directory.js';

export interface SourceOptions {
  limits?: Partial<Limits>;
  credentials?: RegistryCredentials;
  credentialLookup?: CredentialLookupOptions | false;
  insecureRegistries?: string[];
  caFile?: string;
  /** Extra CA certificates as PEM text (a registry record's `registry_ca_cert`). */
  caPem?: string;
  /** The service's outbound guard (registry/guard.ts); the CLI has none. */
  guard?: OutboundGuard;
  /** Image configs by digest between runs (registry sources). */
  blobCache?: BlobCache;
}

/** The HTTP settings of a source's options: the guard and a PEM CA. */
function httpOf(options: SourceOptions): { http?: { guard?: OutboundGuard; caPem?: string } } {
  if (!options.guard && !options.caPem) return {};
  return { http: { ...(options.guard ? { guard: options.guard } : {}), ...(options.caPem ? { caPem: options.caPem } : {}) } };
}

/** A registry API client with the same options an image source gets (for tag lists and lookups). */
export function registryClient(registry: string, options: SourceOptions): RegistryClient {
  return new RegistryClient(registry, {
    limits: withLimits(options.limits),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.credentialLookup !== undefined ? { credentialLookup: options.credentialLookup } : {}),
    ...(options.insecureRegistries ? { insecureRegistries: options.insecureRegistries } : {}),
    ...(options.caFile ? { caFile: options.caFile } : {}),
    ...httpOf(options),
  });
}

type Opener = (rest: string, options: SourceOptions, limits: Limits) => Promise<ImageSource>;

async function openRegistry(rest: string, options: SourceOptions, limits: Limits): Promise<ImageSource> {
  return new RegistrySource(parseReference(rest), {
    limits,
    input: rest,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.credentialLookup !== undefined ? { credentialLookup: options.credentialLookup } : {}),
    ...(options.insecureRegistries ? { insecureRegistries: options.insecureRegistries } : {}),
    ...(options.caFile ? { caFile: options.caFile } : {}),
    ...httpOf(options),
    ...(options.blobCache ? { blobCache: options.blobCache } : {}),
  });
}

async function openDockerArchive(rest: string, _o: SourceOptions, limits: Limits): Promise<ImageSource> {
  const { path, selector } = splitPathSelector(rest);
  return new DockerArchiveSource(await TarStore.open(path, limits), selector, rest, limits);
}

async function openOciDir(rest: string, _o: SourceOptions, limits: Limits): Promise<ImageSource> {
  const { path, selector } = splitPathSelector(rest);
  return new OciLayoutSource(await DirStore.open(path), selector, 'oci-dir', rest, limits);
}

async function openOciArchive(rest: string, _o: SourceOptions, limits: Limits): Promise<ImageSource> {
  const { path, selector } = splitPathSelector(rest);
  return new OciLayoutSource(await TarStore.open(path, limits), selector, 'oci-archive', rest, limits);
}

export const SOURCES: Record<string, Opener> = {
  registry: openRegistry,
  'docker-archive': openDockerArchive,
  'oci-dir': openOciDir,
  'oci-archive': openOciArchive,
  dir: async (rest) => new DirectorySource(rest, 'dir'),
  rootfs: async (rest) => new DirectorySource(rest, 'rootfs'),
};

const DAEMON_SCHEMES = ['docker', 'podman', 'containerd', 'docker-daemon'];

/** A local path without a scheme: which kind of container is it? */
async function detectLocal(path: string): Promise<string | undefined> {
  const st = await stat(path).catch(() => null);
  if (!st) return undefined;
  if (st.isDirectory()) {
    const layout = await stat(join(path, 'oci-layout')).catch(() => null);
    const index = await stat(join(path, 'index.json')).catch(() => null);
    if (layout || index) return 'oci-dir';
    throw new LadingError('BAD_INPUT', `${path} is a directory but not an OCI image layout (no oci-layout or index.json); to analyze the files in it, use dir:${path}`);
  }
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    await fh.read(head, 0, 512, 0);
    if (head[0] === 0x1f && head[1] === 0x8b) return 'oci-archive';
  } finally {
    await fh.close();
  }
  // Both archive kinds are tars: docker's has manifest.json (docker 25+ also has index.json).
  const store = await TarStore.open(path, withLimits());
  try {
    if (await store.exists('manifest.json')) return 'docker-archive';
    if (await store.exists('index.json')) return 'oci-archive';
  } finally {
    await store.close();
  }
  throw new LadingError('BAD_INPUT', `${path} is a tar but neither a docker-archive (manifest.json) nor an OCI archive (index.json)`);
}

/** File names an image reference never has: archives, SBOMs and other documents (and their typos). */
const FILE_EXTENSION = /\.(tar|tar\.gz|tgz|tar\.zst|json|jsn|jsonl|xml|ya?ml|spdx|cdx|sbom|txt|zip)$/i;

/**
 * Whether text that names no existing file was meant as one: `/x`, `./x`, `../x`, `~/x`, `.`,
 * `..`, a Windows path, shell wildcards left unexpanded (`*.tar`), a name ending in an archive or
 * document extension (`app.tar`, `sbom.cdx.jsn`), or a single name with a dot and no tag or
 * digest (Docker Hub's own images never have one, and a registry host needs a repository after it).
 */
export function looksLikePath(text: string): boolean {
  if (/^(\/|\.{1,2}(\/|$)|~\/|[A-Za-z]:\\)/.test(text) || /[*?\\]/.test(text)) return true;
  if (text.includes('@')) return false;
  if (FILE_EXTENSION.test(text)) return true;
  return !text.includes('/') && !text.includes(':') && text.includes('.');
}

/** Parse `scheme:rest` or detect; returns the scheme and the rest. */
export async function classifyInput(input: string): Promise<{ scheme: string; rest: string }> {
  const m = /^([a-z][a-z-]*):(?!\/\/)(.*)$/s.exec(input);
  if (m && SOURCES[m[1]!]) return { scheme: m[1]!, rest: m[2]! };
  if (m && DAEMON_SCHEMES.includes(m[1]!)) {
    throw new LadingError('UNSUPPORTED', `"${m[1]}:" images come from a container daemon, which Lading never talks to; use registry:, docker-archive: (after docker save), oci-dir:, oci-archive:, or dir: for an unpacked filesystem`);
  }
  const local = await detectLocal(input);
  if (local) return { scheme: local, rest: input };
  if (looksLikePath(input)) {
    throw new LadingError('NOT_FOUND', `no such file: ${input} (an image in a registry is REGISTRY/REPOSITORY[:TAG]; prefix registry: to force one)`);
  }
  return { scheme: 'registry', rest: input };
}

export async function openSource(input: string, options: SourceOptions = {}): Promise<ImageSource> {
  const limits = withLimits(options.limits);
  const { scheme, rest } = await classifyInput(input);
  if (!rest) throw new LadingError('BAD_REFERENCE', `"${input}" names no image after "${scheme}:"`);
  return SOURCES[scheme]!(rest, options, limits);
}
