import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnDatabases } from '../testkit/databases.js';
import { VulnDb } from '../feeds/vulndb.js';
import type { Affected, Vulnerability } from '../feeds/model.js';
import { CatalogStore } from '../store/catalog.js';
import { Rematcher, diffSummaries, type ImageDiff, type VulnSummary } from './rematch.js';
import { DEBIAN_12, affected, deb, npm, sbomOf, vuln } from '../vulns/testing.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const A = digest('a');
const B = digest('b');
const C = digest('c');

function debianRecord(id: string, fixed: string, severity: Vulnerability['severity'] = 'High'): { v: Vulnerability; a: Affected } {
  return {
    v: vuln({ id, source: 'debian', severity }),
    a: affected({ vulnId: id, name: 'openssl', ranges: [{ introduced: '0', fixed }], fixedVersions: [fixed], severity }),
  };
}

const ids = (list: VulnSummary[]) => list.map((s) => `${s.CVE_ID} ${s.Package_Name}`).sort();

describeOnDatabases('re-matching stored images after feed updates', ({ db }) => {
  let vdb: VulnDb;
  let catalog: CatalogStore;
  let diffs: ImageDiff[] = [];
  let rematcher: Rematcher;
  const byImage = () => Object.fromEntries(diffs.map((d) => [`${d.account} ${d.imageDigest.slice(7, 8)}`, d.diff]));

  before(async () => {
    vdb = new VulnDb(db());
    catalog = new CatalogStore(db().kysely);
    rematcher = new Rematcher(db().kysely, vdb, { onDiff: async (d) => { diffs.push(d); } });
    const one = debianRecord('CVE-2024-1', '3.0.15-1~deb12u1');
    await vdb.apply('debian', { full: true, batches: [{ vulnerabilities: [one.v], affected: [one.a] }] }, { kind: 'sync' });
    const images: [string, string, ReturnType<typeof sbomOf>][] = [
      ['acme', A, sbomOf([deb('libssl3', '3.0.11-1~deb12u1', 'openssl'), npm('lodash', '4.17.20')], DEBIAN_12, A)],
      ['acme', B, sbomOf([deb('zlib1g', '1:1.2.13.dfsg-1', 'zlib')], DEBIAN_12, B)],
      ['other', C, sbomOf([deb('libssl3', '3.0.11-1~deb12u1', 'openssl')], DEBIAN_12, C)],
    ];
    for (const [account, d, sbom] of images) {
      await catalog.addImage(account, { imageDigest: d, tag: { registry: 'example.com', repo: 'app', tag: d.slice(7, 8) } });
      await catalog.saveAnalysis(account, d, sbom);
      await rematcher.indexImage(account, d, sbom);
    }
    // The log holds the first sync; the baselines already include it: nothing to report.
    const first = await rematcher.rematch();
    assert.equal(first.changed, 0);
    assert.deepEqual(diffs, []);
  });

  test('the baseline is the image\'s current findings', async () => {
    assert.deepEqual(ids((await rematcher.results('acme', A))!), ['CVE-2024-1 libssl3']);
    assert.deepEqual(await rematcher.results('acme', B), []);
  });

  test('a new record reaches exactly the images that have the package, in every account', async () => {
    diffs = [];
    const two = debianRecord('CVE-2024-2', '3.0.16-1~deb12u1', 'Medium');
    await vdb.apply('debian', { full: false, batches: [{ vulnerabilities: [two.v], affected: [two.a] }] }, { kind: 'sync' });
    const r = await rematcher.rematch();
    assert.equal(r.images, 2, 'zlib image untouched');
    assert.equal(r.changed, 2);
    const d = byImage();
    assert.deepEqual(Object.keys(d).sort(), ['acme a', 'other c']);
    assert.deepEqual(ids(d['acme a']!.added), ['CVE-2024-2 libssl3']);
    assert.deepEqual([d['acme a']!.updated, d['acme a']!.removed], [[], []]);
    assert.equal(d['acme a']!.added[0]!.Severity, 'Medium');
    assert.equal(d['acme a']!.added[0]!.Fix_Available, '3.0.16-1~deb12u1');
    // nothing new: nothing to do
    assert.equal((await rematcher.rematch()).changes, 0);
  });

  test('a changed severity is an update; a withdrawn record is a removal; other findings stay', async () => {
    const lodash = { v: vuln({ id: 'GHSA-x', source: 'ghsa', severity: 'Critical' }), a: affected({ vulnId: 'GHSA-x', source: 'ghsa', namespace: 'npm', name: 'lodash', nameKind: 'binary', scheme: 'semver', ranges: [{ introduced: '0', fixed: '4.17.21' }], fixedVersions: ['4.17.21'], severity: 'Critical' }) };
    await vdb.apply('ghsa', { full: true, batches: [{ vulnerabilities: [lodash.v], affected: [lodash.a] }] }, { kind: 'sync' });
    diffs = [];
    let r = await rematcher.rematch();
    assert.equal(r.images, 1);
    assert.deepEqual(ids(byImage()['acme a']!.added), ['GHSA-x lodash']);
    assert.deepEqual(ids((await rematcher.results('acme', A))!), ['CVE-2024-1 libssl3', 'CVE-2024-2 libssl3', 'GHSA-x lodash']);

    const one = debianRecord('CVE-2024-1', '3.0.15-1~deb12u1', 'Critical');
    diffs = [];
    await vdb.apply('debian', { full: true, batches: [{ vulnerabilities: [one.v], affected: [one.a] }] }, { kind: 'sync' });
    r = await rematcher.rematch();
    const d = byImage()['acme a']!;
    assert.deepEqual(ids(d.updated), ['CVE-2024-1 libssl3']);
    assert.equal(d.updated[0]!.Severity, 'Critical');
    assert.deepEqual(ids(d.removed), ['CVE-2024-2 libssl3']);
    assert.deepEqual(d.added, []);
    assert.deepEqual(ids((await rematcher.results('acme', A))!), ['CVE-2024-1 libssl3', 'GHSA-x lodash']);
  });

  test('diffSummaries compares by identity and reports field changes as updates', () => {
    const s = (id: string, sev: string, fix = 'None'): VulnSummary => ({
      CVE_ID: id, Severity: sev, Vulnerable_Package: 'p-1', Fix_Available: fix, URL: 'u', Package_Name: 'p', Package_Version: '1',
      Package_Type: 'deb', Package_Path: '/x', Feed: 'vulnerabilities', Feed_Group: 'debian:12',
    });
    const d = diffSummaries([s('A', 'High'), s('B', 'Low')], [s('A', 'High', '2'), s('C', 'Low')]);
    assert.deepEqual([ids(d.added), ids(d.updated), ids(d.removed)], [['C p'], ['A p'], ['B p']]);
  });
});
