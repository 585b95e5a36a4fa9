import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSyft, detectSyft } from './read-syft.js';

const layer0 = `sha256:${'a'.repeat(64)}`;
const layer1 = `sha256:${'b'.repeat(64)}`;

/** The shape `syft -o json` writes (JSON schema 16). */
const syftDoc = {
  artifacts: [
    {
      id: '4f8a6bb2d4c3e1a0',
      name: 'libc6',
      version: '2.36-9+deb12u4',
      type: 'deb',
      foundBy: 'dpkg-db-cataloger',
      locations: [
        { path: '/var/lib/dpkg/status', layerID: layer0, accessPath: '/var/lib/dpkg/status', annotations: { evidence: 'primary' } },
        { path: '/usr/share/doc/libc6/copyright', layerID: layer0, accessPath: '/usr/share/doc/libc6/copyright', annotations: { evidence: 'supporting' } },
      ],
      licenses: [
        { value: 'GPL-2.0-or-later', spdxExpression: 'GPL-2.0-or-later', type: 'declared', urls: [], locations: [] },
        { value: 'public-domain', spdxExpression: '', type: 'declared', urls: [], locations: [] },
      ],
      language: '',
      cpes: [{ cpe: 'cpe:2.3:a:libc6:libc6:2.36-9\\+deb12u4:*:*:*:*:*:*:*', source: 'syft-generated' }],
      purl: 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&upstream=glibc&distro=debian-12',
      metadataType: 'dpkg-db-entry',
      metadata: { package: 'libc6', source: 'glibc', version: '2.36-9+deb12u4', sourceVersion: '', architecture: 'amd64', maintainer: 'GNU Libc Maintainers', installedSize: 12985, files: [] },
    },
    {
      id: '77aa01',
      name: 'openssl-libs',
      version: '1:3.0.7-24.el9',
      type: 'rpm',
      foundBy: 'rpm-db-cataloger',
      locations: [{ path: '/var/lib/rpm/rpmdb.sqlite', layerID: layer1 }],
      licenses: [{ value: 'ASL 2.0', spdxExpression: 'Apache-2.0', type: 'declared' }],
      cpes: [{ cpe: 'cpe:2.3:a:openssl:openssl:1\\:3.0.7-24.el9:*:*:*:*:*:*:*', source: 'syft-generated' }],
      purl: 'pkg:rpm/redhat/openssl-libs@3.0.7-24.el9?arch=x86_64&epoch=1&upstream=openssl-3.0.7-24.el9.src.rpm&distro=rhel-9.3',
      metadataType: 'rpm-db-entry',
      metadata: { name: 'openssl-libs', version: '3.0.7', epoch: 1, architecture: 'x86_64', release: '24.el9', sourceRpm: 'openssl-3.0.7-24.el9.src.rpm', size: 5632419, vendor: 'Red Hat, Inc.' },
    },
    {
      // older syft: CPEs and licences as plain strings
      id: 'c0ffee',
      name: 'libcrypto3',
      version: '3.1.4-r5',
      type: 'apk',
      foundBy: 'apk-db-cataloger',
      locations: [{ path: '/lib/apk/db/installed', layerID: layer1 }],
      licenses: ['Apache-2.0'],
      cpes: ['cpe:2.3:a:openssl:libcrypto3:3.1.4-r5:*:*:*:*:*:*:*'],
      purl: 'pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1',
      metadataType: 'apk-db-entry',
      metadata: { package: 'libcrypto3', originPackage: 'openssl', architecture: 'x86_64' },
    },
    {
      id: 'babe1',
      name: '@babel/core',
      version: '7.23.9',
      type: 'npm',
      foundBy: 'javascript-package-cataloger',
      locations: [{ path: '/app/node_modules/@babel/core/package.json', layerID: layer1 }],
      licenses: [{ value: 'MIT', spdxExpression: 'MIT', type: 'declared' }],
      cpes: [],
      purl: 'pkg:npm/%40babel/core@7.23.9',
      metadataType: 'javascript-npm-package',
      metadata: { name: '@babel/core', version: '7.23.9' },
    },
    {
      id: 'jar1',
      name: 'jackson-databind',
      version: '2.15.2',
      type: 'java-archive',
      foundBy: 'java-archive-cataloger',
      locations: [{ path: '/app/app.jar', layerID: layer1 }],
      licenses: [],
      cpes: [],
      purl: 'pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.15.2',
      metadataType: 'java-archive',
      metadata: { virtualPath: '/app/app.jar:BOOT-INF/lib/jackson-databind-2.15.2.jar' },
    },
    {
      id: 'bin1',
      name: 'python',
      version: '3.11.2',
      type: 'binary',
      foundBy: 'binary-classifier-cataloger',
      locations: [{ path: '/usr/bin/python3.11', layerID: layer0 }],
      licenses: [],
      cpes: [],
      purl: 'pkg:generic/python@3.11.2',
      metadataType: 'binary-signature',
      metadata: {},
    },
    { id: 'noname', version: '1.0', type: 'npm' },
  ],
  artifactRelationships: [],
  source: {
    id: 'd1e2f3',
    name: 'debian',
    version: `sha256:${'2'.repeat(64)}`,
    type: 'image',
    metadata: {
      userInput: 'debian:12',
      imageID: `sha256:${'1'.repeat(64)}`,
      manifestDigest: `sha256:${'2'.repeat(64)}`,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      tags: ['debian:12'],
      imageSize: 123456789,
      layers: [
        { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: layer0, size: 100000 },
        { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: layer1, size: 2000 },
      ],
      manifest: 'e30=',
      config: 'e30=',
      repoDigests: [`debian@sha256:${'3'.repeat(64)}`],
      architecture: 'amd64',
      os: 'linux',
    },
  },
  distro: {
    prettyName: 'Debian GNU/Linux 12 (bookworm)',
    name: 'Debian GNU/Linux',
    id: 'debian',
    version: '12 (bookworm)',
    versionID: '12',
    versionCodename: 'bookworm',
    homeURL: 'https://www.debian.org/',
    idLike: [],
  },
  descriptor: { name: 'syft', version: '1.0.1', configuration: {} },
  schema: { version: '16.0.4', url: 'https://raw.githubusercontent.com/anchore/syft/main/schema/json/schema-16.0.4.json' },
};

test('syft JSON: packages, types, locations with layer indexes', () => {
  assert.equal(detectSyft(syftDoc), true);
  const sbom = readSyft(syftDoc);
  assert.deepEqual(sbom.packages.map((p) => [p.type, p.name, p.version]), [
    ['apk', 'libcrypto3', '3.1.4-r5'],
    ['binary', 'python', '3.11.2'],
    ['deb', 'libc6', '2.36-9+deb12u4'],
    ['java-archive', 'jackson-databind', '2.15.2'],
    ['npm', '@babel/core', '7.23.9'],
    ['rpm', 'openssl-libs', '1:3.0.7-24.el9'],
  ]);
  const libc = sbom.packages.find((p) => p.name === 'libc6');
  assert.deepEqual(libc?.locations, [
    { path: '/var/lib/dpkg/status', layer: 0, layerDiffId: layer0 },
    { path: '/usr/share/doc/libc6/copyright', layer: 0, layerDiffId: layer0 },
  ]);
  assert.deepEqual(libc?.licenses, ['GPL-2.0-or-later', 'public-domain']);
  assert.deepEqual(libc?.cpes, ['cpe:2.3:a:libc6:libc6:2.36-9\\+deb12u4:*:*:*:*:*:*:*']);
  assert.deepEqual([libc?.sourceName, libc?.sourceVersion, libc?.arch, libc?.foundBy], ['glibc', undefined, 'amd64', 'dpkg-db-cataloger']);
  assert.deepEqual(sbom.warnings, ['syft artifacts[6] has no name; skipped']);
});

test('syft JSON: OS metadata names source packages and epochs', () => {
  const sbom = readSyft(syftDoc);
  const rpm = sbom.packages.find((p) => p.type === 'rpm');
  assert.deepEqual([rpm?.sourceName, rpm?.sourceVersion, rpm?.epoch, rpm?.arch, rpm?.licenses], ['openssl', '3.0.7-24.el9', 1, 'x86_64', ['Apache-2.0']]);
  assert.deepEqual(rpm?.locations, [{ path: '/var/lib/rpm/rpmdb.sqlite', layer: 1, layerDiffId: layer1 }]);
  const apk = sbom.packages.find((p) => p.type === 'apk');
  assert.deepEqual([apk?.sourceName, apk?.licenses, apk?.cpes], ['openssl', ['Apache-2.0'], ['cpe:2.3:a:openssl:libcrypto3:3.1.4-r5:*:*:*:*:*:*:*']]);
});

test('syft JSON: distro and image source', () => {
  const sbom = readSyft(syftDoc);
  assert.deepEqual(sbom.distro, {
    id: 'debian', versionId: '12', versionCodename: 'bookworm', idLike: [], prettyName: 'Debian GNU/Linux 12 (bookworm)', source: 'syft distro',
  });
  assert.equal(sbom.source.imageId, `sha256:${'1'.repeat(64)}`);
  assert.equal(sbom.source.manifestDigest, `sha256:${'2'.repeat(64)}`);
  assert.deepEqual(sbom.source.tags, ['debian:12']);
  assert.deepEqual(sbom.source.platform, { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(sbom.source.layers.map((l) => [l.index, l.diffId, l.size]), [[0, layer0, 100000], [1, layer1, 2000]]);
  assert.deepEqual([sbom.files, sbom.secrets], [[], []]);
});

test('older syft JSON: source.target, no distro (taken from a purl)', () => {
  const old = {
    artifacts: [syftDoc.artifacts[2]],
    source: { type: 'image', target: { userInput: 'alpine:3.19', imageID: `sha256:${'4'.repeat(64)}`, manifestDigest: `sha256:${'5'.repeat(64)}`, tags: [], layers: [{ digest: layer1, size: 10 }] } },
    descriptor: { name: 'syft', version: '0.90.0' },
  };
  const sbom = readSyft(old);
  assert.deepEqual(sbom.source.tags, ['alpine:3.19']);
  assert.equal(sbom.source.imageId, `sha256:${'4'.repeat(64)}`);
  assert.deepEqual(sbom.packages[0]?.locations, [{ path: '/lib/apk/db/installed', layer: 0, layerDiffId: layer1 }]);
  assert.deepEqual([sbom.distro?.id, sbom.distro?.versionId], ['alpine', '3.19.1']);
});

test('a directory scan is read, with a warning that it is not an image', () => {
  const sbom = readSyft({ ...syftDoc, source: { type: 'directory', name: '/src', metadata: { path: '/src' } } });
  assert.equal(sbom.packages.length, 6);
  assert.ok(sbom.warnings.includes('syft document describes a directory, not an image'));
});
