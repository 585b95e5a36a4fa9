import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openVulnDb } from '../store/db.js';
import { postgresAvailable, postgresSkipReason, startPostgres, type RunningPostgres } from '../testkit/postgres.js';
import type { Affected, FeedBatch, Vulnerability } from './model.js';
import { checkAffected, checkVulnerability, defaultDbPath, type VulnDb } from './vulndb.js';

function vuln(id: string, source: string, extra: Partial<Vulnerability> = {}): Vulnerability {
  return { id, source, aliases: [], cvss: [], references: [], ...extra };
}

function aff(vulnId: string, source: string, namespace: string, name: string, extra: Partial<Affected> = {}): Affected {
  return {
    vulnId, source, namespace, name, nameKind: 'binary', scheme: 'semver', ranges: [{ introduced: '0', fixed: '2.0.0' }],
    versions: [], state: 'fixed', fixedVersions: ['2.0.0'], ...extra,
  };
}

async function* gen(batches: FeedBatch[], failAfter?: number): AsyncGenerator<FeedBatch> {
  let i = 0;
  for (const b of batches) {
    if (failAfter !== undefined && i++ === failAfter) throw new Error('driver exploded');
    yield b;
  }
}

const ids = (list: { id: string; source: string }[]) => list.map((v) => `${v.source}:${v.id}`).sort();
const affKeys = (list: Affected[]) => list.map((a) => `${a.source}:${a.vulnId}:${a.fixedVersions.join('|')}`).sort();

test('defaultDbPath: LADING_DATA_DIR, then XDG_DATA_HOME, then ~/.local/share', () => {
  assert.equal(defaultDbPath({ LADING_DATA_DIR: '/d', XDG_DATA_HOME: '/x', HOME: '/h' }), '/d/lading.db');
  assert.equal(defaultDbPath({ XDG_DATA_HOME: '/x', HOME: '/h' }), '/x/lading/lading.db');
  assert.equal(defaultDbPath({ HOME: '/h' }), '/h/.local/share/lading/lading.db');
});

test('record validation names the record and the field', () => {
  assert.equal(checkVulnerability(vuln('CVE-1', 'osv'), 'osv'), undefined);
  assert.match(checkVulnerability({ ...vuln('CVE-1', 'osv'), aliases: 'CVE-2' }, 'osv')!, /"CVE-1".*aliases/);
  assert.match(checkVulnerability(vuln('CVE-1', 'nvd'), 'osv')!, /source "nvd" is not the feed's \(osv\)/);
  assert.match(checkVulnerability({ ...vuln('CVE-1', 'osv'), cvss: [{ source: 'nvd', version: '3.1', vector: 'x', baseScore: '9' }] }, 'osv')!, /baseScore/);
  assert.match(checkVulnerability({ ...vuln('CVE-1', 'osv'), severity: 'Severe' }, 'osv')!, /severity/);
  assert.match(checkVulnerability(null, 'osv')!, /not an object/);
  assert.equal(checkAffected(aff('CVE-1', 'osv', 'npm', 'a'), 'osv'), undefined);
  assert.match(checkAffected({ ...aff('CVE-1', 'osv', 'npm', 'a'), scheme: 'calver' }, 'osv')!, /unknown version scheme "calver"/);
  assert.match(checkAffected({ ...aff('CVE-1', 'osv', 'npm', 'a'), state: 'maybe' }, 'osv')!, /fix state/);
  assert.match(checkAffected({ ...aff('CVE-1', 'osv', 'npm', 'a'), ranges: [{ fixed: 2 }] }, 'osv')!, /range/);
  assert.match(checkAffected({ ...aff('CVE-1', 'osv', 'npm', ''), name: '' }, 'osv')!, /name must be/);
});

function suite(name: string, open: () => Promise<VulnDb>) {
  describe(name, () => {
    test('full apply, then every lookup: affected, vulnerabilities by id and alias across sources, kev, epss', async () => {
      const db = await open();
      try {
        const osv = await db.apply('osv', {
          full: true,
          batches: gen([
            { vulnerabilities: [vuln('GHSA-aaaa', 'osv', { aliases: ['CVE-2024-1', 'GHSA-aaaa'], summary: 'bad', severity: 'High',
              cvss: [{ source: 'ghsa', version: '3.1', vector: 'CVSS:3.1/AV:N', baseScore: 7.5, type: 'Secondary' }], references: ['https://x'] })] },
            { affected: [aff('GHSA-aaaa', 'osv', 'npm', 'lodash'), aff('GHSA-aaaa', 'osv', 'npm', 'lodash', { ranges: [{ introduced: '3.0.0', lastAffected: '3.1.0' }], fixedVersions: [], state: 'not-fixed' })] },
          ]),
        }, { kind: 'sync' });
        assert.deepEqual({ v: osv.vulnerabilities, a: osv.affected, r: osv.records, s: osv.skipped, full: osv.full }, { v: 1, a: 2, r: 3, s: 0, full: true });
        await db.apply('nvd', { full: true, batches: [{ vulnerabilities: [vuln('CVE-2024-1', 'nvd', { description: 'from NVD', modified: '2024-05-01T00:00:00Z' })] }] }, { kind: 'sync' });
        await db.apply('debian', {
          full: true,
          batches: [{
            vulnerabilities: [vuln('CVE-2024-1', 'debian')],
            affected: [aff('CVE-2024-1', 'debian', 'debian:12', 'openssl', { nameKind: 'source', scheme: 'dpkg', ranges: [], fixedVersions: ['3.0.11-1~deb12u2'], severity: 'Medium', moduleStream: 'x:1' })],
          }],
        }, { kind: 'sync' });
        await db.apply('kev', { full: true, batches: [{ kev: [{ cve: 'CVE-2024-1', dateAdded: '2024-06-01', vendorProject: 'OpenSSL', knownRansomwareCampaignUse: 'Unknown' }] }] }, { kind: 'sync' });
        await db.apply('epss', { full: true, batches: [{ epss: [{ cve: 'CVE-2024-1', score: 0.97123, percentile: 0.99951, date: '2024-06-02' }, { cve: 'CVE-2024-2', score: 0, percentile: 0.1, date: '2024-06-02' }] }] }, { kind: 'sync' });

        const lodash = await db.affected('npm', 'lodash');
        assert.equal(lodash.length, 2);
        const notFixed = lodash.find((a) => a.state === 'not-fixed')!;
        assert.deepEqual(notFixed, aff('GHSA-aaaa', 'osv', 'npm', 'lodash', { ranges: [{ introduced: '3.0.0', lastAffected: '3.1.0' }], fixedVersions: [], state: 'not-fixed' }));
        const ssl = await db.affected('debian:12', 'openssl');
        assert.deepEqual(ssl, [aff('CVE-2024-1', 'debian', 'debian:12', 'openssl', { nameKind: 'source', scheme: 'dpkg', ranges: [], fixedVersions: ['3.0.11-1~deb12u2'], severity: 'Medium', moduleStream: 'x:1' })]);
        assert.deepEqual(await db.affected('debian:11', 'openssl'), []);
        assert.deepEqual(await db.affected('npm', 'Lodash'), [], 'names are exact');

        // by id: every source's record; by alias: the records that list it
        assert.deepEqual(ids(await db.vulnerabilities(['CVE-2024-1'])), ['debian:CVE-2024-1', 'nvd:CVE-2024-1', 'osv:GHSA-aaaa']);
        assert.deepEqual(ids(await db.vulnerabilities(['GHSA-aaaa'])), ['osv:GHSA-aaaa']);
        assert.deepEqual(ids(await db.vulnerabilities(['GHSA-aaaa', 'CVE-2024-1', 'CVE-2024-1'])), ['debian:CVE-2024-1', 'nvd:CVE-2024-1', 'osv:GHSA-aaaa']);
        assert.deepEqual(await db.vulnerabilities(['CVE-0000-0']), []);
        assert.deepEqual(await db.vulnerabilities([]), []);
        const ghsa = (await db.vulnerabilities(['GHSA-aaaa']))[0]!;
        assert.deepEqual(ghsa, vuln('GHSA-aaaa', 'osv', { aliases: ['CVE-2024-1', 'GHSA-aaaa'], summary: 'bad', severity: 'High',
          cvss: [{ source: 'ghsa', version: '3.1', vector: 'CVSS:3.1/AV:N', baseScore: 7.5, type: 'Secondary' }], references: ['https://x'] }));

        const kev = await db.kev(['CVE-2024-1', 'CVE-2024-9']);
        assert.deepEqual([...kev.keys()], ['CVE-2024-1']);
        assert.equal(kev.get('CVE-2024-1')!.vendorProject, 'OpenSSL');
        const epss = await db.epss(['CVE-2024-1', 'CVE-2024-2', 'CVE-2024-3']);
        assert.deepEqual(epss.get('CVE-2024-1'), { cve: 'CVE-2024-1', score: 0.97123, percentile: 0.99951, date: '2024-06-02' });
        assert.equal(epss.get('CVE-2024-2')!.score, 0);
        assert.equal(epss.size, 2);

        // many ids at once (chunked IN lists)
        const many = Array.from({ length: 1200 }, (_, i) => `CVE-X-${i}`).concat(['CVE-2024-1']);
        assert.equal((await db.vulnerabilities(many)).length, 3);
        assert.equal((await db.epss(many)).size, 1);

        const status = await db.status();
        assert.deepEqual(status.map((s) => [s.source, s.records, s.status, s.kind]),
          [['debian', 2, 'ok', 'sync'], ['epss', 2, 'ok', 'sync'], ['kev', 1, 'ok', 'sync'], ['nvd', 1, 'ok', 'sync'], ['osv', 3, 'ok', 'sync']]);
        assert.deepEqual(status.find((s) => s.source === 'osv')!.counts, { vulnerabilities: 1, affected: 2, kev: 0, epss: 0 });
        assert.ok((await db.meta()).built);
      } finally {
        await db.close();
      }
    });

    test('incremental: upsert by (source, id) replaces that vulnerability and its affected rows and aliases; the rest stays', async () => {
      const db = await open();
      try {
        await db.apply('osv', {
          full: true,
          batches: [{
            vulnerabilities: [vuln('A', 'osv', { aliases: ['CVE-A'] }), vuln('B', 'osv', { aliases: ['CVE-B'] })],
            affected: [aff('A', 'osv', 'npm', 'x', { fixedVersions: ['1'] }), aff('A', 'osv', 'npm', 'y', { fixedVersions: ['1'] }), aff('B', 'osv', 'npm', 'x', { fixedVersions: ['1'] })],
          }],
        }, { kind: 'sync' });
        await db.apply('ghsa', { full: true, batches: [{ vulnerabilities: [vuln('A', 'ghsa')], affected: [aff('A', 'ghsa', 'npm', 'x')] }] }, { kind: 'sync' });
        const r = await db.apply('osv', {
          full: false,
          batches: [{ vulnerabilities: [vuln('A', 'osv', { aliases: ['CVE-A2'], summary: 'v2' })], affected: [aff('A', 'osv', 'npm', 'x', { fixedVersions: ['2'] })] },
            { affected: [aff('C', 'osv', 'npm', 'x', { fixedVersions: ['3'] })] }],
        }, { kind: 'sync' });
        assert.equal(r.full, false);
        assert.deepEqual(affKeys(await db.affected('npm', 'x')), ['ghsa:A:2.0.0', 'osv:A:2', 'osv:B:1', 'osv:C:3']);
        assert.deepEqual(await db.affected('npm', 'y'), [], 'A\'s old row for y is gone');
        assert.equal((await db.vulnerabilities(['A'])).find((v) => v.source === 'osv')!.summary, 'v2');
        assert.deepEqual(ids(await db.vulnerabilities(['CVE-A'])), [], 'the old alias is gone');
        assert.deepEqual(ids(await db.vulnerabilities(['CVE-A2'])), ['osv:A']);
        assert.deepEqual(ids(await db.vulnerabilities(['CVE-B'])), ['osv:B']);
        // affected rows of one vulnerability spread over several batches all stay
        await db.apply('osv', { full: false, batches: [{ affected: [aff('C', 'osv', 'npm', 'p')] }, { affected: [aff('C', 'osv', 'npm', 'q')] }, { vulnerabilities: [vuln('C', 'osv')] }] }, { kind: 'sync' });
        assert.equal((await db.affected('npm', 'p')).length, 1);
        assert.equal((await db.affected('npm', 'q')).length, 1);
        assert.deepEqual(affKeys(await db.affected('npm', 'x')), ['ghsa:A:2.0.0', 'osv:A:2', 'osv:B:1']);
      } finally {
        await db.close();
      }
    });

    test('full replaces only that source; the same id twice in one apply: last record wins, affected rows of both stay', async () => {
      const db = await open();
      try {
        await db.apply('osv', { full: true, batches: [{ vulnerabilities: [vuln('A', 'osv'), vuln('B', 'osv')], affected: [aff('A', 'osv', 'npm', 'x')] }] }, { kind: 'sync' });
        await db.apply('nvd', { full: true, batches: [{ vulnerabilities: [vuln('A', 'nvd')] }] }, { kind: 'sync' });
        await db.apply('kev', { full: true, batches: [{ kev: [{ cve: 'A', dateAdded: '2024-01-01' }] }] }, { kind: 'sync' });
        await db.apply('osv', {
          full: true,
          batches: [{ vulnerabilities: [vuln('C', 'osv', { aliases: ['X1'] })], affected: [aff('C', 'osv', 'npm', 'x')] },
            { vulnerabilities: [vuln('C', 'osv', { aliases: ['X2'], summary: 'second' })], affected: [aff('C', 'osv', 'npm', 'z')] }],
        }, { kind: 'sync' });
        assert.deepEqual(ids(await db.vulnerabilities(['A', 'B', 'C'])), ['nvd:A', 'osv:C']);
        assert.deepEqual(affKeys(await db.affected('npm', 'x')), ['osv:C:2.0.0']);
        assert.equal((await db.affected('npm', 'z')).length, 1);
        assert.equal((await db.vulnerabilities(['C']))[0]!.summary, 'second');
        assert.deepEqual(ids(await db.vulnerabilities(['X1'])), []);
        assert.deepEqual(ids(await db.vulnerabilities(['X2'])), ['osv:C']);
        assert.equal((await db.kev(['A'])).size, 1, 'kev of another source stays');
        await db.apply('kev', { full: true, batches: [{ kev: [{ cve: 'B', dateAdded: '2024-01-01' }] }] }, { kind: 'sync' });
        assert.deepEqual([...(await db.kev(['A', 'B'])).keys()], ['B']);
        // the same EPSS cve twice in one batch: last wins (no conflict error on PostgreSQL)
        await db.apply('epss', { full: true, batches: [{ epss: [{ cve: 'A', score: 0.1, percentile: 0.1, date: 'd1' }, { cve: 'A', score: 0.2, percentile: 0.2, date: 'd2' }] }] }, { kind: 'sync' });
        assert.equal((await db.epss(['A'])).get('A')!.date, 'd2');
      } finally {
        await db.close();
      }
    });

    test('bad records are skipped with a warning naming them; the rest applies', async () => {
      const db = await open();
      try {
        const warnings: string[] = [];
        const r = await db.apply('osv', {
          full: true,
          batches: [
            { vulnerabilities: [vuln('GOOD', 'osv'), { id: '', source: 'osv' } as unknown as Vulnerability, vuln('OTHER', 'nvd')] },
            { affected: [aff('GOOD', 'osv', 'npm', 'a'), { ...aff('GOOD', 'osv', 'npm', 'b'), scheme: 'nope' } as unknown as Affected] },
            { kev: [{ cve: 'CVE-1' } as never], epss: [{ cve: 'CVE-1', score: 2, percentile: 0.5, date: 'x' }] },
            null as unknown as FeedBatch,
            { vulnerabilities: 'nope' as unknown as Vulnerability[] },
          ],
        }, { kind: 'sync' }, { warn: (m) => warnings.push(m) });
        assert.equal(r.records, 2);
        assert.equal(r.skipped, 7);
        assert.equal(warnings.length, 7);
        assert.ok(warnings.every((w) => w.startsWith('osv: skipped ')));
        assert.ok(warnings.some((w) => /"OTHER".*source "nvd"/.test(w)));
        assert.ok(warnings.some((w) => /unknown version scheme "nope"/.test(w)));
        assert.ok(warnings.some((w) => /KEV entry "CVE-1": dateAdded/.test(w)));
        assert.ok(warnings.some((w) => /EPSS entry "CVE-1": score/.test(w)));
        assert.deepEqual(ids(await db.vulnerabilities(['GOOD', 'OTHER'])), ['osv:GOOD']);
        assert.equal((await db.affected('npm', 'a')).length, 1);
        assert.equal((await db.status()).find((s) => s.source === 'osv')!.warnings, 7);
      } finally {
        await db.close();
      }
    });

    test('a driver failing mid-way, or a write failing inside the transaction, loses nothing', async () => {
      const db = await open();
      try {
        await db.apply('osv', { full: true, batches: [{ vulnerabilities: [vuln('KEEP', 'osv')], affected: [aff('KEEP', 'osv', 'npm', 'k')] }] }, { kind: 'sync', cursor: { page: '7' } });
        const before = await db.status();
        await assert.rejects(db.apply('osv', { full: true, batches: gen([{ vulnerabilities: [vuln('NEW', 'osv')] }, { vulnerabilities: [vuln('NEW2', 'osv')] }], 1) }, { kind: 'sync' }), /driver exploded/);
        // a failure inside the transaction (after rows were written): rolled back
        const failing = db as unknown as { writeState: () => Promise<void> };
        const orig = failing.writeState;
        failing.writeState = async () => { throw new Error('disk on fire'); };
        const many = Array.from({ length: 5000 }, (_, i) => aff(`N${i}`, 'osv', 'npm', 'k'));
        await assert.rejects(db.apply('osv', { full: true, batches: [{ vulnerabilities: [vuln('NEW', 'osv')], affected: many }] }, { kind: 'sync' }), /disk on fire/);
        await assert.rejects(db.apply('osv', { full: false, batches: [{ vulnerabilities: [vuln('KEEP', 'osv', { summary: 'changed' })] }] }, { kind: 'sync' }), /disk on fire/);
        failing.writeState = orig;
        // a full apply with nothing valid is refused
        await assert.rejects(db.apply('osv', { full: true, batches: [] }, { kind: 'sync' }), /brought no records; the previous data is kept/);
        await assert.rejects(db.apply('osv', { full: true, batches: [{ vulnerabilities: [vuln('', 'osv')] }] }, { kind: 'sync' }), /all 1 records were invalid/);
        await assert.rejects(db.apply('osv', { full: 'yes' as unknown as boolean, batches: [] }, { kind: 'sync' }), /full or incremental/);
        // …unless the source said nothing changed
        const noop = await db.apply('osv', { full: true, batches: [] }, { kind: 'sync' }, { unchanged: () => true });
        assert.deepEqual([noop.full, noop.records], [false, 0]);
        assert.deepEqual(ids(await db.vulnerabilities(['KEEP', 'NEW', 'NEW2'])), ['osv:KEEP']);
        assert.equal((await db.vulnerabilities(['KEEP']))[0]!.summary, undefined);
        assert.deepEqual(affKeys(await db.affected('npm', 'k')), ['osv:KEEP:2.0.0']);
        assert.deepEqual((await db.status())[0]!.counts, before[0]!.counts);
        assert.deepEqual((await db.syncState('osv'))!.cursor, { page: '7' });
      } finally {
        await db.close();
      }
    });

    test('sync state: cursor and validators kept, replaced or cleared; a failure keeps the last success', async () => {
      const db = await open();
      try {
        const t1 = new Date('2024-01-01T00:00:00Z');
        await db.apply('nvd', { full: true, batches: [{ vulnerabilities: [vuln('CVE-1', 'nvd')] }] },
          { kind: 'sync', at: t1, cursor: { lastMod: 'a' }, validators: { 'https://x/1': { etag: '"e1"' } } });
        let st = (await db.syncState('nvd'))!;
        assert.deepEqual([st.kind, st.status, st.lastSync, st.lastSuccess, st.records, st.cursor, st.validators],
          ['sync', 'ok', t1.toISOString(), t1.toISOString(), 1, { lastMod: 'a' }, { 'https://x/1': { etag: '"e1"' } }]);
        const t2 = new Date('2024-01-02T00:00:00Z');
        await db.recordFailure('nvd', 'sync', 'HTTP 503', t2);
        st = (await db.syncState('nvd'))!;
        assert.deepEqual([st.status, st.error, st.lastSync, st.lastSuccess, st.cursor.lastMod, st.validators['https://x/1']?.etag],
          ['failed', 'HTTP 503', t2.toISOString(), t1.toISOString(), 'a', '"e1"']);
        const s = (await db.status(new Date('2024-01-03T00:00:00Z'))).find((x) => x.source === 'nvd')!;
        assert.deepEqual([s.status, s.error, s.ageSeconds, s.records], ['failed', 'HTTP 503', 2 * 86400, 1]);
        // undefined keeps the cursor; an import clears both
        await db.apply('nvd', { full: false, batches: [] }, { kind: 'sync' });
        st = (await db.syncState('nvd'))!;
        assert.deepEqual([st.status, st.error, st.cursor, Object.keys(st.validators)], ['ok', undefined, { lastMod: 'a' }, ['https://x/1']]);
        await db.apply('nvd', { full: false, batches: [] }, { kind: 'import', cursor: null, validators: null });
        st = (await db.syncState('nvd'))!;
        assert.deepEqual([st.kind, st.cursor, st.validators], ['import', {}, {}]);
        // a failure for a source never synced creates its entry
        await db.recordFailure('ghsa', 'import', 'bad file');
        const g = (await db.status()).find((x) => x.source === 'ghsa')!;
        assert.deepEqual([g.status, g.kind, g.records, g.lastSuccess], ['failed', 'import', 0, undefined]);
      } finally {
        await db.close();
      }
    });

    test('a large apply spilled to a temporary file gives the same data; throughput', async (t) => {
      const db = await open();
      try {
        const N = 50_000;
        function* batches(offset: number): Generator<FeedBatch> {
          for (let i = 0; i < N; i += 1000) {
            const vulnerabilities: Vulnerability[] = [];
            const affected: Affected[] = [];
            for (let j = i; j < i + 1000; j++) {
              if (j % 10 === 0) vulnerabilities.push(vuln(`CVE-${j}`, 'debian', { aliases: [`DSA-${j}`], description: 'd'.repeat(200) }));
              affected.push(aff(`CVE-${j - (j % 10)}`, 'debian', `debian:${11 + (j % 2)}`, `pkg${j % 2000}`, { scheme: 'dpkg', nameKind: 'source', fixedVersions: [`1.${j + offset}`] }));
            }
            yield { vulnerabilities, affected };
          }
        }
        const t0 = Date.now();
        const r1 = await db.apply('debian', { full: true, batches: batches(0) }, { kind: 'sync' });
        const ms1 = Date.now() - t0;
        assert.equal(r1.affected, N);
        const t1 = Date.now();
        const r2 = await db.apply('debian', { full: false, batches: batches(1) }, { kind: 'sync' }, { spoolMemoryBytes: 1 << 16 });
        const ms2 = Date.now() - t1;
        assert.equal(r2.records, N + N / 10);
        const rows = await db.affected('debian:12', 'pkg1');
        assert.equal(rows.length, N / 2000);
        assert.ok(rows.every((a) => Number(a.fixedVersions[0]!.split('.')[1]) % 2000 === 2), 'replaced by the spilled apply');
        assert.equal((await db.status()).find((s) => s.source === 'debian')!.records, N + N / 10);
        assert.deepEqual(ids(await db.vulnerabilities(['DSA-49990'])), ['debian:CVE-49990']);
        t.diagnostic(`${name}: full ${Math.round((r1.records / ms1) * 1000)} records/s; incremental via a spool file ${Math.round((r2.records / ms2) * 1000)} records/s`);
      } finally {
        await db.close();
      }
    });
  });
}

let dir: string;
let count = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-vulndb-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

suite('SQLite', () => openVulnDb(join(dir, `v${++count}.db`)));

describe('on a throwaway PostgreSQL server', { skip: postgresAvailable() ? false : postgresSkipReason }, () => {
  let server: RunningPostgres;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => server?.stop());
  suite('PostgreSQL', async () => openVulnDb(await server.createDatabase()));
});
