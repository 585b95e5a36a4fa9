import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ubuntuDriver } from './ubuntu.js';
import { osvDriver } from './osv.js';
import { startFeedServer, type FeedServer, fakeSyncContext, collect, importContext, serve, committed } from '../../testkit/feed-server.js';
import { writeZip } from '../../analyze/testing-zip.js';
import { sample, skipWithoutSample as skipWithout } from '../../testkit/vulndata.js';


const count = (server: FeedServer, path: string): number => server.requests.filter((r) => r.path === path).length;

const FIXTURE = 'ubuntu/vunnel-fixture';

async function records(): Promise<{ id: string; modified: string; data: Buffer }[]> {
  const out = [];
  for (const sub of ['osv', 'osv-esm-cases']) {
    const dir = join(sample(FIXTURE), sub);
    for (const name of (await readdir(dir, { recursive: true })) as string[]) {
      if (!name.endsWith('.json')) continue;
      const data = await readFile(join(dir, name));
      const r = JSON.parse(data.toString('utf8')) as { id: string; modified: string };
      out.push({ id: r.id, modified: r.modified, data });
    }
  }
  return out;
}

test('Canonical OSV imports: UBUNTU-CVE packages per release, USN and withdrawn records as advisories only', { skip: skipWithout(FIXTURE) }, async () => {
  const ctx = importContext();
  const { full, batches } = await ubuntuDriver.importPath(sample(FIXTURE), ctx);
  const got = await collect(batches);
  assert.equal(full, false);
  assert.equal(got.vulnerabilities.length, 9);
  assert.ok(got.vulnerabilities.every((v) => v.source === 'ubuntu'));
  // The OpenVEX documents beside the OSV ones are not OSV records: each is named and skipped.
  assert.equal(ctx.warnings.length, 2, ctx.warnings.join('\n'));
  assert.ok(ctx.warnings.every((w) => w.includes('/vex/') && w.includes('without an id')));

  const byId = new Map(got.vulnerabilities.map((v) => [v.id, v]));
  assert.equal(byId.get('UBUNTU-CVE-2016-20013')?.severity, 'Negligible');
  assert.equal(byId.get('UBUNTU-CVE-2022-24823')?.severity, 'Low');
  assert.ok(byId.get('UBUNTU-CVE-2013-2208')?.withdrawn);
  assert.deepEqual(got.affected.filter((a) => a.vulnId === 'UBUNTU-CVE-2013-2208' || a.vulnId.startsWith('USN-')), []);

  const netty = got.affected.filter((a) => a.vulnId === 'UBUNTU-CVE-2022-24823');
  assert.deepEqual(netty.map((a) => [a.namespace, a.state, a.fixedVersions]), [
    ['ubuntu:14.04', 'not-fixed', []],
    ['ubuntu:16.04', 'fixed', ['1:4.0.34-1ubuntu0.1~esm2']],
    ['ubuntu:18.04', 'fixed', ['1:4.1.7-4ubuntu0.1+esm3']],
    ['ubuntu:20.04', 'fixed', ['1:4.1.45-1ubuntu0.1~esm2']],
    ['ubuntu:22.04', 'fixed', ['1:4.1.48-4+deb11u2ubuntu0.1~esm1']],
    ['ubuntu:24.04', 'fixed', ['1:4.1.48-9ubuntu0.1~esm1']],
    ['ubuntu:25.10', 'not-fixed', []],
    ['ubuntu:26.04', 'not-fixed', []],
  ]);
  assert.ok(netty.every((a) => a.name === 'netty' && a.nameKind === 'source' && a.scheme === 'dpkg'));
  assert.ok(netty[0]!.versions.length > 0, 'listed affected versions are kept');
  // 30 package entries in UBUNTU-CVE-2016-20013, none with a fix.
  assert.equal(got.affected.filter((a) => a.vulnId === 'UBUNTU-CVE-2016-20013' && a.state === 'not-fixed').length, 30);
});

test('online: Ubuntu/all.zip from the OSV bucket, then modified_id.csv', { skip: skipWithout(FIXTURE) }, async () => {
  const recs = (await records()).sort((a, b) => Date.parse(b.modified) - Date.parse(a.modified));
  const [newest, ...rest] = recs;
  const server = await startFeedServer();
  try {
    serve(server, '/Ubuntu/all.zip', writeZip(rest.map((r) => ({ name: `${r.id}.json`, data: r.data }))));
    const ctx1 = fakeSyncContext({ baseUrl: server.url });
    const first = await ubuntuDriver.sync(ctx1);
    assert.equal(first.full, true);
    assert.equal((await collect(first.batches)).vulnerabilities.length, rest.length);
    assert.deepEqual(ctx1.pending, { 'modified:Ubuntu': rest[0]!.modified });

    serve(server, '/Ubuntu/modified_id.csv', recs.map((r) => `${r.modified},${r.id}`).join('\n'));
    serve(server, `/Ubuntu/${newest!.id}.json`, newest!.data);
    const ctx2 = committed(ctx1);
    const second = await ubuntuDriver.sync(ctx2);
    const got = await collect(second.batches);
    assert.equal(second.full, false);
    assert.ok(got.vulnerabilities.some((v) => v.id === newest!.id));
    assert.ok(count(server, `/Ubuntu/${newest!.id}.json`) === 1);
    assert.equal(count(server, '/Ubuntu/all.zip'), 1);
  } finally {
    await server.close();
  }
});

test('detect: Ubuntu OSV is the ubuntu driver\'s, not the generic osv driver\'s', { skip: skipWithout(FIXTURE) }, async () => {
  const dir = join(sample(FIXTURE), 'osv');
  assert.equal(await ubuntuDriver.detect(dir, Buffer.alloc(0)), true);
  assert.equal(await osvDriver.detect(dir, Buffer.alloc(0)), false);
  const go = sample('osv/go/golang-vulndb/GO-2020-0001.json');
  if (go) assert.equal(await ubuntuDriver.detect(go, Buffer.alloc(0)), false);
});
