/**
 * A realistic Sbom built by hand, for tests of the formats (and of anything else that reads an
 * Sbom): OS packages with source packages and epochs, one package per language ecosystem, a licence
 * expression, licence text that is not SPDX, a nested jar location and a duplicated package.
 */
import { cpe, purl } from '../identity.js';
import type { Package, Sbom } from '../model.js';

const layers = ['a1', 'b2', 'c3'].map((seed, index) => ({
  index,
  digest: `sha256:${seed.repeat(32)}`,
  diffId: `sha256:${seed.padEnd(4, 'f').repeat(16)}`,
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
  size: 1000 * (index + 1),
  createdBy: `RUN step ${index}`,
}));

function at(path: string, layer: number): { path: string; layer: number; layerDigest: string; layerDiffId: string } {
  return { path, layer, layerDigest: layers[layer]?.digest ?? '', layerDiffId: layers[layer]?.diffId ?? '' };
}

const debian = { distro: 'debian-12' };

export const examplePackages: Package[] = [
  {
    name: 'libc6', version: '2.36-9+deb12u4', type: 'deb', arch: 'amd64', sourceName: 'glibc', foundBy: 'dpkg',
    purl: purl('deb', 'debian', 'libc6', '2.36-9+deb12u4', { arch: 'amd64', upstream: 'glibc', ...debian }),
    cpes: [cpe('libc6', 'libc6', '2.36-9+deb12u4'), cpe('gnu', 'glibc', '2.36-9+deb12u4')],
    licenses: ['LGPL-2.1-or-later', 'GPL-2.0-or-later', 'public-domain'],
    locations: [at('/var/lib/dpkg/status', 0)],
    metadata: { maintainer: 'GNU Libc Maintainers <debian-glibc@lists.debian.org>', installedSize: 12985 },
  },
  {
    name: 'login', version: '1:4.13+dfsg1-1+b1', type: 'deb', arch: 'amd64', epoch: 1, sourceName: 'shadow', sourceVersion: '1:4.13+dfsg1-1', foundBy: 'dpkg',
    purl: purl('deb', 'debian', 'login', '1:4.13+dfsg1-1+b1', { arch: 'amd64', upstream: 'shadow@1:4.13+dfsg1-1', ...debian }),
    cpes: [cpe('login', 'login', '1:4.13+dfsg1-1+b1')],
    licenses: ['GPL-2.0-or-later'],
    locations: [at('/var/lib/dpkg/status', 0)],
  },
  {
    name: 'openssl-libs', version: '1:3.0.7-24.el9', type: 'rpm', arch: 'x86_64', epoch: 1, sourceName: 'openssl', sourceVersion: '3.0.7-24.el9', foundBy: 'rpm',
    purl: purl('rpm', 'redhat', 'openssl-libs', '3.0.7-24.el9', { arch: 'x86_64', epoch: '1', upstream: 'openssl-3.0.7-24.el9.src.rpm' }),
    cpes: [cpe('openssl', 'openssl', '3.0.7')],
    licenses: ['Apache-2.0'],
    locations: [at('/var/lib/rpm/rpmdb.sqlite', 1)],
  },
  {
    name: 'libcrypto3', version: '3.1.4-r5', type: 'apk', arch: 'x86_64', sourceName: 'openssl', foundBy: 'apk',
    purl: purl('apk', 'alpine', 'libcrypto3', '3.1.4-r5', { arch: 'x86_64', upstream: 'openssl' }),
    cpes: [cpe('openssl', 'libcrypto3', '3.1.4-r5')],
    licenses: ['Apache-2.0'],
    locations: [at('/lib/apk/db/installed', 1)],
  },
  {
    name: '@babel/core', version: '7.23.9', type: 'npm', foundBy: 'npm',
    purl: purl('npm', '@babel', 'core', '7.23.9'),
    cpes: [cpe('babel', 'core', '7.23.9', 'node.js')],
    licenses: ['MIT'],
    locations: [at('/usr/lib/node_modules/@babel/core/package.json', 2)],
  },
  {
    name: 'lodash', version: '4.17.21', type: 'npm', foundBy: 'npm',
    purl: purl('npm', undefined, 'lodash', '4.17.21'),
    cpes: [cpe('lodash', 'lodash', '4.17.21', 'node.js')],
    licenses: ['MIT'],
    locations: [at('/app/node_modules/lodash/package.json', 2)],
  },
  {
    name: 'lodash', version: '4.17.21', type: 'npm', foundBy: 'npm',
    purl: purl('npm', undefined, 'lodash', '4.17.21'),
    cpes: [cpe('lodash', 'lodash', '4.17.21', 'node.js')],
    licenses: ['MIT'],
    locations: [at('/usr/lib/node_modules/npm/node_modules/lodash/package.json', 2)],
  },
  {
    name: 'requests', version: '2.31.0', type: 'python', foundBy: 'python',
    purl: purl('pypi', undefined, 'requests', '2.31.0'),
    cpes: [cpe('python-requests', 'requests', '2.31.0')],
    licenses: ['Apache-2.0'],
    locations: [at('/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA', 2)],
  },
  {
    name: 'acme-tools', version: '0.9.1', type: 'python', foundBy: 'python',
    purl: purl('pypi', undefined, 'acme-tools', '0.9.1'),
    cpes: [],
    licenses: ['Proprietary: ACME Corp. internal use only'],
    locations: [at('/usr/local/lib/python3.11/site-packages/acme_tools-0.9.1.dist-info/METADATA', 2)],
  },
  {
    name: 'rack', version: '3.0.8', type: 'gem', foundBy: 'gem',
    purl: purl('gem', undefined, 'rack', '3.0.8'),
    cpes: [cpe('rack', 'rack', '3.0.8', 'ruby')],
    licenses: ['MIT'],
    locations: [at('/usr/local/bundle/specifications/rack-3.0.8.gemspec', 2)],
  },
  {
    name: 'jackson-databind', version: '2.15.2', type: 'java-archive', foundBy: 'java',
    purl: purl('maven', 'com.fasterxml.jackson.core', 'jackson-databind', '2.15.2'),
    cpes: [cpe('fasterxml', 'jackson-databind', '2.15.2')],
    licenses: ['Apache-2.0'],
    locations: [at('/app/app.jar:BOOT-INF/lib/jackson-databind-2.15.2.jar', 2)],
    metadata: { groupId: 'com.fasterxml.jackson.core', artifactId: 'jackson-databind' },
  },
  {
    name: 'golang.org/x/net', version: 'v0.17.0', type: 'go-module', foundBy: 'go-binary',
    purl: purl('golang', 'golang.org/x', 'net', 'v0.17.0'),
    cpes: [cpe('golang', 'networking', 'v0.17.0')],
    licenses: ['BSD-3-Clause'],
    locations: [at('/usr/local/bin/server', 2)],
  },
  {
    name: 'serde', version: '1.0.195', type: 'rust-crate', foundBy: 'cargo-auditable',
    purl: purl('cargo', undefined, 'serde', '1.0.195'),
    cpes: [cpe('serde', 'serde', '1.0.195')],
    licenses: ['MIT OR Apache-2.0'],
    locations: [at('/usr/local/bin/rusty', 2)],
  },
  {
    name: 'Newtonsoft.Json', version: '13.0.3', type: 'dotnet', foundBy: 'dotnet-deps',
    purl: purl('nuget', undefined, 'Newtonsoft.Json', '13.0.3'),
    cpes: [cpe('newtonsoft', 'json.net', '13.0.3')],
    licenses: ['MIT'],
    locations: [at('/app/api.deps.json', 2)],
  },
  {
    name: 'monolog/monolog', version: '3.5.0', type: 'php-composer', foundBy: 'composer',
    purl: purl('composer', 'monolog', 'monolog', '3.5.0'),
    cpes: [cpe('monolog', 'monolog', '3.5.0')],
    licenses: ['MIT'],
    locations: [at('/var/www/vendor/composer/installed.json', 2)],
  },
  {
    name: 'node', version: '20.11.0', type: 'binary', foundBy: 'binary',
    purl: purl('generic', undefined, 'node', '20.11.0'),
    cpes: [cpe('nodejs', 'node.js', '20.11.0')],
    licenses: [],
    locations: [at('/usr/local/bin/node', 2)],
  },
];

export function exampleSbom(): Sbom {
  return {
    schema: 'lading-sbom/1',
    createdAt: '2024-03-01T12:00:00.000Z',
    tool: { name: 'lading', version: '0.1.0' },
    source: {
      imageId: `sha256:${'1'.repeat(64)}`,
      manifestDigest: `sha256:${'2'.repeat(64)}`,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      tags: ['12'],
      registry: 'docker.io',
      repository: 'library/debian',
      platform: { os: 'linux', architecture: 'amd64' },
      created: '2024-02-13T00:00:00Z',
      config: {
        env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], entrypoint: null, cmd: ['bash'], user: '',
        workingDir: '', exposedPorts: [], volumes: [], labels: {},
      },
      layers,
      history: layers.map((l) => ({ createdBy: l.createdBy, emptyLayer: false })),
      dockerfile: { mode: 'guessed', text: 'RUN step 0\nRUN step 1\nRUN step 2\n' },
    },
    distro: {
      id: 'debian', versionId: '12', versionCodename: 'bookworm', idLike: [], prettyName: 'Debian GNU/Linux 12 (bookworm)', source: '/etc/os-release',
    },
    // Deliberately unsorted: writers must sort.
    packages: [...examplePackages].reverse(),
    files: [{ path: '/etc/os-release', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 267, layer: 0 }],
    secrets: [],
    contentMatches: [],
    retrievedFiles: [],
    warnings: [],
  };
}
