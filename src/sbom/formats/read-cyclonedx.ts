/**
 * Reads CycloneDX JSON (1.2 to 1.6, and 1.7 which keeps their shape) into an Sbom: every component with a package identity,
 * nested components included; the distro from an operating-system component or a purl's
 * `distro=` qualifier; locations, layers and the rest from `lading:` or `syft:` properties.
 */
import { LadingError } from '../../errors.js';
import { namespaceInName } from '../ecosystems.js';
import type { Distro, ImageMetadata, Location, Package, Sbom } from '../model.js';
import {
  detailsFromPurl, distroFromPurl, emptySource, importedSbom, isObject, objects, parsePurl, str, typeFromPurl, type Json,
} from './common.js';

const packageComponentTypes = new Set(['library', 'framework', 'application', 'firmware', 'device-driver']);

export function detectCycloneDx(doc: unknown): boolean {
  return isObject(doc) && doc.bomFormat === 'CycloneDX';
}

/** Property values by name (a name may repeat). */
function propertyMap(c: Json): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of objects(c.properties)) {
    const name = str(p.name);
    const value = typeof p.value === 'string' ? p.value : undefined;
    if (!name || value === undefined) continue;
    out.set(name, [...(out.get(name) ?? []), value]);
  }
  return out;
}

/** First value of the first of `names` present. */
function first(props: Map<string, string[]>, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = props.get(n)?.[0];
    if (v) return v;
  }
  return undefined;
}

function licensesOf(c: Json): string[] {
  const out: string[] = [];
  for (const l of objects(c.licenses)) {
    const expression = str(l.expression);
    if (expression) out.push(expression);
    else if (isObject(l.license)) {
      const v = str(l.license.id) ?? str(l.license.name);
      if (v) out.push(v);
    }
  }
  return out;
}

function locationsOf(props: Map<string, string[]>): Location[] {
  const byIndex = new Map<number, Location>();
  for (const [name, values] of props) {
    const m = /^(?:lading|syft):location:(\d+):(path|layer|layerDigest|layerDiffId|layerID)$/.exec(name);
    const value = values[0];
    if (!m?.[1] || !m[2] || value === undefined) continue;
    const i = Number(m[1]);
    const loc = byIndex.get(i) ?? { path: '' };
    if (m[2] === 'path') loc.path = value;
    else if (m[2] === 'layer' && /^\d+$/.test(value)) loc.layer = Number(value);
    // syft's layerID is the diff_id
    else if (m[2] === 'layerDiffId' || m[2] === 'layerID') loc.layerDiffId = value;
    else if (m[2] === 'layerDigest') loc.layerDigest = value;
    byIndex.set(i, loc);
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, l]) => l).filter((l) => l.path !== '');
}

function metadataOf(props: Map<string, string[]>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [name, values] of props) {
    const m = /^lading:metadata:(.+)$/.exec(name);
    if (m?.[1] && values[0] !== undefined) out[m[1]] = values[0];
  }
  return Object.keys(out).length ? out : undefined;
}

function toPackage(c: Json): Package | undefined {
  const name = str(c.name);
  if (!name) return undefined;
  const purlText = str(c.purl);
  const parsed = parsePurl(purlText);
  const props = propertyMap(c);
  const type = typeFromPurl(parsed, first(props, 'lading:package:type', 'syft:package:type'));
  const group = str(c.group);
  const fullName = group && !name.includes('/') && namespaceInName(type) ? `${group}/${name}` : name;
  const version = typeof c.version === 'string' ? c.version : '';
  const details = detailsFromPurl(parsed, version);
  const sourceName = first(props, 'lading:package:sourceName', 'syft:metadata:source', 'syft:metadata:originPackage');
  const sourceVersion = first(props, 'lading:package:sourceVersion', 'syft:metadata:sourceVersion');
  const arch = first(props, 'lading:package:arch', 'syft:metadata:architecture', 'syft:metadata:arch');
  const epoch = first(props, 'lading:package:epoch', 'syft:metadata:epoch');
  const metadata = metadataOf(props);
  return {
    name: fullName,
    version,
    type,
    purl: purlText ?? '',
    cpes: [...new Set([...(str(c.cpe) ? [String(c.cpe)] : []), ...(props.get('lading:cpe23') ?? []), ...(props.get('syft:cpe23') ?? [])])],
    licenses: licensesOf(c),
    locations: locationsOf(props),
    ...details,
    ...(sourceName ? { sourceName } : {}),
    ...(sourceVersion ? { sourceVersion } : {}),
    ...(arch ? { arch } : {}),
    ...(epoch && /^\d+$/.test(epoch) ? { epoch: Number(epoch) } : {}),
    ...(metadata ? { metadata } : {}),
    foundBy: first(props, 'lading:package:foundBy', 'syft:package:foundBy') ?? 'cyclonedx',
  };
}

function toDistro(c: Json): Distro | undefined {
  const props = propertyMap(c);
  const id = first(props, 'lading:distro:id', 'syft:distro:id') ?? str(c.name)?.toLowerCase();
  if (!id) return undefined;
  const versionId = first(props, 'lading:distro:versionID', 'syft:distro:versionID') ?? str(c.version);
  const versionCodename = first(props, 'lading:distro:versionCodename', 'syft:distro:versionCodename');
  const idLike = first(props, 'lading:distro:idLike', 'syft:distro:idLike');
  const prettyName = str(c.description) ?? first(props, 'syft:distro:prettyName');
  return {
    id,
    ...(versionId ? { versionId } : {}),
    ...(versionCodename ? { versionCodename } : {}),
    idLike: idLike ? idLike.split(/[\s,]+/).filter(Boolean) : [],
    ...(prettyName ? { prettyName } : {}),
    source: first(props, 'lading:distro:source') ?? 'cyclonedx operating-system component',
  };
}

function toSource(c: Json | undefined): ImageMetadata {
  const source = emptySource();
  if (!c) return source;
  const props = propertyMap(c);
  const version = str(c.version);
  const digest = version && /^sha256:[a-f0-9]{64}$/.test(version) ? version : undefined;
  source.imageId = first(props, 'lading:image:imageID', 'syft:image:imageID') ?? '';
  const manifestDigest = first(props, 'lading:image:manifestDigest') ?? digest;
  if (manifestDigest) source.manifestDigest = manifestDigest;
  const indexDigest = first(props, 'lading:image:indexDigest');
  if (indexDigest) source.indexDigest = indexDigest;
  source.mediaType = first(props, 'lading:image:mediaType') ?? '';
  const tags = props.get('lading:image:tag') ?? [];
  const name = str(c.name);
  source.tags = tags.length ? tags : name && name !== source.imageId ? [name] : [];
  const registry = first(props, 'lading:image:registry');
  if (registry) source.registry = registry;
  const repository = first(props, 'lading:image:repository');
  if (repository) source.repository = repository;
  source.platform = { os: first(props, 'lading:image:os') ?? '', architecture: first(props, 'lading:image:architecture') ?? '' };
  const variant = first(props, 'lading:image:variant');
  if (variant) source.platform.variant = variant;
  const created = first(props, 'lading:image:created');
  if (created) source.created = created;
  for (const [pname, values] of props) {
    const m = /^lading:image:layer:(\d+):diffID$/.exec(pname);
    if (m?.[1] && values[0]) source.layers.push({ index: Number(m[1]), digest: values[0], diffId: values[0], mediaType: '', size: 0 });
  }
  source.layers.sort((a, b) => a.index - b.index);
  return source;
}

/** Every component, depth first, nested `components` included. */
function allComponents(list: Json[], path: string, out: Json[] = []): Json[] {
  list.forEach((c, i) => {
    out.push(c);
    if (c.components !== undefined) {
      if (!Array.isArray(c.components)) throw new LadingError('BAD_INPUT', `CycloneDX: ${path}[${i}].components is not a list`);
      allComponents(objects(c.components), `${path}[${i}].components`, out);
    }
  });
  return out;
}

export function readCycloneDx(doc: unknown): Sbom {
  if (!detectCycloneDx(doc)) throw new LadingError('BAD_INPUT', 'not a CycloneDX document (bomFormat is not "CycloneDX")');
  const d = doc as Json;
  const spec = str(d.specVersion);
  if (!spec || !/^1\.[2-7]$/.test(spec)) {
    throw new LadingError('BAD_INPUT', `CycloneDX specVersion ${spec ?? '(missing)'} is not supported (JSON 1.2 to 1.7 are)`);
  }
  if (d.components !== undefined && !Array.isArray(d.components)) throw new LadingError('BAD_INPUT', 'CycloneDX: components is not a list');
  const metadata = isObject(d.metadata) ? d.metadata : {};
  const root = isObject(metadata.component) ? metadata.component : undefined;
  const components = allComponents(objects(d.components), 'components');
  const packages: Package[] = [];
  let distro: Distro | undefined;
  for (const c of components) {
    const type = str(c.type) ?? 'library';
    if (type === 'operating-system') {
      distro ??= toDistro(c);
      continue;
    }
    // Library-like components, and anything else that names a package by purl (but not the image).
    if (type === 'container' || (!packageComponentTypes.has(type) && !str(c.purl))) continue;
    const p = toPackage(c);
    if (p) packages.push(p);
  }
  if (!distro) {
    for (const p of packages) {
      distro = distroFromPurl(parsePurl(p.purl), `purl distro qualifier of ${p.name}`);
      if (distro) break;
    }
  }
  return importedSbom({
    ...(str(metadata.timestamp) ? { createdAt: String(metadata.timestamp) } : {}),
    source: toSource(root),
    ...(distro ? { distro } : {}),
    packages,
  });
}
