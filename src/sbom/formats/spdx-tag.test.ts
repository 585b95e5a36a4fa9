import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSpdx } from '../validate.js';
import type { Json } from './common.js';
import { spdxDocument } from './spdx.js';
import { writeSpdxTagValue } from './spdx-tag.js';
import { exampleSbom } from './testing.js';

/** Tag-value back to the SPDX 2.3 JSON shape: a reader independent of the writer, to validate with the official schema. */
function parseTagValue(text: string): Json {
  const doc: Json = { packages: [], relationships: [] };
  const packages = doc.packages as Json[];
  const extracted: Json[] = [];
  let cur: Json = doc;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line === '' || line.startsWith('#')) continue;
    if (line.includes('<text>') && !line.includes('</text>')) {
      while (!line.includes('</text>')) line += '\n' + lines[++i];
    }
    const m = /^([A-Za-z]+): (.*)$/s.exec(line);
    assert.ok(m, `not a tag: value line: ${line}`);
    const [, tag, raw] = m;
    const value = raw!.replace(/^<text>([\s\S]*)<\/text>$/, '$1');
    const creation = (doc.creationInfo ??= { creators: [] }) as Json;
    const docTags: Record<string, string> = { SPDXVersion: 'spdxVersion', DataLicense: 'dataLicense', DocumentName: 'name', DocumentNamespace: 'documentNamespace' };
    const pkgTags: Record<string, string> = {
      PackageVersion: 'versionInfo', PackageDownloadLocation: 'downloadLocation', PackageSourceInfo: 'sourceInfo',
      PackageLicenseConcluded: 'licenseConcluded', PackageLicenseDeclared: 'licenseDeclared', PackageCopyrightText: 'copyrightText', PackageDescription: 'description',
    };
    if (tag === 'PackageName') packages.push(cur = { name: value });
    else if (tag === 'LicenseID') extracted.push(cur = { licenseId: value });
    else if (tag === 'SPDXID') cur.SPDXID = value;
    else if (docTags[tag!]) doc[docTags[tag!]!] = value;
    else if (tag === 'Creator') (creation.creators as string[]).push(value);
    else if (tag === 'Created') creation.created = value;
    else if (pkgTags[tag!]) cur[pkgTags[tag!]!] = value;
    else if (tag === 'FilesAnalyzed') cur.filesAnalyzed = value === 'true';
    else if (tag === 'PackageChecksum') {
      const [algorithm, checksumValue] = value.split(': ');
      ((cur.checksums ??= []) as Json[]).push({ algorithm, checksumValue });
    } else if (tag === 'ExternalRef') {
      const [referenceCategory, referenceType, referenceLocator] = value.split(' ');
      ((cur.externalRefs ??= []) as Json[]).push({ referenceCategory, referenceType, referenceLocator });
    } else if (tag === 'PrimaryPackagePurpose') cur.primaryPackagePurpose = value.replace(/-/g, '_');
    else if (tag === 'Relationship') {
      const [spdxElementId, relationshipType, relatedSpdxElement] = value.split(' ');
      (doc.relationships as Json[]).push({ spdxElementId, relationshipType, relatedSpdxElement });
    } else if (tag === 'ExtractedText') cur.extractedText = value;
    else if (tag === 'LicenseName') cur.name = value;
    else assert.fail(`unexpected tag ${tag}`);
  }
  if (extracted.length) doc.hasExtractedLicensingInfos = extracted;
  return doc;
}

test('spdx-tag-value holds the same document as spdx-json, and it is valid SPDX 2.3', () => {
  const sbom = exampleSbom();
  const text = writeSpdxTagValue(sbom);
  assert.match(text, /^SPDXVersion: SPDX-2\.3\nDataLicense: CC0-1\.0\nSPDXID: SPDXRef-DOCUMENT\n/);
  assert.match(text, /\nPrimaryPackagePurpose: OPERATING-SYSTEM\n/);
  const parsed = parseTagValue(text);
  assert.deepEqual(validateSpdx(parsed), []);
  const expected = spdxDocument(sbom);
  const ns = (d: Json) => ({ ...d, documentNamespace: String(d.documentNamespace).replace(/-[0-9a-f-]{36}$/, '') });
  assert.deepEqual(ns(parsed), ns(expected));
});

test('spdx-tag-value: text with line breaks stays in <text>, and one line values stay on one line', () => {
  const sbom = exampleSbom();
  const p = { ...sbom.packages[0]!, licenses: ['Some licence\nsecond line </text> end'] };
  const text = writeSpdxTagValue({ ...sbom, packages: [p] });
  assert.match(text, /\nExtractedText: <text>Some licence\nsecond line <\/ text> end<\/text>\n/);
  assert.deepEqual(validateSpdx(parseTagValue(text)), []);
});
