import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAnalyzer } from '../testing.js';
import { npmLockAnalyzer } from './npm-lock.js';

const v1 = JSON.stringify({
  name: 'app', version: '1.0.0', lockfileVersion: 1, requires: true,
  dependencies: {
    express: {
      version: '4.18.2', resolved: 'https://registry.npmjs.org/express/-/express-4.18.2.tgz', integrity: 'sha512-AAA',
      requires: { 'debug': '2.6.9' },
      dependencies: { debug: { version: '2.6.9', resolved: 'https://registry.npmjs.org/debug/-/debug-2.6.9.tgz' } },
    },
    debug: { version: '4.3.4' },
    mocha: { version: '10.2.0', dev: true, dependencies: { debug: { version: '4.3.4', dev: true } } },
    'string-width-cjs': { version: 'npm:string-width@4.2.3' },
    local: { version: 'file:../local' },
  },
});

test('package-lock v1: nested dependency tree, aliases, dev flags, one package per name@version', async () => {
  const r = await runAnalyzer(npmLockAnalyzer, { '/srv/app/package-lock.json': { content: v1, layer: 2 } });
  assert.deepEqual(r.warnings, []);
  const ids = (r.packages ?? []).map((p) => `${p.name}@${p.version}`).sort();
  assert.deepEqual(ids, ['debug@2.6.9', 'debug@4.3.4', 'express@4.18.2', 'mocha@10.2.0', 'string-width@4.2.3']);
  const debug4 = r.packages?.find((p) => p.name === 'debug' && p.version === '4.3.4');
  assert.equal(debug4?.metadata?.dev, false, 'also a production dependency at the top level');
  assert.equal(r.packages?.find((p) => p.name === 'mocha')?.metadata?.dev, true);
  const express = r.packages?.find((p) => p.name === 'express');
  assert.equal(express?.purl, 'pkg:npm/express@4.18.2');
  assert.equal(express?.foundBy, 'npm-lock');
  assert.equal(express?.metadata?.integrity, 'sha512-AAA');
  assert.deepEqual(express?.locations, [{ path: '/srv/app/package-lock.json', layer: 2 }]);
});

const v3 = JSON.stringify({
  name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true,
  packages: {
    '': { name: 'app', version: '1.0.0', dependencies: { '@types/node': '^20' } },
    'node_modules/@types/node': { version: '20.8.0', license: 'MIT', dev: true },
    'node_modules/semver': { version: '7.5.4', license: 'ISC' },
    'node_modules/foo/node_modules/semver': { version: '6.3.1', license: 'ISC' },
    'node_modules/my-lib': { resolved: 'packages/my-lib', link: true },
    'packages/my-lib': { name: 'my-lib', version: '0.1.0' },
    'node_modules/foo': { version: '1.0.0', license: 'Apache 2.0', optional: true },
  },
});

test('package-lock v3: packages map, root/link/workspace entries skipped, licenses and dev', async () => {
  const r = await runAnalyzer(npmLockAnalyzer, { '/srv/app/package-lock.json': v3 });
  const ids = (r.packages ?? []).map((p) => `${p.name}@${p.version}`).sort();
  assert.deepEqual(ids, ['@types/node@20.8.0', 'foo@1.0.0', 'semver@6.3.1', 'semver@7.5.4']);
  const types = r.packages?.find((p) => p.name === '@types/node');
  assert.equal(types?.purl, 'pkg:npm/%40types/node@20.8.0');
  assert.equal(types?.metadata?.dev, true);
  assert.deepEqual(types?.licenses, ['MIT']);
  const foo = r.packages?.find((p) => p.name === 'foo');
  assert.deepEqual(foo?.licenses, ['Apache-2.0']);
  assert.equal(foo?.metadata?.optional, true);
  assert.equal(foo?.metadata?.dev, false);
});

test('package-lock v2: packages map wins over the legacy dependencies tree', async () => {
  const v2 = JSON.stringify({
    name: 'app', lockfileVersion: 2,
    packages: { '': { name: 'app' }, 'node_modules/ms': { version: '2.1.3' } },
    dependencies: { ms: { version: '2.1.3' } },
  });
  const r = await runAnalyzer(npmLockAnalyzer, { '/app/package-lock.json': v2 });
  assert.deepEqual(r.packages?.map((p) => `${p.name}@${p.version}`), ['ms@2.1.3']);
  assert.equal(r.packages?.[0]?.metadata?.lockfileVersion, 2);
});

test('lock files under node_modules are ignored; broken ones warn', async () => {
  const r = await runAnalyzer(npmLockAnalyzer, {
    '/app/node_modules/x/package-lock.json': v3,
    '/app/node_modules/.package-lock.json': v3,
    '/other/package-lock.json': '{ lockfileVersion: 3',
    '/third/npm-shrinkwrap.json': JSON.stringify({ lockfileVersion: 1, dependencies: { ms: { version: '2.0.0' } } }),
  });
  assert.deepEqual(r.packages?.map((p) => `${p.name}@${p.version}`), ['ms@2.0.0']);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0] ?? '', /^\/other\/package-lock\.json: not valid JSON/);
});
