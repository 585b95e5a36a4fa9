/**
 * `cyclonedx-json`: CycloneDX 1.6 JSON. The image is metadata.component (type container), the
 * distro an operating-system component, every package a library component. What CycloneDX has no
 * field for goes into `lading:` properties (as syft does with `syft:`), which read-cyclonedx.ts
 * reads back.
 */
import { randomUUID } from 'node:crypto';
import { isSpdxExpression } from '../licenses.js';
import type { Distro, Package, Sbom } from '../model.js';
import { cycloneDxLicenseIds } from '../schema-files.js';
import { imageName, imageVersion, ociPurl, sha256Hex, sortPackages, type Json } from './common.js';

export const cycloneDxMediaType = 'application/vnd.cyclonedx+json; version=1.6';

interface Property { name: string; value: string }

function prop(out: Property[], name: string, value: string | number | boolean | undefined): void {
  if (value === undefined || value === '') return;
  out.push({ name, value: String(value) });
}

/**
 * CycloneDX allows either a list of licences (SPDX ids and names) or exactly one expression.
 * Ids it lists → {license:{id}}; other valid SPDX expressions → one ANDed {expression}; plain text
 * → {license:{name}}. When expressions and plain text meet, everything becomes a name (no text lost).
 */
export function cycloneDxLicenses(licenses: readonly string[]): Json[] | undefined {
  if (licenses.length === 0) return undefined;
  const ids = cycloneDxLicenseIds();
  const kinds = licenses.map((l) => (ids.has(l) ? 'id' : isSpdxExpression(l) ? 'expression' : 'name'));
  if (!kinds.includes('expression')) {
    return licenses.map((l, i) => ({ license: kinds[i] === 'id' ? { id: l } : { name: l } }));
  }
  if (kinds.includes('name')) return licenses.map((l) => ({ license: { name: l } }));
  const expression = licenses.length === 1 ? licenses[0] : licenses.map((l) => (/\s/.test(l) ? `(${l})` : l)).join(' AND ');
  return [{ expression }];
}

/** A bom-ref per package: its purl, made unique with a `package-id` qualifier when two packages share one. */
function bomRefs(packages: readonly Package[]): string[] {
  const base = packages.map((p) => p.purl || `${p.type}:${p.name}@${p.version}`);
  const count = new Map<string, number>();
  for (const b of base) count.set(b, (count.get(b) ?? 0) + 1);
  const used = new Set<string>();
  return packages.map((p, i) => {
    const b = base[i] ?? '';
    if (count.get(b) === 1) return b;
    const id = sha256Hex(JSON.stringify([p.type, p.name, p.version, p.purl, p.locations.map((l) => l.path)])).slice(0, 16);
    let ref = `${b}${b.includes('?') ? '&' : '?'}package-id=${id}`;
    for (let n = 2; used.has(ref); n++) ref = `${b}${b.includes('?') ? '&' : '?'}package-id=${id}-${n}`;
    used.add(ref);
    return ref;
  });
}

function packageComponent(p: Package, ref: string): Json {
  const properties: Property[] = [];
  prop(properties, 'lading:package:type', p.type);
  prop(properties, 'lading:package:foundBy', p.foundBy);
  prop(properties, 'lading:package:sourceName', p.sourceName);
  prop(properties, 'lading:package:sourceVersion', p.sourceVersion);
  prop(properties, 'lading:package:arch', p.arch);
  prop(properties, 'lading:package:epoch', p.epoch);
  for (const c of p.cpes.slice(1)) prop(properties, 'lading:cpe23', c);
  p.locations.forEach((l, i) => {
    prop(properties, `lading:location:${i}:path`, l.path);
    prop(properties, `lading:location:${i}:layer`, l.layer);
    prop(properties, `lading:location:${i}:layerDiffId`, l.layerDiffId);
    prop(properties, `lading:location:${i}:layerDigest`, l.layerDigest);
  });
  for (const k of Object.keys(p.metadata ?? {}).sort()) {
    const v = p.metadata?.[k];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') prop(properties, `lading:metadata:${k}`, v);
  }
  const licenses = cycloneDxLicenses(p.licenses);
  return {
    'bom-ref': ref,
    type: 'library',
    name: p.name,
    ...(p.version ? { version: p.version } : {}),
    ...(licenses ? { licenses } : {}),
    ...(p.cpes[0] ? { cpe: p.cpes[0] } : {}),
    ...(p.purl ? { purl: p.purl } : {}),
    ...(properties.length ? { properties } : {}),
  };
}

function osComponent(d: Distro): Json {
  const properties: Property[] = [];
  prop(properties, 'lading:distro:id', d.id);
  prop(properties, 'lading:distro:versionID', d.versionId);
  prop(properties, 'lading:distro:versionCodename', d.versionCodename);
  if (d.idLike.length) prop(properties, 'lading:distro:idLike', d.idLike.join(' '));
  prop(properties, 'lading:distro:source', d.source);
  return {
    'bom-ref': `os:${d.id}${d.versionId ? `@${d.versionId}` : ''}`,
    type: 'operating-system',
    name: d.id,
    ...(d.versionId ? { version: d.versionId } : {}),
    ...(d.prettyName ? { description: d.prettyName } : {}),
    properties,
  };
}

function imageComponent(sbom: Sbom): Json {
  const s = sbom.source;
  const name = imageName(s);
  const version = imageVersion(s);
  const properties: Property[] = [];
  prop(properties, 'lading:image:imageID', s.imageId);
  prop(properties, 'lading:image:manifestDigest', s.manifestDigest);
  prop(properties, 'lading:image:indexDigest', s.indexDigest);
  prop(properties, 'lading:image:mediaType', s.mediaType);
  for (const t of s.tags) prop(properties, 'lading:image:tag', t);
  prop(properties, 'lading:image:registry', s.registry);
  prop(properties, 'lading:image:repository', s.repository);
  prop(properties, 'lading:image:os', s.platform.os);
  prop(properties, 'lading:image:architecture', s.platform.architecture);
  prop(properties, 'lading:image:variant', s.platform.variant);
  prop(properties, 'lading:image:created', s.created);
  for (const l of s.layers) prop(properties, `lading:image:layer:${l.index}:diffID`, l.diffId);
  prop(properties, 'lading:image:base:digest', s.base?.digest);
  prop(properties, 'lading:image:base:tag', s.base?.tag);
  prop(properties, 'lading:image:base:sharedLayers', s.base?.sharedLayers);
  const hex = /^sha256:([a-f0-9]{64})$/.exec(version)?.[1];
  const oci = ociPurl(s);
  return {
    'bom-ref': `image:${name}${version ? `@${version}` : ''}`,
    type: 'container',
    name,
    ...(version ? { version } : {}),
    ...(hex ? { hashes: [{ alg: 'SHA-256', content: hex }] } : {}),
    ...(oci ? { purl: oci } : {}),
    ...(properties.length ? { properties } : {}),
  };
}

/** The CycloneDX 1.6 document as an object (for validation and tests). */
export function cycloneDxDocument(sbom: Sbom): Json {
  const packages = sortPackages(sbom.packages);
  const refs = bomRefs(packages);
  const components = packages.map((p, i) => packageComponent(p, refs[i] ?? p.purl));
  if (sbom.distro) components.push(osComponent(sbom.distro));
  return {
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: sbom.createdAt,
      tools: { components: [{ type: 'application', name: 'lading', version: sbom.tool.version }] },
      component: imageComponent(sbom),
    },
    components,
  };
}

export function writeCycloneDxJson(sbom: Sbom): string {
  return `${JSON.stringify(cycloneDxDocument(sbom), null, 2)}\n`;
}
