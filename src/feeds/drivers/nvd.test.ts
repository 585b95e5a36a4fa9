import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ImportContext } from '../driver.js';
import { collect, fakeSyncContext, startFeedServer, type FeedServer } from '../../testkit/feed-server.js';
import type { Vulnerability } from '../model.js';
import { createNvdDriver, cve5Vulnerability, isoTime, NVD_MAX_WINDOW_MS, nvdDriver, slidingWindowLimiter, windows, type Clock } from './nvd.js';

const DATA = resolve(process.cwd(), '../shared/vulndata/nvd');
const skip = existsSync(DATA) ? false : `NVD samples not found at ${DATA} (../shared/vulndata relative to the repo root)`;
const noWarn: ImportContext = { warn: (m: string) => assert.fail(`unexpected warning: ${m}`) };
const DAY = 24 * 60 * 60 * 1000;

type RawCve = { id: string; lastModified: string } & Record<string, unknown>;

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

async function importAll(path: string): Promise<Map<string, Vulnerability>> {
  const { full, batches } = await nvdDriver.importPath(path, noWarn);
  assert.equal(full, false);
  const out = await collect(batches);
  assert.equal(out.affected.length, 0, 'NVD is enrichment only');
  return new Map(out.vulnerabilities.map((v) => [v.id, v]));
}

/** A virtual clock: sleeping advances time at once, and every sleep is recorded. */
function fakeClock(start: number): Clock & { sleeps: number[] } {
  let t = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    async sleep(ms) {
      sleeps.push(ms);
      t += ms;
    },
  };
}

describe('nvd driver', { skip }, () => {
  describe('records', () => {
    test('an API 2.0 page: count and exact conversion of a record', async () => {
      const file = join(DATA, 'vunnel-fixture/full-page.json');
      const raw = await readJson<{ totalResults: number; vulnerabilities: { cve: RawCve & { references: { url: string }[] } }[] }>(file);
      const got = await importAll(file);
      assert.equal(got.size, raw.totalResults);
      const v = got.get('CVE-2023-27314')!;
      assert.deepEqual(v, {
        id: 'CVE-2023-27314',
        source: 'nvd',
        aliases: [],
        description: 'ONTAP 9 versions prior to 9.8P19, 9.9.1P16, 9.10.1P12, 9.11.1P8, \n9.12.1P2 and 9.13.1 are susceptible to a vulnerability which could allow\n a remote unauthenticated attacker to cause a crash of the HTTP service.',
        published: '2023-10-12T19:15:11.747Z',
        modified: '2023-10-18T18:00:24.900Z',
        severity: 'High',
        cvss: [
          { source: 'nvd', version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', baseScore: 7.5, type: 'Primary' },
          { source: 'security-alert@netapp.com', version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', baseScore: 7.5, type: 'Secondary' },
        ],
        references: [...new Set(raw.vulnerabilities[0]!.cve.references.map((r) => r.url))],
      });
    });

    test('severity: the Primary v3.1, v3.0, v4, v2 score first; v2 severity sits beside cvssData; else a Secondary one', async () => {
      const got = await importAll(join(DATA, 'osv.dev-testdata/nvdcve-2.0'));
      assert.equal(got.size, (await readdir(join(DATA, 'osv.dev-testdata/nvdcve-2.0'))).length);
      // v3.1 Primary CRITICAL beats v3.0 Secondary LOW and v2 Primary HIGH
      assert.equal(got.get('CVE-2016-1585')!.severity, 'Critical');
      assert.deepEqual(got.get('CVE-2016-1585')!.cvss.map((c) => [c.version, c.type, c.baseScore]), [['3.1', 'Primary', 9.8], ['3.0', 'Secondary', 3.9], ['2.0', 'Primary', 7.5]]);
      // only a v2 score: its severity is beside cvssData
      assert.equal(got.get('CVE-2014-1424')!.severity, 'Medium');
      assert.deepEqual(got.get('CVE-2014-1424')!.cvss, [{ source: 'nvd', version: '2.0', vector: 'AV:N/AC:L/Au:N/C:N/I:P/A:P', baseScore: 6.4, type: 'Primary' }]);
      // awaiting analysis: only the CNA's Secondary score
      assert.equal(got.get('CVE-2024-47177')!.severity, 'Critical');
      // a Primary score from a CNA keeps its source name
      assert.equal(got.get('CVE-2022-34668')!.cvss[0]!.source, 'psirt@nvidia.com');
      // a time that already carries its zone
      assert.equal(got.get('CVE-2023-5341')!.modified, '2023-11-20T00:02:51.467Z');
      for (const v of got.values()) assert.ok(v.description && v.published && v.modified, v.id);
    });

    test('a rejected CVE is withdrawn', async () => {
      const got = await importAll(join(DATA, 'claircore-cvss-enricher/feed.json'));
      assert.equal(got.size, 3);
      assert.equal(got.get('CVE-2016-3197')!.withdrawn, '2023-11-07T02:32:12.940Z');
      assert.equal(got.get('CVE-2016-3674')!.withdrawn, undefined);
      // v3.1 is Secondary here; the Primary v3.0 rating is the one taken
      assert.equal(got.get('CVE-2016-2781')!.severity, 'Medium');
    });

    test('CVE JSON 5 records: CNA and ADP metrics, title, v4.0, state', async () => {
      const dir = join(DATA, 'osv.dev-testdata/cve5');
      const got = await importAll(dir);
      assert.equal(got.size, (await readdir(dir)).length);
      const xz = got.get('CVE-2024-3094')!;
      assert.equal(xz.summary, 'Xz: malicious code in distributed source');
      assert.equal(xz.severity, 'Critical');
      assert.deepEqual(xz.cvss, [{ source: 'redhat', version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', baseScore: 10, type: 'Secondary' }]);
      assert.equal(xz.published, '2024-03-29T16:51:12.588Z');
      assert.equal(got.get('CVE-2025-4565')!.cvss[0]!.version, '4.0');
      assert.equal(got.get('CVE-2025-4565')!.severity, 'High');
      assert.equal(got.get('CVE-2024-7264')!.cvss[0]!.source, 'CISA-ADP');
      const rejected = cve5Vulnerability({ cveMetadata: { cveId: 'CVE-2023-0001', state: 'REJECTED', dateRejected: '2023-02-01T00:00:00', dateUpdated: '2023-02-02T00:00:00' }, containers: { cna: {} } });
      assert.equal(typeof rejected === 'object' && rejected.withdrawn, '2023-02-01T00:00:00.000Z');
    });

    test('a gzipped NVD 2.0 feed file imports like the plain one', async () => {
      const tmp = await mkdtemp(join(tmpdir(), 'lading-nvd-'));
      try {
        const gz = join(tmp, 'nvdcve-2.0-2016.json.gz');
        await writeFile(gz, gzipSync(await readFile(join(DATA, 'claircore-cvss-enricher/feed.json'))));
        const a = await importAll(join(DATA, 'claircore-cvss-enricher/feed.json'));
        const b = await importAll(gz);
        assert.deepEqual([...b.values()], [...a.values()]);
        assert.equal(await nvdDriver.detect(gz, (await readFile(gz)).subarray(0, 200)), true);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });

    test('malformed records are warned about and skipped', async () => {
      const page = await readJson<{ vulnerabilities: { cve: Record<string, unknown> }[] }>(join(DATA, 'vunnel-fixture/full-page.json'));
      const n = page.vulnerabilities.length;
      page.vulnerabilities[3]!.cve.id = 'not-a-cve';
      (page.vulnerabilities as unknown[]).push({ nothing: true });
      const tmp = await mkdtemp(join(tmpdir(), 'lading-nvd-'));
      try {
        const file = join(tmp, 'page.json');
        await writeFile(file, JSON.stringify(page));
        const warnings: string[] = [];
        const out = await collect((await nvdDriver.importPath(file, { warn: (m) => warnings.push(m) })).batches);
        assert.equal(out.vulnerabilities.length, n - 1);
        assert.equal(warnings.length, 2);
        assert.match(warnings[0]!, /record 3 \(not-a-cve\) skipped: id "not-a-cve" is not a CVE id/);
        assert.match(warnings[1]!, /record 38 skipped: not an object/);
        await writeFile(file, '{"hello": 1}');
        await assert.rejects(nvdDriver.importPath(file, noWarn).then((r) => collect(r.batches)), /neither an NVD API 2.0 document nor a CVE JSON 5 record/);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });

    test('detect: NVD pages, feeds, CVE 5 records and directories of them; not other feeds', async () => {
      const head = async (f: string): Promise<Buffer> => (await readFile(f)).subarray(0, 4096);
      for (const f of ['vunnel-fixture/full-page.json', 'claircore-cvss-enricher/feed.json', 'osv.dev-testdata/cve5/CVE-2024-3094.json']) {
        assert.equal(await nvdDriver.detect(join(DATA, f), await head(join(DATA, f))), true, f);
      }
      assert.equal(await nvdDriver.detect(join(DATA, 'osv.dev-testdata/nvdcve-2.0'), Buffer.alloc(0)), true);
      for (const f of ['../kev/known_exploited_vulnerabilities.json', '../redhat/claircore-vex/cve-2024-24786-simple.json', '../epss/claircore/epss/testdata/data.csv']) {
        const p = join(DATA, f);
        if (existsSync(p)) assert.equal(await nvdDriver.detect(p, await head(p)), false, f);
      }
    });

    test('time normalisation', () => {
      assert.equal(isoTime('2023-10-12T19:15:11.747'), '2023-10-12T19:15:11.747Z');
      assert.equal(isoTime('2024-03-29T16:51:12.588Z'), '2024-03-29T16:51:12.588Z');
      assert.equal(isoTime('2024-03-29T18:51:12+02:00'), '2024-03-29T16:51:12.000Z');
      assert.equal(isoTime('soon'), undefined);
    });
  });

  describe('rate limiting and windows', () => {
    test('the sliding window never lets more than the limit through in any window', async () => {
      const clock = fakeClock(1_000_000);
      const limiter = slidingWindowLimiter(5, 30_000, clock);
      const times: number[] = [];
      for (let i = 0; i < 23; i++) {
        await limiter.acquire();
        times.push(clock.now());
      }
      for (let i = 0; i + 5 < times.length; i++) assert.ok(times[i + 5]! - times[i]! >= 30_000, `requests ${i}..${i + 5} within 30 s`);
      // bursts of five, then a wait for the window to roll: 4 waits of 30 s for 23 requests
      assert.equal(times.at(-1)! - times[0]!, 4 * 30_000);
      assert.equal(clock.sleeps.length, 4);
    });

    test('windows of at most 120 days cover the range exactly', () => {
      const start = Date.parse('2023-01-01T00:00:00Z');
      const end = start + 250 * DAY + 1234;
      const w = windows(start, end);
      assert.equal(w.length, 3);
      assert.equal(w[0]![0], start);
      assert.equal(w.at(-1)![1], end);
      for (let i = 0; i < w.length; i++) {
        assert.ok(w[i]![1] - w[i]![0] <= NVD_MAX_WINDOW_MS);
        if (i > 0) assert.equal(w[i]![0], w[i - 1]![1]);
      }
      assert.deepEqual(windows(end, end), []);
    });
  });

  describe('online', () => {
    let server: FeedServer;
    let records: RawCve[] = [];
    let clock: ReturnType<typeof fakeClock>;
    /** Virtual time of each API request, as the server saw it. */
    let hits: { at: number; start: number; window?: [number, number]; apiKey?: string }[] = [];
    let failNext = 0;

    before(async () => {
      const pages = [join(DATA, 'vunnel-fixture/full-page.json'), join(DATA, 'claircore-cvss-enricher/feed.json')];
      for (const f of await readdir(join(DATA, 'osv.dev-testdata/nvdcve-2.0'))) pages.push(join(DATA, 'osv.dev-testdata/nvdcve-2.0', f));
      for (const p of pages) records.push(...(await readJson<{ vulnerabilities: { cve: RawCve }[] }>(p)).vulnerabilities.map((v) => v.cve));
      records = [...new Map(records.map((r) => [r.id, r])).values()];
      server = await startFeedServer((url, req) => {
        if (url.pathname !== '/rest/json/cves/2.0') return undefined;
        if (failNext > 0) {
          failNext--;
          return { status: 503, body: 'busy', noEtag: true };
        }
        const q = url.searchParams;
        const size = Number(q.get('resultsPerPage'));
        const start = Number(q.get('startIndex'));
        let list = records;
        let window: [number, number] | undefined;
        if (q.has('lastModStartDate')) {
          window = [Date.parse(q.get('lastModStartDate')!), Date.parse(q.get('lastModEndDate')!)];
          assert.ok(!Number.isNaN(window[0]) && !Number.isNaN(window[1]), `${q.get('lastModStartDate')} parses`);
          list = records.filter((r) => {
            const t = Date.parse(isoTime(r.lastModified)!);
            return t >= window![0] && t <= window![1];
          });
        }
        hits.push({ at: clock.now(), start, window, apiKey: req.headers.apikey as string | undefined });
        const page = list.slice(start, start + size);
        const body = JSON.stringify({ resultsPerPage: page.length, startIndex: start, totalResults: list.length, format: 'NVD_CVE', version: '2.0', timestamp: new Date(clock.now()).toISOString(), vulnerabilities: page.map((cve) => ({ cve })) });
        return { body, noEtag: true };
      });
    });
    after(() => server.close());

    test('first sync pages through everything (full), then windows from the cursor', async () => {
      hits = [];
      clock = fakeClock(Date.parse('2026-07-08T00:00:00Z'));
      const driver = createNvdDriver({ apiKey: null, clock, pageSize: 10 });
      const state: Record<string, string> = {};
      const ctx = fakeSyncContext({ baseUrl: `${server.url}/rest/json/cves/2.0`, state });
      const first = await driver.sync(ctx);
      const out = await collect(first.batches);
      ctx.commit();
      assert.equal(first.full, true);
      assert.equal(out.vulnerabilities.length, records.length);
      assert.deepEqual(new Set(out.vulnerabilities.map((v) => v.id)), new Set(records.map((r) => r.id)));
      const pagesNeeded = Math.ceil(records.length / 10);
      assert.deepEqual(hits.map((h) => h.start), Array.from({ length: pagesNeeded }, (_, i) => i * 10));
      assert.ok(hits.every((h) => h.window === undefined && h.apiKey === undefined));
      assert.equal(state.lastModified, '2026-07-08T00:00:00.000Z', 'the cursor is the time the sync started');
      // 5 requests per 30 s: the pages are spread over virtual time
      for (let i = 0; i + 5 < hits.length; i++) assert.ok(hits[i + 5]!.at - hits[i]!.at >= 30_000);
      assert.ok(clock.sleeps.length >= Math.floor((pagesNeeded - 1) / 5));

      // the cursor moves back 1000 days: the next sync asks in windows of at most 120 days
      hits = [];
      const cursor = Date.parse('2023-10-12T00:00:00Z');
      state.lastModified = new Date(cursor).toISOString();
      const now = clock.now();
      const ctx2 = fakeSyncContext({ baseUrl: `${server.url}/rest/json/cves/2.0`, state });
      const second = await driver.sync(ctx2);
      const out2 = await collect(second.batches);
      ctx2.commit();
      assert.equal(second.full, false);
      const ws = [...new Map(hits.map((h) => [h.window![0], h.window!])).values()];
      assert.equal(ws.length, Math.ceil((now - cursor) / NVD_MAX_WINDOW_MS));
      assert.equal(ws[0]![0], cursor);
      assert.equal(ws.at(-1)![1], now);
      for (const w of ws) assert.ok(w[1] - w[0] <= NVD_MAX_WINDOW_MS);
      const expected = records.filter((r) => Date.parse(isoTime(r.lastModified)!) >= cursor).map((r) => r.id).sort();
      assert.ok(expected.length > 10 && expected.length < records.length, 'the sample spans the cursor');
      assert.deepEqual(out2.vulnerabilities.map((v) => v.id).sort(), expected);
      assert.equal(state.lastModified, new Date(now).toISOString());
    });

    test('an API key is sent as the apiKey header and allows 50 requests per 30 s', async () => {
      hits = [];
      clock = fakeClock(Date.parse('2026-07-08T00:00:00Z'));
      const driver = createNvdDriver({ apiKey: 'test-key', clock, pageSize: 1 });
      // a mirror root ending in / gets the API path appended
      const ctx = fakeSyncContext({ baseUrl: `${server.url}/` });
      const out = await collect((await driver.sync(ctx)).batches);
      assert.equal(out.vulnerabilities.length, records.length);
      assert.ok(hits.every((h) => h.apiKey === 'test-key'));
      assert.equal(hits.length, records.length);
      for (let i = 0; i + 50 < hits.length; i++) assert.ok(hits[i + 50]!.at - hits[i]!.at >= 30_000);
      assert.equal(clock.sleeps.length, Math.ceil(records.length / 50) - 1);
    });

    test('a busy server is retried after a pause; a persistent error fails the sync', async () => {
      hits = [];
      clock = fakeClock(Date.parse('2026-07-08T00:00:00Z'));
      const driver = createNvdDriver({ apiKey: null, clock, pageSize: 2000 });
      failNext = 1;
      const ctx = fakeSyncContext({ baseUrl: `${server.url}/rest/json/cves/2.0` });
      const out = await collect((await driver.sync(ctx)).batches);
      assert.equal(out.vulnerabilities.length, records.length);
      assert.equal(ctx.warnings.length, 1);
      assert.match(ctx.warnings[0]!, /HTTP 503; retrying/);
      failNext = 5;
      const ctx2 = fakeSyncContext({ baseUrl: `${server.url}/rest/json/cves/2.0` });
      await assert.rejects(driver.sync(ctx2).then((r) => collect(r.batches)), /HTTP 503/);
      assert.deepEqual(ctx2.pending, {}, 'no cursor is set when the sync fails');
      failNext = 0;
    });
  });
});
