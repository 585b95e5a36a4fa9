/**
 * Reads SPDX 2.2 / 2.3 JSON into an Sbom: packages with their purl and CPE external references;
 * the container package (or the package the document describes) as the image; the
 * OPERATING-SYSTEM package, or a purl's `distro=` qualifier, as the distro.
 */
import { LadingError } from '../../errors.js';
import type { Distro, ImageMetadata, Package, Sbom } from '../model.js';
import {
  detailsFromPurl, distroFromPurl, emptySource, importedSbom, isObject, objects, parsePurl, splitTopLevelAnd, str, typeFromPurl, type Json,
} from './common.js';

export function detectSpdx(doc: unknown): boolean {
  return isObject(doc) && typeof doc.spdxVersion === 'string' && doc.spdxVersion.startsWith('SPDX-');
}

function purpose(p: Json): string {
  return (str(p.primaryPackagePurpose) ?? '').replace('_', '-');
}

function refs(p: Json, ...types: string[]): string[] {
  return objects(p.externalRefs)
    .filter((r) => types.includes(String(r.referenceType)))
    .map((r) => str(r.referenceLocator))
    .filter((x): x is string => !!x);
}

/** Licence strings: the declared (else concluded) expression split at top-level ANDs, LicenseRefs back to their text. */
function licensesOf(p: Json, extracted: Map<string, string>): string[] {
  const given = [str(p.licenseDeclared), str(p.licenseConcluded)].find((l) => l && l !== 'NOASSERTION' && l !== 'NONE');
  if (!given) return [];
  return splitTopLevelAnd(given).map((part) => extracted.get(part) ?? part);
}

/** `acquired package info from <foundBy>: <path>, <path>` (how Lading and syft write sourceInfo). */
function evidence(p: Json): { foundBy?: string; paths: string[] } {
  const m = /^acquired package info from (.+?): (.+)$/s.exec(str(p.sourceInfo) ?? '');
  if (!m?.[1] || !m[2]) return { paths: [] };
  return { foundBy: m[1], paths: m[2].split(', ').map((x) => x.trim()).filter((x) => x.startsWith('/')) };
}

function toPackage(p: Json, extracted: Map<string, string>): Package | undefined {
  const name = str(p.name);
  if (!name) return undefined;
  const purlText = refs(p, 'purl')[0];
  const parsed = parsePurl(purlText);
  const version = str(p.versionInfo) ?? '';
  const { foundBy, paths } = evidence(p);
  return {
    name,
    version,
    type: typeFromPurl(parsed),
    purl: purlText ?? '',
    cpes: refs(p, 'cpe23Type', 'cpe22Type'),
    licenses: licensesOf(p, extracted),
    locations: paths.map((path) => ({ path })),
    ...detailsFromPurl(parsed, version),
    foundBy: foundBy ?? 'spdx',
  };
}

function toDistro(p: Json): Distro | undefined {
  const id = str(p.name)?.toLowerCase();
  if (!id) return undefined;
  const versionId = str(p.versionInfo);
  const prettyName = str(p.description);
  return { id, ...(versionId ? { versionId } : {}), idLike: [], ...(prettyName ? { prettyName } : {}), source: 'spdx operating-system package' };
}

function toSource(p: Json | undefined, documentName: string | undefined): ImageMetadata {
  const source = emptySource();
  const name = str(p?.name) ?? documentName;
  if (name) source.tags = [name];
  const version = str(p?.versionInfo);
  if (version && /^sha256:[a-f0-9]{64}$/.test(version)) source.manifestDigest = version;
  const oci = parsePurl(p ? refs(p, 'purl')[0] : undefined);
  if (oci?.type === 'oci') {
    const repo = oci.qualifiers?.repository_url;
    if (repo) {
      const slash = repo.indexOf('/');
      const host = slash > 0 ? repo.slice(0, slash) : '';
      if (host.includes('.') || host.includes(':') || host === 'localhost') {
        source.registry = host;
        source.repository = repo.slice(slash + 1);
      } else source.repository = repo;
    }
    if (oci.qualifiers?.arch) source.platform.architecture = oci.qualifiers.arch;
  }
  return source;
}

export function readSpdx(doc: unknown): Sbom {
  if (!detectSpdx(doc)) throw new LadingError('BAD_INPUT', 'not an SPDX JSON document (no spdxVersion)');
  const d = doc as Json;
  const version = String(d.spdxVersion);
  if (version !== 'SPDX-2.2' && version !== 'SPDX-2.3') {
    throw new LadingError('BAD_INPUT', `SPDX version ${version} is not supported (SPDX-2.2 and SPDX-2.3 JSON are)`);
  }
  if (d.packages !== undefined && !Array.isArray(d.packages)) throw new LadingError('BAD_INPUT', 'SPDX: packages is not a list');
  const extracted = new Map<string, string>();
  for (const e of objects(d.hasExtractedLicensingInfos)) {
    const id = str(e.licenseId);
    const text = str(e.extractedText);
    if (id && text && text !== id) extracted.set(id, text);
  }
  const all = objects(d.packages);
  const described = new Set<string>([
    ...objects(d.relationships)
      .filter((r) => r.spdxElementId === 'SPDXRef-DOCUMENT' && r.relationshipType === 'DESCRIBES')
      .map((r) => String(r.relatedSpdxElement)),
    ...(Array.isArray(d.documentDescribes) ? d.documentDescribes.map(String) : []),
  ]);
  const root = all.find((p) => purpose(p) === 'CONTAINER')
    ?? (described.size === 1 ? all.find((p) => described.has(String(p.SPDXID)) && !refs(p, 'purl').length) : undefined);
  let distro: Distro | undefined;
  const packages: Package[] = [];
  for (const p of all) {
    if (p === root) continue;
    if (purpose(p) === 'OPERATING-SYSTEM') {
      distro ??= toDistro(p);
      continue;
    }
    const pkg = toPackage(p, extracted);
    if (pkg) packages.push(pkg);
  }
  if (!distro) {
    for (const p of packages) {
      distro = distroFromPurl(parsePurl(p.purl), `purl distro qualifier of ${p.name}`);
      if (distro) break;
    }
  }
  const created = isObject(d.creationInfo) ? str(d.creationInfo.created) : undefined;
  return importedSbom({
    ...(created ? { createdAt: created } : {}),
    source: toSource(root, str(d.name)),
    ...(distro ? { distro } : {}),
    packages,
  });
}
