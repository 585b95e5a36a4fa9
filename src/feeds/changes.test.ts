import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnDatabases } from '../testkit/databases.js';
import { VulnDb } from './vulndb.js';
import type { Affected, FeedBatch, Vulnerability } from './model.js';

function vuln(id: string, source: string, extra: Partial<Vulnerability> = {}): Vulnerability {
  return { id, source, aliases: [], cvss: [], references: [], ...extra };
}

function aff(vulnId: string, source: string, namespace: string, name: string, fixed = '2.0.0'): Affected {
  return {
    vulnId, source, namespace, name, nameKind: 'binary', scheme: 'semver', ranges: [{ introduced: '0', fixed }],
    versions: [], state: 'fixed', fixedVersions: [fixed],
  };
}

describeOnDatabases('vulnerability data changes', ({ db }) => {
  let seen = 0;
  /** The keys logged since the last call. */
  async function logged(): Promise<string[]> {
    const rows = await db().kysely.selectFrom('vuln_changes').select(['id', 'namespace', 'name']).where('id', '>', seen).orderBy('id').execute();
    if (rows.length) seen = Number(rows[rows.length - 1]!.id);
    return [...new Set(rows.map((r) => `${r.namespace}/${r.name}`))].sort();
  }
  const full = (vdb: VulnDb, source: string, batch: FeedBatch) => vdb.apply(source, { full: true, batches: [batch] }, { kind: 'sync' });
  const incremental = (vdb: VulnDb, source: string, batch: FeedBatch) => vdb.apply(source, { full: false, batches: [batch] }, { kind: 'sync' });

  const base: FeedBatch = {
    vulnerabilities: [vuln('GHSA-1', 'ghsa', { modified: '2024-01-01T00:00:00Z', aliases: ['CVE-2024-1'] }), vuln('GHSA-2', 'ghsa', { modified: '2024-01-01T00:00:00Z' })],
    affected: [aff('GHSA-1', 'ghsa', 'npm', 'lodash'), aff('GHSA-1', 'ghsa', 'npm', 'lodash-es'), aff('GHSA-2', 'ghsa', 'pypi', 'requests')],
  };

  test('a first full sync logs every key; the same data again logs nothing', async () => {
    const vdb = new VulnDb(db());
    const r = await full(vdb, 'ghsa', base);
    assert.equal(r.changedKeys, 3);
    assert.deepEqual(await logged(), ['npm/lodash', 'npm/lodash-es', 'pypi/requests']);
    assert.equal((await full(vdb, 'ghsa', base)).changedKeys, 0);
    assert.deepEqual(await logged(), []);
  });

  test('a full sync logs exactly the keys whose rows changed, were added or went away', async () => {
    const vdb = new VulnDb(db());
    await full(vdb, 'ghsa', {
      vulnerabilities: base.vulnerabilities!,
      affected: [aff('GHSA-1', 'ghsa', 'npm', 'lodash', '2.0.1'), aff('GHSA-2', 'ghsa', 'pypi', 'requests'), aff('GHSA-2', 'ghsa', 'pypi', 'urllib3')],
    });
    assert.deepEqual(await logged(), ['npm/lodash', 'npm/lodash-es', 'pypi/urllib3']);
    await full(vdb, 'ghsa', base); // back to the start for the next tests
    await logged();
  });

  test('incremental: a new record logs its keys; replacing a record\'s rows logs old and new keys', async () => {
    const vdb = new VulnDb(db());
    await incremental(vdb, 'ghsa', { vulnerabilities: [vuln('GHSA-3', 'ghsa', { modified: '2024-02-01T00:00:00Z' })], affected: [aff('GHSA-3', 'ghsa', 'npm', 'express')] });
    assert.deepEqual(await logged(), ['npm/express']);
    // GHSA-2 now names urllib3 instead of requests (same modified stamp: the rows decide)
    await incremental(vdb, 'ghsa', { affected: [aff('GHSA-2', 'ghsa', 'pypi', 'urllib3')] });
    assert.deepEqual(await logged(), ['pypi/requests', 'pypi/urllib3']);
    // the same rows again change nothing
    await incremental(vdb, 'ghsa', { affected: [aff('GHSA-2', 'ghsa', 'pypi', 'urllib3')] });
    assert.deepEqual(await logged(), []);
  });

  test('a record changed in another source reaches the keys of every record it aliases', async () => {
    const vdb = new VulnDb(db());
    await full(vdb, 'nvd', { vulnerabilities: [vuln('CVE-2024-1', 'nvd', { modified: '2024-03-01T00:00:00Z' })] });
    assert.deepEqual(await logged(), ['npm/lodash', 'npm/lodash-es']);
    await full(vdb, 'nvd', { vulnerabilities: [vuln('CVE-2024-1', 'nvd', { modified: '2024-03-01T00:00:00Z' })] });
    assert.deepEqual(await logged(), []);
    await full(vdb, 'nvd', { vulnerabilities: [vuln('CVE-2024-1', 'nvd', { modified: '2024-04-01T00:00:00Z' })] });
    assert.deepEqual(await logged(), ['npm/lodash', 'npm/lodash-es']);
  });

  test('a CVE entering or leaving the KEV catalogue changes the keys of every record that is or aliases it; EPSS changes none', async () => {
    const vdb = new VulnDb(db());
    const entry = (cve: string, dueDate = '2024-02-01') => ({ cve, dateAdded: '2024-01-01', vendorProject: 'x', product: 'y', requiredAction: 'patch', dueDate });
    // GHSA-1 aliases CVE-2024-1 (npm lodash and lodash-es); CVE-2099-9 names no stored record.
    await full(vdb, 'kev', { kev: [entry('CVE-2024-1'), entry('CVE-2099-9')] });
    assert.deepEqual(await logged(), ['npm/lodash', 'npm/lodash-es']);
    await full(vdb, 'kev', { kev: [entry('CVE-2024-1', '2024-03-01'), entry('CVE-2099-9')] });
    assert.deepEqual(await logged(), [], 'the same CVEs with other details: nothing a finding keeps changed');
    await full(vdb, 'kev', { kev: [entry('CVE-2099-9')] });
    assert.deepEqual(await logged(), ['npm/lodash', 'npm/lodash-es'], 'dropped from the catalogue');
    await incremental(vdb, 'kev', { kev: [entry('CVE-2024-1')] });
    assert.deepEqual(await logged(), ['npm/lodash', 'npm/lodash-es'], 'an incremental import adds it back');
    await full(vdb, 'epss', { epss: [{ cve: 'CVE-2024-1', score: 0.9, percentile: 0.99, date: '2024-01-01' }] });
    assert.deepEqual(await logged(), []);
  });
});
