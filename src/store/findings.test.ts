import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { VulnDb } from '../feeds/vulndb.js';
import { describeOnDatabases } from '../testkit/databases.js';
import {
  applyFixtureFeed, applyFixtureKev, expectedCounts, expectedFindings, fixtureImages, storeFixtureImages, type FixtureImage,
} from '../testkit/findings.js';
import { COUNTS } from './finding-sql.js';
import { FindingsStore, type ImageFindingDiff } from './findings.js';


async function assertCountsFresh(store: FindingsStore, vulndb: VulnDb, images: readonly FixtureImage[]): Promise<void> {
  for (const img of images) assert.deepEqual(await store.counts(img.account, img.digest), await expectedCounts(vulndb, img.sbom), img.digest);
  assert.deepEqual(await store.verify(), []);
}

/** The diff a fresh scan before and after implies, as sorted `change|identity` lines. */
function expectedDiff(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of after) {
    if (!before.has(k)) out.push(`added|${k}`);
    else if (before.get(k) !== v) out.push(`updated|${k}`);
  }
  for (const k of before.keys()) if (!after.has(k)) out.push(`removed|${k}`);
  return out.sort();
}

function diffLines(d: ImageFindingDiff): string[] {
  return (['added', 'updated', 'removed'] as const).flatMap((c) => d[c].map((s) =>
    `${c}|${[s.CVE_ID, s.Feed_Group, s.Package_Name, s.Package_Version, s.Package_Path].join('|')}`)).sort();
}

async function addSummaryRows(db: Kysely<Database>, store: FindingsStore, images: readonly FixtureImage[]): Promise<void> {
  for (const img of images) {
    const c = (await store.counts(img.account, img.digest))!;
    await db.insertInto('image_summaries').values({
      account: img.account, image_digest: img.digest, tags: '[]', search: img.digest, tag_sort: '', created_at: '2026-01-01', refreshed_at: '2026-01-01', ...c,
    }).execute();
  }
}

describeOnDatabases('findings: set-based re-match', (t) => {
  it('keeps every image\'s counts equal to a fresh full scan across data changes, with the per-image diffs', async () => {
    const handle = t.db();
    const db = handle.kysely;
    const vulndb = new VulnDb(handle);
    await applyFixtureFeed(vulndb, false);
    await applyFixtureKev(vulndb);
    const store = new FindingsStore(db, vulndb);
    const images = fixtureImages(40);
    await storeFixtureImages(store, db, images);
    await assertCountsFresh(store, vulndb, images);
    await addSummaryRows(handle.kysely, store, images);

    const first: ImageFindingDiff[] = [];
    await store.rematch({ summaries: true, onDiffs: async (_trx, d) => { first.push(...d); } });
    assert.deepEqual(first, [], 'the log of the data the images were matched with changes nothing');

    const before = new Map<string, Map<string, string>>();
    for (const img of images) before.set(img.digest, await expectedFindings(vulndb, img.sbom));
    await applyFixtureFeed(vulndb, true);
    const diffs: ImageFindingDiff[] = [];
    const r = await store.rematch({ batchChanges: 3, summaries: true, onDiffs: async (_trx, d) => { diffs.push(...d); } });
    assert.ok(r.batches > 1 && r.changedTuples > 0 && r.images > 0, JSON.stringify(r));
    await assertCountsFresh(store, vulndb, images);

    const byImage = new Map<string, string[]>();
    for (const d of diffs) byImage.set(d.imageDigest, [...(byImage.get(d.imageDigest) ?? []), ...diffLines(d)].sort());
    for (const img of images) {
      const want = expectedDiff(before.get(img.digest)!, await expectedFindings(vulndb, img.sbom));
      assert.deepEqual(byImage.get(img.digest) ?? [], want, img.digest);
    }
    assert.ok([...byImage.values()].some((l) => l.some((x) => x.startsWith('updated|'))) && [...byImage.values()].some((l) => l.some((x) => x.startsWith('removed|'))));

    const summaries = await handle.kysely.selectFrom('image_summaries').selectAll().execute();
    for (const s of summaries) {
      const c = (await store.counts(s.account, s.image_digest))!;
      for (const k of COUNTS) assert.equal(Number(s[k]), c[k], `image_summaries.${k} of ${s.image_digest}`);
    }
  });

  it('re-matches a new package variant whose data changed between its match and its store', async () => {
    const handle = t.db();
    const db = handle.kysely;
    const vulndb = new VulnDb(handle);
    await applyFixtureFeed(vulndb, false);
    const store = new FindingsStore(db, vulndb);
    await store.rematch();
    const [img] = fixtureImages(1, 99).map((i) => ({ ...i, digest: `${i.digest.slice(0, -4)}beef` }));
    img!.sbom.packages.push({ ...img!.sbom.packages[0]!, name: 'lib1', sourceName: 'src1', version: '1.5-1', sourceVersion: '1.5-1' });
    const prepared = await store.prepareImage(img!.sbom);
    await applyFixtureFeed(vulndb, true);
    await store.rematch(); // before the image is stored: its new variant is not there to re-match
    await db.transaction().execute((trx) => store.storeImage(trx, img!.account, img!.digest, prepared));
    await store.rematch();
    await assertCountsFresh(store, vulndb, [img!]);
  });

  it('removes an image with its package rows', async () => {
    const handle = t.db();
    const db = handle.kysely;
    const store = new FindingsStore(db, new VulnDb(handle));
    const [img] = fixtureImages(1, 5).map((i) => ({ ...i, digest: `${i.digest.slice(0, -4)}dead` }));
    await storeFixtureImages(store, db, [img!]);
    await db.transaction().execute((trx) => store.removeImage(trx, img!.account, img!.digest));
    assert.equal(await store.counts(img!.account, img!.digest), undefined);
  });
});
