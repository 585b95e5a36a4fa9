import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LadingError } from '../../errors.js';
import { readSpdx } from './read-spdx.js';

/** An SPDX 2.2 document as syft wrote them (no package purposes, a described root, files). */
const foreign = {
  SPDXID: 'SPDXRef-DOCUMENT',
  name: 'ubuntu-22.04',
  spdxVersion: 'SPDX-2.2',
  creationInfo: { created: '2023-06-01T08:00:00Z', creators: ['Organization: Anchore, Inc', 'Tool: syft-0.80.0'], licenseListVersion: '3.20' },
  dataLicense: 'CC0-1.0',
  documentNamespace: 'https://anchore.com/syft/image/ubuntu-22.04-0c4a2b4e',
  documentDescribes: ['SPDXRef-DocumentRoot-Image-ubuntu-22.04'],
  packages: [
    {
      name: 'ubuntu:22.04', SPDXID: 'SPDXRef-DocumentRoot-Image-ubuntu-22.04', versionInfo: `sha256:${'7'.repeat(64)}`,
      downloadLocation: 'NOASSERTION', filesAnalyzed: false, licenseConcluded: 'NOASSERTION', licenseDeclared: 'NOASSERTION', copyrightText: 'NOASSERTION',
    },
    {
      name: 'bash', SPDXID: 'SPDXRef-Package-deb-bash-1', versionInfo: '5.1-6ubuntu1',
      supplier: 'Person: Ubuntu Developers', downloadLocation: 'NOASSERTION', filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION', licenseDeclared: 'GPL-3.0-only AND LicenseRef-BSD-4-clause-Ralf-S-Engelschall', copyrightText: 'NOASSERTION',
      sourceInfo: 'acquired package info from DPKG DB: /usr/share/doc/bash/copyright, /var/lib/dpkg/status',
      externalRefs: [
        { referenceCategory: 'SECURITY', referenceType: 'cpe23Type', referenceLocator: 'cpe:2.3:a:bash:bash:5.1-6ubuntu1:*:*:*:*:*:*:*' },
        { referenceCategory: 'PACKAGE_MANAGER', referenceType: 'purl', referenceLocator: 'pkg:deb/ubuntu/bash@5.1-6ubuntu1?arch=amd64&distro=ubuntu-22.04' },
      ],
    },
    {
      name: 'six', SPDXID: 'SPDXRef-Package-python-six-2', versionInfo: '1.16.0', downloadLocation: 'NOASSERTION', filesAnalyzed: false,
      licenseConcluded: 'MIT', licenseDeclared: 'NOASSERTION', copyrightText: 'NOASSERTION',
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:pypi/six@1.16.0' }],
    },
    { name: 'no-purl', SPDXID: 'SPDXRef-Package-x', downloadLocation: 'NOASSERTION' },
  ],
  hasExtractedLicensingInfos: [{ licenseId: 'LicenseRef-BSD-4-clause-Ralf-S-Engelschall', extractedText: 'BSD-4-clause-Ralf-S-Engelschall' }],
  relationships: [{ spdxElementId: 'SPDXRef-DocumentRoot-Image-ubuntu-22.04', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-Package-deb-bash-1' }],
};

test('SPDX 2.2 from another tool: packages, licences, evidence, distro from a purl', () => {
  const sbom = readSpdx(foreign);
  assert.deepEqual(sbom.packages.map((p) => [p.type, p.name, p.version, p.purl]), [
    ['binary', 'no-purl', '', ''],
    ['deb', 'bash', '5.1-6ubuntu1', 'pkg:deb/ubuntu/bash@5.1-6ubuntu1?arch=amd64&distro=ubuntu-22.04'],
    ['python', 'six', '1.16.0', 'pkg:pypi/six@1.16.0'],
  ]);
  const bash = sbom.packages[1];
  assert.deepEqual(bash?.licenses, ['GPL-3.0-only', 'BSD-4-clause-Ralf-S-Engelschall']);
  assert.deepEqual(bash?.locations, [{ path: '/usr/share/doc/bash/copyright' }, { path: '/var/lib/dpkg/status' }]);
  assert.deepEqual([bash?.foundBy, bash?.arch, bash?.cpes], ['DPKG DB', 'amd64', ['cpe:2.3:a:bash:bash:5.1-6ubuntu1:*:*:*:*:*:*:*']]);
  assert.deepEqual(sbom.packages[2]?.licenses, ['MIT'], 'concluded licence when nothing is declared');
  assert.deepEqual([sbom.distro?.id, sbom.distro?.versionId], ['ubuntu', '22.04']);
  assert.deepEqual(sbom.source.tags, ['ubuntu:22.04']);
  assert.equal(sbom.source.manifestDigest, `sha256:${'7'.repeat(64)}`);
  assert.equal(sbom.createdAt, '2023-06-01T08:00:00Z');
});

test('SPDX: other versions are refused clearly', () => {
  assert.throws(() => readSpdx({ spdxVersion: 'SPDX-3.0' }), (e: unknown) => e instanceof LadingError && e.code === 'BAD_INPUT' && /SPDX version SPDX-3\.0 is not supported/.test(e.message));
  assert.throws(() => readSpdx({ spdxVersion: 'SPDX-2.3', packages: 'x' }), /packages is not a list/);
});
