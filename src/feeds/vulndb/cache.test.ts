import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openVulnDb } from '../../store/db.js';
import { matchSbom } from '../../vulns/match.js';
import { npm, sbomOf } from '../../vulns/testing.js';
import type { Affected, FeedBatch, Vulnerability } from '../model.js';
import type { VulnDb } from '../vulndb.js';

function aff(vulnId: string, name: string, fixed: string): Affected {
  return { vulnId, source: 'osv', namespace: 'npm', name, nameKind: 'binary', scheme: 'semver', ranges: [{ introduced: '0', fixed }], versions: [], state: 'fixed', fixedVersions: [fixed] };
}

function vuln(id: string, summary: string, aliases: string[] = []): Vulnerability {
  return { id, source: 'osv', aliases, summary, cvss: [], references: [`https://example.test/${id}`] };
}

/** A full osv apply of these records, stamped with one fixed time (so meta `built` repeats). */
async function osv(db: VulnDb, batch: FeedBatch): Promise<void> {
  const r = await db.apply('osv', { full: true, batches: [batch] }, { kind: 'import', at: new Date('2024-01-01T00:00:00Z') });
  assert.ok(r.records > 0);
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-vulndb-cache-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

const sbom = sbomOf([npm('lodash', '1.0.0'), npm('left-pad', '1.0.0')], null);

test('another connection\'s import (meta built unchanged) is seen by the next match: the cache follows data_version', async () => {
  const file = join(dir, 'a.db');
  const reader = await openVulnDb(file);
  const writer = await openVulnDb(file);
  try {
    await osv(writer, { vulnerabilities: [vuln('GHSA-1', 'first')], affected: [aff('GHSA-1', 'lodash', '2.0.0')] });
    const first = await matchSbom(sbom, reader);
    assert.deepEqual(first.matches.map((m) => [m.package.name, m.vulnerability.id, m.vulnerability.description, m.vulnerability.fixedVersions]),
      [['lodash', 'GHSA-1', 'first', ['2.0.0']]]);
    // the same again, from the cache
    assert.deepEqual(await matchSbom(sbom, reader), first);
    const built = await reader.built();

    // left-pad had no records (kept as such), lodash's record changes, a second record appears
    await osv(writer, {
      vulnerabilities: [vuln('GHSA-1', 'second'), vuln('GHSA-2', 'pad', ['CVE-2024-2000'])],
      affected: [aff('GHSA-1', 'lodash', '1.5.0'), aff('GHSA-2', 'left-pad', '1.1.0')],
    });
    assert.equal(await reader.built(), built, 'the same `at`: built alone would not tell');
    const second = await matchSbom(sbom, reader);
    assert.deepEqual(second.matches.map((m) => [m.package.name, m.vulnerability.id, m.vulnerability.description, m.vulnerability.fixedVersions]),
      [['lodash', 'GHSA-1', 'second', ['1.5.0']], ['left-pad', 'CVE-2024-2000', 'pad', ['1.1.0']]]);

    // kev and epss: a CVE first known to have no entry, then given one elsewhere
    assert.equal((await reader.kev(['CVE-2024-2000'])).size, 0);
    assert.equal((await reader.epss(['CVE-2024-2000'])).size, 0);
    await writer.apply('kev', { full: true, batches: [{ kev: [{ cve: 'CVE-2024-2000', dateAdded: '2024-06-01' }] }] }, { kind: 'import' });
    await writer.apply('epss', { full: true, batches: [{ epss: [{ cve: 'CVE-2024-2000', score: 0.5, percentile: 0.9, date: '2024-06-02' }] }] }, { kind: 'import' });
    const third = await matchSbom(sbom, reader);
    assert.deepEqual(third.matches[1]!.vulnerability.kev, { dateAdded: '2024-06-01' });
    assert.deepEqual(third.matches[1]!.vulnerability.epss, { score: 0.5, percentile: 0.9, date: '2024-06-02' });

    // a feed disabled elsewhere: its records are left out at once
    await writer.setFeedEnabled('feed', 'vulnerabilities', false);
    assert.deepEqual((await matchSbom(sbom, reader)).matches, []);
  } finally {
    await writer.close();
    await reader.close();
  }
});

test('cached lists are frozen: a caller cannot add to what later matches read', async () => {
  const db = await openVulnDb(join(dir, 'b.db'));
  try {
    await osv(db, { vulnerabilities: [vuln('GHSA-1', 'first')], affected: [aff('GHSA-1', 'lodash', '2.0.0')] });
    const before = await matchSbom(sbom, db);
    const list = (await db.affectedMany([{ namespace: 'npm', name: 'lodash' }])).get('npm\0lodash')!;
    assert.throws(() => list.push(aff('GHSA-9', 'lodash', '9.0.0')), TypeError);
    assert.deepEqual(await matchSbom(sbom, db), before);
  } finally {
    await db.close();
  }
});

test('a record deleted with its namespace is gone from the next answer', async () => {
  const db = await openVulnDb(join(dir, 'c.db'));
  try {
    await osv(db, { vulnerabilities: [vuln('GHSA-1', 'first')], affected: [aff('GHSA-1', 'lodash', '2.0.0')] });
    assert.equal((await matchSbom(sbom, db)).matches.length, 1);
    await db.deleteNamespace('npm');
    assert.equal((await matchSbom(sbom, db)).matches.length, 0);
    assert.deepEqual(await db.vulnerabilities(['GHSA-1']), []);
  } finally {
    await db.close();
  }
});
