/**
 * Re-matching stored images after feed updates (services/freshness.ts over store/findings.ts):
 * only the images holding a changed package, in every account, with the vuln_update diffs.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnDatabases } from '../testkit/databases.js';
import type { Affected, Vulnerability } from '../feeds/model.js';
import type { FindingSummary, ImageFindingDiff } from '../store/findings.js';
import { indexMissingImages, rematchFindings } from './freshness.js';
import { composeImageStores, type ImageStores } from './root.js';
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

type ImageDiff = { account: string; imageDigest: string; diff: Pick<ImageFindingDiff, 'added' | 'updated' | 'removed'> };
const ids = (list: FindingSummary[]) => list.map((s) => `${s.CVE_ID} ${s.Package_Name}`).sort();

describeOnDatabases('re-matching stored images after feed updates', ({ db }) => {
  let stores: ImageStores;
  let diffs: ImageDiff[] = [];
  const rematch = () => rematchFindings(stores);
  const byImage = () => Object.fromEntries(diffs.map((d) => [`${d.account} ${d.imageDigest.slice(7, 8)}`, d.diff]));

  before(async () => {
    stores = composeImageStores(db());
    const { catalog } = stores;
    stores.lifecycle.afterCommit('findingsChanged', async (d) => { diffs.push(d as ImageDiff); });
    const one = debianRecord('CVE-2024-1', '3.0.15-1~deb12u1');
    await stores.vulndb.apply('debian', { full: true, batches: [{ vulnerabilities: [one.v], affected: [one.a] }] }, { kind: 'sync' });
    const images: [string, string, ReturnType<typeof sbomOf>][] = [
      ['acme', A, sbomOf([deb('libssl3', '3.0.11-1~deb12u1', 'openssl'), npm('lodash', '4.17.20')], DEBIAN_12, A)],
      ['acme', B, sbomOf([deb('zlib1g', '1:1.2.13.dfsg-1', 'zlib')], DEBIAN_12, B)],
      ['other', C, sbomOf([deb('libssl3', '3.0.11-1~deb12u1', 'openssl')], DEBIAN_12, C)],
    ];
    for (const [account, d, sbom] of images) {
      await catalog.addImage(account, { imageDigest: d, tag: { registry: 'example.com', repo: 'app', tag: d.slice(7, 8) } });
      await catalog.saveAnalysis(account, d, sbom);
    }
    // The log holds the first sync; the baselines already include it: nothing to report.
    const first = await rematch();
    assert.equal(first.announced, 0);
    assert.deepEqual(diffs, []);
  });

  test('the baseline is the image\'s current findings', async () => {
    assert.deepEqual(ids(await stores.findings.findingsOf('acme', A)), ['CVE-2024-1 libssl3']);
    assert.deepEqual(await stores.findings.findingsOf('acme', B), []);
  });

  test('a new record reaches exactly the images that have the package, in every account', async () => {
    diffs = [];
    const two = debianRecord('CVE-2024-2', '3.0.16-1~deb12u1', 'Medium');
    await stores.vulndb.apply('debian', { full: false, batches: [{ vulnerabilities: [two.v], affected: [two.a] }] }, { kind: 'sync' });
    const r = await rematch();
    assert.equal(r.images, 2, 'zlib image untouched');
    assert.equal(r.announced, 2, 'two images\' changes announced');
    const d = byImage();
    assert.deepEqual(Object.keys(d).sort(), ['acme a', 'other c']);
    assert.deepEqual(ids(d['acme a']!.added), ['CVE-2024-2 libssl3']);
    assert.deepEqual([d['acme a']!.updated, d['acme a']!.removed], [[], []]);
    assert.equal(d['acme a']!.added[0]!.Severity, 'Medium');
    assert.equal(d['acme a']!.added[0]!.Fix_Available, '3.0.16-1~deb12u1');
    // nothing new: nothing to do
    assert.equal((await rematch()).changes, 0);
  });

  test('a changed severity is an update; a withdrawn record is a removal; other findings stay', async () => {
    const lodash = { v: vuln({ id: 'GHSA-x', source: 'ghsa', severity: 'Critical' }), a: affected({ vulnId: 'GHSA-x', source: 'ghsa', namespace: 'npm', name: 'lodash', nameKind: 'binary', scheme: 'semver', ranges: [{ introduced: '0', fixed: '4.17.21' }], fixedVersions: ['4.17.21'], severity: 'Critical' }) };
    await stores.vulndb.apply('ghsa', { full: true, batches: [{ vulnerabilities: [lodash.v], affected: [lodash.a] }] }, { kind: 'sync' });
    diffs = [];
    assert.equal((await rematch()).images, 1);
    assert.deepEqual(ids(byImage()['acme a']!.added), ['GHSA-x lodash']);
    assert.deepEqual(ids(await stores.findings.findingsOf('acme', A)), ['CVE-2024-1 libssl3', 'CVE-2024-2 libssl3', 'GHSA-x lodash']);

    const one = debianRecord('CVE-2024-1', '3.0.15-1~deb12u1', 'Critical');
    diffs = [];
    await stores.vulndb.apply('debian', { full: true, batches: [{ vulnerabilities: [one.v], affected: [one.a] }] }, { kind: 'sync' });
    await rematch();
    const d = byImage()['acme a']!;
    assert.deepEqual(ids(d.updated), ['CVE-2024-1 libssl3']);
    assert.equal(d.updated[0]!.Severity, 'Critical');
    assert.deepEqual(ids(d.removed), ['CVE-2024-2 libssl3']);
    assert.deepEqual(d.added, []);
    assert.deepEqual(ids(await stores.findings.findingsOf('acme', A)), ['CVE-2024-1 libssl3', 'GHSA-x lodash']);
  });
  test('the re-match rebuilds the changed images\' finding pairs in its own transaction, equal to a recomputation', async () => {
    const pairs = async () => (await db().kysely.selectFrom('image_summary_findings').select(['account', 'image_digest', 'vuln_id', 'package_name']).execute())
      .map((r) => `${r.account} ${r.image_digest.slice(7, 8)} ${r.vuln_id} ${r.package_name}`).sort();
    const dsa = { v: vuln({ id: 'DSA-9', source: 'debian', severity: 'Low', aliases: ['cve-2024-9'] }), a: affected({ vulnId: 'DSA-9', name: 'openssl', ranges: [{ introduced: '0', fixed: '3.0.99-1' }], fixedVersions: ['3.0.99-1'] }) };
    await stores.vulndb.apply('debian', { full: false, batches: [{ vulnerabilities: [dsa.v], affected: [dsa.a] }] }, { kind: 'sync' });
    // The store alone, no lifecycle subscriber: the pairs must come from the re-match's transaction.
    await stores.findings.rematch({ summaries: true });
    const after = await pairs();
    for (const p of ['acme a DSA-9 libssl3', 'acme a CVE-2024-9 libssl3', 'other c DSA-9 libssl3', 'other c CVE-2024-9 libssl3', 'acme a GHSA-X lodash']) assert.ok(after.includes(p), `${p} in ${after.join(', ')}`);
    for (const [account, d] of [['acme', A], ['acme', B], ['other', C]] as const) await stores.summaries.refresh(account, d);
    assert.deepEqual(await pairs(), after, 'a recomputation from each image\'s scan finds the same pairs');
    assert.deepEqual((await stores.summaries.list('acme', { vulnerability: 'cve-2024-9' })).items.map((i) => i.imageDigest), [A]);
  });
  test('pairs follow a record whose aliases alone change, and stay when only its severity and fix change', async () => {
    const pairs = async () => (await db().kysely.selectFrom('image_summary_findings').select(['account', 'image_digest', 'vuln_id', 'package_name']).execute())
      .map((r) => `${r.account} ${r.image_digest.slice(7, 8)} ${r.vuln_id} ${r.package_name}`).sort();
    const dsa = (aliases: string[], severity: Vulnerability['severity'], fixed: string) => ({
      v: vuln({ id: 'DSA-9', source: 'debian', severity, aliases }),
      a: affected({ vulnId: 'DSA-9', name: 'openssl', ranges: [{ introduced: '0', fixed }], fixedVersions: [fixed], severity }),
    });
    const apply = async (d: ReturnType<typeof dsa>) => {
      await stores.vulndb.apply('debian', { full: false, batches: [{ vulnerabilities: [d.v], affected: [d.a] }] }, { kind: 'sync' });
      await stores.findings.rematch({ summaries: true });
    };
    const recomputed = async () => {
      const kept = await pairs();
      for (const [account, d] of [['acme', A], ['acme', B], ['other', C]] as const) await stores.summaries.refresh(account, d);
      return { kept, recomputed: await pairs() };
    };
    await apply(dsa(['cve-2024-9', 'CVE-2024-10'], 'Low', '3.0.99-1'));
    const aliased = await recomputed();
    assert.deepEqual(aliased.kept, aliased.recomputed);
    assert.ok(aliased.kept.includes('acme a CVE-2024-10 libssl3'), aliased.kept.join(', '));
    await apply(dsa(['cve-2024-9', 'CVE-2024-10'], 'Critical', '3.0.98-1'));
    const moved = await recomputed();
    assert.deepEqual(moved.kept, moved.recomputed);
    assert.deepEqual(moved.kept, aliased.kept, 'a new severity and fix leave the pairs as they were');
    assert.equal((await stores.summaries.list('acme', { vulnerability: 'cve-2024-10' })).total, 1);
  });
  test('a CVE added to the KEV catalogue moves the KEV counts of the images with it, in the engine and the summary rows', async () => {
    const kev = async () => (await db().kysely.selectFrom('image_summaries').select(['image_digest', 'kev']).orderBy('image_digest').execute()).map((r) => Number(r.kev));
    const known = debianRecord('CVE-2024-0042', '3.0.99-1');
    await stores.vulndb.apply('debian', { full: false, batches: [{ vulnerabilities: [known.v], affected: [known.a] }] }, { kind: 'sync' });
    await rematch();
    assert.deepEqual(await kev(), [0, 0, 0]);
    await stores.vulndb.apply('kev', { full: true, batches: [{ kev: [{ cve: 'CVE-2024-0042', dateAdded: '2024-01-01' }] }] }, { kind: 'sync' });
    const r = await rematch();
    assert.equal(r.images, 2);
    assert.deepEqual(await kev(), [1, 0, 1], 'A and C hold openssl');
    assert.equal((await stores.findings.counts('acme', A))?.kev, 1);
    assert.deepEqual(await stores.findings.verify(), []);
  });

  test('images without engine rows (stored before it) are all indexed in one run, page after page', async () => {
    const before = await Promise.all([['acme', A], ['acme', B], ['other', C]].map(([a, d]) => stores.findings.counts(a!, d!)));
    await db().kysely.deleteFrom('finding_image_packages').execute();
    await db().kysely.deleteFrom('finding_images').execute();
    assert.equal(await indexMissingImages(stores, { page: 1 }), 3, 'one image per page, every page in the one run');
    assert.deepEqual(await Promise.all([['acme', A], ['acme', B], ['other', C]].map(([a, d]) => stores.findings.counts(a!, d!))), before);
    assert.deepEqual(await stores.findings.verify(), []);
    assert.equal(await indexMissingImages(stores, { page: 1 }), 0);
  });
});
