import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { changedSince, createOsvDriver, osvDriver, prefetched, timestampSeconds } from './osv.js';
import { startFeedServer, fakeSyncContext, collect, importContext, serve, committed } from '../../testkit/feed-server.js';
import { writeZip } from '../../analyze/testing-zip.js';
import { sample, haveSample as have, skipWithoutSample as skipWithout } from '../../testkit/vulndata.js';


const GO_ZIP = 'osv/go/all.zip';
const PYPI_ZIP = 'osv/pypi/all-yaml.zip';
const ALMA = 'osv/almalinux/AlmaLinux-osv-database';

async function timedImport(path: string) {
  const ctx = importContext();
  const started = performance.now();
  const result = await osvDriver.importPath(path, ctx);
  const got = await collect(result.batches);
  return { ...got, full: result.full, warnings: ctx.warnings, seconds: (performance.now() - started) / 1000 };
}

test('Go all.zip: all 4,291 real records import with no warning', { skip: skipWithout(GO_ZIP) }, async (t) => {
  const got = await timedImport(sample(GO_ZIP));
  assert.equal(got.full, false, 'one ecosystem must not replace the others');
  assert.deepEqual(got.warnings, []);
  assert.equal(got.vulnerabilities.length, 4291);
  assert.equal(new Set(got.vulnerabilities.map((v) => v.id)).size, 4291);
  assert.ok(got.affected.length > 4000 && got.affected.every((a) => a.namespace === 'go' && a.scheme === 'go'));
  assert.equal(got.vulnerabilities.filter((v) => v.withdrawn).length, 17);
  t.diagnostic(`Go all.zip: ${got.vulnerabilities.length} records in ${got.seconds.toFixed(2)} s = ${Math.round(got.vulnerabilities.length / got.seconds)} records/s`);
});

test('PyPI YAML: the 2,661-record archive and the directory tree import', { skip: skipWithout(PYPI_ZIP) }, async (t) => {
  const zip = await timedImport(sample(PYPI_ZIP));
  assert.deepEqual(zip.warnings, []);
  // 2,662 entries: 2,661 YAML records and the repository's .id-allocator file.
  assert.equal(zip.vulnerabilities.length, 2661);
  assert.ok(zip.affected.every((a) => a.namespace === 'pypi' && a.scheme === 'pep440'));
  assert.ok(zip.affected.some((a) => a.name === 'jw-util'), 'jw.util is PEP 503 normalised');
  t.diagnostic(`PyPI YAML zip: ${zip.vulnerabilities.length} records in ${zip.seconds.toFixed(2)} s = ${Math.round(zip.vulnerabilities.length / zip.seconds)} records/s`);
  const dir = await timedImport(sample('osv/pypi/pypa-advisory-database'));
  assert.deepEqual(dir.warnings, []);
  assert.equal(dir.vulnerabilities.length, 437);
});

test('AlmaLinux and Rocky trees import recursively', { skip: skipWithout(ALMA) }, async () => {
  const alma = await timedImport(sample(ALMA));
  assert.deepEqual(alma.warnings, []);
  assert.equal(alma.vulnerabilities.length, 386, 'one per file (seven errata sit in two release folders each)');
  assert.deepEqual([...new Set(alma.affected.map((a) => a.namespace))].sort(), ['almalinux:10', 'almalinux:8', 'almalinux:9']);
  const rocky = await timedImport(sample('osv/rocky-alma'));
  assert.equal(rocky.vulnerabilities.length, 8);
  assert.ok(rocky.affected.some((a) => a.namespace === 'rocky:9'));
});

test('a directory of <Ecosystem>/all.zip, and bad files beside good ones', { skip: skipWithout(GO_ZIP) }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lading-osv-'));
  try {
    await mkdir(join(dir, 'Go'));
    await copyFile(sample(GO_ZIP), join(dir, 'Go', 'all.zip'));
    await mkdir(join(dir, 'extra'));
    await writeFile(join(dir, 'extra', 'broken.json'), '{"id": "X-1", ');
    await writeFile(join(dir, 'extra', 'not-a-record.yaml'), 'hello: world\n');
    await writeFile(join(dir, 'extra', 'bad.zip'), 'PK\x03\x04 not really');
    await writeFile(join(dir, 'extra', 'PYSEC-0-1.yaml'), 'id: PYSEC-0-1\naffected:\n- package:\n    name: Foo\n    ecosystem: PyPI\n  versions:\n  - 1.10\n');
    const got = await timedImport(dir);
    assert.equal(got.vulnerabilities.length, 4291 + 1);
    assert.deepEqual(got.affected.find((a) => a.vulnId === 'PYSEC-0-1')?.versions, ['1.10']);
    assert.equal(got.warnings.length, 3, got.warnings.join('\n'));
    assert.ok(got.warnings.some((w) => w.includes('broken.json') && w.includes('not valid JSON')));
    assert.ok(got.warnings.some((w) => w.includes('not-a-record.yaml') && w.includes('without an id')));
    assert.ok(got.warnings.some((w) => w.includes('bad.zip')));
    await assert.rejects(osvDriver.importPath(join(dir, 'missing'), importContext()).then((r) => collect(r.batches)), /no such file/);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('detect: OSV records, trees and archives; not GHSA, Ubuntu, Debian or Alpine data', { skip: skipWithout(GO_ZIP) }, async () => {
  const yes = [GO_ZIP, PYPI_ZIP, 'osv/pypi/pypa-advisory-database', 'osv/go/golang-vulndb/GO-2020-0001.json', ALMA];
  const no = ['osv/ghsa/github-advisory-database/GHSA-6f9g-cxwr-q5jr.json', 'ubuntu/vunnel-fixture/osv', 'debian/vunnel-fixture/debian.json', 'alpine/secdb-yaml-2020'];
  for (const p of yes) if (have(p)) assert.equal(await osvDriver.detect(sample(p), Buffer.alloc(0)), true, p);
  for (const p of no) if (have(p)) assert.equal(await osvDriver.detect(sample(p), Buffer.alloc(0)), false, p);
});

test('modified_id.csv: newest first, stops at the cursor, second precision, bad lines warned', () => {
  const warnings: string[] = [];
  const csv = '2024-06-03T10:00:00.5Z,B\n2024-06-02T10:00:00Z,A\nnonsense\n2024-06-01T10:00:00Z,OLD\n2023-01-01T00:00:00Z,OLDER\n';
  const since = timestampSeconds('2024-06-02T10:00:00.9Z')!;
  assert.deepEqual(changedSince(csv, since, 'csv', (m) => warnings.push(m)).map((c) => c.id), ['B', 'A']);
  assert.equal(warnings.length, 1, 'a bad line before the first older one is reported');
  assert.match(warnings[0]!, /csv: malformed line "nonsense"/);
  assert.deepEqual(changedSince(csv, timestampSeconds('2024-06-02T10:00:00Z')! + 1, 'csv', (m) => warnings.push(m)).map((c) => c.id), ['B']);
  assert.equal(warnings.length, 1, 'the scan stops at the first older line');
});

interface Rec { id: string; modified: string; file: string; data: Buffer }

async function almaRecords(): Promise<Rec[]> {
  const root = sample(ALMA);
  const out: Rec[] = [];
  for (const sub of await readdir(root)) {
    for (const name of await readdir(join(root, sub))) {
      const data = await readFile(join(root, sub, name));
      const r = JSON.parse(data.toString('utf8')) as { id: string; modified: string };
      out.push({ id: r.id, modified: r.modified, file: name, data });
    }
  }
  // The sample holds a few errata twice (one file per release folder, same id and content); the bucket has each id once.
  const unique = [...new Map(out.map((r) => [r.id, r])).values()];
  return unique.sort((a, b) => Date.parse(b.modified) - Date.parse(a.modified));
}

test('online: all.zip first (full), then only the records newer than the cursor, 304 no-op, fallback to all.zip', { skip: skipWithout(ALMA) }, async () => {
  const records = await almaRecords();
  // The newest records (at least three, cut where the next is older by a second) are published "later".
  let cut = 3;
  while (timestampSeconds(records[cut - 1]!.modified) === timestampSeconds(records[cut]!.modified)) cut++;
  const held = records.slice(0, cut);
  const rest = records.slice(cut);
  const server = await startFeedServer();
  try {
    serve(server, '/AlmaLinux/all.zip', writeZip(rest.map((r) => ({ name: `${r.id}.json`, data: r.data }))));
    const driver = createOsvDriver({ ecosystems: ['AlmaLinux'], maxIncremental: 10 });

    const ctx1 = fakeSyncContext({ baseUrl: server.url });
    const first = await driver.sync(ctx1);
    const got1 = await collect(first.batches);
    assert.equal(first.full, true);
    assert.equal(got1.vulnerabilities.length, rest.length);
    assert.deepEqual(ctx1.pending, { 'modified:AlmaLinux': rest[0]!.modified });
    assert.deepEqual(ctx1.warnings, []);

    // The export moves on: three new records, listed newest first.
    serve(server, '/AlmaLinux/modified_id.csv', records.map((r) => `${r.modified},${r.id}`).join('\n') + '\n');
    for (const r of records) serve(server, `/AlmaLinux/${encodeURIComponent(r.id)}.json`, r.data);
    const ctx2 = committed(ctx1);
    const before = server.requests.length;
    const second = await driver.sync(ctx2);
    const got2 = await collect(second.batches);
    assert.equal(second.full, false);
    const cursorSecond = timestampSeconds(rest[0]!.modified)!;
    const expected = records.filter((r) => timestampSeconds(r.modified)! >= cursorSecond).map((r) => r.id).sort();
    assert.ok(expected.length >= 4 && expected.length < 10, `${expected.length}`);
    assert.deepEqual(got2.vulnerabilities.map((v) => v.id).sort(), expected);
    const asked = server.requests.slice(before).map((r) => r.path);
    assert.ok(!asked.includes('/AlmaLinux/all.zip'), 'no archive download');
    assert.equal(asked.filter((p) => p.endsWith('.json')).length, expected.length, 'only the changed records are fetched');
    assert.deepEqual(ctx2.pending, { 'modified:AlmaLinux': held[0]!.modified });

    // Nothing new: the list is not modified, nothing else is asked for.
    const ctx3 = committed(ctx2);
    const mark = server.requests.length;
    const third = await driver.sync(ctx3);
    assert.equal((await collect(third.batches)).batches, 0);
    assert.deepEqual(server.requests.slice(mark).map((r) => [r.path, r.status]), [['/AlmaLinux/modified_id.csv', 304]]);
    assert.deepEqual(ctx3.pending, {});

    // Too many changes for one sync: the archive is read again instead (upsert, unconditional).
    const bumped = records.map((r, i) => `${i < 20 ? '2099-01-01T00:00:00Z' : r.modified},${r.id}`);
    serve(server, '/AlmaLinux/modified_id.csv', bumped.join('\n'));
    const ctx4 = committed(ctx3);
    const mark4 = server.requests.length;
    const fourth = await driver.sync(ctx4);
    const got4 = await collect(fourth.batches);
    assert.equal(fourth.full, false);
    assert.equal(got4.vulnerabilities.length, rest.length);
    assert.deepEqual(server.requests.slice(mark4).map((r) => [r.path, !!r.headers['if-none-match']]), [['/AlmaLinux/modified_id.csv', true], ['/AlmaLinux/all.zip', false]]);

    // A listed record that is gone is warned about and skipped.
    serve(server, '/AlmaLinux/modified_id.csv', `2100-01-01T00:00:00Z,ALSA-0000:0000\n${bumped.join('\n')}`);
    const ctx5 = fakeSyncContext({ baseUrl: server.url, state: { 'modified:AlmaLinux': '2099-01-01T00:00:00Z' } });
    const got5 = await collect((await createOsvDriver({ ecosystems: ['AlmaLinux'], maxIncremental: 50 }).sync(ctx5)).batches);
    assert.equal(got5.vulnerabilities.length, 20);
    assert.ok(ctx5.warnings.some((w) => w.includes('ALSA-0000:0000') && w.includes('not found')));
    assert.deepEqual(ctx5.pending, { 'modified:AlmaLinux': '2100-01-01T00:00:00Z' });
  } finally {
    await server.close();
  }
});

test('online: a full replace only when every ecosystem starts from its archive', { skip: skipWithout(GO_ZIP) }, async () => {
  const server = await startFeedServer();
  try {
    serve(server, '/Go/all.zip', await readFile(sample(GO_ZIP)));
    serve(server, '/Rocky%20Linux/all.zip', writeZip([{ name: 'RLSA-2021:3891.json', data: await readFile(sample('osv/rocky-alma/vunnel-fixture/rocky/test-fixtures/osv/RLSA-2021_3891.json')) }]));
    const driver = createOsvDriver({ ecosystems: ['Go', 'Rocky Linux'] });
    const ctx = fakeSyncContext({ baseUrl: server.url });
    const first = await driver.sync(ctx);
    const got = await collect(first.batches);
    assert.equal(first.full, true);
    assert.equal(got.vulnerabilities.length, 4292);
    assert.deepEqual(Object.keys(ctx.pending).sort(), ['modified:Go', 'modified:Rocky Linux']);
    // A new ecosystem added to a configuration that already has data: upsert.
    const partial = await driver.sync(fakeSyncContext({ baseUrl: server.url, state: { 'modified:Go': '2099-01-01T00:00:00Z' } }));
    assert.equal(partial.full, false);
    serve(server, '/Go/modified_id.csv', '');
    assert.equal((await collect(partial.batches)).vulnerabilities.length, 1);
    // An HTTP failure fails the sync rather than replacing with nothing.
    serve(server, '/Go/all.zip', 'down', 503);
    await assert.rejects(createOsvDriver({ ecosystems: ['Go'] }).sync(fakeSyncContext({ baseUrl: server.url })).then((r) => collect(r.batches)), /HTTP 503/);
  } finally {
    await server.close();
  }
});

test('incremental fetches run a few at a time, yield in order, and fail at the failing item', async () => {
  let running = 0, peak = 0;
  const fetchOne = async (n: number): Promise<number | undefined> => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, (n * 7) % 5));
    running--;
    if (n === 13) throw new Error('boom 13');
    return n % 4 === 0 ? undefined : n;
  };
  const out: number[] = [];
  for await (const n of prefetched([...Array(12).keys()], fetchOne, 3)) out.push(n);
  assert.deepEqual(out, [1, 2, 3, 5, 6, 7, 9, 10, 11]);
  assert.equal(peak, 3);
  const seen: number[] = [];
  await assert.rejects((async () => { for await (const n of prefetched([...Array(20).keys()], fetchOne, 4)) seen.push(n); })(), /boom 13/);
  assert.deepEqual(seen, [1, 2, 3, 5, 6, 7, 9, 10, 11]);
});
