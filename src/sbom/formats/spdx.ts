/**
 * `spdx-json`: SPDX 2.3 JSON, written by hand. The document DESCRIBES one root package, the image
 * (primaryPackagePurpose CONTAINER), which CONTAINS the operating system and every package.
 * Licence text that is not an SPDX expression becomes a LicenseRef with its text in
 * hasExtractedLicensingInfos.
 */
import { randomUUID } from 'node:crypto';
import { isSpdxExpression } from '../licenses.js';
import type { Distro, Package, Sbom } from '../model.js';
import { imageName, imageVersion, ociPurl, sha256Hex, sortPackages, type Json } from './common.js';

export const spdxMediaType = 'application/spdx+json';

/** Only [a-zA-Z0-9.-] may follow `SPDXRef-` and `LicenseRef-`. */
export function spdxIdPart(text: string): string {
  return text.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '');
}

const NOASSERTION = 'NOASSERTION';

/** Turns licence strings into SPDX expressions, minting LicenseRefs for plain text. */
class LicenseRefs {
  private readonly byText = new Map<string, string>();
  private readonly taken = new Set<string>();
  readonly extracted: Json[] = [];

  /** One licenseDeclared value for a package's licences (ANDed), or NOASSERTION. */
  declared(licenses: readonly string[]): string {
    if (licenses.length === 0) return NOASSERTION;
    const parts = licenses.map((l) => this.expression(l));
    if (parts.length === 1) return parts[0] ?? NOASSERTION;
    return parts.map((p) => (/\s/.test(p) ? `(${p})` : p)).join(' AND ');
  }

  private expression(text: string): string {
    if (isSpdxExpression(text) && !text.includes('DocumentRef-')) {
      // A LicenseRef already in the text must be declared in the document too.
      for (const ref of text.match(/LicenseRef-[A-Za-z0-9.-]+/g) ?? []) this.declare(ref, ref);
      return text;
    }
    const known = this.byText.get(text);
    if (known) return known;
    const base = `LicenseRef-${spdxIdPart(text).slice(0, 64).replace(/-+$/, '') || 'unnamed'}`;
    const id = this.taken.has(base) ? `${base}-${sha256Hex(text).slice(0, 8)}` : base;
    this.byText.set(text, id);
    this.declare(id, text);
    return id;
  }

  private declare(id: string, text: string): void {
    if (this.taken.has(id)) return;
    this.taken.add(id);
    const firstLine = text.split('\n')[0]?.trim().slice(0, 120) || id;
    this.extracted.push({ licenseId: id, extractedText: text, name: firstLine });
  }
}

/** SPDXRef-Package-<type>-<name>-<hash>, unique within the document. */
function packageIds(packages: readonly Package[]): string[] {
  const used = new Set<string>();
  return packages.map((p) => {
    const hash = sha256Hex(JSON.stringify([p.type, p.name, p.version, p.purl, p.locations.map((l) => l.path)])).slice(0, 16);
    const base = `SPDXRef-Package-${spdxIdPart(p.type)}-${spdxIdPart(p.name) || 'unnamed'}-${hash}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
    used.add(id);
    return id;
  });
}

function externalRefs(purl: string | undefined, cpes: readonly string[]): Json[] {
  const refs: Json[] = [];
  for (const c of cpes) refs.push({ referenceCategory: 'SECURITY', referenceType: 'cpe23Type', referenceLocator: c });
  if (purl) refs.push({ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl });
  return refs;
}

function packageElement(p: Package, id: string, licenses: LicenseRefs): Json {
  const refs = externalRefs(p.purl, p.cpes);
  const paths = [...new Set(p.locations.map((l) => l.path))];
  return {
    name: p.name,
    SPDXID: id,
    ...(p.version ? { versionInfo: p.version } : {}),
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    licenseConcluded: NOASSERTION,
    licenseDeclared: licenses.declared(p.licenses),
    copyrightText: NOASSERTION,
    ...(paths.length ? { sourceInfo: `acquired package info from ${p.foundBy}: ${paths.join(', ')}` } : {}),
    ...(refs.length ? { externalRefs: refs } : {}),
    primaryPackagePurpose: p.type === 'binary' ? 'APPLICATION' : 'LIBRARY',
  };
}

function osElement(d: Distro): Json {
  return {
    name: d.id,
    SPDXID: `SPDXRef-OperatingSystem-${spdxIdPart(d.id) || 'unknown'}${d.versionId ? `-${spdxIdPart(d.versionId)}` : ''}`,
    ...(d.versionId ? { versionInfo: d.versionId } : {}),
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    licenseConcluded: NOASSERTION,
    licenseDeclared: NOASSERTION,
    copyrightText: NOASSERTION,
    ...(d.prettyName ? { description: d.prettyName } : {}),
    sourceInfo: `acquired operating system info from ${d.source}`,
    // The 2.3 JSON schema spells the spec's OPERATING-SYSTEM with an underscore.
    primaryPackagePurpose: 'OPERATING_SYSTEM',
  };
}

function imageElement(sbom: Sbom, name: string): Json {
  const version = imageVersion(sbom.source);
  const hex = /^sha256:([a-f0-9]{64})$/.exec(version)?.[1];
  const refs = externalRefs(ociPurl(sbom.source), []);
  return {
    name,
    SPDXID: `SPDXRef-DocumentRoot-Image-${spdxIdPart(name) || 'image'}`,
    ...(version ? { versionInfo: version } : {}),
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    ...(hex ? { checksums: [{ algorithm: 'SHA256', checksumValue: hex }] } : {}),
    licenseConcluded: NOASSERTION,
    licenseDeclared: NOASSERTION,
    copyrightText: NOASSERTION,
    ...(refs.length ? { externalRefs: refs } : {}),
    primaryPackagePurpose: 'CONTAINER',
  };
}

/** The SPDX 2.3 document as an object (for validation and tests). */
export function spdxDocument(sbom: Sbom): Json {
  const name = imageName(sbom.source);
  const packages = sortPackages(sbom.packages);
  const ids = packageIds(packages);
  const licenses = new LicenseRefs();
  const root = imageElement(sbom, name);
  const elements = packages.map((p, i) => packageElement(p, ids[i] ?? '', licenses));
  if (sbom.distro) elements.unshift(osElement(sbom.distro));
  const rootId = String(root.SPDXID);
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name,
    documentNamespace: `https://lading.dev/spdxdocs/${spdxIdPart(name) || 'image'}-${randomUUID()}`,
    creationInfo: {
      created: sbom.createdAt.replace(/\.\d+Z$/, 'Z'),
      creators: [`Tool: lading-${sbom.tool.version}`],
    },
    packages: [root, ...elements],
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: rootId },
      ...elements.map((e) => ({ spdxElementId: rootId, relationshipType: 'CONTAINS', relatedSpdxElement: String(e.SPDXID) })),
    ],
    ...(licenses.extracted.length ? { hasExtractedLicensingInfos: licenses.extracted } : {}),
  };
}

export function writeSpdxJson(sbom: Sbom): string {
  return `${JSON.stringify(spdxDocument(sbom), null, 2)}\n`;
}
