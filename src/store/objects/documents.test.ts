/**
 * Analysis documents in object stores, on both databases: the catalog writes them to the
 * configured store and removes what it replaces or deletes; a missing or corrupt document is an
 * error naming the image; `migrateDocuments` moves every one db → dir → s3 → db and back, checked,
 * and finishes after an interruption without leaving unused objects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CatalogStore } from '../catalog.js';
import { describeOnDatabases } from '../../testkit/databases.js';
import { deb, sbomOf } from '../../vulns/testing.js';
import { AnalysisDocuments } from './documents.js';
import { DEFAULT_OBJECT_STORE, ObjectStores } from './index.js';
import { documentCounts, migrateDocuments, verifyDocuments } from './migrate.js';
import { startLocalS3 } from './testing-s3.js';
import type { ObjectStoreConfig, ObjectStoreName } from './types.js';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const sbom = (n: number, version = '1.0') => sbomOf([deb(`pkg${n}`, version), deb('bash', '5.2-1')], undefined, digest(n));

async function files(dir: string): Promise<string[]> {
  const all = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return all.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

describeOnDatabases('analysis documents in object stores', (t) => {
  let work = '';
  const stores = (driver: ObjectStoreName, extra: Partial<ObjectStoreConfig> = {}) =>
    new ObjectStores({ ...DEFAULT_OBJECT_STORE, driver, ...extra }, { dataDir: work, env: {} });
  const catalogWith = (s: ObjectStores) => new CatalogStore(t.db().kysely, { documents: new AnalysisDocuments(s) });
  const row = (account: string, n: number) => t.db().kysely.selectFrom('catalog_analyses').selectAll().where('account', '=', account).where('image_digest', '=', digest(n)).executeTakeFirstOrThrow();

  async function addAnalyzed(catalog: CatalogStore, account: string, n: number): Promise<void> {
    await catalog.addImage(account, { imageDigest: digest(n), tag: { registry: 'reg.example', repo: 'app', tag: `v${n}` } });
    assert.equal(await catalog.saveAnalysis(account, digest(n), sbom(n)), true);
  }

  test('dir: saved there, read back, replaced and deleted objects removed', async () => {
    work = await mkdtemp(join(tmpdir(), 'lading-docs-'));
    const catalog = catalogWith(stores('dir'));
    await addAnalyzed(catalog, 'dir-a', 1);
    const r = await row('dir-a', 1);
    assert.equal(r.store, 'dir');
    assert.equal(Buffer.from(r.sbom_gz).length, 0);
    assert.match(r.object_key!, /^analyses\/dir-a\/sha256%3A0{63}1\/[0-9a-f]{64}$/);
    assert.deepEqual(await files(join(work, 'objects')), [join(work, 'objects', ...r.object_key!.split('/'))]);
    assert.deepEqual(await catalog.getSbom('dir-a', digest(1)), sbom(1));

    await catalog.saveAnalysis('dir-a', digest(1), sbom(1)); // the same document again: the same object
    assert.equal((await files(join(work, 'objects'))).length, 1);
    await catalog.saveAnalysis('dir-a', digest(1), sbom(1, '2.0'));
    const replaced = await row('dir-a', 1);
    assert.notEqual(replaced.object_key, r.object_key);
    assert.deepEqual(await files(join(work, 'objects')), [join(work, 'objects', ...replaced.object_key!.split('/'))], 'the replaced object was removed');
    assert.equal((await catalog.getSbom('dir-a', digest(1)))!.packages[0]!.version, '2.0');

    assert.equal(await catalog.deleteImage('dir-a', digest(1)), true);
    assert.deepEqual(await files(join(work, 'objects')), []);
    assert.equal(await catalog.saveAnalysis('dir-a', digest(1), sbom(1)), false, 'the image is gone');
    assert.deepEqual(await files(join(work, 'objects')), [], 'an object put for an image deleted meanwhile is removed');
  });

  test('a missing or corrupt document is an error naming the image, never a crash or a silent miss', async () => {
    const catalog = catalogWith(stores('dir'));
    await addAnalyzed(catalog, 'dir-b', 2);
    const r = await row('dir-b', 2);
    const file = join(work, 'objects', ...r.object_key!.split('/'));
    await writeFile(file, 'not what was stored');
    await assert.rejects(catalog.getSbom('dir-b', digest(2)), new RegExp(`the stored analysis of image ${digest(2)} \\(account dir-b\\) is corrupt in the dir object store \\(key ${r.object_key}\\): its sha256 is`));
    await rm(file);
    await assert.rejects(catalog.getSbom('dir-b', digest(2)), new RegExp(`the stored analysis of image ${digest(2)} \\(account dir-b\\) is missing from the dir object store \\(${work}/objects, key ${r.object_key}\\)`));
    await assert.rejects(catalog.getStoredAnalysis('dir-b', digest(2)), /is missing from the dir object store/);
    // A row naming a store this process has no configuration for.
    await t.db().kysely.updateTable('catalog_analyses').set({ store: 's3' }).where('account', '=', 'dir-b').execute();
    await assert.rejects(catalog.getSbom('dir-b', digest(2)), new RegExp(`image ${digest(2)} \\(account dir-b\\) cannot be read from the s3 object store .*object_store\\.s3\\.access_key is required`));
    // An inline document whose bytes are damaged (no sha256 recorded: an older row).
    await t.db().kysely.updateTable('catalog_analyses').set({ store: 'db', object_key: null, doc_sha256: null, sbom_gz: Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]) }).where('account', '=', 'dir-b').execute();
    await assert.rejects(catalog.getSbom('dir-b', digest(2)), new RegExp(`image ${digest(2)} \\(account dir-b\\) is corrupt in the db object store: `));
    const v = await verifyDocuments(t.db().kysely, new AnalysisDocuments(stores('dir')));
    assert.deepEqual(v.failed.map((f) => f.imageDigest), [digest(2)]);
    await catalog.deleteImage('dir-b', digest(2));
  });

  test('migrate: db → dir → s3 → db, every document checked and readable at each step; reruns move nothing', async () => {
    const s3 = await startLocalS3();
    try {
      const s3Config = { url: s3.url, bucket: s3.bucket, region: s3.region, prefix: '', path_style: true, access_key: s3.accessKey, secret_key: s3.secretKey, timeout: 5 };
      const all = stores('db', { s3: s3Config });
      const catalog = catalogWith(all);
      for (let n = 10; n < 15; n++) await addAnalyzed(catalog, 'mig', n);
      // A row as written before 0018: gzip bytes, no sha256, no size.
      await t.db().kysely.updateTable('catalog_analyses').set({ sbom_gz: gzipSync(JSON.stringify(sbom(14))), doc_sha256: null, doc_bytes: null }).where('image_digest', '=', digest(14)).execute();
      for (const to of ['dir', 's3', 'db', 'dir'] as const) {
        const r = await migrateDocuments(t.db().kysely, new AnalysisDocuments(all.withDriver(to)), to);
        assert.deepEqual({ moved: r.moved, already: r.already, failed: r.failed }, { moved: 5, already: 0, failed: [] }, to);
        assert.deepEqual((await documentCounts(t.db().kysely)).filter((c) => c.documents).map((c) => [c.store, c.documents]).filter(([s]) => s !== 'db' || to === 'db'), [[to, 5]]);
        for (let n = 10; n < 15; n++) assert.deepEqual(await catalog.getSbom('mig', digest(n)), sbom(n), `${to} ${n}`);
        assert.equal((await files(join(work, 'objects'))).length, to === 'dir' ? 5 : 0, `objects left in dir after moving to ${to}`);
        assert.equal(s3.objects.size, to === 's3' ? 5 : 0, `objects left in s3 after moving to ${to}`);
        const again = await migrateDocuments(t.db().kysely, new AnalysisDocuments(all.withDriver(to)), to);
        assert.deepEqual([again.moved, again.already], [0, 5]);
      }
      assert.equal(s3.refused, 0);
      assert.deepEqual((await verifyDocuments(t.db().kysely, new AnalysisDocuments(all))).failed, []);
      for (let n = 10; n < 15; n++) await catalog.deleteImage('mig', digest(n));
      assert.deepEqual(await files(join(work, 'objects')), []);
    } finally {
      await s3.close();
    }
  });

  test('migrate: interrupted (the process stopped mid-run, an object put but not recorded), a rerun finishes with nothing left over', async () => {
    const catalog = catalogWith(stores('db'));
    for (let n = 20; n < 26; n++) await addAnalyzed(catalog, 'int', n);
    const docs = new AnalysisDocuments(stores('dir'));
    // A run that stops after three documents...
    await assert.rejects(migrateDocuments(t.db().kysely, docs, 'dir', { pageSize: 2, onProgress: (done) => {
      if (done === 3) throw new Error('killed');
    } }), /killed/);
    // ...and one that got as far as putting the fourth document but not recording it.
    const fourth = (await t.db().kysely.selectFrom('catalog_analyses').select(['image_digest', 'store']).where('account', '=', 'int').orderBy('image_digest').execute())[3]!;
    assert.equal(fourth.store, 'db');
    const ref = await t.db().kysely.selectFrom('catalog_analyses').select(['sbom_gz', 'store', 'object_key', 'doc_sha256']).where('account', '=', 'int').where('image_digest', '=', fourth.image_digest).executeTakeFirstOrThrow();
    await docs.place('int', fourth.image_digest, await docs.bytes('int', fourth.image_digest, ref), docs.stores.get('dir'));
    const r = await migrateDocuments(t.db().kysely, docs, 'dir');
    assert.deepEqual({ moved: r.moved, already: r.already, failed: r.failed }, { moved: 3, already: 3, failed: [] });
    const objects = (await files(join(work, 'objects'))).filter((f) => f.includes('/int/'));
    assert.equal(objects.length, 6, 'one object per image, the one put before the interruption reused');
    for (let n = 20; n < 26; n++) assert.deepEqual(await catalog.getSbom('int', digest(n)), sbom(n));
    for (let n = 20; n < 26; n++) await catalog.deleteImage('int', digest(n));
    await rm(work, { recursive: true, force: true });
  });
});
