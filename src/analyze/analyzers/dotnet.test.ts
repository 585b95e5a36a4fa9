import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dotnetAnalyzer, splitNameVersion, dotnetCpes } from './dotnet.js';
import { runAnalyzer } from '../testing.js';

const DEPS = {
  runtimeTarget: { name: '.NETCoreApp,Version=v8.0', signature: '' },
  compilationOptions: {},
  targets: {
    '.NETCoreApp,Version=v8.0': {
      'ShopApi/1.0.0': { dependencies: { 'Newtonsoft.Json': '13.0.1', 'Shop.Core': '1.0.0' }, runtime: { 'ShopApi.dll': {} } },
      'Newtonsoft.Json/13.0.1': { runtime: { 'lib/net6.0/Newtonsoft.Json.dll': { assemblyVersion: '13.0.0.0' } } },
      'Shop.Core/1.0.0': { runtime: { 'Shop.Core.dll': {} } },
    },
  },
  libraries: {
    'ShopApi/1.0.0': { type: 'project', serviceable: false, sha512: '' },
    'Newtonsoft.Json/13.0.1': { type: 'package', serviceable: true, sha512: 'sha512-ppPFpBcvxdsfUonNcvITKqLl3bqxWbDCZIzDWHzjpdAHRFfZe0Dw9HmA0+za13IdyrgJwpkDTDA9fHaxOrt20A==', path: 'newtonsoft.json/13.0.1', hashPath: 'newtonsoft.json.13.0.1.nupkg.sha512' },
    'Shop.Core/1.0.0': { type: 'project', serviceable: false, sha512: '' },
    'Microsoft.NETCore.App.Runtime.linux-x64/8.0.0': { type: 'runtimepack', serviceable: false, sha512: '' },
    'System.Text.Json/6.0.0': { type: 'package', serviceable: true, sha512: 'sha512-x', path: 'system.text.json/6.0.0' },
  },
};

test('deps.json: packages and projects with versions, sha512 and target membership', async () => {
  const r = await runAnalyzer(dotnetAnalyzer, { '/app/ShopApi.deps.json': { content: JSON.stringify(DEPS), layer: 4 } });
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.packages!.map((p) => p.purl), [
    'pkg:nuget/ShopApi@1.0.0', 'pkg:nuget/Newtonsoft.Json@13.0.1', 'pkg:nuget/Shop.Core@1.0.0', 'pkg:nuget/System.Text.Json@6.0.0',
  ]);
  const nj = r.packages![1]!;
  assert.equal(nj.type, 'dotnet');
  assert.equal(nj.foundBy, 'dotnet');
  assert.deepEqual(nj.locations, [{ path: '/app/ShopApi.deps.json', layer: 4 }]);
  const meta = nj.metadata as Record<string, unknown>;
  assert.equal(meta['sha512'], DEPS.libraries['Newtonsoft.Json/13.0.1'].sha512);
  assert.equal(meta['libraryType'], 'package');
  assert.equal(meta['inRuntimeTarget'], true);
  assert.equal(meta['runtimeTarget'], '.NETCoreApp,Version=v8.0');
  assert.ok(nj.cpes.includes('cpe:2.3:a:newtonsoft:newtonsoft.json:13.0.1:*:*:*:*:*:*:*'));
  assert.equal((r.packages![3]!.metadata as Record<string, unknown>)['inRuntimeTarget'], false);
  assert.deepEqual(r.packages![0]!.cpes, []);
});

test('malformed deps.json files warn and are skipped', async () => {
  const badKey = { libraries: { 'NoVersion': { type: 'package' }, 'Ok/1.0': { type: 'package' } } };
  const r = await runAnalyzer(dotnetAnalyzer, {
    '/a/x.deps.json': '{ not json',
    '/a/y.deps.json': JSON.stringify({ targets: {} }),
    '/a/z.deps.json': JSON.stringify(badKey),
    '/a/deps.json.bak': 'ignored',
  });
  assert.deepEqual(r.packages!.map((p) => p.purl), ['pkg:nuget/Ok@1.0']);
  assert.equal(r.warnings.length, 3, r.warnings.join('\n'));
  assert.match(r.warnings[0]!, /^\/a\/x\.deps\.json: not a readable \.deps\.json/);
  assert.match(r.warnings[1]!, /^\/a\/y\.deps\.json: not a readable \.deps\.json \(no libraries object\)/);
  assert.match(r.warnings[2]!, /^\/a\/z\.deps\.json: library key "NoVersion" is not Name\/Version/);
});

test('helpers', () => {
  assert.deepEqual(splitNameVersion('runtime.native.System/4.3.0'), { name: 'runtime.native.System', version: '4.3.0' });
  assert.equal(splitNameVersion('x/'), undefined);
  assert.equal(dotnetCpes('Serilog', '3.0.0').length, 1);
});
