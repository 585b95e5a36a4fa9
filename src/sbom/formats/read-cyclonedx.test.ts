import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LadingError } from '../../errors.js';
import { readCycloneDx } from './read-cyclonedx.js';

/** A CycloneDX 1.4 document as other tools write it: nested components, groups, syft properties. */
const foreign = {
  bomFormat: 'CycloneDX',
  specVersion: '1.4',
  serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79',
  version: 1,
  metadata: {
    timestamp: '2024-01-05T10:00:00Z',
    tools: [{ vendor: 'anchore', name: 'syft', version: '0.100.0' }],
    component: { 'bom-ref': 'img', type: 'container', name: 'alpine:3.19', version: `sha256:${'9'.repeat(64)}` },
  },
  components: [
    {
      'bom-ref': 'pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1',
      type: 'library',
      publisher: 'Sören Tempel <soeren+alpine@soeren-tempel.net>',
      name: 'busybox',
      version: '1.36.1-r15',
      licenses: [{ license: { id: 'GPL-2.0-only' } }],
      cpe: 'cpe:2.3:a:busybox:busybox:1.36.1-r15:*:*:*:*:*:*:*',
      purl: 'pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&upstream=busybox&distro=alpine-3.19.1',
      properties: [
        { name: 'syft:package:foundBy', value: 'apk-db-cataloger' },
        { name: 'syft:package:type', value: 'apk' },
        { name: 'syft:cpe23', value: 'cpe:2.3:a:busybox:busybox:1.36.1-r15:*:*:*:*:*:*:*' },
        { name: 'syft:location:0:layerID', value: `sha256:${'a'.repeat(64)}` },
        { name: 'syft:location:0:path', value: '/lib/apk/db/installed' },
        { name: 'syft:metadata:originPackage', value: 'busybox' },
      ],
    },
    {
      type: 'application',
      name: 'app',
      version: '1.0.0',
      components: [
        { type: 'library', group: '@types', name: 'node', version: '20.11.5', purl: 'pkg:npm/%40types/node@20.11.5', licenses: [{ expression: 'MIT' }] },
        {
          type: 'library', group: 'org.yaml', name: 'snakeyaml', version: '2.2', purl: 'pkg:maven/org.yaml/snakeyaml@2.2',
          components: [{ type: 'library', name: 'inner', version: '0.1', purl: 'pkg:pypi/inner@0.1', licenses: [{ license: { name: 'Custom' } }] }],
        },
      ],
    },
    { type: 'library', group: 'github.com/spf13', name: 'cobra', version: 'v1.8.0', purl: 'pkg:golang/github.com/spf13/cobra@v1.8.0' },
    { type: 'library', name: 'thing', version: '1', purl: 'pkg:cocoapods/thing@1' },
    { type: 'file', name: '/etc/passwd', hashes: [{ alg: 'SHA-1', content: 'a'.repeat(40) }] },
  ],
};

test('CycloneDX from another tool: nested components, purl types, syft properties', () => {
  const sbom = readCycloneDx(foreign);
  assert.deepEqual(sbom.packages.map((p) => [p.type, p.name, p.version]), [
    ['apk', 'busybox', '1.36.1-r15'],
    ['binary', 'app', '1.0.0'],
    ['binary', 'thing', '1'],
    ['go-module', 'github.com/spf13/cobra', 'v1.8.0'],
    ['java-archive', 'snakeyaml', '2.2'],
    ['npm', '@types/node', '20.11.5'],
    ['python', 'inner', '0.1'],
  ]);
  const busybox = sbom.packages[0];
  assert.deepEqual(busybox?.locations, [{ path: '/lib/apk/db/installed', layerDiffId: `sha256:${'a'.repeat(64)}` }]);
  assert.deepEqual(busybox?.cpes, ['cpe:2.3:a:busybox:busybox:1.36.1-r15:*:*:*:*:*:*:*']);
  assert.deepEqual([busybox?.foundBy, busybox?.sourceName, busybox?.arch, busybox?.licenses], ['apk-db-cataloger', 'busybox', 'x86_64', ['GPL-2.0-only']]);
  assert.deepEqual(sbom.packages.find((p) => p.name === 'inner')?.licenses, ['Custom']);
  assert.deepEqual(sbom.packages.find((p) => p.name === '@types/node')?.licenses, ['MIT']);
  assert.equal(sbom.packages.find((p) => p.name === 'app')?.foundBy, 'cyclonedx');
  assert.deepEqual([sbom.distro?.id, sbom.distro?.versionId], ['alpine', '3.19.1']);
  assert.equal(sbom.source.manifestDigest, `sha256:${'9'.repeat(64)}`);
  assert.deepEqual(sbom.source.tags, ['alpine:3.19']);
  assert.equal(sbom.createdAt, '2024-01-05T10:00:00Z');
});

test('CycloneDX: unsupported versions and broken structure are refused clearly', () => {
  const bad = (doc: unknown, pattern: RegExp) =>
    assert.throws(() => readCycloneDx(doc), (e: unknown) => e instanceof LadingError && e.code === 'BAD_INPUT' && pattern.test(e.message));
  bad({ bomFormat: 'CycloneDX', specVersion: '1.1' }, /specVersion 1\.1 is not supported/);
  bad({ bomFormat: 'CycloneDX' }, /specVersion \(missing\)/);
  bad({ bomFormat: 'CycloneDX', specVersion: '1.5', components: {} }, /components is not a list/);
  bad({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ type: 'library', name: 'x', components: 'no' }] }, /components\[0\]\.components is not a list/);
  bad({ spdxVersion: 'SPDX-2.3' }, /not a CycloneDX document/);
});
