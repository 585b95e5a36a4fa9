import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ImportContext } from '../driver.js';
import { collect, fakeSyncContext, startFeedServer, type FeedServer } from '../../testkit/feed-server.js';
import { kevDriver, kevEntry, parseCsv } from './kev.js';

const DATA = resolve(process.cwd(), '../shared/vulndata/kev');
const JSON_FILE = join(DATA, 'known_exploited_vulnerabilities.json');
const CSV_FILE = join(DATA, 'known_exploited_vulnerabilities.csv');
const skip = existsSync(JSON_FILE) ? false : `KEV samples not found at ${DATA} (../shared/vulndata relative to the repo root)`;
const noWarn: ImportContext = { warn: (m: string) => assert.fail(`unexpected warning: ${m}`) };

describe('kev driver', { skip }, () => {
  test('imports the full JSON catalogue: count equals the catalogue count, exact fields', async (t) => {
    const doc = JSON.parse(await readFile(JSON_FILE, 'utf8')) as { count: number; vulnerabilities: Record<string, string>[] };
    const started = performance.now();
    const { full, batches } = await kevDriver.importPath(JSON_FILE, noWarn);
    const out = await collect(batches);
    const ms = performance.now() - started;
    assert.equal(full, true);
    assert.equal(out.kev.length, doc.count);
    assert.equal(new Set(out.kev.map((k) => k.cve)).size, doc.count);
    const git = out.kev.find((k) => k.cve === 'CVE-2025-48384');
    assert.deepEqual(git, {
      cve: 'CVE-2025-48384',
      vendorProject: 'Git',
      product: 'Git',
      vulnerabilityName: 'Git Link Following Vulnerability',
      dateAdded: '2025-08-25',
      dueDate: '2025-09-15',
      requiredAction: 'Apply mitigations per vendor instructions, follow applicable BOD 22-01 guidance for cloud services, or discontinue use of the product if mitigations are unavailable.',
      knownRansomwareCampaignUse: 'Unknown',
    });
    const known = doc.vulnerabilities.filter((v) => v.knownRansomwareCampaignUse === 'Known').length;
    assert.equal(out.kev.filter((k) => k.knownRansomwareCampaignUse === 'Known').length, known);
    assert.ok(known > 0);
    t.diagnostic(`KEV JSON import: ${out.kev.length} entries in ${ms.toFixed(1)} ms = ${Math.round(out.kev.length / (ms / 1000))} records/s`);
  });

  test('imports the CSV catalogue to the same entries as the JSON', async () => {
    const fromJson = await collect((await kevDriver.importPath(JSON_FILE, noWarn)).batches);
    const { full, batches } = await kevDriver.importPath(CSV_FILE, noWarn);
    const fromCsv = await collect(batches);
    assert.equal(full, true);
    assert.equal(fromCsv.kev.length, fromJson.kev.length);
    const byCve = new Map(fromJson.kev.map((k) => [k.cve, k]));
    for (const k of fromCsv.kev) assert.deepEqual(k, byCve.get(k.cve), k.cve);
  });

  test('CSV parser: quoted commas, doubled quotes, line breaks inside quotes', () => {
    assert.deepEqual(parseCsv('a,b,c\r\n"x, y","say ""hi""","two\nlines"\n'), [
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', 'two\nlines'],
    ]);
    assert.deepEqual(parseCsv('\ufeffa,,c\n\n1,2,'), [['a', '', 'c'], ['1', '2', '']]);
    assert.deepEqual(parseCsv(''), []);
  });

  test('entries failing the schema are warned about and skipped', async () => {
    const doc = JSON.parse(await readFile(join(DATA, 'vunnel-fixture/valid-catalog-1.json'), 'utf8')) as {
      count: number;
      vulnerabilities: Record<string, unknown>[];
    };
    const good = doc.vulnerabilities.length;
    const broken = structuredClone(doc.vulnerabilities[0]!);
    delete broken.dueDate;
    const badId = { ...doc.vulnerabilities[1]!, cveID: 'CVE-24-1' };
    doc.vulnerabilities.push(broken, badId, 'junk' as unknown as Record<string, unknown>);
    const dir = await mkdtemp(join(tmpdir(), 'lading-kev-'));
    try {
      const file = join(dir, 'catalog.json');
      await writeFile(file, JSON.stringify(doc));
      const warnings: string[] = [];
      const out = await collect((await kevDriver.importPath(file, { warn: (m) => warnings.push(m) })).batches);
      assert.equal(out.kev.length, good);
      assert.ok(warnings.some((w) => w.includes('missing or non-string dueDate')), warnings.join('\n'));
      assert.ok(warnings.some((w) => w.includes('CVE-24-1') && w.includes('not a CVE id')), warnings.join('\n'));
      assert.ok(warnings.some((w) => w.includes('not an object')), warnings.join('\n'));
      assert.ok(warnings.some((w) => w.includes(`count ${doc.count}`)), 'the count mismatch is reported');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.equal(typeof kevEntry({ cveID: 'CVE-2024-1234' }), 'string');
  });

  test('a single entry file imports but does not replace the catalogue', async () => {
    const { full, batches } = await kevDriver.importPath(join(DATA, 'vunnel-fixture/single-entry/example1.json'), noWarn);
    const out = await collect(batches);
    assert.equal(full, false);
    assert.deepEqual(out.kev.map((k) => [k.cve, k.dateAdded, k.dueDate]), [['CVE-2025-0108', '2025-02-18', '2025-03-11']]);
  });

  test('a file that is not a catalogue is a clear error', async () => {
    await assert.rejects(kevDriver.importPath(join(DATA, 'known_exploited_vulnerabilities_schema.json'), noWarn), /not a KEV catalogue/);
  });

  test('detect recognises the JSON and CSV catalogues only', async () => {
    const head = async (f: string): Promise<Buffer> => (await readFile(f)).subarray(0, 2048);
    assert.equal(await kevDriver.detect(JSON_FILE, await head(JSON_FILE)), true);
    assert.equal(await kevDriver.detect(CSV_FILE, await head(CSV_FILE)), true);
    assert.equal(await kevDriver.detect(join(DATA, 'claircore/kev/testdata/known_exploited_vulnerabilities.json'), await head(join(DATA, 'claircore/kev/testdata/known_exploited_vulnerabilities.json'))), true);
    const epss = resolve(DATA, '../epss/vunnel-fixture/example-1.csv');
    assert.equal(await kevDriver.detect(epss, await head(epss)), false);
    const nvd = resolve(DATA, '../nvd/vunnel-fixture/single-entry.json');
    assert.equal(await kevDriver.detect(nvd, await head(nvd)), false);
  });

  describe('online', () => {
    let server: FeedServer;
    before(async () => {
      server = await startFeedServer();
      server.files.set('/sites/default/files/feeds/known_exploited_vulnerabilities.json', { body: await readFile(JSON_FILE) });
    });
    after(() => server.close());

    test('first sync replaces everything; the second gets 304 and replaces nothing', async () => {
      const url = `${server.url}/sites/default/files/feeds/known_exploited_vulnerabilities.json`;
      const validators = new Map<string, string>();
      const state: Record<string, string> = {};
      const ctx1 = fakeSyncContext({ baseUrl: url, state, validators });
      const first = await kevDriver.sync(ctx1);
      const out1 = await collect(first.batches);
      ctx1.commit();
      assert.equal(first.full, true);
      assert.equal(out1.kev.length, 1404);
      assert.deepEqual(ctx1.warnings, []);

      const ctx2 = fakeSyncContext({ baseUrl: url, state, validators });
      const second = await kevDriver.sync(ctx2);
      const out2 = await collect(second.batches);
      assert.equal(second.full, false, 'a 304 must not replace the stored catalogue with nothing');
      assert.equal(out2.kev.length, 0);
      assert.deepEqual(server.requests.map((r) => r.status), [200, 304]);
      assert.ok(server.requests[1]!.headers['if-none-match']);
    });

    test('a base URL ending in / is a mirror directory holding the catalogue', async () => {
      const ctx = fakeSyncContext({ baseUrl: `${server.url}/sites/default/files/feeds/` });
      const out = await collect((await kevDriver.sync(ctx)).batches);
      assert.equal(out.kev.length, 1404);
    });

    test('an HTTP error fails the sync', async () => {
      const ctx = fakeSyncContext({ baseUrl: `${server.url}/missing.json` });
      await assert.rejects(kevDriver.sync(ctx), /HTTP 404/);
    });
  });
});
