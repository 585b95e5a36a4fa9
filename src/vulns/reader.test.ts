import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Affected, Vulnerability } from '../feeds/model.js';
import type { Package } from '../sbom/model.js';
import type { VulnDb } from '../feeds/vulndb.js';
import { openVulnDb } from '../store/db.js';
import { postgresAvailable, postgresSkipReason, startPostgres, type RunningPostgres } from '../testkit/postgres.js';
import { MemoryLookup, type VulnLookup } from './lookup.js';
import { matchSbom } from './match.js';
import { affected, deb, npm, sbomOf, vuln } from './testing.js';

/** A small deterministic generator, so that the data set is varied but the same at every run. */
function generator(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.floor((s / 2147483648) * n);
  };
}

function pkg(type: 'python' | 'go-module', name: string, version: string): Package {
  const purl = type === 'python' ? `pkg:pypi/${name}@${version}` : `pkg:golang/${name}@${version}`;
  return { name, version, type, purl, cpes: [], licenses: [], locations: [{ path: '/app', layer: 1 }], foundBy: 'test' };
}

/**
 * Debian source and binary records in every state, npm/PyPI/Go ranges, fix lists, listed
 * versions, withdrawn records, the same CVE from several sources under aliases, KEV and EPSS.
 */
function dataSet() {
  const r = generator(7);
  const vulnerabilities: Vulnerability[] = [];
  const records: Affected[] = [];
  const states = ['fixed', 'not-fixed', 'wont-fix', 'not-affected', 'unknown'] as const;
  for (let i = 0; i < 600; i++) {
    const cve = `CVE-2024-${String(10000 + i)}`;
    const kind = r(4);
    if (kind === 0) {
      const name = `src${r(60)}`;
      vulnerabilities.push(vuln({ id: cve, source: 'debian', severity: (['Low', 'Medium', 'High'] as const)[r(3)]! }));
      records.push(affected({ vulnId: cve, name, nameKind: r(3) ? 'source' : 'binary', state: states[r(5)]!, fixedVersions: r(2) ? [`1.${r(9)}-${r(3)}`] : [] }));
    } else {
      const ns = (['npm', 'pypi', 'go'] as const)[kind - 1]!;
      const scheme = ({ npm: 'semver', pypi: 'pep440', go: 'go' } as const)[ns];
      const name = ns === 'go' ? `example.com/mod${r(50)}` : `lib${r(50)}`;
      const v = (x: number) => (ns === 'go' ? `v1.${x}.0` : `1.${x}.0`);
      const ids = [`GHSA-${i}`, `OSV-${i}`];
      vulnerabilities.push(vuln({ id: ids[0]!, source: 'ghsa', aliases: [cve], severity: r(2) ? 'High' : 'Unknown', cvss: [{ source: 'ghsa', version: '3.1', vector: 'AV:N', baseScore: r(10) }] }));
      vulnerabilities.push(vuln({ id: ids[1]!, source: 'osv', aliases: r(2) ? [cve, ids[0]!] : [cve], references: [`https://example.com/${i}`], ...(r(15) ? {} : { withdrawn: '2024-01-01' }) }));
      if (r(2)) vulnerabilities.push(vuln({ id: cve, source: 'nvd', description: `nvd ${i}`, cvss: [{ source: 'nvd', version: '3.1', vector: 'AV:L', baseScore: r(10), type: 'Primary' }] }));
      for (const [source, id] of [['ghsa', ids[0]!], ['osv', ids[1]!]] as const) {
        if (r(3) === 0) continue;
        const lo = r(5);
        records.push(affected({
          vulnId: id, source, namespace: ns, name, nameKind: 'binary', scheme, state: 'fixed',
          ranges: r(4) ? [{ introduced: r(2) ? '0' : v(lo), ...(r(3) ? { fixed: v(lo + 1 + r(4)) } : { lastAffected: v(lo + r(3)) }) }] : [],
          versions: r(4) ? [] : [v(r(9))],
        }));
      }
    }
  }
  const kev = vulnerabilities.filter((_, i) => i % 17 === 0).map((v) => ({ cve: v.aliases[0] ?? v.id, dateAdded: '2024-02-01' }));
  const epss = vulnerabilities.filter((_, i) => i % 5 === 0).map((v, i) => ({ cve: v.aliases[0] ?? v.id, score: (i % 100) / 100, percentile: 0.5, date: '2024-03-01' }));
  const packages: Package[] = [];
  for (let i = 0; i < 60; i++) packages.push(deb(`bin${i}`, `1.${r(9)}-${r(3)}`, `src${r(60)}`), deb(`src${i}`, `1.${r(9)}-${r(3)}`));
  for (let i = 0; i < 50; i++) packages.push(npm(`lib${i}`, `1.${r(9)}.0`), pkg('python', `Lib${i}`, `1.${r(9)}.0`), pkg('go-module', `example.com/mod${i}`, `v1.${r(9)}.0`));
  return { vulnerabilities, records, kev, epss, sbom: sbomOf(packages) };
}

/** The lookup as the matcher used it before affectedMany: one key at a time, every vulnerabilities() call through the alias join. */
function perKey(l: VulnLookup): VulnLookup {
  return { affected: (ns, name) => l.affected(ns, name), vulnerabilities: (ids) => l.vulnerabilities(ids), kev: (c) => l.kev(c), epss: (c) => l.epss(c) };
}

/** The data set into a vulnerability database, one import per source. */
async function load(db: VulnDb, data: ReturnType<typeof dataSet>): Promise<void> {
  for (const source of ['debian', 'ghsa', 'osv', 'nvd']) {
    await db.apply(source, {
      full: true,
      batches: [{ vulnerabilities: data.vulnerabilities.filter((v) => v.source === source), affected: data.records.filter((a) => a.source === source) }],
    }, { kind: 'import' });
  }
  await db.apply('kev', { full: true, batches: [{ kev: data.kev }] }, { kind: 'import' });
  await db.apply('epss', { full: true, batches: [{ epss: data.epss }] }, { kind: 'import' });
}

test('matching through the batched reads gives exactly what one lookup per package gives (SQLite and memory)', async () => {
  const data = dataSet();
  const dir = await mkdtemp(join(tmpdir(), 'lading-reader-'));
  const db = await openVulnDb(join(dir, 'vulns.db'));
  try {
    await load(db, data);
    const memory = new MemoryLookup().add({ ...data, affected: data.records });

    const batched = await matchSbom(data.sbom, db);
    assert.ok(batched.matches.length > 200, `a varied set matches much (${batched.matches.length})`);
    assert.ok(new Set(batched.matches.map((m) => m.match.kind)).size === 2);
    assert.deepEqual(batched, await matchSbom(data.sbom, perKey(db)));
    assert.deepEqual(await matchSbom(data.sbom, memory), await matchSbom(data.sbom, perKey(memory)));
    assert.deepEqual(await matchSbom(data.sbom, db, { onlyFixed: true }), await matchSbom(data.sbom, perKey(db), { onlyFixed: true }));
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
});

describe('on a throwaway PostgreSQL server', { skip: postgresAvailable() ? false : postgresSkipReason }, () => {
  let server: RunningPostgres;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => server?.stop());

  test('on PostgreSQL the batched reads give exactly what one lookup per package gives, and the same findings as on SQLite', async () => {
    const data = dataSet();
    const dir = await mkdtemp(join(tmpdir(), 'lading-reader-'));
    const sqlite = await openVulnDb(join(dir, 'vulns.db'));
    const pg = await openVulnDb(await server.createDatabase());
    try {
      await load(sqlite, data);
      await load(pg, data);
      const onPg = await matchSbom(data.sbom, pg);
      assert.ok(onPg.matches.length > 200, `a varied set matches much (${onPg.matches.length})`);
      assert.deepEqual(onPg, await matchSbom(data.sbom, perKey(pg)));
      assert.deepEqual(await matchSbom(data.sbom, pg, { onlyFixed: true }), await matchSbom(data.sbom, perKey(pg), { onlyFixed: true }));
      // Rows come back in each database's own order (no ORDER BY), which decides the order of the
      // matches and which record of a merged match is named first; what matched is the same.
      const found = (r: Awaited<ReturnType<typeof matchSbom>>) => r.matches.map((m) => `${m.package.purl} ${m.vulnerability.id} ${m.vulnerability.fixState} ${m.vulnerability.severity}`).sort();
      assert.deepEqual(found(onPg), found(await matchSbom(data.sbom, sqlite)));
    } finally {
      await pg.close();
      await sqlite.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
