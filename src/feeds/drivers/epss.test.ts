import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ImportContext } from '../driver.js';
import { collect, fakeSyncContext, startFeedServer, type FeedServer } from '../../testkit/feed-server.js';
import { epssDriver, parseEpssCsv } from './epss.js';

const DATA = resolve(process.cwd(), '../shared/vulndata/epss');
const skip = existsSync(DATA) ? false : `EPSS samples not found at ${DATA} (../shared/vulndata relative to the repo root)`;
const noWarn: ImportContext = { warn: (m: string) => assert.fail(`unexpected warning: ${m}`) };

describe('epss driver', { skip }, () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lading-epss-'));
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  test('imports example-1.csv exactly as the vunnel snapshots record it', async () => {
    const { full, batches } = await epssDriver.importPath(join(DATA, 'vunnel-fixture/example-1.csv'), noWarn);
    const out = await collect(batches);
    assert.equal(full, true);
    const snapDir = join(DATA, 'vunnel-fixture/snapshots/example-1');
    const snaps = await readdir(snapDir);
    assert.equal(out.epss.length, snaps.length);
    for (const f of snaps) {
      const item = (JSON.parse(await readFile(join(snapDir, f), 'utf8')) as { item: { cve: string; date: string; epss: number; percentile: number } }).item;
      const got = out.epss.find((e) => e.cve === item.cve);
      assert.deepEqual(got, { cve: item.cve, score: item.epss, percentile: item.percentile, date: item.date }, f);
    }
  });

  test('imports the claircore sample: one entry per data line, date from the comment', async () => {
    const file = join(DATA, 'claircore/epss/testdata/data.csv');
    const text = await readFile(file, 'utf8');
    const rows = text.split('\n').filter((l) => l.startsWith('CVE-'));
    const out = await collect((await epssDriver.importPath(file, noWarn)).batches);
    assert.equal(out.epss.length, rows.length);
    assert.deepEqual(out.epss[0], { cve: 'CVE-1999-0005', score: 0.91963, percentile: 0.9903, date: '2024-10-25' });
    assert.deepEqual(out.epss.at(-1), { cve: 'CVE-2024-9987', score: 0.00043, percentile: 0.09778, date: '2024-10-25' });
  });

  test('a gzipped file imports the same as the plain one', async () => {
    const plain = join(DATA, 'claircore/epss/testdata/data.csv');
    const gz = join(tmp, 'scores.csv.gz');
    await writeFile(gz, gzipSync(await readFile(plain)));
    const a = await collect((await epssDriver.importPath(plain, noWarn)).batches);
    const b = await collect((await epssDriver.importPath(gz, noWarn)).batches);
    assert.deepEqual(b.epss, a.epss);
  });

  test('an invalid header is a clear error', async () => {
    await assert.rejects(epssDriver.importPath(join(DATA, 'vunnel-fixture/invalid-header.csv'), noWarn), /invalid EPSS header "invalid,header,format"/);
  });

  test('a missing score_date is refused, unless the file name carries the date (then a warning)', async () => {
    const file = join(DATA, 'vunnel-fixture/missing-date.csv');
    await assert.rejects(epssDriver.importPath(file, noWarn), /no score_date/);
    const dated = join(tmp, 'epss_scores-2025-02-20.csv');
    await writeFile(dated, await readFile(file));
    const warnings: string[] = [];
    const out = await collect((await epssDriver.importPath(dated, { warn: (m) => warnings.push(m) })).batches);
    assert.equal(out.epss.length, 5);
    assert.ok(out.epss.every((e) => e.date === '2025-02-20'));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /using 2025-02-20/);
  });

  test('malformed rows are warned about and skipped', () => {
    const text = [
      '#model_version:v2023.03.01,score_date:2025-02-20T00:00:00+0000',
      'cve,epss,percentile',
      'CVE-1999-0001,0.00383,0.73075',
      'NOT-A-CVE,0.1,0.2',
      'CVE-1999-0002,abc,0.5',
      'CVE-1999-0003,0.5',
      'CVE-1999-0004,0.5,1.5',
      'CVE-1999-0005,0.91963,0.99214',
    ].join('\n');
    const warnings: string[] = [];
    const f = parseEpssCsv(text, (m) => warnings.push(m), 'sample');
    assert.deepEqual(f.entries.map((e) => e.cve), ['CVE-1999-0001', 'CVE-1999-0005']);
    assert.equal(f.modelVersion, 'v2023.03.01');
    assert.equal(warnings.length, 4);
    assert.match(warnings[0]!, /line 4 .*NOT-A-CVE/);
    assert.match(warnings[1]!, /CVE-1999-0002: epss "abc"/);
    assert.match(warnings[2]!, /line 6 .*2 fields/);
    assert.match(warnings[3]!, /CVE-1999-0004: percentile "1.5"/);
  });

  test('detect: plain and gzipped EPSS CSV yes, other CSV no', async () => {
    const plain = await readFile(join(DATA, 'claircore/epss/testdata/data.csv'));
    assert.equal(await epssDriver.detect('data.csv', plain.subarray(0, 512)), true);
    assert.equal(await epssDriver.detect('x.csv.gz', gzipSync(plain).subarray(0, 256)), true);
    assert.equal(await epssDriver.detect('missing-date.csv', await readFile(join(DATA, 'vunnel-fixture/missing-date.csv'))), true);
    const kev = resolve(DATA, '../kev/known_exploited_vulnerabilities.csv');
    if (existsSync(kev)) assert.equal(await epssDriver.detect(kev, (await readFile(kev)).subarray(0, 512)), false);
  });

  describe('online', () => {
    let server: FeedServer;
    before(async () => {
      server = await startFeedServer();
      server.files.set('/epss_scores-current.csv.gz', { body: gzipSync(await readFile(join(DATA, 'claircore/epss/testdata/data.csv'))) });
      server.files.set('/undated/epss_scores-current.csv.gz', {
        body: gzipSync(await readFile(join(DATA, 'vunnel-fixture/missing-date.csv'))),
        headers: { 'last-modified': 'Thu, 20 Feb 2025 06:00:00 GMT' },
      });
    });
    after(() => server.close());

    test('sync downloads and gunzips; the second sync is a 304 that replaces nothing', async () => {
      const url = `${server.url}/epss_scores-current.csv.gz`;
      const validators = new Map<string, string>();
      const ctx1 = fakeSyncContext({ baseUrl: url, validators });
      const first = await epssDriver.sync(ctx1);
      const out1 = await collect(first.batches);
      ctx1.commit();
      assert.equal(first.full, true);
      assert.equal(out1.epss.length, 29);
      assert.ok(out1.epss.every((e) => e.date === '2024-10-25'));

      const ctx2 = fakeSyncContext({ baseUrl: url, validators });
      const second = await epssDriver.sync(ctx2);
      assert.equal(second.full, false);
      assert.equal((await collect(second.batches)).epss.length, 0);
      assert.deepEqual(server.requests.filter((r) => r.path === '/epss_scores-current.csv.gz').map((r) => r.status), [200, 304]);
    });

    test('online, a missing score_date falls back to Last-Modified with a warning', async () => {
      const ctx = fakeSyncContext({ baseUrl: `${server.url}/undated/epss_scores-current.csv.gz` });
      const out = await collect((await epssDriver.sync(ctx)).batches);
      assert.equal(out.epss.length, 5);
      assert.ok(out.epss.every((e) => e.date === '2025-02-20'));
      assert.equal(ctx.warnings.length, 1);
    });
  });
});
