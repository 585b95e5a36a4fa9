import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alpineDriver, convertSecdb, createAlpineDriver, releasesInIndex, secfixIds } from './alpine.js';
import { startFeedServer, type FeedServer, fakeSyncContext, collect, importContext, serve, committed } from '../../testkit/feed-server.js';
import type { Affected } from '../model.js';
import { sample, skipWithoutSample as skipWithout } from '../../testkit/vulndata.js';


const count = (server: FeedServer, path: string): number => server.requests.filter((r) => r.path === path).length;

const key = (a: Affected) => `${a.namespace} ${a.name} ${a.vulnId}`;

test('secfixes entries: CVE leads, other ids become aliases, real-world typos normalised', () => {
  assert.deepEqual(secfixIds('CVE-2017-8904 XSA-214'), ['CVE-2017-8904', 'XSA-214']);
  assert.deepEqual(secfixIds('XSA-207'), ['XSA-207']);
  assert.deepEqual(secfixIds('CVE_2019-2426'), ['CVE-2019-2426']);
  assert.deepEqual(secfixIds('CVE 2018-16859'), ['CVE-2018-16859']);
  assert.deepEqual(secfixIds('CVE-2017-8073.patch'), ['CVE-2017-8073']);
  assert.deepEqual(secfixIds('CVE-2019-15167 (VRRP)'), ['CVE-2019-15167']);
  assert.deepEqual(secfixIds('GHSA-f7r5-w49x-gxm3 CVE-2024-12345'), ['CVE-2024-12345', 'GHSA-f7r5-w49x-gxm3']);
  assert.deepEqual(secfixIds('CVE-2024-22195 GHSA-h5c8-rqwp-cp95'), ['CVE-2024-22195', 'GHSA-h5c8-rqwp-cp95']);
  assert.deepEqual(secfixIds('wnpa-sec-2017-18'), ['wnpa-sec-2017-18']);
  assert.deepEqual(secfixIds('???'), []);
});

test('the 2020 secdb YAML (v3.3-v3.11) imports completely as a full snapshot', { skip: skipWithout('alpine/secdb-yaml-2020') }, async (t) => {
  const ctx = importContext();
  const started = performance.now();
  const { full, batches } = await alpineDriver.importPath(sample('alpine/secdb-yaml-2020'), ctx);
  const got = await collect(batches);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(full, true);
  assert.deepEqual(ctx.warnings, []);
  // Counted independently from the YAML (PyYAML BaseLoader): distinct ids, (release, package, id) triples, `0`-only triples.
  assert.equal(got.vulnerabilities.length, 2474);
  assert.equal(got.affected.length, 11878);
  assert.equal(got.affected.filter((a) => a.state === 'not-affected').length, 5);
  assert.equal(new Set(got.affected.map(key)).size, got.affected.length, 'one record per (release, package, id)');
  assert.deepEqual([...new Set(got.affected.map((a) => a.namespace))].sort(),
    ['alpine:3.10', 'alpine:3.11', 'alpine:3.3', 'alpine:3.4', 'alpine:3.5', 'alpine:3.6', 'alpine:3.7', 'alpine:3.8', 'alpine:3.9']);

  const db = got.affected.find((a) => a.namespace === 'alpine:3.8' && a.name === 'db' && a.vulnId === 'CVE-2016-0682');
  assert.deepEqual(db, {
    vulnId: 'CVE-2016-0682', source: 'alpine', namespace: 'alpine:3.8', name: 'db', nameKind: 'source', scheme: 'apk',
    ranges: [], versions: [], state: 'not-affected', fixedVersions: [],
  });
  const ansible = got.affected.find((a) => a.namespace === 'alpine:3.11' && a.name === 'ansible' && a.vulnId === 'CVE-2019-14904');
  assert.deepEqual(ansible, {
    vulnId: 'CVE-2019-14904', source: 'alpine', namespace: 'alpine:3.11', name: 'ansible', nameKind: 'source', scheme: 'apk',
    ranges: [{ introduced: '0', fixed: '2.9.3-r0' }], versions: [], state: 'fixed', fixedVersions: ['2.9.3-r0'],
  });
  const xen = got.vulnerabilities.find((v) => v.id === 'CVE-2017-8904');
  assert.deepEqual(xen, { id: 'CVE-2017-8904', source: 'alpine', aliases: ['XSA-214'], cvss: [], references: [] });
  assert.ok(got.vulnerabilities.some((v) => v.id === 'XSA-207'), 'an XSA-only entry is its own record');
  t.diagnostic(`alpine secdb YAML import: ${got.affected.length} affected records in ${seconds.toFixed(2)} s`);
});

test('the secdb JSON and YAML forms of v3.11 main give the same records', { skip: skipWithout('alpine/derived-json/v3.11-main.json') }, async () => {
  const fromJson = await collect((await alpineDriver.importPath(sample('alpine/derived-json/v3.11-main.json'), importContext())).batches);
  const fromYaml = await collect((await alpineDriver.importPath(sample('alpine/secdb-yaml-2020/v3.11/main.yaml'), importContext())).batches);
  assert.equal(fromJson.affected.length, 1179);
  assert.deepEqual(fromJson.affected, fromYaml.affected);
  assert.deepEqual(fromJson.vulnerabilities, fromYaml.vulnerabilities);
});

test('a single document is an upsert; overlapping documents merge; foreign JSON is warned and skipped', { skip: skipWithout('alpine/derived-json') }, async () => {
  const single = await alpineDriver.importPath(sample('alpine/derived-json/v3.11-community.json'), importContext());
  assert.equal(single.full, false);
  const ctx = importContext();
  const all = await alpineDriver.importPath(sample('alpine'), ctx);
  const got = await collect(all.batches);
  assert.equal(all.full, true);
  assert.equal(new Set(got.affected.map(key)).size, got.affected.length, 'v3.11 in YAML and JSON form is counted once');
  assert.ok(ctx.warnings.some((w) => w.includes('ansible.json') && w.includes('not a secdb document')), ctx.warnings.join('\n'));
  assert.ok(got.affected.some((a) => a.namespace === 'alpine:3.15' && a.name === 'zlib' && a.fixedVersions.includes('1.2.12-r2')));
});

test('malformed packages and entries are warned about by name and skipped', () => {
  const warnings: string[] = [];
  const doc = {
    distroversion: 'v3.19', reponame: 'main',
    packages: [
      { pkg: { secfixes: { '1.0-r0': ['CVE-2024-0001'] } } },
      { pkg: { name: 'good', secfixes: { '1.0-r0': ['CVE-2024-0002', '???'], bogus: ['CVE-2024-0003'], '2.0-r0': 'CVE-2024-0004' } } },
      { pkg: { name: 'none' } },
    ],
  };
  const c = convertSecdb(doc, 'test', (m) => warnings.push(m))!;
  assert.deepEqual(c.affected.map((a) => [a.name, a.vulnId, a.fixedVersions]), [['good', 'CVE-2024-0002', ['1.0-r0']]]);
  assert.equal(warnings.length, 4, warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('packages[0]')));
  assert.ok(warnings.some((w) => w.includes('good') && w.includes('"bogus"')));
  assert.ok(warnings.some((w) => w.includes('good 1.0-r0') && w.includes('???')));
  assert.ok(warnings.some((w) => w.includes('good 2.0-r0') && w.includes('not a list')));
  assert.equal(convertSecdb({ distroversion: 'edge', packages: [] }, 'edge', (m) => warnings.push(m)), undefined);
  assert.match(warnings.at(-1)!, /edge.*not a release/);
});

test('index page releases are discovered in version order', () => {
  const html = '<a href="../">../</a><a href="edge/">edge/</a><a href="v3.10/">v3.10/</a><a href="v3.9/">v3.9/</a><a href="v3.19/">v3.19/</a>';
  assert.deepEqual(releasesInIndex(html), ['v3.9', 'v3.10', 'v3.19']);
});

test('online: discovers releases, 304 everywhere is a no-op, one change re-reads the whole snapshot', { skip: skipWithout('alpine/derived-json') }, async () => {
  const server = await startFeedServer();
  try {
    const v311main = await readFile(sample('alpine/derived-json/v3.11-main.json'));
    const v311community = await readFile(sample('alpine/derived-json/v3.11-community.json'));
    serve(server, '/', '<html><a href="edge/">edge/</a> <a href="v3.10/">v3.10/</a> <a href="v3.11/">v3.11/</a></html>');
    serve(server, '/v3.10/community.json', await readFile(sample('alpine/claircore/fetch/v3.10/community.json')));
    serve(server, '/v3.11/main.json', v311main);
    serve(server, '/v3.11/community.json', v311community);

    const ctx1 = fakeSyncContext({ baseUrl: server.url });
    const first = await alpineDriver.sync(ctx1);
    const got1 = await collect(first.batches);
    assert.equal(first.full, true);
    assert.deepEqual(ctx1.warnings, []);
    const namespaces = new Set(got1.affected.map((a) => a.namespace));
    assert.deepEqual([...namespaces].sort(), ['alpine:3.10', 'alpine:3.11']);
    assert.equal(count(server, '/v3.10/main.json'), 1, 'asked for, 404, skipped');

    const ctx2 = committed(ctx1);
    const before = server.requests.length;
    const second = await alpineDriver.sync(ctx2);
    assert.equal(second.full, false);
    assert.equal((await collect(second.batches)).batches, 0);
    const docs = server.requests.slice(before).filter((r) => r.path.endsWith('.json') && r.status !== 404);
    assert.ok(docs.length === 3 && docs.every((r) => !!r.headers['if-none-match'] && r.status === 304), JSON.stringify(docs));

    // community of v3.11 changes: every document is read again (the 304 ones unconditionally).
    const changed = JSON.parse(v311community.toString('utf8')) as { packages: unknown[] };
    changed.packages = changed.packages.slice(1);
    serve(server, '/v3.11/community.json', JSON.stringify(changed));
    const ctx3 = committed(ctx2);
    const third = await alpineDriver.sync(ctx3);
    const got3 = await collect(third.batches);
    assert.equal(third.full, true);
    assert.ok(got3.affected.length < got1.affected.length && got3.affected.length > 1179, `${got3.affected.length}`);
    assert.ok(got3.affected.some((a) => a.namespace === 'alpine:3.10'), 'unchanged releases are part of the snapshot');

    // A configured release list skips discovery.
    const only = createAlpineDriver({ releases: ['v3.10'], repos: ['community'] });
    const got4 = await collect((await only.sync(fakeSyncContext({ baseUrl: server.url }))).batches);
    assert.deepEqual([...new Set(got4.affected.map((a) => a.namespace))], ['alpine:3.10']);
    assert.equal(got4.affected.length, 9);
  } finally {
    await server.close();
  }
});

test('detect recognises secdb files and directories, not other feeds', { skip: skipWithout('alpine/secdb-yaml-2020') }, async () => {
  assert.equal(await alpineDriver.detect(sample('alpine/secdb-yaml-2020/v3.8/main.yaml'), Buffer.alloc(0)), true);
  assert.equal(await alpineDriver.detect(sample('alpine/secdb-yaml-2020'), Buffer.alloc(0)), true);
  assert.equal(await alpineDriver.detect(sample('alpine/derived-json/v3.11-main.json'), Buffer.alloc(0)), true);
  const dir = await mkdtemp(join(tmpdir(), 'lading-alpine-'));
  try {
    await writeFile(join(dir, 'x.json'), '{"id": "GO-1", "affected": []}');
    assert.equal(await alpineDriver.detect(dir, Buffer.alloc(0)), false);
  } finally {
    await rm(dir, { recursive: true });
  }
  const debian = sample('debian/vunnel-fixture/debian.json');
  if (debian) assert.equal(await alpineDriver.detect(debian, await readFile(debian)), false);
});
