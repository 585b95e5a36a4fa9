/**
 * The composition root's lifecycle wiring: adding, analyzing, importing and deleting an image keep
 * the package index and the summary row in step with the catalog through the stores alone (no
 * refresh call by the caller), on both databases; the index and the row of a stored analysis are
 * written in the transaction that stores it.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Affected, Vulnerability } from '../feeds/model.js';
import { writeNative } from '../sbom/formats/native.js';
import { describeOnDatabases } from '../testkit/databases.js';
import { affected, deb, sbomOf, vuln } from '../vulns/testing.js';
import { importImage } from './imports.js';
import { ImportStore } from '../store/imports.js';
import { composeImageStores, type ImageStores } from './root.js';
import type { PreparedEvent } from '../store/lifecycle.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const tag = (t: string) => ({ registry: 'reg.test', repo: 'team/app', tag: t });

function opensslRecord(): { v: Vulnerability; a: Affected } {
  return {
    v: vuln({ id: 'CVE-2024-1', source: 'debian', severity: 'High' }),
    a: affected({ vulnId: 'CVE-2024-1', name: 'openssl', ranges: [{ introduced: '0', fixed: '3.0.15-1~deb12u1' }], fixedVersions: ['3.0.15-1~deb12u1'], severity: 'High' }),
  };
}

const SBOM_PACKAGES = () => [deb('libssl3', '3.0.11-1~deb12u1', 'openssl'), deb('zlib1g', '1:1.2.13.dfsg-1', 'zlib')];

describeOnDatabases('image lifecycle: index and summary follow the catalog', ({ db }) => {
  let s: ImageStores;

  const indexed = async (account: string, d: string) =>
    (await s.packages.imagesByPackage(account, { name: 'libssl3' })).filter((i) => i.image.imageDigest === d).length;
  const row = (account: string, d: string) =>
    db().kysely.selectFrom('image_summaries').select(['high', 'total', 'package_count', 'tags']).where('account', '=', account).where('image_digest', '=', d).executeTakeFirst();

  before(async () => {
    s = composeImageStores(db());
    const one = opensslRecord();
    await s.vulndb.apply('debian', { full: true, batches: [{ vulnerabilities: [one.v], affected: [one.a] }] }, { kind: 'sync' });
  });

  test('add, analyze, delete: the index and the summary row change with the image', async () => {
    const d = digest('1');
    await s.catalog.addImage('a', { imageDigest: d, tag: tag('v1') });
    assert.deepEqual(await row('a', d), { high: 0, total: 0, package_count: null, tags: '["reg.test/team/app:v1"]' }, 'an added image has its row at once');
    assert.equal(await indexed('a', d), 0);

    assert.equal(await s.catalog.saveAnalysis('a', d, sbomOf(SBOM_PACKAGES(), undefined, d)), true);
    assert.equal(await indexed('a', d), 1, 'the stored analysis is indexed');
    const r = await row('a', d);
    assert.deepEqual([Number(r?.high), Number(r?.total), Number(r?.package_count)], [1, 1, 2], 'and summarized with its findings');

    await s.catalog.addImage('a', { imageDigest: d, tag: tag('v2') });
    assert.equal((await row('a', d))?.tags, '["reg.test/team/app:v1","reg.test/team/app:v2"]', 'a new tag reaches the row');

    assert.equal(await s.catalog.deleteImage('a', d), true);
    assert.equal(await indexed('a', d), 0, 'the index rows go with the image');
    assert.equal(await row('a', d), undefined, 'and so does the row');
  });

  test('an import stores, indexes and summarizes the image in one call', async () => {
    const d = digest('2');
    const imports = new ImportStore(db().kysely);
    const op = await imports.create('a');
    const pkg = await imports.addContent('a', op.uuid, 'packages', Buffer.from(writeNative(sbomOf(SBOM_PACKAGES(), undefined, d))));
    await importImage({ imports, catalog: s.catalog }, 'a', { digest: d, tags: ['reg.test/team/app:imported'], operationUuid: op.uuid, contents: { packages: pkg.digest } });
    assert.equal(await indexed('a', d), 1);
    const r = await row('a', d);
    assert.deepEqual([Number(r?.high), Number(r?.total), Number(r?.package_count)], [1, 1, 2]);
  });

  test('a stored analysis is evaluated with the active bundle, unless auto-evaluation is off', async () => {
    const evals = async (d: string) => (await db().kysely.selectFrom('policy_evals').select('final_action').where('image_digest', '=', d).execute()).map((r) => r.final_action);
    const on = digest('5');
    await s.catalog.addImage('a', { imageDigest: on, tag: tag('evaluated') });
    await s.catalog.saveAnalysis('a', on, sbomOf(SBOM_PACKAGES(), undefined, on));
    assert.deepEqual(await evals(on), ['stop'], 'the default bundle stops a High finding with a fix');
    const off = composeImageStores(db(), { autoEvaluate: false });
    const d = digest('6');
    await off.catalog.addImage('a', { imageDigest: d, tag: tag('not-evaluated') });
    await off.catalog.saveAnalysis('a', d, sbomOf(SBOM_PACKAGES(), undefined, d));
    assert.deepEqual(await evals(d), [], 'analysis.auto_evaluate false: no evaluation until a check');
  });

  test('the index and the row are written in the storing transaction: a failing subscriber stores nothing', async () => {
    const d = digest('3');
    const stores = composeImageStores(db());
    stores.lifecycle.inTransaction('analysisStored', async () => {
      throw new Error('refused');
    });
    await stores.catalog.addImage('b', { imageDigest: d, tag: tag('v3') });
    await assert.rejects(stores.catalog.saveAnalysis('b', d, sbomOf(SBOM_PACKAGES(), undefined, d)), /refused/);
    assert.equal((await stores.catalog.getImage('b', d))?.analysisStatus, 'not_analyzed', 'the analysis was rolled back');
    assert.equal(await stores.catalog.getSbom('b', d), undefined);
    assert.equal((await stores.packages.imagesByPackage('b', { name: 'libssl3' })).length, 0, 'so were its index rows');
    assert.equal(Number((await row('b', d))?.package_count ?? 0), 0, 'and its summary');
  });

  test('after-commit subscribers hear of each change once it is stored; their errors do not undo it', async () => {
    const errors: string[] = [];
    const stores = composeImageStores(db(), { onError: (event, e) => errors.push(`${event}: ${(e as Error).message}`) });
    const heard: string[] = [];
    stores.lifecycle.afterCommit('imageAdded', async (e) => {
      heard.push(`added ${e.account} ${(await stores.catalog.getImage(e.account, e.imageDigest))?.tags.length}`);
      throw new Error('boom');
    });
    stores.lifecycle.afterCommit('imageStatusChanged', async (e) => void heard.push(`status ${e.status}`));
    stores.lifecycle.afterCommit('imageDeleted', async (e) => void heard.push(`deleted ${e.imageDigest === digest('4')}`));
    await stores.catalog.addImage('c', { imageDigest: digest('4'), tag: tag('v4') });
    await stores.catalog.setStatus('c', digest('4'), 'analysis_failed', 'no');
    assert.equal(await stores.catalog.deleteImage('c', digest('4')), true);
    assert.deepEqual(heard, ['added c 1', 'status analysis_failed', 'deleted true']);
    assert.deepEqual(errors, ['imageAdded: boom']);
  });

  test('an image new in the storing transaction is stored without deletes; a re-import, a second analysis and a re-import after a delete give the same rows', async () => {
    const stores = composeImageStores(db());
    const told: boolean[] = [];
    stores.lifecycle.inTransaction('analysisStored', async (_trx, _e, c) => void told.push(c.newImage));
    const imports = new ImportStore(db().kysely);
    const d = digest('7');
    const rows = async () => {
      const n = async (table: 'image_packages' | 'image_summary_findings' | 'finding_images' | 'image_layer_chains' | 'catalog_analyses') =>
        Number((await db().kysely.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('account', '=', 'e').where('image_digest', '=', d).executeTakeFirstOrThrow()).n);
      const [packages, pairs, findings, chains, analyses] = [await n('image_packages'), await n('image_summary_findings'), await n('finding_images'), await n('image_layer_chains'), await n('catalog_analyses')];
      const images = await db().kysely.selectFrom('finding_images as i').innerJoin('finding_image_packages as p', 'p.image_id', 'i.id')
        .select((eb) => eb.fn.countAll().as('n')).where('i.account', '=', 'e').where('i.image_digest', '=', d).executeTakeFirstOrThrow();
      return { packages, pairs, findings, chains, analyses, findingPackages: Number(images.n) };
    };
    const importOnce = async (force: boolean) => {
      const op = await imports.create('e');
      const pkg = await imports.addContent('e', op.uuid, 'packages', Buffer.from(writeNative(sbomOf(SBOM_PACKAGES(), undefined, d))));
      await importImage({ imports, catalog: stores.catalog }, 'e', { digest: d, tags: ['reg.test/team/app:new'], operationUuid: op.uuid, contents: { packages: pkg.digest } }, { force });
      assert.equal((await imports.get('e', op.uuid))?.status, 'complete', 'the operation is complete');
      assert.equal(await imports.content('e', op.uuid, 'packages', pkg.digest), undefined, 'and its uploaded bytes dropped');
      await assert.rejects(importImage({ imports, catalog: stores.catalog }, 'e', { digest: d, tags: ['reg.test/team/app:new'], operationUuid: op.uuid, contents: { packages: pkg.digest } }),
        /complete/, 'a complete operation takes no second image');
    };
    await importOnce(false);
    const first = await rows();
    assert.deepEqual(first, { ...first, packages: 2, findings: 1, analyses: 1, findingPackages: 2 }, 'the import wrote every derived row once');
    assert.equal(first.pairs, 1, 'one summary pair: CVE-2024-1 of libssl3');
    await importOnce(true);
    assert.deepEqual(await rows(), first, 'a forced re-import replaced them (deletes ran: the image was not new)');
    assert.equal(await stores.catalog.saveAnalysis('e', d, sbomOf(SBOM_PACKAGES(), undefined, d)), true);
    assert.deepEqual(await rows(), first, 'so did a second analysis in its own transaction');
    assert.equal(await stores.catalog.deleteImage('e', d), true);
    assert.deepEqual(await rows(), { packages: 0, pairs: 0, findings: 0, chains: 0, analyses: 0, findingPackages: 0 });
    await importOnce(false);
    assert.deepEqual(await rows(), first, 'a re-import after the delete is new again and writes the same rows');
    assert.deepEqual(told, [true, false, false, true], 'newImage: only where this transaction inserted the image row');
  });

  test('an image inserted and analyzed twice in one transaction is new to the first analysis only', async () => {
    const stores = composeImageStores(db());
    const told: boolean[] = [];
    stores.lifecycle.inTransaction('analysisStored', async (_trx, _e, c) => void told.push(c.newImage));
    const d = digest('8');
    const sboms = [sbomOf(SBOM_PACKAGES(), undefined, d), sbomOf(SBOM_PACKAGES(), undefined, d)];
    const prepared: PreparedEvent<'analysisStored'>[] = [];
    for (const sbom of sboms) prepared.push(await stores.lifecycle.prepare('analysisStored', { account: 'e', imageDigest: d, sbom }));
    await stores.catalog.transaction(async (c) => {
      await c.recordImage('e', { imageDigest: d, tag: tag('twice') });
      for (const [i, sbom] of sboms.entries()) assert.equal(await c.saveAnalysis('e', d, sbom, undefined, prepared[i]), true);
    });
    assert.deepEqual(told, [true, false]);
    const packages = await db().kysely.selectFrom('image_packages').select('name').where('account', '=', 'e').where('image_digest', '=', d).orderBy('name').execute();
    assert.deepEqual(packages.map((r) => r.name), ['libssl3', 'zlib1g'], 'the second analysis replaced the first one\'s index rows');
    const pairs = await db().kysely.selectFrom('image_summary_findings').select('vuln_id').where('account', '=', 'e').where('image_digest', '=', d).execute();
    assert.deepEqual(pairs.map((r) => r.vuln_id), ['CVE-2024-1']);
  });
});
