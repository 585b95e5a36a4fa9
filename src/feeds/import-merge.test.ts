/**
 * `lading db import` of a second release of the same feed merges by namespace (issue 17, item 1):
 * the real Alpine secdb documents of v3.8 and v3.9 (community) in drivers/testdata.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openVulnDb } from '../store/db.js';
import { alpineDriver } from './drivers/alpine.js';
import { importPaths } from './import.js';
import type { Affected, Vulnerability } from './model.js';
import type { VulnDb } from './vulndb.js';

const SECDB = join(dirname(fileURLToPath(import.meta.url)), 'drivers', 'testdata', 'alpine-secdb-2020');
const DRIVERS = { alpine: alpineDriver };

let dir: string;
let count = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-import-merge-'));
});
after(async () => rm(dir, { recursive: true, force: true }));
const fresh = () => openVulnDb(join(dir, `m${++count}.db`));

async function perNamespace(db: VulnDb): Promise<Record<string, number>> {
  const rows = await db.db.selectFrom('affected').select(['namespace', (eb) => eb.fn.countAll().as('n')])
    .where('source', '=', 'alpine').groupBy('namespace').execute() as { namespace: string; n: number | string }[];
  return Object.fromEntries(rows.map((r) => [r.namespace, Number(r.n)]).sort());
}

async function importOk(db: VulnDb, path: string, replace = false) {
  const [r] = await importPaths(db, [path], DRIVERS, { replace });
  assert.equal(r!.ok, true, r!.error);
  return r!.applied!;
}

test('a second release of the same feed is merged by namespace; --replace replaces the source', async () => {
  const db = await fresh();
  try {
    const first = await importOk(db, join(SECDB, 'v3.8'));
    assert.equal(first.mode, 'replaced');
    const v38 = first.namespaces['alpine:3.8']!;
    assert.ok(v38 > 100, `v3.8 community has ${v38} affected records`);
    const v38rows = await db.affected('alpine:3.8', 'chicken');
    assert.ok(v38rows.some((a) => a.vulnId === 'CVE-2017-6949' && a.fixedVersions.includes('4.12.0-r3')));

    const second = await importOk(db, join(SECDB, 'v3.9'));
    assert.equal(second.mode, 'merged');
    assert.deepEqual(second.kept, ['alpine:3.8']);
    const v39 = second.namespaces['alpine:3.9']!;
    assert.deepEqual(await perNamespace(db), { 'alpine:3.8': v38, 'alpine:3.9': v39 });
    assert.deepEqual(await db.affected('alpine:3.8', 'chicken'), v38rows, 'the 3.8 records are kept as they were');

    // the same release again: still both, same counts
    const again = await importOk(db, join(SECDB, 'v3.9'));
    assert.deepEqual([again.mode, again.kept], ['merged', ['alpine:3.8']]);
    assert.deepEqual(await perNamespace(db), { 'alpine:3.8': v38, 'alpine:3.9': v39 });
    const status = (await db.status()).find((s) => s.source === 'alpine')!;
    assert.equal(status.counts.affected, v38 + v39);

    // --replace: what the import brings is all the source has
    const replaced = await importOk(db, join(SECDB, 'v3.9'), true);
    assert.deepEqual([replaced.mode, replaced.kept], ['replaced', []]);
    assert.deepEqual(await perNamespace(db), { 'alpine:3.9': v39 });
    assert.deepEqual(await db.affected('alpine:3.8', 'chicken'), []);
  } finally {
    await db.close();
  }
});

test('single documents of two releases: a flaw fixed in both keeps its record in each', async () => {
  const db = await fresh();
  try {
    const a = await importOk(db, join(SECDB, 'v3.8', 'community.yaml'));
    assert.equal(a.mode, 'updated');
    const b = await importOk(db, join(SECDB, 'v3.9', 'community.yaml'));
    assert.deepEqual([b.mode, b.kept], ['updated', ['alpine:3.8']]);
    assert.deepEqual(await perNamespace(db), { 'alpine:3.8': a.affected, 'alpine:3.9': b.affected });
    // CVE-2017-6949 (chicken) is in both releases' secfixes
    assert.equal((await db.affected('alpine:3.8', 'chicken')).filter((x) => x.vulnId === 'CVE-2017-6949').length, 1);
    assert.equal((await db.affected('alpine:3.9', 'chicken')).filter((x) => x.vulnId === 'CVE-2017-6949').length, 1);
  } finally {
    await db.close();
  }
});

const vuln = (id: string): Vulnerability => ({ id, source: 'alpine', aliases: [], cvss: [], references: [] });
const aff = (vulnId: string, namespace: string, name: string): Affected => ({
  vulnId, source: 'alpine', namespace, name, nameKind: 'source', scheme: 'apk', ranges: [{ introduced: '0', fixed: '1.0-r0' }], versions: [], state: 'fixed', fixedVersions: ['1.0-r0'],
});

test('a merge drops the records only the replaced release named, and logs only its keys as changed', async () => {
  const db = await fresh();
  try {
    await db.apply('alpine', { full: true, batches: [{
      vulnerabilities: [vuln('CVE-1'), vuln('CVE-2'), vuln('CVE-4')],
      affected: [aff('CVE-1', 'alpine:3.8', 'a'), aff('CVE-2', 'alpine:3.9', 'b'), aff('CVE-4', 'alpine:3.8', 'd'), aff('CVE-4', 'alpine:3.9', 'd')],
    }] }, { kind: 'import' });
    await db.db.deleteFrom('vuln_changes').execute();
    const r = await db.apply('alpine', { full: true, batches: [{ vulnerabilities: [vuln('CVE-3')], affected: [aff('CVE-3', 'alpine:3.9', 'c')] }] },
      { kind: 'import' }, { scope: 'namespace' });
    assert.deepEqual([r.mode, r.kept, r.namespaces], ['merged', ['alpine:3.8'], { 'alpine:3.9': 1 }]);
    assert.deepEqual((await db.vulnerabilities(['CVE-1', 'CVE-2', 'CVE-3', 'CVE-4'])).map((v) => v.id).sort(), ['CVE-1', 'CVE-3', 'CVE-4'],
      'CVE-2 named only 3.9 and is gone; CVE-4 still has its 3.8 record');
    assert.deepEqual(await perNamespace(db), { 'alpine:3.8': 2, 'alpine:3.9': 1 });
    const changed = (await db.db.selectFrom('vuln_changes').select(['namespace', 'name']).execute() as { namespace: string; name: string }[])
      .map((c) => `${c.namespace} ${c.name}`).sort();
    assert.deepEqual(changed, ['alpine:3.9 b', 'alpine:3.9 c', 'alpine:3.9 d']);
  } finally {
    await db.close();
  }
});

test('a failed online sync after an import keeps the source ok (its imported data); a failed sync of a synced source is failed', async () => {
  const db = await fresh();
  try {
    await importOk(db, join(SECDB, 'v3.8'));
    const imported = (await db.status()).find((s) => s.source === 'alpine')!;
    await db.recordFailure('alpine', 'sync', 'alpine: GET https://secdb.alpinelinux.org/: connect ECONNREFUSED', new Date(Date.now() + 1000));
    const after = (await db.status()).find((s) => s.source === 'alpine')!;
    assert.deepEqual([after.status, after.kind, after.lastSuccess, after.records], ['ok', 'import', imported.lastSuccess, imported.records]);
    assert.match(after.error!, /ECONNREFUSED/);
    assert.notEqual(after.lastSync, imported.lastSync, 'the attempt is recorded');

    // a source whose data came from an online sync is failed when its sync fails
    await db.apply('kev', { full: true, batches: [{ kev: [{ cve: 'CVE-2024-1', dateAdded: '2024-01-01' }] }] }, { kind: 'sync' });
    await db.recordFailure('kev', 'sync', 'HTTP 503');
    const kev = (await db.status()).find((s) => s.source === 'kev')!;
    assert.deepEqual([kev.status, kev.kind, kev.error], ['failed', 'sync', 'HTTP 503']);
    // and a failed import is failed
    await db.recordFailure('alpine', 'import', 'bad file');
    assert.equal((await db.status()).find((s) => s.source === 'alpine')!.status, 'failed');
  } finally {
    await db.close();
  }
});
