/**
 * `GET /v1/images` lists an account's images newest first (store/catalog.ts listImages): on both
 * databases its statement reads catalog_images through catalog_images_created (migration 0019) in
 * that order, with no sort of every image.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type CompiledQuery, type KyselyPlugin } from 'kysely';
import { describeOnDatabases } from '../testkit/databases.js';
import { CatalogStore } from './catalog.js';

describeOnDatabases('the image list\'s index', ({ db }) => {
  test('listImages reads catalog_images in its order through catalog_images_created', async () => {
    const handle = db();
    const catalog = new CatalogStore(handle.kysely);
    for (let i = 0; i < 20; i++) {
      const d = `sha256:${i.toString(16).padStart(64, '0')}`;
      await catalog.addImage('acme', { imageDigest: d, tag: { registry: 'reg.test', repo: 'team/app', tag: `v${i}` } });
    }
    // Capture the statement listImages sends for the images (not the one for their tags).
    const sent: CompiledQuery[] = [];
    const capture: KyselyPlugin = {
      transformQuery: (args) => {
        sent.push(handle.kysely.getExecutor().compileQuery(args.node, args.queryId));
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const images = await new CatalogStore(handle.kysely.withPlugin(capture)).listImages('acme');
    assert.equal(images.length, 20);
    const q = sent.find((c) => /from "catalog_images"/.test(c.sql) && /order by/.test(c.sql))!;
    assert.ok(q, sent.map((c) => c.sql).join('\n'));
    let plan: string;
    if (handle.dialect === 'postgres') {
      plan = await handle.kysely.transaction().execute(async (trx) => {
        // The planner would rather scan 20 rows: make it show how it reads a large account.
        await sql`set local enable_seqscan = off`.execute(trx);
        const r = await trx.executeQuery<Record<string, string>>({ ...q, sql: `explain ${q.sql}` });
        return r.rows.map((x) => x['QUERY PLAN']).join('\n');
      });
      assert.doesNotMatch(plan, /\bSort\b/, plan);
    } else {
      const r = await handle.kysely.executeQuery<Record<string, string>>({ ...q, sql: `explain query plan ${q.sql}` });
      plan = r.rows.map((x) => x.detail).join('\n');
      assert.doesNotMatch(plan, /TEMP B-TREE/, plan);
    }
    assert.match(plan, /catalog_images_created/, plan);
  });
});
