/**
 * Summaries: the per-image views as functions of an SBOM and its matches, and the store's
 * backfill (rows of images from before the table, stale rows, rows of deleted images) and trend
 * on both databases over a real analyzed image.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Severity } from '../feeds/model.js';
import type { Match } from '../vulns/model.js';
import { deb, npm, sbomOf } from '../vulns/testing.js';
import { buildImage } from '../testkit/images.js';
import { pushImage } from '../testkit/registry.js';
import { ADMIN as admin, describeService, seedOpensslAdvisory, waitAnalyzed } from '../testkit/service.js';
import { VulnDb } from '../feeds/vulndb.js';
import { bestCvss } from '../vulns/match.js';
import { SummaryStore } from './summaries.js';
import { countMatches } from './summary-counts.js';
import { diffImages } from '../vulns/diff.js';
import { cleanInstruction, layersOf, packageViews, vulnerabilityViews } from './summary-views.js';

function match(id: string, pkg: ReturnType<typeof deb>, severity: Severity, over: Partial<Match['vulnerability']> = {}): Match {
  return {
    vulnerability: { id, aliases: [], severity, severitySource: 'debian', cvss: [], fixState: 'fixed', fixedVersions: ['9'], references: [], sources: [], ...over },
    package: { name: pkg.name, version: pkg.version, type: pkg.type, purl: pkg.purl, locations: pkg.locations },
    match: { kind: 'distro', namespace: 'debian:12', name: pkg.name, nameKind: 'binary', version: pkg.version, constraint: '< 9', record: `debian:${id}` },
  };
}

describe('summaries: views of one image', () => {
  test('the CVSS shown is the one the matcher rates severity by (NVD v3 before a vendor v4)', () => {
    const pkg = deb('libssl3', '3.0.11-1~deb12u1', 'openssl');
    const cvss = [
      { source: 'vendor', version: '4.0', vector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', baseScore: 9.3 },
      { source: 'nvd', version: '3.1', vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N', baseScore: 5.9 },
    ];
    const [view] = vulnerabilityViews(sbomOf([pkg]), [match('CVE-2024-9', pkg, 'Medium', { cvss })]);
    assert.deepEqual(view!.cvss, { score: 5.9, vector: cvss[1]!.vector, version: '3.1' });
    assert.equal(bestCvss(cvss)?.baseScore, view!.cvss!.score);
  });

  test('instructions as Dockerfile lines', () => {
    assert.equal(cleanInstruction('/bin/sh -c #(nop) ADD file:abc in / '), 'ADD file:abc in /');
    assert.equal(cleanInstruction('/bin/sh -c #(nop)  CMD ["bash"]'), 'CMD ["bash"]');
    assert.equal(cleanInstruction('/bin/sh -c apt-get update && apt-get install -y curl'), 'RUN apt-get update && apt-get install -y curl');
    assert.equal(cleanInstruction('RUN /bin/sh -c make # buildkit'), 'RUN /bin/sh -c make');
    assert.equal(cleanInstruction('COPY . /app'), 'COPY . /app');
  });

  test('layers: history lined up with layers, empty entries skipped; package counts by the layer of their evidence', () => {
    const sbom = sbomOf([deb('a', '1'), deb('b', '1'), npm('left-pad', '1.1.0')]);
    sbom.source.layers = [
      { index: 0, digest: 'sha256:l0', diffId: 'sha256:d0', mediaType: 'x', size: 10, uncompressedSize: 30 },
      { index: 1, digest: 'sha256:l1', diffId: 'sha256:d1', mediaType: 'x', size: 5 },
    ];
    sbom.source.history = [
      { createdBy: '/bin/sh -c #(nop) ADD file:base in /', emptyLayer: false, created: '2024-01-01T00:00:00Z' },
      { createdBy: '/bin/sh -c #(nop) ENV A=1', emptyLayer: true },
      { createdBy: '/bin/sh -c npm i -g left-pad', emptyLayer: false, created: '2024-01-02T00:00:00Z' },
    ];
    assert.deepEqual(layersOf(sbom), [
      { index: 0, digest: 'sha256:l0', size: 30, instruction: 'ADD file:base in /', created: '2024-01-01T00:00:00Z', package_count: 2 },
      { index: 1, digest: 'sha256:l1', size: 5, instruction: 'RUN npm i -g left-pad', created: '2024-01-02T00:00:00Z', package_count: 1 },
    ]);
    const lp = packageViews(sbom).find((p) => p.name === 'left-pad')!;
    assert.deepEqual([lp.layer_index, lp.layer_digest, lp.instruction, lp.locations], [1, 'sha256:l1', 'RUN npm i -g left-pad', ['/app/node_modules/left-pad/package.json']]);

    // History that does not line up: each layer's own createdBy, no creation time.
    sbom.source.history = [];
    sbom.source.layers[1]!.createdBy = 'COPY app /app';
    assert.deepEqual(layersOf(sbom).map((l) => [l.instruction, l.created]), [[null, null], ['COPY app /app', null]]);
  });

  test('counts: every finding but wont-fix, with fixable and KEV', () => {
    const p = deb('libssl3', '1');
    const c = countMatches([
      match('CVE-1', p, 'High', { kev: { dateAdded: '2024-01-01' } }),
      match('CVE-2', p, 'Low', { fixState: 'not-fixed', fixedVersions: [] }),
      match('CVE-3', p, 'Critical', { fixState: 'wont-fix', fixedVersions: [] }),
    ]);
    assert.deepEqual(c, { Critical: 0, High: 1, Medium: 0, Low: 1, Negligible: 0, Unknown: 0, total: 2, fixable: 1, kev: 1 });
  });

  test('compare: versions in each ecosystem\'s order', () => {
    const base = sbomOf([deb('zlib1g', '2.0'), npm('lodash', '4.9.0'), npm('chalk', '5.0.0'), deb('gone', '1')]);
    const target = sbomOf([deb('zlib1g', '1:1.0'), npm('lodash', '4.10.0'), npm('chalk', '4.1.0'), deb('new', '1')]);
    const r = diffImages({ sbom: base, matches: [match('CVE-1', deb('gone', '1'), 'High')] }, { sbom: target, matches: [match('CVE-2', deb('new', '1'), 'Low')] });
    assert.deepEqual(r.packages, {
      added: [{ name: 'new', type: 'deb', version: '1' }],
      removed: [{ name: 'gone', type: 'deb', version: '1' }],
      upgraded: [{ name: 'lodash', type: 'npm', from: '4.9.0', to: '4.10.0' }, { name: 'zlib1g', type: 'deb', from: '2.0', to: '1:1.0' }],
      downgraded: [{ name: 'chalk', type: 'npm', from: '5.0.0', to: '4.1.0' }],
    });
    assert.deepEqual(r.vulnerabilities!.introduced.map((f) => [f.id, f.package_name]), [['CVE-2', 'new']]);
    assert.deepEqual(r.vulnerabilities!.fixed.map((f) => [f.id, f.package_name]), [['CVE-1', 'gone']]);
  });
});

const image = buildImage({ layers: [{ entries: [
  { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
  { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\nSource: openssl\n' },
] }] });

describeService('summaries store', { registry: true, seed: seedOpensslAdvisory }, (h) => {
  const D = image.manifestDigest;
  const fresh = () => new SummaryStore(h().svc.db.kysely, h().svc.catalog, new VulnDb(h().svc.db));
  const rows = async () => h().svc.db.kysely.selectFrom('image_summaries').select(['image_digest', 'high', 'total']).execute();

  before(async () => {
    await pushImage(h().registry!.host, 'app', '1', image);
    assert.equal((await h().api('POST', '/v1/images', { ...admin, body: { tag: `${h().registry!.host}/app:1` } })).status, 200);
    await waitAnalyzed(h().api, D);
  });

  test('rows of images from before the table are built on the first list', async () => {
    const db = h().svc.db.kysely;
    await db.deleteFrom('image_summaries').execute();
    await db.deleteFrom('image_summary_findings').execute();
    await db.deleteFrom('image_summary_backfills').execute(); // a database from before the table has no note of a backfill
    const r = await fresh().list('admin');
    assert.equal(r.total, 1);
    assert.equal(r.items[0]!.imageDigest, D);
    assert.deepEqual([r.items[0]!.vulnerabilities.High, r.items[0]!.vulnerabilities.total, r.items[0]!.package_count], [1, 1, 1]);
    assert.equal((await fresh().list('admin', { vulnerability: 'CVE-2024-0001' })).total, 1);
    assert.equal((await fresh().list('nobody')).total, 0);
  });

  test('the first list notes the backfill in the database: a later process reads that, not every image key', async () => {
    const db = h().svc.db.kysely;
    assert.ok((await db.selectFrom('image_summary_backfills').select('account').execute()).some((r) => r.account === 'admin'));
    // A row missing now (as a failed hook would leave it) is not looked for by a new process's first list ...
    await db.deleteFrom('image_summaries').execute();
    assert.equal((await fresh().list('admin')).total, 0);
    // ... but by the re-match cycle's backfill; without the note, the first list builds it.
    assert.equal(await fresh().backfill({ limit: 500 }), 1);
    assert.equal((await fresh().list('admin')).total, 1);
    await db.deleteFrom('image_summaries').execute();
    await db.deleteFrom('image_summary_backfills').execute();
    assert.equal((await fresh().list('admin')).total, 1);
  });

  test('backfill: missing and stale rows rebuilt, rows of deleted images dropped', async () => {
    const db = h().svc.db.kysely;
    const store = fresh();
    await db.deleteFrom('image_summaries').execute();
    assert.equal(await store.backfill(), 1);
    assert.deepEqual((await rows()).map((r) => [r.image_digest, Number(r.high), Number(r.total)]), [[D, 1, 1]]);
    assert.equal(await store.backfill(), 0);

    await db.updateTable('image_summaries').set({ analyzed_at: null, high: 0, total: 0 }).execute();
    assert.equal(await store.backfill({ account: 'admin' }), 1);
    assert.deepEqual((await rows()).map((r) => [Number(r.high), Number(r.total)]), [[1, 1]]);

    const ghost = `sha256:${'e'.repeat(64)}`;
    await db.insertInto('image_summaries').values({
      account: 'admin', image_digest: ghost, tags: '[]', search: ghost, tag_sort: '',
      critical: 0, high: 0, medium: 0, low: 0, negligible: 0, unknown: 0, total: 0, fixable: 0, kev: 0, created_at: new Date().toISOString(), refreshed_at: new Date().toISOString(),
    }).execute();
    await db.insertInto('image_summary_findings').values({ account: 'admin', image_digest: ghost, vuln_id: 'CVE-1', package_name: 'x' }).execute();
    await store.backfill();
    assert.deepEqual((await rows()).map((r) => r.image_digest), [D]);
    assert.deepEqual(await db.selectFrom('image_summary_findings').select('image_digest').where('image_digest', '=', ghost).execute(), []);
  });

  test('trend: one point per snapshot, oldest first, at most 30', async () => {
    let t = Date.parse('2030-01-01T00:00:00Z');
    const store = new SummaryStore(h().svc.db.kysely, h().svc.catalog, new VulnDb(h().svc.db), { now: () => new Date((t += 1000)) });
    for (let i = 0; i < 32; i++) await store.snapshotTrend();
    const trend = await store.trend('admin');
    assert.equal(trend.length, 30);
    assert.deepEqual(trend.map((p) => p.at), [...trend.map((p) => p.at)].sort());
    assert.equal(trend[29]!.at, new Date(t).toISOString());
    assert.deepEqual({ ...trend[29], at: undefined }, { at: undefined, Critical: 0, High: 1, Medium: 0, Low: 0, Negligible: 0, Unknown: 0, total: 1 });
    const stored = await h().svc.db.kysely.selectFrom('vuln_trend').select('at').where('account', '=', 'admin').execute();
    assert.equal(stored.length, 30);
  });

  test('an image removed from the catalog (as the archive cycle does) takes its row and findings with it', async () => {
    const db = h().svc.db.kysely;
    assert.equal((await rows()).length, 1);
    assert.equal(await h().svc.catalog.deleteImage('admin', D), true);
    assert.deepEqual(await rows(), []);
    assert.deepEqual(await db.selectFrom('image_summary_findings').select('image_digest').execute(), []);
  });
});
