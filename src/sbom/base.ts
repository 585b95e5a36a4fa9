/**
 * Base images (issue 19): an image's base is the analyzed image whose layers (by diffID) are the
 * longest proper prefix of the image's layers, or the one the OCI annotations
 * `org.opencontainers.image.base.name` / `org.opencontainers.image.base.digest` name. A package is
 * inherited from the base when the base has the same type, name and version and the image installed
 * it in a layer of the shared prefix (a package upgraded or re-installed in a later layer is the
 * image's own). Plain functions over layer lists and SBOMs: the CLI (`--base`), the service
 * (store/bases.ts) and later the remediation advice use the same ones.
 */
import { createHash } from 'node:crypto';
import type { ImageMetadata, Package, Sbom } from './model.js';

export const BASE_NAME_ANNOTATION = 'org.opencontainers.image.base.name';
export const BASE_DIGEST_ANNOTATION = 'org.opencontainers.image.base.digest';

/** An image that may be a base: its digest, a tag naming it, and its layers' diffIDs in order. */
export interface BaseCandidate {
  digest: string;
  tag?: string;
  diffIds: readonly string[];
}

/** The base found for an image. */
export interface BaseImage {
  digest: string;
  tag?: string;
  /** How many of the image's first layers are the base's (0 when only an annotation names a base not analyzed). */
  sharedLayers: number;
  /** `layers`: found by the layer prefix; `annotation`: named by the OCI base annotations. */
  source: 'layers' | 'annotation';
}

/** How many leading layers two layer lists share. */
export function sharedPrefix(a: readonly string[], b: readonly string[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/** Whether `base` is a proper prefix of `image` (at least one layer, fewer than the image has). */
export function isProperPrefix(base: readonly string[], image: readonly string[]): boolean {
  return base.length > 0 && base.length < image.length && sharedPrefix(base, image) === base.length;
}

/**
 * The OCI chain ids of a layer list, one per depth: chain[0] = diffID[0], chain[k] =
 * sha256(chain[k-1] + ' ' + diffID[k]). Two images share their first k+1 layers exactly when their
 * chain[k] are equal, so one indexed equality finds every image built on a prefix.
 */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}

/** The base named by the image's manifest annotations (or, as some builders write them, its config labels). */
export function annotatedBase(meta: Pick<ImageMetadata, 'config'> & { annotations?: Record<string, string> }): { name?: string; digest?: string } | undefined {
  for (const source of [meta.annotations ?? {}, meta.config.labels]) {
    const name = source[BASE_NAME_ANNOTATION]?.trim();
    const digest = source[BASE_DIGEST_ANNOTATION]?.trim();
    if (name || digest) return { ...(name ? { name } : {}), ...(digest ? { digest } : {}) };
  }
  return undefined;
}

/**
 * The base of an image among candidates: the one whose layers are the longest proper prefix of the
 * image's (ties: the smallest digest, so the answer does not depend on the order); failing that,
 * the one the annotations name (a candidate with that digest, or the annotation alone with no
 * shared layers). Candidates with the image's own digest are skipped.
 */
export function findBase(
  image: { digest?: string; diffIds: readonly string[]; annotation?: { name?: string; digest?: string } },
  candidates: readonly BaseCandidate[],
): BaseImage | undefined {
  let best: BaseCandidate | undefined;
  for (const c of candidates) {
    if (c.digest === image.digest || !isProperPrefix(c.diffIds, image.diffIds)) continue;
    if (!best || c.diffIds.length > best.diffIds.length || (c.diffIds.length === best.diffIds.length && c.digest < best.digest)) best = c;
  }
  if (best) return { digest: best.digest, ...(best.tag ? { tag: best.tag } : {}), sharedLayers: best.diffIds.length, source: 'layers' };
  const a = image.annotation;
  if (!a?.digest && !a?.name) return undefined;
  const named = candidates.find((c) => c.digest !== image.digest && ((a.digest && c.digest === a.digest) || (!a.digest && a.name && c.tag === a.name)));
  if (named) {
    const shared = sharedPrefix(named.diffIds, image.diffIds);
    return { digest: named.digest, ...(a.name ?? named.tag ? { tag: a.name ?? named.tag } : {}), sharedLayers: shared === named.diffIds.length ? shared : 0, source: 'annotation' };
  }
  if (!a.digest) return undefined;
  return { digest: a.digest, ...(a.name ? { tag: a.name } : {}), sharedLayers: 0, source: 'annotation' };
}

/** A candidate from an analyzed SBOM (its manifest digest, or its image id when it has none). */
export function candidateOf(sbom: Sbom, tag?: string): BaseCandidate {
  const t = tag ?? sbom.source.tags[0];
  return { digest: sbom.source.manifestDigest ?? sbom.source.imageId, ...(t ? { tag: t } : {}), diffIds: sbom.source.layers.map((l) => l.diffId) };
}

/** The key of one package of an SBOM, the same for the package and for a vulnerability match of it. */
export function packageKey(p: Pick<Package, 'type' | 'name' | 'version' | 'purl' | 'locations'>): string {
  return JSON.stringify([p.type, p.name, p.version, p.purl, p.locations[0]?.path ?? '']);
}

/** Evidence files that record many packages (package databases), rewritten whenever any package changes. */
function sharedEvidence(sbom: Pick<Sbom, 'packages'>): Set<string> {
  const count = new Map<string, number>();
  for (const p of sbom.packages) for (const l of p.locations) count.set(l.path, (count.get(l.path) ?? 0) + 1);
  return new Set([...count].filter(([, n]) => n > 1).map(([path]) => path));
}

const DPKG_INFO = '/var/lib/dpkg/info/';

/**
 * The layer that installed a package, as far as the SBOM tells: the evidence file's layer, except
 * for a package database (dpkg status, rpmdb, apk installed: rewritten by every later install),
 * where it is the layer of dpkg's own `info/<name>.list`, else the newest layer of the files the
 * package owns; undefined when nothing tells.
 */
export function installLayer(p: Package, layerOf: (path: string) => number | undefined, shared: ReadonlySet<string>): number | undefined {
  const layers = p.locations.map((l) => l.layer).filter((l): l is number => l !== undefined);
  if (!layers.length) return undefined;
  const evidence = Math.max(...layers);
  if (!p.locations.some((l) => shared.has(l.path))) return evidence;
  if (p.type === 'deb') {
    for (const name of [`${p.name}:${p.arch ?? ''}.list`, `${p.name}.list`]) {
      const l = layerOf(DPKG_INFO + name);
      if (l !== undefined) return l;
    }
  }
  const owned = (p.files ?? []).map(layerOf).filter((l): l is number => l !== undefined);
  return owned.length ? Math.max(...owned) : undefined;
}

/** installLayer for each package of one SBOM (its files and shared evidence read once). */
export function installLayers(sbom: Pick<Sbom, 'files' | 'packages'>): (p: Package) => number | undefined {
  const files = new Map(sbom.files.filter((f) => f.type !== 'dir').map((f) => [f.path, f.layer]));
  const shared = sharedEvidence(sbom);
  return (p) => installLayer(p, (path) => files.get(path), shared);
}

/**
 * The keys (packageKey) of the image's packages inherited from its base: the base SBOM holds the
 * same type, name and version, and the image installed the package within the first `sharedLayers`
 * layers (or nothing tells where it was installed). Empty when no layer is shared.
 */
export function inheritedPackages(image: Sbom, base: Pick<Sbom, 'packages'>, sharedLayers: number): Set<string> {
  const out = new Set<string>();
  if (sharedLayers <= 0) return out;
  const inBase = new Set(base.packages.map((p) => JSON.stringify([p.type, p.name, p.version])));
  const layerOf = installLayers(image);
  for (const p of image.packages) {
    if (!inBase.has(JSON.stringify([p.type, p.name, p.version]))) continue;
    const layer = layerOf(p);
    if (layer === undefined || layer < sharedLayers) out.add(packageKey(p));
  }
  return out;
}
