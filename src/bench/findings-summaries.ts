/**
 * The summary rows' finding pairs after a re-match (image_summary_findings, what "images with
 * CVE-…" reads) on PostgreSQL, over the findings bench's synthetic Debian images
 * (bench/findings-data.ts) with their SBOMs stored: a feed change touching 1% of the source
 * packages (one of them in every image), then
 * - set-based: the re-match rebuilds the pairs of the changed (image, package name)s in its own
 *   transaction (one DELETE and one INSERT … SELECT per batch, store/finding-sql.ts
 *   refreshSummaryFindings);
 * - per image: what the findingsChanged hook did before, SummaryStore.refresh of each changed
 *   image (its SBOM read, decompressed and scanned, its pairs rewritten), after a re-match.
 * Both end in the same pairs (checked with EXCEPT both ways).
 *   node --import tsx src/bench/findings-summaries.ts [images=2000]
 */
import { sql } from 'kysely';
import { VulnDb } from '../feeds/vulndb.js';
import { SummaryStore } from '../services/summaries.js';
import { CatalogStore } from '../store/catalog.js';
import { openDatabase } from '../store/db.js';
import { refreshSummaryFindings } from '../store/finding-sql.js';
import { FindingsStore, type ImageFindingDiff } from '../store/findings.js';
import { migrateToLatest } from '../store/migrate.js';
import { postgresAvailable, postgresSkipReason, startPostgres } from '../testkit/postgres.js';
import { applyFeed, insertImages, insertTuples, storeSboms } from './findings-data.js';

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

async function figures(url: string, n: number): Promise<void> {
  const handle = await openDatabase(url);
  try {
    await migrateToLatest(handle.kysely);
    const db = handle.kysely;
    const vulndb = new VulnDb(handle);
    await applyFeed(vulndb, false);
    await insertTuples(db, vulndb);
    await insertImages(db, n);
    await storeSboms(db);
    const store = new FindingsStore(db, vulndb);
    await store.rematch({ summaries: true });
    const pairs = async () => Number((await db.selectFrom('image_summary_findings').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    console.log(`${n} images (150 packages each, SBOMs stored), PostgreSQL`);
    // Every image's pairs, built set-based as if every package variant had changed.
    const [, fullMs] = await timed(() => db.transaction().execute(async (trx) => {
      await sql`insert into finding_tuple_diff (tuple_id, change, vuln_id, feed_group, severity, fix, url) select id, 'added', '', '', '', '', '' from finding_tuples`.execute(trx);
      await refreshSummaryFindings(trx, true);
      await trx.deleteFrom('finding_tuple_diff').execute();
    }));
    console.log(`  every image's pairs built set-based: ${(fullMs / 1000).toFixed(2)} s (${await pairs()} pairs)`);

    await applyFeed(vulndb, true);
    const [a, aMs] = await timed(() => store.rematch({ summaries: true }));
    console.log(`  set-based: re-match with counts and pairs in its transactions ${(aMs / 1000).toFixed(2)} s, of which the pairs ${(a.pairsMs / 1000).toFixed(2)} s `
      + `(${a.images} images' counts moved; ${await pairs()} pairs in all)`);

    await applyFeed(vulndb, false);
    const changed: ImageFindingDiff[] = [];
    const [b, bMs] = await timed(() => store.rematch({ summaries: true, onDiffs: async (_trx, d) => { changed.push(...d); } }));
    await sql`create table bench_set_based as select * from image_summary_findings`.execute(db);
    const summaries = new SummaryStore(db, new CatalogStore(db), vulndb);
    const [, loopMs] = await timed(async () => { for (const d of changed) await summaries.refresh(d.account, d.imageDigest); });
    console.log(`  per image: re-match ${(bMs / 1000).toFixed(2)} s (${((bMs - b.pairsMs) / 1000).toFixed(2)} s without the set-based pairs), then SummaryStore.refresh of the ${changed.length} changed images ${(loopMs / 1000).toFixed(2)} s `
      + `(${(loopMs / Math.max(1, changed.length)).toFixed(1)} ms per image)`);
    const differ = await sql<{ n: string }>`select (select count(*) from (select * from bench_set_based except select * from image_summary_findings) x)
      + (select count(*) from (select * from image_summary_findings except select * from bench_set_based) y) as n`.execute(db);
    console.log(`  pairs set-based vs per-image recomputation: ${differ.rows[0]!.n} differ (of ${await pairs()})`);
  } finally {
    await handle.close();
  }
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 2000);
  if (!postgresAvailable()) {
    console.log(`Summary pair figures skipped: ${postgresSkipReason}`);
    return;
  }
  const server = await startPostgres();
  try {
    await figures(await server.createDatabase(), n);
  } finally {
    await server.stop();
  }
}

await main();
