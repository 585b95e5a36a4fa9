/**
 * Reads Anchore Engine's own analyzer output (its `analysis_data` document, the `analysis` member of
 * its analysis archives) into an Sbom, as its policy engine loaded it
 * (anchore_engine/services/policy_engine/engine/loaders.py, ImageLoader):
 *
 * - the document is `{"document": [{"image": {"imageId", "imagedata": {analysis_report, image_report}}}]}`
 *   as its object store keeps it; the list or the imagedata object alone are read too;
 * - the distro is `analysis_report.analyzer_meta.analyzer_meta.base` `DISTRO`, `DISTROVERS`, `LIKEDISTRO`;
 * - OS packages are `package_list["pkgs.allinfo"].base`: name → {version, release, arch, sourcepkg,
 *   license, type: dpkg | rpm | APKG, cpes}, where the full version is `version-release` unless the
 *   release is `N/A` (its syft handlers put the whole dpkg version in `version`);
 * - language packages are `package_list["pkgs.<kind>"].base`: path → record (npms and gems with
 *   `versions`, python and go with `version`, java with maven-/implementation-/specification-version
 *   and its pom.properties); values are objects or, in older analyses, JSON strings.
 *
 * Files, secrets and content matches are not read: what is kept is what vulnerability matching and
 * the package gates need.
 */
import { LadingError } from '../../errors.js';
import { purl } from '../identity.js';
import type { Distro, Package, PackageType, Sbom } from '../model.js';
import { emptySource, importedSbom, isObject, objects, str, strings, type Json } from './common.js';

const OS_TYPES: Record<string, PackageType> = { dpkg: 'deb', deb: 'deb', rpm: 'rpm', apkg: 'apk', apk: 'apk' };
const PURL_OS: Record<string, string> = { deb: 'deb', rpm: 'rpm', apk: 'apk' };

/** A package_list value: an object, or an object as a JSON string (older analyzers). */
function record(v: unknown): Json | undefined {
  if (isObject(v)) return v;
  if (typeof v !== 'string') return undefined;
  try {
    const parsed = JSON.parse(v) as unknown;
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** `N/A`, `Unknown` and empty are Anchore's words for no value. */
function known(v: unknown): string | undefined {
  const s = str(v);
  return s && s !== 'N/A' && s !== 'Unknown' && s !== '(none)' ? s : undefined;
}

function baseOf(report: Json, kind: string): [string, Json][] {
  const lists = isObject(report.package_list) ? report.package_list : {};
  const entry = lists[kind];
  const base = isObject(entry) && isObject(entry.base) ? entry.base : {};
  return Object.entries(base).flatMap(([k, v]) => {
    const r = record(v);
    return r ? [[k, r] as [string, Json]] : [];
  });
}

function distroOf(report: Json): Distro | undefined {
  const meta = isObject(report.analyzer_meta) && isObject(report.analyzer_meta.analyzer_meta) && isObject(report.analyzer_meta.analyzer_meta.base)
    ? report.analyzer_meta.analyzer_meta.base : {};
  const id = known(meta.DISTRO);
  if (!id) return undefined;
  const versionId = known(meta.DISTROVERS);
  const like = (known(meta.LIKEDISTRO) ?? '').split(/[,\s]+/).filter((x) => x && x !== id);
  return { id, ...(versionId ? { versionId } : {}), idLike: like, source: 'anchore analyzer_meta' };
}

function licenses(v: unknown): string[] {
  if (Array.isArray(v)) return strings(v);
  const s = known(v);
  return s ? s.split(/\s+/).filter(Boolean) : [];
}

function osPackage(name: string, r: Json, distro: Distro | undefined): Package | undefined {
  const type = OS_TYPES[(str(r.type) ?? '').toLowerCase()];
  const base = str(r.version);
  if (!type || !base) return undefined;
  const release = known(r.release);
  const version = release ? `${base}-${release}` : base;
  const arch = known(r.arch);
  const srpm = /^(.+)-([^-]+-[^-]+)\.src\.rpm$/.exec(str(r.sourcepkg) ?? '');
  const sourceName = srpm?.[1] ?? known(r.sourcepkg)?.replace(/\s*\(.*\)$/, '');
  const distroQualifier = distro ? (distro.versionId ? `${distro.id}-${distro.versionId}` : distro.id) : undefined;
  return {
    name, version, type,
    purl: purl(PURL_OS[type]!, distro?.id, name, version, { arch, distro: distroQualifier }),
    cpes: strings(r.cpes), licenses: licenses(r.license ?? r.lics), locations: [],
    ...(sourceName && sourceName !== name ? { sourceName } : {}),
    ...(srpm ? { sourceVersion: srpm[2] } : {}),
    ...(arch ? { arch } : {}),
    foundBy: 'anchore-analyzer',
  };
}

function langPackage(type: PackageType, path: string, name: string, version: string, r: Json, identity: string, metadata?: Record<string, unknown>): Package {
  return {
    name, version, type, purl: identity, cpes: strings(r.cpes), licenses: licenses(r.lics ?? r.license), locations: path.startsWith('/virtual/') ? [] : [{ path }],
    ...(metadata ? { metadata } : {}), foundBy: 'anchore-analyzer',
  };
}

/** A pom.properties text (`key=value` lines) as an object. */
function properties(text: unknown): Record<string, string> {
  if (isObject(text)) return Object.fromEntries(Object.entries(text).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  const out: Record<string, string> = {};
  for (const line of (str(text) ?? '').split(/\r?\n/)) {
    const m = /^\s*([^#=\s]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

function javaPackage(path: string, r: Json): Package | undefined {
  const pom = properties(isObject(r.metadata) ? r.metadata['pom.properties'] : undefined);
  const name = pom.artifactId ?? str(r.name);
  const version = pom.version ?? ['maven-version', 'implementation-version', 'specification-version'].map((k) => known(r[k])).find(Boolean) ?? '';
  if (!name) return undefined;
  const group = pom.groupId;
  return langPackage('java-archive', path, name, version, r, purl('maven', group, name, version),
    group ? { groupId: group, artifactId: name } : undefined);
}

const LANGUAGE: [string, (path: string, r: Json) => Package | undefined][] = [
  ['pkgs.npms', (path, r) => {
    const name = str(r.name);
    const version = strings(r.versions)[0] ?? str(r.latest) ?? '';
    if (!name) return undefined;
    const scoped = /^(@[^/]+)\/(.+)$/.exec(name);
    return langPackage('npm', path, name, version, r, purl('npm', scoped?.[1], scoped?.[2] ?? name, version));
  }],
  ['pkgs.gems', (path, r) => {
    const name = str(r.name);
    const version = strings(r.versions)[0] ?? str(r.latest) ?? '';
    return name ? langPackage('gem', path, name, version, r, purl('gem', undefined, name, version)) : undefined;
  }],
  ['pkgs.python', (path, r) => {
    const name = str(r.name);
    const version = str(r.version) ?? '';
    return name ? langPackage('python', path, name, version, r, purl('pypi', undefined, name, version)) : undefined;
  }],
  ['pkgs.go', (path, r) => {
    const name = str(r.name);
    const version = str(r.version) ?? '';
    const slash = name?.lastIndexOf('/') ?? -1;
    return name ? langPackage('go-module', str(r.location) ?? path, name, version, r,
      purl('golang', slash > 0 ? name.slice(0, slash) : undefined, slash > 0 ? name.slice(slash + 1) : name, version)) : undefined;
  }],
  ['pkgs.java', javaPackage],
];

/** The imagedata object (analysis_report, image_report) and the image id of an Anchore analysis document. */
function imageData(doc: unknown): { data: Json; imageId?: string } {
  let d = isObject(doc) && 'document' in doc ? doc.document : doc;
  let imageId: string | undefined;
  if (Array.isArray(d)) {
    const image = objects(d)[0]?.image;
    imageId = isObject(image) ? str(image.imageId) : undefined;
    d = isObject(image) ? image.imagedata : undefined;
  }
  if (!isObject(d) || !isObject(d.analysis_report)) {
    throw new LadingError('BAD_INPUT', 'not an Anchore analysis document (no analysis_report in its imagedata)');
  }
  return { data: d, ...(imageId ? { imageId } : {}) };
}

/** Whether a JSON value is Anchore's analyzer output (see the module comment). */
export function detectAnchoreAnalysis(doc: unknown): boolean {
  try {
    imageData(doc);
    return true;
  } catch {
    return false;
  }
}

/** Anchore's analyzer output as an Sbom (see the module comment); a clear BAD_INPUT when it is not one. */
export function readAnchoreAnalysis(doc: unknown): Sbom {
  const { data, imageId } = imageData(doc);
  const report = data.analysis_report as Json;
  const imageReport = isObject(data.image_report) ? data.image_report : {};
  const distro = distroOf(report);
  const packages: Package[] = [];
  const warnings: string[] = [];
  for (const [name, r] of baseOf(report, 'pkgs.allinfo')) {
    const p = osPackage(name, r, distro);
    if (p) packages.push(p);
    else warnings.push(`anchore pkgs.allinfo ${name}: no version or an unknown package type ${JSON.stringify(r.type ?? null)}; skipped`);
  }
  for (const [kind, read] of LANGUAGE) {
    for (const [path, r] of baseOf(report, kind)) {
      const p = read(path, r);
      if (p) packages.push(p);
      else warnings.push(`anchore ${kind} ${path}: no name; skipped`);
    }
  }
  const source = emptySource();
  const meta = isObject(imageReport.meta) ? imageReport.meta : {};
  const docker = isObject(imageReport.docker_data) ? imageReport.docker_data : {};
  source.imageId = str(imageId) ?? str(meta.imageId) ?? '';
  source.platform = { os: str(docker.Os) ?? '', architecture: str(docker.Architecture) ?? '' };
  source.tags = strings(docker.RepoTags);
  const created = str(docker.Created);
  if (created) source.created = created;
  const dockerfile = str(imageReport.dockerfile_contents);
  if (dockerfile) source.dockerfile = { mode: imageReport.dockerfile_mode === 'Actual' ? 'actual' : 'guessed', text: dockerfile };
  return importedSbom({ source, ...(distro ? { distro } : {}), packages, warnings });
}
