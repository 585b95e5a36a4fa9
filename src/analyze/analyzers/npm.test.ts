import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAnalyzer } from '../testing.js';
import { npmAnalyzer } from './npm.js';

const leftPad = JSON.stringify({
  name: 'left-pad', version: '1.3.0', license: 'WTFPL', author: { name: 'azer', email: 'azer@example.com' },
  homepage: 'https://github.com/stevemao/left-pad#readme', main: 'index.js',
});
const lodash = JSON.stringify({ name: 'lodash', version: '4.17.20', license: 'MIT', author: 'John-David Dalton <john.david.dalton@gmail.com>' });

test('global and nested node_modules packages are each found at their own location', async () => {
  const r = await runAnalyzer(npmAnalyzer, {
    '/usr/lib/node_modules/left-pad/package.json': { content: leftPad, layer: 1 },
    '/usr/lib/node_modules/left-pad/node_modules/lodash/package.json': { content: lodash, layer: 1 },
  });
  assert.deepEqual(r.warnings, []);
  const pkgs = r.packages ?? [];
  assert.equal(pkgs.length, 2);
  const lp = pkgs.find((p) => p.name === 'left-pad');
  const ld = pkgs.find((p) => p.name === 'lodash');
  assert.ok(lp && ld);
  assert.equal(lp.version, '1.3.0');
  assert.equal(lp.purl, 'pkg:npm/left-pad@1.3.0');
  assert.equal(lp.type, 'npm');
  assert.equal(lp.foundBy, 'npm');
  assert.deepEqual(lp.licenses, ['WTFPL']);
  assert.deepEqual(lp.locations, [{ path: '/usr/lib/node_modules/left-pad/package.json', layer: 1 }]);
  assert.equal(lp.metadata?.author, 'azer <azer@example.com>');
  assert.equal(lp.metadata?.homepage, 'https://github.com/stevemao/left-pad#readme');
  assert.equal(ld.version, '4.17.20');
  assert.equal(ld.purl, 'pkg:npm/lodash@4.17.20');
  assert.deepEqual(ld.locations, [{ path: '/usr/lib/node_modules/left-pad/node_modules/lodash/package.json', layer: 1 }]);
  assert.ok(ld.cpes.includes('cpe:2.3:a:lodash:lodash:4.17.20:*:*:*:*:node.js:*:*'));
});

test('scoped packages get an encoded purl namespace and scope-as-vendor CPEs', async () => {
  const r = await runAnalyzer(npmAnalyzer, {
    '/app/node_modules/@babel/core/package.json': JSON.stringify({ name: '@babel/core', version: '7.23.0', license: 'MIT' }),
    '/usr/local/lib/node_modules/npm/node_modules/@npmcli/arborist/package.json':
      JSON.stringify({ name: '@npmcli/arborist', version: '6.2.0', licenses: [{ type: 'ISC' }], private: true }),
  });
  const babel = r.packages?.find((p) => p.name === '@babel/core');
  assert.equal(babel?.purl, 'pkg:npm/%40babel/core@7.23.0');
  assert.ok(babel?.cpes.includes('cpe:2.3:a:babel:core:7.23.0:*:*:*:*:node.js:*:*'));
  const arborist = r.packages?.find((p) => p.name === '@npmcli/arborist');
  assert.deepEqual(arborist?.licenses, ['ISC']);
  assert.equal(arborist?.metadata?.private, true);
});

test('only the node_modules/<name>/package.json shape is a package', async () => {
  const inner = JSON.stringify({ type: 'module' });
  const r = await runAnalyzer(npmAnalyzer, {
    '/app/package.json': JSON.stringify({ name: 'app', version: '1.0.0' }),
    '/app/node_modules/x/lib/package.json': inner,
    '/app/node_modules/@s/y/esm/package.json': inner,
    '/app/node_modules/.bin/package.json': inner,
    '/app/node_modules/@s/package.json': inner,
    '/app/node_modules/x/package.json': JSON.stringify({ name: 'x', version: '2.0.0', license: { type: 'Apache 2.0' } }),
  });
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.packages?.map((p) => `${p.name}@${p.version}`), ['x@2.0.0']);
  assert.deepEqual(r.packages?.[0]?.licenses, ['Apache-2.0']);
});

test('a package.json that is not JSON is warned about and skipped', async () => {
  const r = await runAnalyzer(npmAnalyzer, {
    '/app/node_modules/broken/package.json': '{"name": "broken", "version": ',
    '/app/node_modules/noversion/package.json': '{"name": "noversion"}',
    '/app/node_modules/ok/package.json': '{"name": "ok", "version": "1.0.0"}',
  });
  assert.deepEqual(r.packages?.map((p) => p.name), ['ok']);
  assert.equal(r.warnings.length, 2);
  assert.match(r.warnings[0] ?? '', /\/app\/node_modules\/broken\/package\.json: not valid JSON/);
  assert.match(r.warnings[1] ?? '', /noversion\/package\.json: package\.json has no version/);
});
