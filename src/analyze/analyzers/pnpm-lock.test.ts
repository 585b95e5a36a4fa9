import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAnalyzer } from '../testing.js';
import { parsePnpmKey, pnpmLockAnalyzer } from './pnpm-lock.js';

const keyCases: [string, number, [string, string] | undefined][] = [
  ['/lodash/4.17.21', 5.4, ['lodash', '4.17.21']],
  ['/@babel/core/7.20.0', 5.4, ['@babel/core', '7.20.0']],
  ['/react-dom/18.2.0_react@18.2.0', 5.4, ['react-dom', '18.2.0']],
  ['/@testing-library/react/14.0.0_biqbaboplfbrettd7655fr4n2y', 5.4, ['@testing-library/react', '14.0.0']],
  ['/lodash@4.17.21', 6, ['lodash', '4.17.21']],
  ['/@babel/core@7.20.0', 6, ['@babel/core', '7.20.0']],
  ['/react-dom@18.2.0(react@18.2.0)', 6, ['react-dom', '18.2.0']],
  ['lodash@4.17.21', 9, ['lodash', '4.17.21']],
  ['@babel/core@7.20.0', 9, ['@babel/core', '7.20.0']],
  ['garbage', 9, undefined],
];
for (const [key, v, want] of keyCases) {
  test(`parsePnpmKey(${key}, ${v})`, () => assert.deepEqual(parsePnpmKey(key, v), want));
}

const v5 = `lockfileVersion: 5.4

specifiers:
  react-dom: ^18.2.0
  typescript: ^5.0.0

dependencies:
  react-dom: 18.2.0_react@18.2.0

devDependencies:
  typescript: 5.2.2

packages:

  /loose-envify/1.4.0:
    resolution: {integrity: sha512-lyuxPGr/Wfhrlem2CL/UcnUc1zcqKAImBDzukY7Y5F/yQiNdko6+fRLevlw1HgMySw7f611UIY408EtxRSoK3Q==}
    hasBin: true
    dependencies:
      js-tokens: 4.0.0
    dev: false

  /react-dom/18.2.0_react@18.2.0:
    resolution: {integrity: sha512-6IMTriUmvsjHUjNtEDudZfuDQUoWXVxKHhlEGSk81n4YFS+r/Kl99wXiwlVXtPBtJenozv2P+hxDsw9eA7Xo6g==}
    peerDependencies:
      react: ^18.2.0
    dependencies:
      loose-envify: 1.4.0
    dev: false

  /@types/node/20.8.0:
    resolution: {integrity: sha512-LzcWltT83s1bthcvjBmiBvGJiiUe84NWRHkw+ZV6Fr41z2FbIzvc815dk2nQ3RAKMuN2fkenM/z3Xv2QzEpYxQ==}
    dev: true

  /typescript/5.2.2:
    resolution: {integrity: sha512-mI4WrpHsbCIcwT9cF4FZvr80QUeKvsUsUvKDoR+X/7XHQH98xYD8YHZg7ANtz2GtZt/CBq2QJ0thkGJMHfqc1w==}
    engines: {node: '>=14.17'}
    hasBin: true
    dev: true
`;

test('pnpm v5: slash keys, peer suffix stripped, dev flags', async () => {
  const r = await runAnalyzer(pnpmLockAnalyzer, { '/app/pnpm-lock.yaml': { content: v5, layer: 1 } });
  assert.deepEqual(r.warnings, []);
  const ids = (r.packages ?? []).map((p) => `${p.name}@${p.version}:${String(p.metadata?.dev)}`).sort();
  assert.deepEqual(ids, ['@types/node@20.8.0:true', 'loose-envify@1.4.0:false', 'react-dom@18.2.0:false', 'typescript@5.2.2:true']);
  const types = r.packages?.find((p) => p.name === '@types/node');
  assert.equal(types?.purl, 'pkg:npm/%40types/node@20.8.0');
  assert.equal(types?.foundBy, 'pnpm-lock');
  assert.deepEqual(types?.locations, [{ path: '/app/pnpm-lock.yaml', layer: 1 }]);
});

const v6 = `lockfileVersion: '6.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

dependencies:
  styled-jsx:
    specifier: 5.1.1
    version: 5.1.1(react@18.2.0)

packages:

  /react@18.2.0:
    resolution: {integrity: sha512-/3IjMdb2L9QbBdWiW5e3P2/npwMBaU9mHCSCUzNln0ZCYbcfTsGbTJrU/kGemdH2IWmB2ioZ+zkxtmq6g09fGQ==}
    engines: {node: '>=0.10.0'}
    dev: false

  /styled-jsx@5.1.1(react@18.2.0):
    resolution: {integrity: sha512-pW7uC1l4mBZ8ugbiZrcIsiIvVx1UmTfw7UkC3Um2tmfUq9Bhk8IiyEIPl6F8agHgjzku6j0xQEZbfA5uSgSaCw==}
    peerDependencies:
      react: '>= 16.8.0'
    dependencies:
      react: 18.2.0
    dev: false

  /styled-jsx@5.1.1(react@17.0.2):
    resolution: {integrity: sha512-pW7uC1l4mBZ8ugbiZrcIsiIvVx1UmTfw7UkC3Um2tmfUq9Bhk8IiyEIPl6F8agHgjzku6j0xQEZbfA5uSgSaCw==}
    dev: true

  /@vitest/expect@0.34.6:
    resolution: {integrity: sha512-QUzKpUQRc1qC7qdGo7rMK3AkETI7w18gTCUrsNnyjjJKYiuUB9+TQK3QnR1unhCnWRC0AcKv2omLGQDF/mIjOw==}
    dev: true
`;

test('pnpm v6: name@version keys, the same package with different peers is one package', async () => {
  const r = await runAnalyzer(pnpmLockAnalyzer, { '/app/pnpm-lock.yaml': v6 });
  assert.deepEqual(r.warnings, []);
  const ids = (r.packages ?? []).map((p) => `${p.name}@${p.version}:${String(p.metadata?.dev)}`).sort();
  assert.deepEqual(ids, ['@vitest/expect@0.34.6:true', 'react@18.2.0:false', 'styled-jsx@5.1.1:false']);
});

const v9 = `lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    dependencies:
      react-dom:
        specifier: ^18.2.0
        version: 18.2.0(react@18.2.0)
      shared:
        specifier: workspace:*
        version: link:packages/shared
    devDependencies:
      typescript:
        specifier: ^5.4.0
        version: 5.4.5

packages:

  js-tokens@4.0.0:
    resolution: {integrity: sha512-RdJUflcE3cUzKiMqQgsCu06FPu9UdIJO0beYbPhHN4k6apgJtifcoCtT9bcxOpYBtpD2kCM6Sbzg4CausW/PKQ==}

  loose-envify@1.4.0:
    resolution: {integrity: sha512-lyuxPGr/Wfhrlem2CL/UcnUc1zcqKAImBDzukY7Y5F/yQiNdko6+fRLevlw1HgMySw7f611UIY408EtxRSoK3Q==}
    hasBin: true

  react-dom@18.2.0:
    resolution: {integrity: sha512-6IMTriUmvsjHUjNtEDudZfuDQUoWXVxKHhlEGSk81n4YFS+r/Kl99wXiwlVXtPBtJenozv2P+hxDsw9eA7Xo6g==}
    peerDependencies:
      react: ^18.2.0

  react@18.2.0:
    resolution: {integrity: sha512-/3IjMdb2L9QbBdWiW5e3P2/npwMBaU9mHCSCUzNln0ZCYbcfTsGbTJrU/kGemdH2IWmB2ioZ+zkxtmq6g09fGQ==}
    engines: {node: '>=0.10.0'}

  typescript@5.4.5:
    resolution: {integrity: sha512-vcI4UpRgg81oIRUFwR0WSIHKt11nJ7SAVlYNIu+QpqeyXP+gpQJy/Z4+F0aGxSE4MqwjyXvW/TzgkLAx2AGHwQ==}
    engines: {node: '>=14.17'}
    hasBin: true

  '@types/prop-types@15.7.12':
    resolution: {integrity: sha512-5zvhXYtRNRluoE/jAp4GVsSduVUzNWKkOZrCDBWYtE7biZywwdC2AcEzg+cSMLFRfVgeAFqpfNabiPjxFddV1Q==}

snapshots:

  js-tokens@4.0.0: {}

  loose-envify@1.4.0:
    dependencies:
      js-tokens: 4.0.0

  react-dom@18.2.0(react@18.2.0):
    dependencies:
      loose-envify: 1.4.0
      react: 18.2.0

  react@18.2.0:
    dependencies:
      loose-envify: 1.4.0

  typescript@5.4.5: {}

  '@types/prop-types@15.7.12': {}
`;

test('pnpm v9: packages keys without slash, dev worked out from importers and snapshots', async () => {
  const r = await runAnalyzer(pnpmLockAnalyzer, { '/app/pnpm-lock.yaml': v9 });
  assert.deepEqual(r.warnings, []);
  const ids = (r.packages ?? []).map((p) => `${p.name}@${p.version}:${String(p.metadata?.dev)}`).sort();
  assert.deepEqual(ids, [
    '@types/prop-types@15.7.12:undefined',
    'js-tokens@4.0.0:false',
    'loose-envify@1.4.0:false',
    'react-dom@18.2.0:false',
    'react@18.2.0:false',
    'typescript@5.4.5:true',
  ]);
  assert.equal(r.packages?.find((p) => p.name === 'react')?.purl, 'pkg:npm/react@18.2.0');
});

test('pnpm-lock.yaml: under node_modules ignored, non-YAML warns', async () => {
  const r = await runAnalyzer(pnpmLockAnalyzer, {
    '/app/node_modules/.pnpm/lock.yaml': v9,
    '/app/node_modules/x/pnpm-lock.yaml': v9,
    '/bad/pnpm-lock.yaml': 'lockfileVersion: [\n',
    '/empty/pnpm-lock.yaml': 'hello: world\n',
  });
  assert.deepEqual(r.packages, []);
  assert.equal(r.warnings.length, 2);
  assert.match(r.warnings[0] ?? '', /^\/bad\/pnpm-lock\.yaml: not valid YAML/);
  assert.match(r.warnings[1] ?? '', /^\/empty\/pnpm-lock\.yaml: no lockfileVersion/);
});
