import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ghsaDriver, createGhsaDriver } from './ghsa.js';
import { startFeedServer, fakeSyncContext, collect, importContext, serve, committed } from '../../testkit/feed-server.js';
import { writeZip, type ZipInput } from '../../analyze/testing-zip.js';
import { isLadingError } from '../../errors.js';
import { sample, haveSample as have, skipWithoutSample as skipWithout } from '../../testkit/vulndata.js';


const TRIVY = 'osv/ghsa/trivy-db-testdata';

async function filesUnder(dir: string): Promise<string[]> {
  return ((await readdir(dir, { recursive: true })) as string[]).filter((n) => n.endsWith('.json')).map((n) => join(dir, n));
}

/** The repository archive as GitHub lays it out, from the real advisories in the trivy-db fixture. */
async function archive(extra: ZipInput[] = []): Promise<Buffer> {
  const root = sample(TRIVY);
  const inputs: ZipInput[] = [{ name: 'advisory-database-main/', data: '' }, { name: 'advisory-database-main/README.md', data: '# GitHub Advisory Database' }];
  for (const f of await filesUnder(root)) inputs.push({ name: `advisory-database-main/${relative(root, f)}`, data: await readFile(f) });
  return writeZip([...inputs, ...extra]);
}

test('a checkout of the repository imports as the whole database', { skip: skipWithout(TRIVY) }, async () => {
  const ctx = importContext();
  const { full, batches } = await ghsaDriver.importPath(sample(TRIVY), ctx);
  const got = await collect(batches);
  assert.equal(full, true);
  assert.deepEqual(ctx.warnings, []);
  assert.equal(got.vulnerabilities.length, 10);
  assert.ok(got.vulnerabilities.every((v) => v.source === 'ghsa' && v.id.startsWith('GHSA-') && v.severity && v.cvss.length === 1));
  const severities = Object.fromEntries(got.vulnerabilities.map((v) => [v.id, v.severity]));
  assert.equal(severities['GHSA-32qq-m9fh-f74w'], 'Critical');
  assert.equal(severities['GHSA-xx65-cc7g-9pfp'], 'Medium', 'MODERATE');
  assert.equal(severities['GHSA-75v8-2h7p-7m2m'], 'Low');
  const formidable = got.affected.filter((a) => a.vulnId === 'GHSA-75v8-2h7p-7m2m');
  assert.deepEqual(formidable.map((a) => [a.namespace, a.name, a.ranges, a.state]), [
    ['npm', 'formidable', [{ introduced: '3.1.1-canary.20211030', fixed: '3.5.3' }], 'fixed'],
    ['npm', 'formidable', [{ introduced: '2.1.0' }], 'not-fixed'],
  ]);
  assert.deepEqual(got.affected.filter((a) => a.vulnId === 'GHSA-wjx8-cgrm-hh8p').map((a) => [a.namespace, a.name]), [
    ['composer', 'contao/core-bundle'], ['composer', 'contao/core-bundle'],
  ]);
  assert.equal(got.affected.filter((a) => a.vulnId === 'GHSA-7fj7-39wj-c64f').length, 0, 'SwiftURL is not matched');
});

test('loose GHSA files import as an upsert; last_affected kept inclusive', { skip: skipWithout('osv/ghsa') }, async () => {
  const ctx = importContext();
  const { full, batches } = await ghsaDriver.importPath(sample('osv/ghsa'), ctx);
  const got = await collect(batches);
  assert.equal(full, false);
  assert.deepEqual(ctx.warnings, []);
  assert.equal(got.vulnerabilities.length, 2 + 33 + 10);
  const rttys = got.affected.find((a) => a.vulnId === 'GHSA-54q4-74p3-mgcw')!;
  assert.deepEqual([rttys.namespace, rttys.name, rttys.ranges, rttys.state], ['go', 'github.com/zhaojh329/rttys', [{ introduced: '4.0.0', lastAffected: '4.0.2' }], 'not-fixed']);
  assert.equal(got.vulnerabilities.find((v) => v.id === 'GHSA-54q4-74p3-mgcw')?.severity, 'High');
});

test('online: the repository archive, 304 on the second sync, unreviewed advisories left out', { skip: skipWithout(TRIVY) }, async () => {
  const server = await startFeedServer();
  try {
    const unreviewed = await readFile(sample('osv/ghsa/github-advisory-database/GHSA-35jh-r3h4-6jhm.json'));
    serve(server, '/github/advisory-database/archive/refs/heads/main.zip', await archive([
      { name: 'advisory-database-main/advisories/unreviewed/2021/05/GHSA-35jh-r3h4-6jhm/GHSA-35jh-r3h4-6jhm.json', data: unreviewed },
      { name: 'advisory-database-main/advisories/github-reviewed/2024/01/GHSA-xxxx-xxxx-xxxx/GHSA-xxxx-xxxx-xxxx.json', data: '{"id": "GHSA-xxxx' },
    ]));
    const ctx1 = fakeSyncContext({ baseUrl: `${server.url}/github/advisory-database` });
    const first = await ghsaDriver.sync(ctx1);
    const got = await collect(first.batches);
    assert.equal(first.full, true);
    assert.equal(got.vulnerabilities.length, 10);
    assert.equal(ctx1.warnings.length, 1);
    assert.match(ctx1.warnings[0]!, /GHSA-xxxx-xxxx-xxxx\.json: not valid JSON/);

    const second = await ghsaDriver.sync(committed(ctx1));
    assert.equal(second.full, false);
    assert.equal((await collect(second.batches)).batches, 0);
    assert.deepEqual(server.requests.map((r) => [!!r.headers['if-none-match'], r.status]), [[false, 200], [true, 304]]);

    const all = createGhsaDriver({ includeUnreviewed: true });
    const withUnreviewed = await collect((await all.sync(fakeSyncContext({ baseUrl: `${server.url}/github/advisory-database` }))).batches);
    assert.equal(withUnreviewed.vulnerabilities.length, 11);

    serve(server, '/github/advisory-database/archive/refs/heads/main.zip', writeZip([{ name: 'advisory-database-main/README.md', data: 'empty' }]));
    await assert.rejects(ghsaDriver.sync(fakeSyncContext({ baseUrl: `${server.url}/github/advisory-database` })), (e) => isLadingError(e) && e.code === 'BAD_INPUT');
  } finally {
    await server.close();
  }
});

test('the archive file imports as the whole database; detect knows GHSA data from other OSV', { skip: skipWithout(TRIVY) }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lading-ghsa-'));
  try {
    const zip = join(dir, 'main.zip');
    await writeFile(zip, await archive());
    const imported = await ghsaDriver.importPath(zip, importContext());
    assert.equal(imported.full, true);
    assert.equal((await collect(imported.batches)).vulnerabilities.length, 10);
    assert.equal(await ghsaDriver.detect(zip, Buffer.alloc(0)), true);
  } finally {
    await rm(dir, { recursive: true });
  }
  assert.equal(await ghsaDriver.detect(sample(TRIVY), Buffer.alloc(0)), true);
  assert.equal(await ghsaDriver.detect(sample('osv/ghsa/github-advisory-database/GHSA-6f9g-cxwr-q5jr.json'), Buffer.alloc(0)), true);
  for (const other of ['osv/go/all.zip', 'osv/go/golang-vulndb/GO-2020-0001.json', 'ubuntu/vunnel-fixture/osv']) {
    if (have(other)) assert.equal(await ghsaDriver.detect(sample(other), Buffer.alloc(0)), false, other);
  }
});
