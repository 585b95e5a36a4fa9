import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from './db.js';
import { migrateToLatest } from './migrate.js';
import { sbomOf } from '../vulns/testing.js';
import { CatalogStore } from './catalog.js';

const D1 = `sha256:${'1'.repeat(64)}`;

test('catalog: account-scoped images and tags, compressed analysis', async () => {
  const db = await openDatabase(':memory:');
  try {
    await migrateToLatest(db.kysely);
    const c = new CatalogStore(db.kysely);
    const tag = { registry: 'reg.test', repo: 'team/app', tag: 'v1' };
    const first = await c.addImage('a', { imageDigest: D1, imageId: 'f'.repeat(64), tag, annotations: { k: 'v' } });
    assert.equal(first.needsAnalysis, true);
    assert.equal(first.image.analysisStatus, 'not_analyzed');
    assert.deepEqual(first.image.tags.map((t) => t.fulltag), ['reg.test/team/app:v1']);
    assert.equal((await c.addImage('a', { imageDigest: D1, tag })).needsAnalysis, true, 'still not analyzed: queue again (deduped by the queue)');
    assert.equal(await c.getImage('b', D1), undefined);
    assert.deepEqual(await c.listImages('b'), []);

    const sbom = sbomOf([]);
    assert.equal(await c.saveAnalysis('a', D1, sbom), true);
    const img = (await c.getImage('a', D1))!;
    assert.equal(img.analysisStatus, 'analyzed');
    assert.ok(img.metadata);
    assert.deepEqual(await c.getSbom('a', D1), JSON.parse(JSON.stringify(sbom)));
    assert.equal((await c.addImage('a', { imageDigest: D1, tag })).needsAnalysis, false);
    assert.equal((await c.addImage('a', { imageDigest: D1, tag, force: true })).needsAnalysis, true);
    assert.equal(await c.saveAnalysis('b', D1, sbom), false, 'no image of account b');

    assert.equal((await c.listImages('a', { fulltag: 'reg.test/team/app:v1' })).length, 1);
    assert.equal((await c.listImages('a', { fulltag: 'reg.test/team/app:v2' })).length, 0);
    assert.equal((await c.listImages('a', { analysisStatus: 'analyzed' })).length, 0);

    assert.equal(await c.deleteImage('b', D1), false);
    assert.equal(await c.deleteImage('a', D1), true);
    assert.equal(await c.getSbom('a', D1), undefined);
  } finally {
    await db.close();
  }
});
