import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { VulnDb } from '../feeds/vulndb.js';
import { describeOnDatabases } from '../testkit/databases.js';
import { applyFixtureFeed, expectedCounts, fixtureImages, storeFixtureImages } from '../testkit/findings.js';
import { CURSOR_KEY, FindingsStore } from './findings.js';
import { killChildAt } from '../testkit/kill-child.js';

const child = fileURLToPath(new URL('../testkit/findings-child.ts', import.meta.url));

/** Run the child until it is inside its second batch's transaction, then SIGKILL it. */
function killMidRematch(url: string): Promise<string> {
  return killChildAt(child, [url], 'mid');
}

describeOnDatabases('findings: a process killed in the middle of a re-match', (t) => {
  it('leaves every count equal to a recomputation, and the next run finishes the work', async () => {
    const handle = t.db();
    const db = handle.kysely;
    const vulndb = new VulnDb(handle);
    await applyFixtureFeed(vulndb, false);
    const store = new FindingsStore(db, vulndb);
    const images = fixtureImages(30, 11);
    await storeFixtureImages(store, db, images);
    await store.rematch();
    const cursor = async () => Number((await db.selectFrom('meta').select('value').where('key', '=', CURSOR_KEY).executeTakeFirst())?.value ?? 0);
    const start = await cursor();
    await applyFixtureFeed(vulndb, true);

    await killMidRematch(t.url());
    // The first batch (two change rows) committed; the second, killed before its commit, did not.
    const first = await db.selectFrom('vuln_changes').select('id').where('id', '>', start).orderBy('id').limit(2).execute();
    assert.equal(await cursor(), Number(first[1]!.id));
    assert.deepEqual(await store.verify(), [], 'every stored count equals the recount of its findings');

    const r = await store.rematch();
    assert.ok(r.changes > 0);
    assert.deepEqual(await store.verify(), []);
    for (const img of images) assert.deepEqual(await store.counts(img.account, img.digest), await expectedCounts(vulndb, img.sbom), img.digest);
  });
});
