import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSpdx } from '../validate.js';
import { spdxDocument, writeSpdxJson } from './spdx.js';
import { readSpdx } from './read-spdx.js';
import { exampleSbom } from './testing.js';
import type { Package } from '../model.js';

interface SpdxPackage {
  SPDXID: string; name: string; versionInfo?: string; licenseDeclared: string; primaryPackagePurpose?: string; sourceInfo?: string;
  externalRefs?: { referenceCategory: string; referenceType: string; referenceLocator: string }[];
  downloadLocation: string; filesAnalyzed: boolean;
}
interface SpdxDoc {
  spdxVersion: string; dataLicense: string; SPDXID: string; name: string; documentNamespace: string;
  creationInfo: { created: string; creators: string[] };
  packages: SpdxPackage[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
  hasExtractedLicensingInfos?: { licenseId: string; extractedText: string }[];
}

const identity = (p: Package) => `${p.type}|${p.name}|${p.version}|${p.purl}`;
const doc = () => spdxDocument(exampleSbom()) as unknown as SpdxDoc;

test('the SPDX document validates against the official 2.3 schema', () => {
  assert.deepEqual(validateSpdx(JSON.parse(writeSpdxJson(exampleSbom()))), []);
});

test('document header', () => {
  const d = doc();
  assert.equal(d.spdxVersion, 'SPDX-2.3');
  assert.equal(d.dataLicense, 'CC0-1.0');
  assert.equal(d.SPDXID, 'SPDXRef-DOCUMENT');
  assert.equal(d.name, 'docker.io/library/debian:12');
  assert.match(d.documentNamespace, /^https:\/\/lading\.dev\/spdxdocs\/docker\.io-library-debian-12-[0-9a-f-]{36}$/);
  assert.notEqual(doc().documentNamespace, d.documentNamespace, 'each document gets its own namespace');
  assert.deepEqual(d.creationInfo, { created: '2024-03-01T12:00:00Z', creators: ['Tool: lading-0.1.0'] });
});

test('packages: unique SPDXIDs, purls and CPEs, the image and the OS', () => {
  const sbom = exampleSbom();
  const d = doc();
  const ids = d.packages.map((p) => p.SPDXID);
  assert.equal(new Set(ids).size, ids.length, 'SPDXIDs are unique');
  for (const id of ids) assert.match(id, /^SPDXRef-[A-Za-z0-9.-]+$/);
  assert.equal(d.packages.length, sbom.packages.length + 2);
  const root = d.packages.filter((p) => p.primaryPackagePurpose === 'CONTAINER');
  assert.deepEqual(root.map((p) => [p.name, p.versionInfo]), [['docker.io/library/debian:12', `sha256:${'2'.repeat(64)}`]]);
  const os = d.packages.filter((p) => p.primaryPackagePurpose === 'OPERATING_SYSTEM');
  assert.deepEqual(os.map((p) => [p.name, p.versionInfo]), [['debian', '12']]);
  const purls = d.packages.flatMap((p) => (p.externalRefs ?? []).filter((r) => r.referenceType === 'purl').map((r) => r.referenceLocator));
  assert.deepEqual(new Set(purls.filter((p) => !p.startsWith('pkg:oci/'))), new Set(sbom.packages.map((p) => p.purl)));
  const libc = d.packages.find((p) => p.name === 'libc6') as SpdxPackage;
  assert.match(libc.SPDXID, /^SPDXRef-Package-deb-libc6-[0-9a-f]{16}$/);
  assert.deepEqual(libc.externalRefs?.filter((r) => r.referenceCategory === 'SECURITY').map((r) => r.referenceType), ['cpe23Type', 'cpe23Type']);
  assert.equal(libc.sourceInfo, 'acquired package info from dpkg: /var/lib/dpkg/status');
  assert.equal(libc.downloadLocation, 'NOASSERTION');
  assert.equal(libc.filesAnalyzed, false);
  assert.match(d.packages.find((p) => p.name === '@babel/core')?.SPDXID ?? '', /^SPDXRef-Package-npm-babel-core-[0-9a-f]{16}$/);
});

test('relationships: the document describes the image, which contains every package and the OS', () => {
  const sbom = exampleSbom();
  const d = doc();
  const root = d.packages.find((p) => p.primaryPackagePurpose === 'CONTAINER')?.SPDXID;
  const describes = d.relationships.filter((r) => r.relationshipType === 'DESCRIBES');
  assert.deepEqual(describes, [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: root }]);
  const contains = d.relationships.filter((r) => r.relationshipType === 'CONTAINS');
  assert.equal(contains.length, sbom.packages.length + 1);
  assert.ok(contains.every((r) => r.spdxElementId === root));
  assert.deepEqual(new Set(contains.map((r) => r.relatedSpdxElement)), new Set(d.packages.map((p) => p.SPDXID).filter((id) => id !== root)));
});

test('licences: SPDX expressions kept, other text as declared LicenseRefs', () => {
  const d = doc();
  const declared = (name: string) => d.packages.find((p) => p.name === name)?.licenseDeclared;
  assert.equal(declared('serde'), 'MIT OR Apache-2.0');
  assert.equal(declared('rack'), 'MIT');
  assert.equal(declared('node'), 'NOASSERTION');
  assert.equal(declared('libc6'), 'LGPL-2.1-or-later AND GPL-2.0-or-later AND LicenseRef-public-domain');
  assert.equal(declared('acme-tools'), 'LicenseRef-Proprietary-ACME-Corp.-internal-use-only');
  assert.deepEqual(d.hasExtractedLicensingInfos?.map((e) => [e.licenseId, e.extractedText]), [
    ['LicenseRef-public-domain', 'public-domain'],
    ['LicenseRef-Proprietary-ACME-Corp.-internal-use-only', 'Proprietary: ACME Corp. internal use only'],
  ]);
});

test('an SPDX document written by Lading reads back to the same packages', () => {
  const sbom = exampleSbom();
  const back = readSpdx(JSON.parse(writeSpdxJson(sbom)));
  assert.deepEqual(back.packages.map(identity).sort(), sbom.packages.map(identity).sort());
  const byKey = new Map(sbom.packages.map((p) => [`${identity(p)}|${p.locations[0]?.path}`, p]));
  for (const p of back.packages) {
    const orig = byKey.get(`${identity(p)}|${p.locations[0]?.path}`);
    assert.ok(orig, `${p.name} was written`);
    assert.deepEqual(p.licenses, orig.licenses, `${p.name} licences`);
    assert.deepEqual(p.cpes, orig.cpes, `${p.name} cpes`);
    assert.deepEqual(p.locations.map((l) => l.path), orig.locations.map((l) => l.path));
    assert.equal(p.foundBy, orig.foundBy);
  }
  const rpm = back.packages.find((p) => p.type === 'rpm');
  assert.deepEqual([rpm?.sourceName, rpm?.sourceVersion, rpm?.epoch, rpm?.arch], ['openssl', '3.0.7-24.el9', 1, 'x86_64']);
  const login = back.packages.find((p) => p.name === 'login');
  assert.deepEqual([login?.sourceName, login?.sourceVersion, login?.epoch], ['shadow', '1:4.13+dfsg1-1', 1]);
  assert.deepEqual([back.distro?.id, back.distro?.versionId, back.distro?.prettyName], ['debian', '12', 'Debian GNU/Linux 12 (bookworm)']);
  assert.equal(back.source.manifestDigest, sbom.source.manifestDigest);
  assert.equal(back.source.registry, 'docker.io');
  assert.equal(back.source.repository, 'library/debian');
  assert.equal(back.source.platform.architecture, 'amd64');
});
