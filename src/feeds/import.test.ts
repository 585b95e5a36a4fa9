import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { openVulnDb } from '../store/db.js';
import { isLadingError } from '../errors.js';
import { postgresAvailable, postgresSkipReason, startPostgres, type RunningPostgres } from '../testkit/postgres.js';
import type { FeedDriver, ImportContext } from './driver.js';
import type { Affected, FeedBatch, Vulnerability } from './model.js';
import { exportDb, importDb, importPaths, isDbBundle } from './import.js';
import type { VulnDb } from './vulndb.js';

const vuln = (id: string, source: string, extra: Partial<Vulnerability> = {}): Vulnerability => ({ id, source, aliases: [], cvss: [], references: [], ...extra });

/** Batches as the driver contract wants them: an async iterable. */
async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}
const aff = (vulnId: string, source: string, name: string): Affected => ({
  vulnId, source, namespace: 'npm', name, nameKind: 'binary', scheme: 'semver', ranges: [{ introduced: '0', fixed: '1.0.0' }], versions: [], state: 'fixed', fixedVersions: ['1.0.0'],
});

/** "osv": a file whose first line is `#osv`, then one vulnerability id per line (bad ids warn). */
const lineDriver: FeedDriver = {
  id: 'osv',
  description: 'test: #osv line files',
  detect: (_path, head) => head.subarray(0, 4).toString() === '#osv',
  async importPath(path: string, ctx: ImportContext) {
    const lines = (await readFile(path, 'utf8')).split('\n').slice(1).filter(Boolean);
    async function* batches(): AsyncGenerator<FeedBatch> {
      for (const id of lines) {
        if (id === 'EXPLODE') throw new Error(`cannot parse ${id}`);
        if (id.startsWith('!')) {
          ctx.warn(`odd line ${id}`);
          continue;
        }
        yield { vulnerabilities: [vuln(id, 'osv')], affected: [aff(id, 'osv', `pkg-${id}`)] };
      }
    }
    return { full: true, batches: batches() };
  },
  sync: async () => { throw new Error('offline only'); },
};

/** "alpine": a directory holding `secdb.json` files; looks inside when given an empty head. */
const dirDriver: FeedDriver = {
  id: 'alpine',
  description: 'test: a directory of secdb.json',
  async detect(path, head) {
    if (head.length) return false;
    try {
      return (await readdir(path)).includes('secdb.json');
    } catch {
      return false;
    }
  },
  async importPath(path: string) {
    const ids = JSON.parse(await readFile(join(path, 'secdb.json'), 'utf8')) as string[];
    return { full: false, batches: from([{ vulnerabilities: ids.map((id) => vuln(id, 'alpine')), affected: ids.map((id) => ({ ...aff(id, 'alpine', 'musl'), namespace: 'alpine:3.20', scheme: 'apk' as const })) }]) };
  },
  sync: async () => { throw new Error('offline only'); },
};

const throwingDetect: FeedDriver = { ...lineDriver, id: 'nvd', detect: () => { throw new Error('detector bug'); } };
const drivers: Record<string, FeedDriver> = { nvd: throwingDetect, osv: lineDriver, alpine: dirDriver };

let dir: string;
let count = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-import-'));
});
after(async () => rm(dir, { recursive: true, force: true }));
const fresh = () => openVulnDb(join(dir, `i${++count}.db`));

test('importPaths: drivers chosen by detect() on a file head or a directory, or by --source; one transaction per path', async () => {
  const db = await fresh();
  try {
    await writeFile(join(dir, 'feed.txt'), '#osv\nGHSA-1\n!weird\nGHSA-2\n');
    await writeFile(join(dir, 'plain.txt'), 'GHSA-9\nGHSA-8\n');
    await writeFile(join(dir, 'broken.txt'), '#osv\nGHSA-3\nEXPLODE\n');
    await mkdir(join(dir, 'secdb'));
    await writeFile(join(dir, 'secdb', 'secdb.json'), JSON.stringify(['CVE-2024-5']));
    const warnings: string[] = [];
    const results = await importPaths(db, [join(dir, 'feed.txt'), join(dir, 'secdb'), join(dir, 'plain.txt'), join(dir, 'missing'), join(dir, 'broken.txt')], drivers, { warn: (m) => warnings.push(m) });
    assert.deepEqual(results.map((r) => [r.kind, r.source, r.ok]), [
      ['feed', 'osv', true], ['feed', 'alpine', true], ['feed', undefined, false], ['feed', undefined, false], ['feed', 'osv', false],
    ]);
    assert.deepEqual([results[0]!.applied!.vulnerabilities, results[0]!.applied!.full], [2, true]);
    assert.deepEqual(warnings, ['osv: odd line !weird']);
    assert.match(results[2]!.error!, /cannot tell which feed .*plain\.txt belongs to; name it with --source \(one of alpine, nvd, osv\)/);
    assert.match(results[3]!.error!, /cannot read .*missing/);
    assert.match(results[4]!.error!, /broken\.txt: cannot parse EXPLODE/);
    // the failed file changed nothing, and was recorded
    assert.deepEqual((await db.vulnerabilities(['GHSA-1', 'GHSA-2', 'GHSA-3'])).map((v) => v.id).sort(), ['GHSA-1', 'GHSA-2']);
    const status = await db.status();
    const osv = status.find((s) => s.source === 'osv')!;
    assert.deepEqual([osv.kind, osv.status, osv.records], ['import', 'failed', 4]);
    assert.match(osv.error!, /cannot parse EXPLODE/);
    const alpine = status.find((s) => s.source === 'alpine')!;
    assert.deepEqual([alpine.kind, alpine.status, alpine.records], ['import', 'ok', 2]);
    assert.equal((await db.affected('alpine:3.20', 'musl')).length, 1);

    // --source skips detection
    const forced = await importPaths(db, [join(dir, 'plain.txt')], drivers, { source: 'osv' });
    assert.equal(forced[0]!.ok, true, forced[0]!.error);
    assert.deepEqual((await db.vulnerabilities(['GHSA-8', 'GHSA-1'])).map((v) => v.id), ['GHSA-8'], 'a full import replaced osv');
    await assert.rejects(importPaths(db, [join(dir, 'plain.txt')], drivers, { source: 'nope' }), (e) => isLadingError(e) && /unknown source "nope" \(known: alpine, nvd, osv\)/.test(e.message));
  } finally {
    await db.close();
  }
});

test('an import clears the online cursor and validators (the next sync starts afresh)', async () => {
  const db = await fresh();
  try {
    await db.apply('osv', { full: true, batches: [{ vulnerabilities: [vuln('A', 'osv')] }] }, { kind: 'sync', cursor: { page: '9' }, validators: { 'https://x': { etag: '"1"' } } });
    await writeFile(join(dir, 'feed2.txt'), '#osv\nGHSA-7\n');
    const [r] = await importPaths(db, [join(dir, 'feed2.txt')], drivers);
    assert.equal(r!.ok, true, r!.error);
    const st = (await db.syncState('osv'))!;
    assert.deepEqual([st.kind, st.status, st.cursor, st.validators], ['import', 'ok', {}, {}]);
  } finally {
    await db.close();
  }
});

async function fill(db: VulnDb): Promise<void> {
  await db.apply('osv', {
    full: true,
    batches: [{
      vulnerabilities: [vuln('GHSA-1', 'osv', { aliases: ['CVE-1'], summary: 'ünïcödé ✓ "quoted"\nnew line', cvss: [{ source: 'ghsa', version: '3.1', vector: 'CVSS:3.1/AV:N', baseScore: 9.8 }] })],
      affected: [aff('GHSA-1', 'osv', 'a'), aff('GHSA-1', 'osv', 'b')],
    }],
  }, { kind: 'sync', cursor: { next: 'x' }, validators: { 'https://e/x': { etag: 'W/"1"', lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT' } } });
  await db.apply('kev', { full: true, batches: [{ kev: [{ cve: 'CVE-1', dateAdded: '2024-01-01', product: 'p' }] }] }, { kind: 'import' });
  await db.apply('epss', { full: true, batches: [{ epss: [{ cve: 'CVE-1', score: 0.123456789, percentile: 0.987654321, date: '2024-06-01' }] }] }, { kind: 'sync' });
  await db.recordFailure('nvd', 'sync', 'HTTP 503', new Date('2024-01-01T00:00:00Z'));
}

/** Everything a VulnDb holds, normalised for comparison. */
async function snapshot(db: VulnDb): Promise<unknown> {
  const rows: Record<string, unknown[][]> = {};
  await db.dump((t, v) => {
    (rows[t] ??= []).push(v.map((x) => (typeof x === 'number' ? Number(x) : x)));
  });
  for (const t of Object.keys(rows)) rows[t]!.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return rows;
}

test('export, then import into a fresh database: identical; importPaths recognises the bundle', async () => {
  const src = await fresh();
  const dst = await fresh();
  try {
    await fill(src);
    // meta keys of other modules (the service) are neither exported nor replaced
    await src.db.insertInto('meta').values({ key: 'service_src', value: 'a' }).execute();
    await dst.db.insertInto('meta').values({ key: 'service_dst', value: 'b' }).execute();
    const file = join(dir, 'db.lading.gz');
    const { counts, bytes } = await exportDb(src, file);
    assert.deepEqual(counts, { meta: 2, vulnerabilities: 1, aliases: 1, affected: 2, kev: 1, epss: 1, sync_state: 4 });
    assert.ok(bytes > 100);
    assert.ok(await isDbBundle(file));
    const text = gunzipSync(await readFile(file)).toString('utf8').trim().split('\n');
    const header = JSON.parse(text[0]!);
    assert.deepEqual([header.format, header.version, header.schema], ['lading-vulndb-bundle', 1, 1]);
    assert.deepEqual(JSON.parse(text[text.length - 1]!), { end: true, counts });
    assert.equal((await readdir(dir)).filter((f) => f.includes('.tmp')).length, 0);

    await dst.apply('ghsa', { full: true, batches: [{ vulnerabilities: [vuln('OLD', 'ghsa')] }] }, { kind: 'sync' });
    const got = await importDb(dst, file);
    assert.deepEqual(got, counts);
    assert.deepEqual(await snapshot(dst), await snapshot(src));
    assert.deepEqual(await dst.vulnerabilities(['OLD']), [], 'import replaces everything');
    const meta = await dst.meta();
    assert.deepEqual([meta.service_dst, meta.service_src, meta.vulndb_schema, meta.built], ['b', undefined, '1', (await src.meta()).built]);
    assert.equal((await dst.vulnerabilities(['CVE-1']))[0]!.summary, 'ünïcödé ✓ "quoted"\nnew line');
    assert.equal((await dst.epss(['CVE-1'])).get('CVE-1')!.percentile, 0.987654321);
    assert.deepEqual((await dst.syncState('osv'))!.validators, { 'https://e/x': { etag: 'W/"1"', lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT' } });

    const third = await fresh();
    try {
      const [r] = await importPaths(third, [file], drivers, { source: 'osv' });
      assert.deepEqual([r!.kind, r!.ok], ['bundle', true]);
      assert.deepEqual(await snapshot(third), await snapshot(src));
    } finally {
      await third.close();
    }
  } finally {
    await src.close();
    await dst.close();
  }
});

test('a corrupt, truncated, foreign or newer bundle: a clear error, and nothing is lost', async () => {
  const src = await fresh();
  const dst = await fresh();
  try {
    await fill(src);
    const good = join(dir, 'good.gz');
    await exportDb(src, good);
    await dst.apply('ghsa', { full: true, batches: [{ vulnerabilities: [vuln('KEEP', 'ghsa')] }] }, { kind: 'sync' });
    const before = await snapshot(dst);
    const lines = gunzipSync(await readFile(good)).toString('utf8').trim().split('\n');
    const header = JSON.parse(lines[0]!);
    const variant = async (name: string, content: Buffer) => {
      const f = join(dir, name);
      await writeFile(f, content);
      return f;
    };
    const gz = (ls: string[]) => gzipSync(ls.join('\n') + '\n');
    const raw = await readFile(good);
    const flipped = Buffer.from(raw);
    flipped[Math.floor(flipped.length / 2)]! ^= 0xff;
    const vulnLine = lines.findIndex((l) => l.startsWith('["vulnerabilities"'));
    const cases: [string, Buffer, RegExp][] = [
      ['truncated-gzip', raw.subarray(0, Math.floor(raw.length * 0.8)), /corrupt or truncated/],
      ['flipped', flipped, /corrupt|not valid JSON|invalid/],
      ['no-trailer', gz(lines.slice(0, -1)), /truncated \(no end marker/],
      ['short', gz([...lines.slice(0, -2), lines[lines.length - 1]!]), /incomplete: .* has \d+ rows, the end marker says \d+/],
      ['not-gzip', Buffer.from('hello'), /corrupt|incorrect header/],
      ['empty', gzipSync(Buffer.alloc(0)), /is empty/],
      ['foreign', gz([JSON.stringify({ format: 'something-else', version: 1 })]), /format is "something-else"/],
      ['newer-schema', gz([JSON.stringify({ ...header, schema: 99 }), ...lines.slice(1)]), /schema 99, newer than this Lading's \(1\): use a newer Lading/],
      ['newer-format', gz([JSON.stringify({ ...header, version: 2 }), ...lines.slice(1)]), /format version 2 is not supported/],
      ['unknown-column', gz([JSON.stringify({ ...header, tables: { ...header.tables, kev: ['cve', 'source', 'data', 'extra'] } }), ...lines.slice(1)]), /unknown column "extra" in table "kev"/],
      ['bad-row', gz(lines.map((l, i) => (i === vulnLine ? l.slice(0, 30) : l))), /line \d+: not valid JSON \(the bundle is corrupt\)/],
      ['bad-record', gz(lines.map((l, i) => (i === vulnLine ? JSON.stringify(['vulnerabilities', 'osv', 'GHSA-1', '[]', null, JSON.stringify({ id: 'GHSA-1', source: 'osv' })]) : l))), /line \d+: vulnerabilities: vulnerability "GHSA-1": aliases must be/],
      ['wrong-width', gz(lines.map((l, i) => (i === vulnLine ? JSON.stringify(['vulnerabilities', 'osv']) : l))), /row has 1 values, the header lists 5 columns/],
      ['after-end', gz([...lines, lines[vulnLine]!]), /data after the end marker/],
    ];
    for (const [name, content, want] of cases) {
      const f = await variant(name, content);
      await assert.rejects(importDb(dst, f), (e) => {
        assert.ok(isLadingError(e), `${name}: ${String(e)}`);
        assert.match(e.message, want, name);
        return true;
      }, name);
      assert.deepEqual(await snapshot(dst), before, `${name}: nothing changed`);
    }
    await assert.rejects(importDb(dst, join(dir, 'nope.gz')), (e) => isLadingError(e) && e.code === 'NOT_FOUND');
    assert.equal(await isDbBundle(join(dir, 'foreign')), false);
    assert.equal(await isDbBundle(dir), false);
    // a failed bundle import through importPaths is a failed result
    const [r] = await importPaths(dst, [join(dir, 'no-trailer')], drivers);
    assert.deepEqual([r!.kind, r!.ok], ['bundle', false]);
  } finally {
    await src.close();
    await dst.close();
  }
});

describe('across dialects', { skip: postgresAvailable() ? false : postgresSkipReason }, () => {
  let server: RunningPostgres;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => server?.stop());

  test('SQLite → bundle → PostgreSQL → bundle → SQLite: the same data', async () => {
    const a = await fresh();
    const p = await openVulnDb(await server.createDatabase());
    const b = await fresh();
    try {
      await fill(a);
      await exportDb(a, join(dir, 'x1.gz'));
      await importDb(p, join(dir, 'x1.gz'));
      assert.deepEqual(await snapshot(p), await snapshot(a));
      assert.equal((await p.affected('npm', 'a')).length, 1);
      await exportDb(p, join(dir, 'x2.gz'));
      await importDb(b, join(dir, 'x2.gz'));
      assert.deepEqual(await snapshot(b), await snapshot(a));
      // a corrupt bundle on PostgreSQL keeps everything too
      await writeFile(join(dir, 'x3.gz'), (await readFile(join(dir, 'x2.gz'))).subarray(0, 100));
      await assert.rejects(importDb(p, join(dir, 'x3.gz')), /corrupt or truncated|truncated/);
      assert.deepEqual(await snapshot(p), await snapshot(a));
    } finally {
      await a.close();
      await p.close();
      await b.close();
    }
  });
});
