/**
 * `spdx-tag-value`: SPDX 2.3 in the tag:value text format, the same document as `spdx-json`
 * (spdx.ts builds it) written tag by tag: the document's creation info, then each package, then
 * the relationships and the extracted licences. Text that may span lines is wrapped in <text>.
 */
import type { Sbom } from '../model.js';
import { spdxDocument } from './spdx.js';
import type { Json } from './common.js';

export const spdxTagMediaType = 'text/spdx';

const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

/** A value that may hold line breaks or text that looks like a tag goes between <text> and </text>. */
function text(v: string): string {
  return `<text>${v.replace(/<\/text>/gi, '</ text>')}</text>`;
}

/** Tag-value spells the purpose with hyphens (OPERATING-SYSTEM); the 2.3 JSON schema with underscores. */
const purpose = (v: string): string => v.replace(/_/g, '-');

class Lines {
  readonly out: string[] = [];
  tag(name: string, v: unknown, wrap = false): void {
    const value = s(v);
    if (value === undefined) return;
    this.out.push(`${name}: ${wrap ? text(value) : value.replace(/\r?\n/g, ' ')}`);
  }
  blank(): void {
    this.out.push('');
  }
}

function packageLines(l: Lines, p: Json): void {
  l.out.push(`##### Package: ${s(p.name) ?? ''}`);
  l.blank();
  l.tag('PackageName', p.name);
  l.tag('SPDXID', p.SPDXID);
  l.tag('PackageVersion', p.versionInfo);
  l.tag('PackageDownloadLocation', p.downloadLocation);
  l.tag('FilesAnalyzed', p.filesAnalyzed);
  for (const c of arr(p.checksums)) l.tag('PackageChecksum', `${s(c.algorithm)}: ${s(c.checksumValue)}`);
  l.tag('PackageSourceInfo', p.sourceInfo, true);
  l.tag('PackageLicenseConcluded', p.licenseConcluded);
  l.tag('PackageLicenseDeclared', p.licenseDeclared);
  l.tag('PackageCopyrightText', p.copyrightText, true);
  l.tag('PackageDescription', p.description, true);
  for (const r of arr(p.externalRefs)) l.tag('ExternalRef', `${s(r.referenceCategory)} ${s(r.referenceType)} ${s(r.referenceLocator)}`);
  if (typeof p.primaryPackagePurpose === 'string') l.tag('PrimaryPackagePurpose', purpose(p.primaryPackagePurpose));
  l.blank();
}

/** The SPDX 2.3 tag-value text of an SBOM. */
export function writeSpdxTagValue(sbom: Sbom): string {
  const doc = spdxDocument(sbom);
  const l = new Lines();
  l.tag('SPDXVersion', doc.spdxVersion);
  l.tag('DataLicense', doc.dataLicense);
  l.tag('SPDXID', doc.SPDXID);
  l.tag('DocumentName', doc.name);
  l.tag('DocumentNamespace', doc.documentNamespace);
  const info = (doc.creationInfo ?? {}) as Json;
  for (const c of Array.isArray(info.creators) ? info.creators : []) l.tag('Creator', c);
  l.tag('Created', info.created);
  l.blank();
  for (const p of arr(doc.packages)) packageLines(l, p);
  l.out.push('##### Relationships');
  l.blank();
  for (const r of arr(doc.relationships)) l.tag('Relationship', `${s(r.spdxElementId)} ${s(r.relationshipType)} ${s(r.relatedSpdxElement)}`);
  const extracted = arr(doc.hasExtractedLicensingInfos);
  if (extracted.length) {
    l.blank();
    l.out.push('##### Extracted licences');
    for (const e of extracted) {
      l.blank();
      l.tag('LicenseID', e.licenseId);
      l.tag('ExtractedText', e.extractedText, true);
      l.tag('LicenseName', e.name);
    }
  }
  return l.out.join('\n') + '\n';
}
