/**
 * Helpers the SBOM writers and readers share: package order, the image's display name, purl →
 * package type, and the skeleton of an Sbom made from a document (no image was read).
 */
import { createHash } from 'node:crypto';
import { PackageURL } from 'packageurl-js';
import { purl } from '../identity.js';
import { isPackageType, typeOfPurl } from '../ecosystems.js';
import type { Distro, ImageMetadata, Package, PackageType, Sbom } from '../model.js';
import { isPlainObject } from '../../util/objects.js';
import { VERSION } from '../../version.js';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Packages in output order: type, name, version, purl, first evidence path. */
export function sortPackages(packages: readonly Package[]): Package[] {
  const key = (p: Package) => [p.type, p.name, p.version, p.purl, p.locations[0]?.path ?? ''];
  return [...packages].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) {
      const x = ka[i] ?? '';
      const y = kb[i] ?? '';
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
}

/** What a person calls the image: `registry/repo:tag`, the repository, or the image id. */
export function imageName(source: ImageMetadata): string {
  const prefix = source.repository ? `${source.registry ? `${source.registry}/` : ''}${source.repository}` : '';
  const tag = source.tags[0];
  if (tag) {
    if (tag.includes('/') || tag.includes(':') || !prefix) return tag;
    return `${prefix}:${tag}`;
  }
  return prefix || source.imageId || 'unknown-image';
}

/** The digest that identifies the image version: manifest digest, else the image id. */
export function imageVersion(source: ImageMetadata): string {
  return source.manifestDigest || source.imageId;
}

/** `pkg:oci/<repo>@sha256:...?repository_url=...` for an image with a repository and a sha256 manifest digest. */
export function ociPurl(source: ImageMetadata): string | undefined {
  const version = imageVersion(source);
  const repo = source.repository?.split('/').pop();
  if (!repo || !/^sha256:[a-f0-9]{64}$/.test(version)) return undefined;
  const tag = source.tags[0];
  return purl('oci', undefined, repo, version, {
    repository_url: `${source.registry ? `${source.registry}/` : ''}${source.repository}`,
    arch: source.platform.architecture,
    tag: tag && !tag.includes('/') && !tag.includes(':') ? tag : undefined,
  });
}

export function parsePurl(text: string | undefined): PackageURL | undefined {
  if (!text) return undefined;
  try {
    return PackageURL.fromString(text);
  } catch {
    return undefined;
  }
}

/** Package type from a purl; `fallback` (e.g. a type the document names) when the purl says nothing known. */
export function typeFromPurl(p: PackageURL | undefined, fallback?: unknown): PackageType {
  const t = p ? typeOfPurl(p.type) : undefined;
  if (t) return t;
  return isPackageType(fallback) ? fallback : 'binary';
}

/** Source package (`upstream` qualifier, as syft writes it), arch and epoch from a purl. */
export function detailsFromPurl(p: PackageURL | undefined, version: string): Pick<Package, 'sourceName' | 'sourceVersion' | 'arch' | 'epoch'> {
  const out: Pick<Package, 'sourceName' | 'sourceVersion' | 'arch' | 'epoch'> = {};
  const q = p?.qualifiers ?? {};
  if (q.arch) out.arch = q.arch;
  // An epoch is a qualifier in rpm purls, a version prefix in deb (and rpm as syft writes versions).
  const epoch = q.epoch ?? (p?.type === 'deb' || p?.type === 'rpm' ? /^(\d+):/.exec(version)?.[1] : undefined);
  if (epoch !== undefined && /^\d+$/.test(epoch)) out.epoch = Number(epoch);
  const upstream = q.upstream;
  if (upstream && p) {
    if (p.type === 'rpm') {
      // a source rpm file name: name-version-release.src.rpm
      const m = /^(.+)-([^-]+-[^-]+)\.src\.rpm$/.exec(upstream);
      if (m?.[1]) {
        out.sourceName = m[1];
        if (m[2]) out.sourceVersion = m[2];
      } else out.sourceName = upstream;
    } else {
      const at = upstream.indexOf('@');
      if (at > 0) {
        out.sourceName = upstream.slice(0, at);
        out.sourceVersion = upstream.slice(at + 1);
      } else out.sourceName = upstream;
    }
  }
  return out;
}

/** A distro from a purl's `distro` qualifier (`debian-12`, `alpine-3.19.1`, `rhel-9.3`). */
export function distroFromPurl(p: PackageURL | undefined, source: string): Distro | undefined {
  const d = p?.qualifiers?.distro;
  if (!d) return undefined;
  const m = /^(.+?)-(\d[^-]*)$/.exec(d);
  if (m?.[1]) return { id: m[1], ...(m[2] ? { versionId: m[2] } : {}), idLike: [], source };
  return { id: d, idLike: [], source };
}

/** Image metadata with nothing known; readers fill in what their document says. */
export function emptySource(): ImageMetadata {
  return {
    imageId: '',
    mediaType: '',
    tags: [],
    platform: { os: '', architecture: '' },
    config: { env: [], entrypoint: null, cmd: null, user: '', workingDir: '', exposedPorts: [], volumes: [], labels: {} },
    layers: [],
    history: [],
    dockerfile: { mode: 'guessed', text: '' },
  };
}

/** An Sbom read from a document: no files, secrets or retrieved files (the document has none of ours). */
export function importedSbom(parts: { createdAt?: string; source: ImageMetadata; distro?: Distro; packages: Package[]; warnings?: string[] }): Sbom {
  return {
    schema: 'lading-sbom/1',
    createdAt: parts.createdAt || new Date().toISOString(),
    tool: { name: 'lading', version: VERSION },
    source: parts.source,
    ...(parts.distro ? { distro: parts.distro } : {}),
    packages: sortPackages(parts.packages),
    files: [],
    secrets: [],
    contentMatches: [],
    retrievedFiles: [],
    warnings: parts.warnings ?? [],
  };
}

// Narrowing helpers for untrusted JSON.

export type Json = Record<string, unknown>;

export const isObject = isPlainObject;

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function objects(v: unknown): Json[] {
  return list(v).filter(isObject);
}

export function strings(v: unknown): string[] {
  return list(v).filter((x): x is string => typeof x === 'string' && x !== '');
}

/** Split an SPDX expression at its top-level ANDs (`A AND (B OR C)` → `A`, `B OR C`). */
export function splitTopLevelAnd(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  const s = expression.trim();
  const tokens = /\(|\)|\s+AND\s+/gi;
  for (let m = tokens.exec(s); m; m = tokens.exec(s)) {
    if (m[0] === '(') depth++;
    else if (m[0] === ')') depth--;
    else if (depth === 0) {
      parts.push(s.slice(start, m.index));
      start = m.index + m[0].length;
    }
  }
  parts.push(s.slice(start));
  return parts.map(stripParens).filter((p) => p !== '');
}

function stripParens(s: string): string {
  let t = s.trim();
  while (t.startsWith('(') && t.endsWith(')') && balanced(t.slice(1, -1))) t = t.slice(1, -1).trim();
  return t;
}

function balanced(s: string): boolean {
  let depth = 0;
  for (const c of s) {
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0;
}
