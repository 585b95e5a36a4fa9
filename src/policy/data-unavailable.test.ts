/**
 * The default bundle's vulnerability_data_unavailable WARN fires only when the database really has
 * no data for the image's release (issue 17, item 2): a real SQLite vulnerability database.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openVulnDb } from '../store/db.js';
import type { VulnDb } from '../feeds/vulndb.js';
import { scanSbom } from '../vulns/scan.js';
import { affected, deb, sbomOf, vuln } from '../vulns/testing.js';
import { loadBundle } from './bundle.js';
import { DEFAULT_BUNDLE } from './default-bundle.js';
import { evaluateBundle } from './evaluate.js';
import { checkRows } from './result.js';

let dir: string;
let db: VulnDb;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-data-unavailable-'));
  db = await openVulnDb(join(dir, 'v.db'));
  await db.apply('debian', { full: true, batches: [{ vulnerabilities: [vuln({ id: 'CVE-2024-4001', source: 'debian' })],
    affected: [affected({ vulnId: 'CVE-2024-4001', name: 'openssl', fixedVersions: ['3.0.13-1'] })] }] }, { kind: 'import' });
});
after(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

async function triggers(distroVersion: string): Promise<{ warnings: string[]; triggers: string[] }> {
  const sbom = sbomOf([deb('base-files', `${distroVersion}.4`, undefined, undefined, `debian-${distroVersion}`)],
    { id: 'debian', versionId: distroVersion, idLike: [], source: '/etc/os-release' });
  const scan = await scanSbom(sbom, db, { input: 'x' });
  const e = evaluateBundle(loadBundle(DEFAULT_BUNDLE), { sbom, scan }, { tag: 'docker.io/library/app:1', now: new Date() });
  return { warnings: scan.warnings, triggers: checkRows(e).map((r) => `${r[3]}/${r[4]}`) };
}

test('debian:12 is in the database, no package of the image is named: no "no data" warning, no WARN', async () => {
  const r = await triggers('12');
  assert.deepEqual(r.warnings, []);
  assert.ok(!r.triggers.includes('vulnerabilities/vulnerability_data_unavailable'), r.triggers.join(', '));
});

test('debian:13 is not in the database: the warning and the WARN', async () => {
  const r = await triggers('13');
  assert.deepEqual(r.warnings, ['no vulnerability data for debian:13 (unsupported or end-of-life release?)']);
  assert.ok(r.triggers.includes('vulnerabilities/vulnerability_data_unavailable'), r.triggers.join(', '));
});
