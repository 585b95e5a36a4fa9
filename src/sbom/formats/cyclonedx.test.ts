import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateCycloneDx } from '../validate.js';
import { cycloneDxDocument, cycloneDxLicenses, writeCycloneDxJson } from './cyclonedx.js';
import { readCycloneDx } from './read-cyclonedx.js';
import { exampleSbom } from './testing.js';
import type { Package } from '../model.js';

type Props = { name: string; value: string }[];
interface Component { 'bom-ref': string; type: string; name: string; version?: string; purl?: string; cpe?: string; licenses?: unknown[]; properties?: Props; description?: string }

const identity = (p: Package) => `${p.type}|${p.name}|${p.version}|${p.purl}`;
const props = (c: Component, name: string) => (c.properties ?? []).filter((p) => p.name === name).map((p) => p.value);

test('the CycloneDX document validates against the official 1.6 schema', () => {
  const text = writeCycloneDxJson(exampleSbom());
  const doc = JSON.parse(text) as unknown;
  assert.deepEqual(validateCycloneDx(doc), []);
});

test('metadata names the image, the tool and the time', () => {
  const doc = cycloneDxDocument(exampleSbom()) as { serialNumber: string; metadata: { timestamp: string; tools: { components: Component[] }; component: Component & { hashes: unknown[] } } };
  assert.match(doc.serialNumber, /^urn:uuid:[0-9a-f-]{36}$/);
  assert.equal(doc.metadata.timestamp, '2024-03-01T12:00:00.000Z');
  assert.deepEqual(doc.metadata.tools.components.map((t) => [t.name, t.version]), [['lading', '0.1.0']]);
  const image = doc.metadata.component;
  assert.equal(image.type, 'container');
  assert.equal(image.name, 'docker.io/library/debian:12');
  assert.equal(image.version, `sha256:${'2'.repeat(64)}`);
  assert.deepEqual(image.hashes, [{ alg: 'SHA-256', content: '2'.repeat(64) }]);
  assert.deepEqual(props(image, 'lading:image:imageID'), [`sha256:${'1'.repeat(64)}`]);
  assert.match(image.purl ?? '', /^pkg:oci\/debian@sha256:2{64}\?arch=amd64&repository_url=docker.io%2Flibrary%2Fdebian&tag=12$/);
});

test('one library component per package, the distro as operating-system', () => {
  const sbom = exampleSbom();
  const doc = cycloneDxDocument(sbom) as { components: Component[] };
  const libraries = doc.components.filter((c) => c.type === 'library');
  assert.equal(libraries.length, sbom.packages.length);
  const refs = doc.components.map((c) => c['bom-ref']);
  assert.equal(new Set(refs).size, refs.length, 'bom-refs are unique');
  const lodash = libraries.filter((c) => c.name === 'lodash');
  assert.equal(lodash.length, 2);
  assert.ok(lodash.every((c) => c['bom-ref'].startsWith('pkg:npm/lodash@4.17.21?package-id=')), 'duplicate purls get a package-id');
  assert.deepEqual(
    new Set(libraries.map((c) => c.purl)),
    new Set(sbom.packages.map((p) => p.purl)),
  );
  const os = doc.components.filter((c) => c.type === 'operating-system');
  assert.deepEqual(os.map((c) => [c.name, c.version, c.description]), [['debian', '12', 'Debian GNU/Linux 12 (bookworm)']]);
  assert.deepEqual(props(os[0] as Component, 'lading:distro:versionCodename'), ['bookworm']);

  const libc = libraries.find((c) => c.name === 'libc6') as Component;
  assert.equal(libc.cpe, 'cpe:2.3:a:libc6:libc6:2.36-9\\+deb12u4:*:*:*:*:*:*:*');
  assert.deepEqual(props(libc, 'lading:cpe23'), ['cpe:2.3:a:gnu:glibc:2.36-9\\+deb12u4:*:*:*:*:*:*:*']);
  assert.deepEqual(props(libc, 'lading:package:sourceName'), ['glibc']);
  assert.deepEqual(props(libc, 'lading:location:0:path'), ['/var/lib/dpkg/status']);
  assert.deepEqual(props(libc, 'lading:location:0:layer'), ['0']);
  assert.deepEqual(props(libc, 'lading:package:foundBy'), ['dpkg']);
  assert.deepEqual(props(libc, 'lading:metadata:installedSize'), ['12985']);
  const login = libraries.find((c) => c.name === 'login') as Component;
  assert.deepEqual(props(login, 'lading:package:epoch'), ['1']);
  assert.deepEqual(props(login, 'lading:package:sourceVersion'), ['1:4.13+dfsg1-1']);
  const jar = libraries.find((c) => c.name === 'jackson-databind') as Component;
  assert.equal(jar.purl, 'pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.15.2');
  assert.deepEqual(props(jar, 'lading:location:0:path'), ['/app/app.jar:BOOT-INF/lib/jackson-databind-2.15.2.jar']);
  assert.equal(libraries.find((c) => c.name === '@babel/core')?.purl, 'pkg:npm/%40babel/core@7.23.9');
});

test('licences: SPDX ids, one expression, or names', () => {
  const doc = cycloneDxDocument(exampleSbom()) as { components: Component[] };
  const lic = (name: string) => doc.components.find((c) => c.name === name)?.licenses;
  assert.deepEqual(lic('serde'), [{ expression: 'MIT OR Apache-2.0' }]);
  assert.deepEqual(lic('libc6'), [{ license: { id: 'LGPL-2.1-or-later' } }, { license: { id: 'GPL-2.0-or-later' } }, { license: { name: 'public-domain' } }]);
  assert.deepEqual(lic('acme-tools'), [{ license: { name: 'Proprietary: ACME Corp. internal use only' } }]);
  assert.equal(lic('node'), undefined);
  assert.deepEqual(cycloneDxLicenses(['MIT', 'GPL-2.0-only OR BSD-3-Clause']), [{ expression: 'MIT AND (GPL-2.0-only OR BSD-3-Clause)' }]);
  assert.deepEqual(cycloneDxLicenses(['GPL-2.0-only OR MIT', 'see LICENSE']), [{ license: { name: 'GPL-2.0-only OR MIT' } }, { license: { name: 'see LICENSE' } }]);
  assert.deepEqual(validateCycloneDx({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [{ type: 'library', name: 'x', licenses: cycloneDxLicenses(['MIT', 'LicenseRef-x OR MIT']) }] }), []);
});

test('a CycloneDX document written by Lading reads back to the same packages', () => {
  const sbom = exampleSbom();
  const back = readCycloneDx(JSON.parse(writeCycloneDxJson(sbom)));
  assert.deepEqual(back.packages.map(identity).sort(), sbom.packages.map(identity).sort());
  const before = new Map(sbom.packages.map((p) => [`${identity(p)}|${p.locations[0]?.path}`, p]));
  for (const p of back.packages) {
    const orig = before.get(`${identity(p)}|${p.locations[0]?.path}`);
    assert.ok(orig, `${p.name} was written`);
    assert.deepEqual(p.locations, orig.locations, `${p.name} locations`);
    assert.deepEqual(p.licenses, orig.licenses, `${p.name} licences`);
    assert.deepEqual(p.cpes, orig.cpes, `${p.name} cpes`);
    assert.equal(p.foundBy, orig.foundBy);
    assert.equal(p.sourceName, orig.sourceName, `${p.name} source`);
    assert.equal(p.sourceVersion, orig.sourceVersion, `${p.name} source version`);
    assert.equal(p.epoch, orig.epoch, `${p.name} epoch`);
    assert.equal(p.arch, orig.arch, `${p.name} arch`);
  }
  assert.deepEqual(back.distro, sbom.distro);
  assert.equal(back.source.manifestDigest, sbom.source.manifestDigest);
  assert.equal(back.source.imageId, sbom.source.imageId);
  assert.deepEqual(back.source.tags, sbom.source.tags);
  assert.equal(back.source.repository, 'library/debian');
  assert.deepEqual(back.source.layers.map((l) => l.diffId), sbom.source.layers.map((l) => l.diffId));
  assert.equal(back.createdAt, sbom.createdAt);
  assert.deepEqual(back.files, []);
});
