/**
 * Reads syft's own JSON (`syft -o json`) into an Sbom: artifacts with their locations (layer ids
 * mapped to layer indexes), CPEs, licences and the OS-package metadata that names source packages;
 * syft's distro; the image from `source` (older syft: source.target, newer: source.metadata).
 */
import { LadingError } from '../../errors.js';
import type { Distro, ImageMetadata, Location, Package, Sbom } from '../model.js';
import {
  detailsFromPurl, distroFromPurl, emptySource, importedSbom, isObject, list, objects, parsePurl, str, strings, typeFromPurl, type Json,
} from './common.js';

export function detectSyft(doc: unknown): boolean {
  if (!isObject(doc) || !Array.isArray(doc.artifacts)) return false;
  const descriptor = isObject(doc.descriptor) ? doc.descriptor : {};
  const schema = isObject(doc.schema) ? doc.schema : {};
  return descriptor.name === 'syft' || String(schema.url ?? '').includes('anchore/syft') || 'artifactRelationships' in doc;
}

function cpesOf(a: Json): string[] {
  return list(a.cpes)
    .map((c) => (typeof c === 'string' ? c : isObject(c) ? str(c.cpe) : undefined))
    .filter((c): c is string => !!c);
}

function licensesOf(a: Json): string[] {
  const out = list(a.licenses)
    .map((l) => (typeof l === 'string' ? l : isObject(l) ? str(l.spdxExpression) ?? str(l.value) : undefined))
    .filter((l): l is string => !!l);
  return [...new Set(out)];
}

function locationsOf(a: Json, layerIndex: Map<string, number>): Location[] {
  return objects(a.locations).flatMap((l): Location[] => {
    const path = str(l.path) ?? str(l.realPath);
    if (!path) return [];
    // syft's layerID is the layer's diff_id
    const layerDiffId = str(l.layerID);
    const layer = layerDiffId ? layerIndex.get(layerDiffId) : undefined;
    return [{ path, ...(layer !== undefined ? { layer } : {}), ...(layerDiffId ? { layerDiffId } : {}) }];
  });
}

/** Source package, arch and epoch from syft's per-ecosystem metadata. */
function osDetails(a: Json): Pick<Package, 'sourceName' | 'sourceVersion' | 'arch' | 'epoch'> {
  const m = isObject(a.metadata) ? a.metadata : {};
  const out: Pick<Package, 'sourceName' | 'sourceVersion' | 'arch' | 'epoch'> = {};
  const srpm = /^(.+)-([^-]+-[^-]+)\.src\.rpm$/.exec(str(m.sourceRpm) ?? '');
  const sourceName = str(m.source) ?? str(m.originPackage) ?? srpm?.[1];
  const sourceVersion = str(m.sourceVersion) ?? srpm?.[2];
  if (sourceName) out.sourceName = sourceName;
  if (sourceVersion) out.sourceVersion = sourceVersion;
  const arch = str(m.architecture) ?? str(m.arch);
  if (arch) out.arch = arch;
  if (typeof m.epoch === 'number' && Number.isInteger(m.epoch)) out.epoch = m.epoch;
  return out;
}

function toPackage(a: Json, layerIndex: Map<string, number>): Package | undefined {
  const name = str(a.name);
  if (!name) return undefined;
  const purlText = str(a.purl);
  const parsed = parsePurl(purlText);
  const version = typeof a.version === 'string' ? a.version : '';
  return {
    name,
    version,
    type: typeFromPurl(parsed, a.type),
    purl: purlText ?? '',
    cpes: cpesOf(a),
    licenses: licensesOf(a),
    locations: locationsOf(a, layerIndex),
    ...detailsFromPurl(parsed, version),
    ...osDetails(a),
    foundBy: str(a.foundBy) ?? 'syft',
  };
}

function toDistro(d: Json): Distro | undefined {
  const id = str(d.id) ?? str(d.name)?.toLowerCase();
  if (!id) return undefined;
  const versionId = str(d.versionID) ?? str(d.version);
  const versionCodename = str(d.versionCodename);
  const prettyName = str(d.prettyName);
  const idLike = Array.isArray(d.idLike) ? strings(d.idLike) : (str(d.idLike)?.split(/\s+/) ?? []);
  return {
    id,
    ...(versionId ? { versionId } : {}),
    ...(versionCodename ? { versionCodename } : {}),
    idLike,
    ...(prettyName ? { prettyName } : {}),
    source: 'syft distro',
  };
}

function toSource(s: Json): ImageMetadata {
  const source = emptySource();
  const t = isObject(s.target) ? s.target : isObject(s.metadata) ? s.metadata : {};
  source.imageId = str(t.imageID) ?? '';
  const manifestDigest = str(t.manifestDigest);
  if (manifestDigest) source.manifestDigest = manifestDigest;
  source.mediaType = str(t.mediaType) ?? '';
  const tags = strings(t.tags);
  const userInput = str(t.userInput) ?? str(s.name);
  source.tags = tags.length ? tags : userInput ? [userInput] : [];
  source.platform = { os: str(t.os) ?? '', architecture: str(t.architecture) ?? '' };
  const variant = str(t.variant);
  if (variant) source.platform.variant = variant;
  source.layers = objects(t.layers).map((l, index) => {
    const digest = str(l.digest) ?? '';
    return { index, digest, diffId: digest, mediaType: str(l.mediaType) ?? '', size: typeof l.size === 'number' ? l.size : 0 };
  });
  return source;
}

export function readSyft(doc: unknown): Sbom {
  if (!detectSyft(doc)) throw new LadingError('BAD_INPUT', 'not a syft JSON document (no artifacts list from syft)');
  const d = doc as Json;
  const s = isObject(d.source) ? d.source : {};
  const sourceType = str(s.type);
  const source = toSource(s);
  const layerIndex = new Map(source.layers.map((l) => [l.diffId, l.index]));
  const packages: Package[] = [];
  const warnings: string[] = [];
  if (sourceType && sourceType !== 'image') warnings.push(`syft document describes a ${sourceType}, not an image`);
  (d.artifacts as unknown[]).forEach((a, i) => {
    const p = isObject(a) ? toPackage(a, layerIndex) : undefined;
    if (p) packages.push(p);
    else warnings.push(`syft artifacts[${i}] has no name; skipped`);
  });
  let distro = isObject(d.distro) ? toDistro(d.distro) : undefined;
  if (!distro) {
    for (const p of packages) {
      distro = distroFromPurl(parsePurl(p.purl), `purl distro qualifier of ${p.name}`);
      if (distro) break;
    }
  }
  return importedSbom({ source, ...(distro ? { distro } : {}), packages, warnings });
}
