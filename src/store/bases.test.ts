/**
 * Base images in the catalog (store/bases.ts through the composition root's lifecycle wiring), over
 * real analyses of fixture images (analyze/testing-bases.ts): a base analyzed after the image built
 * on it becomes its base, a longer prefix replaces a shorter one, a deleted base gives way to the
 * next, the OCI annotations name a base, reports mark inherited findings, and every newly analyzed
 * image gets a verdict from the active bundle.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { analyzed, baseFixtures, baseFixtureVulnData } from '../analyze/testing-bases.js';
import { BASE_DIGEST_ANNOTATION, BASE_NAME_ANNOTATION } from '../sbom/base.js';
import type { Sbom } from '../sbom/model.js';
import { composeImageStores, type ImageStores } from '../services/root.js';
import { adviseCheck, baseAdviceOf } from '../services/check.js';
import { describeOnDatabases } from '../testkit/databases.js';
import type { RebuildAdvice } from '../policy/index.js';
import { scanSbom } from '../vulns/scan.js';

let os: Sbom, tools: Sbom, app: Sbom, other: Sbom, annotated: Sbom, osNewer: Sbom;
const digest = (s: Sbom) => s.source.manifestDigest!;

before(async () => {
  const f = baseFixtures();
  [os, tools, app, other, osNewer] = await Promise.all([analyzed(f.os, 'os'), analyzed(f.tools, 'tools'), analyzed(f.app, 'app'), analyzed(f.other, 'other'), analyzed(f.osNewer, 'os')]);
  const named = baseFixtures({ [BASE_NAME_ANNOTATION]: 'reg.test/other:1', [BASE_DIGEST_ANNOTATION]: digest(other) });
  annotated = await analyzed(named.app, 'annotated');
});

describeOnDatabases('base images of the catalog', ({ db }) => {
  let s: ImageStores;
  const store = async (account: string, sbom: Sbom, repo: string) => {
    await s.catalog.addImage(account, { imageDigest: digest(sbom), tag: { registry: 'reg.test', repo, tag: '1' } });
    assert.equal(await s.catalog.saveAnalysis(account, digest(sbom), sbom), true);
  };
  const baseOf = async (account: string, sbom: Sbom) => {
    const b = await s.bases.get(account, digest(sbom));
    return b && { digest: b.digest, tag: b.tag, sharedLayers: b.sharedLayers, source: b.source };
  };

  before(async () => {
    s = composeImageStores(db());
    await s.vulndb.apply('debian', { full: true, batches: [baseFixtureVulnData()] }, { kind: 'sync' });
  });

  test('a base analyzed after the image becomes its base; a longer prefix replaces it; deleting it gives way to the next', async () => {
    await store('a', app, 'app');
    assert.equal(await baseOf('a', app), undefined, 'no base stored yet');
    await store('a', os, 'os');
    assert.deepEqual(await baseOf('a', app), { digest: digest(os), tag: 'reg.test/os:1', sharedLayers: 1, source: 'layers' });
    await store('a', other, 'other');
    assert.equal((await baseOf('a', app))?.digest, digest(os), 'an unrelated image changes nothing');
    await store('a', tools, 'tools');
    assert.deepEqual(await baseOf('a', app), { digest: digest(tools), tag: 'reg.test/tools:1', sharedLayers: 2, source: 'layers' }, 'the longer prefix wins');
    assert.equal((await baseOf('a', tools))?.digest, digest(os), 'tools is built on os');
    assert.equal(await baseOf('b', app), undefined, 'bases are per account');

    const scan = await s.reports.scan({ account: 'a', imageDigest: digest(app) }, async () => app);
    const flags = Object.fromEntries((scan?.matches ?? []).map((m) => [`${m.package.name} ${m.vulnerability.id}`, m.inheritedFromBase]));
    assert.deepEqual(flags, { 'libc6 CVE-2024-2': true, 'zlib1g CVE-2024-1': false }, 'libc6 came from the base; zlib1g was upgraded in the app layer');

    assert.equal(await s.catalog.deleteImage('a', digest(tools)), true);
    assert.deepEqual(await baseOf('a', app), { digest: digest(os), tag: 'reg.test/os:1', sharedLayers: 1, source: 'layers' }, 'back to the next longest prefix');
    assert.equal(await baseOf('a', tools), undefined);
  });

  test('an image stored before its base is found from either side, also when the base comes first', async () => {
    await store('c', os, 'os');
    await store('c', app, 'app');
    assert.equal((await baseOf('c', app))?.sharedLayers, 1);
  });

  test('the OCI annotations name the base when no stored image is a layer prefix', async () => {
    await store('d', other, 'other');
    await store('d', annotated, 'annotated');
    assert.deepEqual(await baseOf('d', annotated), { digest: digest(other), tag: 'reg.test/other:1', sharedLayers: 0, source: 'annotation' });
    const scan = await s.reports.scan({ account: 'd', imageDigest: digest(annotated) }, async () => annotated);
    assert.ok(scan?.matches.length && scan.matches.every((m) => m.inheritedFromBase === false), 'no shared layers: nothing is inherited');
  });

  test('every newly analyzed image gets a verdict from the active bundle', async () => {
    await store('e', app, 'app');
    const evaluations = await db().kysely.selectFrom('policy_evals').select(['image_digest', 'tag', 'final_action']).where('account', '=', 'e').execute();
    assert.deepEqual(evaluations.map((e) => [e.image_digest, e.tag]), [[digest(app), 'reg.test/app:1']]);
    const row = await db().kysely.selectFrom('image_summaries').select('verdict').where('account', '=', 'e').where('image_digest', '=', digest(app)).executeTakeFirst();
    assert.ok(row?.verdict, `the summary row shows a verdict (${row?.verdict})`);
  });

  test('a newer digest of the base\'s tag in the catalog: check advice says to rebuild on it, listing the inherited findings it removes', async () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const ticking = composeImageStores(db(), { now: () => new Date((t += 1000)) });
    const add = async (sbom: Sbom, repo: string) => {
      await ticking.catalog.addImage('f', { imageDigest: digest(sbom), tag: { registry: 'reg.test', repo, tag: '1' } });
      assert.equal(await ticking.catalog.saveAnalysis('f', digest(sbom), sbom), true);
    };
    await add(os, 'os');
    await add(app, 'app');
    assert.deepEqual((await ticking.bases.withNewerDigests('f', digest(app)))?.newer, [], 'no newer digest of reg.test/os:1 yet');
    await add(osNewer, 'os');
    const found = await ticking.bases.withNewerDigests('f', digest(app));
    assert.deepEqual(found?.newer.map((n) => [n.tag, n.digest]), [['reg.test/os:1', digest(osNewer)]]);
    assert.equal(found?.base.digest, digest(os), 'the base is still the analyzed image whose layers app is built on');

    await ticking.policies.ensureDefaultBundle('f');
    const scan = await ticking.reports.scan({ account: 'f', imageDigest: digest(app) }, async () => app);
    const rescan = (sbom: Sbom) => scanSbom(sbom, ticking.vulndb, { input: 'test' });
    const advice = await adviseCheck(ticking.policies, 'f', { imageDigest: digest(app), tag: 'reg.test/app:1', sbom: app, scan }, rescan, baseAdviceOf(found));
    assert.deepEqual(advice.entries.map((e) => e.kind), ['rebuild-base', 'upgrade'], JSON.stringify(advice.entries));
    const r = advice.entries[0] as RebuildAdvice;
    assert.deepEqual(r.to, { tag: 'reg.test/os:1', digest: digest(osNewer) });
    assert.deepEqual(r.fixed, [{ vulnerability: 'CVE-2024-2', package: 'libc6', version: '2.36-9', to: '2.36-10' }], 'libc6 is inherited; zlib1g is the image\'s own');
    assert.equal(r.inherited_findings, 1);
    assert.equal(advice.entries[1]?.kind === 'upgrade' && advice.entries[1].package.name, 'zlib1g');
    assert.equal(advice.status_after, 'pass');
  });
});
