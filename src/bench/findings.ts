/**
 * Set-based re-match figures (store/findings.ts) on a throwaway PostgreSQL: for 10,000 and
 * 100,000 synthetic Debian images (bench/findings-data.ts, bulk-inserted), the time for a full
 * re-sync of a 20,000-record Debian feed that changes 1% of the source packages to reach every
 * count (engine counts and image_summaries, so the list and dashboard) with the per-image
 * vuln_update diffs; at 100,000 the image-list queries
 * (SummaryStore.list) p50/p99 with EXPLAIN ANALYZE written to $TMPDIR/lading-bench-list-explain.txt.
 * Then (bench/findings-outbox.ts; LADING_BENCH_NO_OUTBOX=1 leaves it out) the 1% change again through the
 * service's path: the times until the vuln_update notifications are queued and the verdicts are current.
 *   node --import tsx src/bench/findings.ts [sizes=10000,100000]
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { VulnDb } from '../feeds/vulndb.js';
import { CatalogStore } from '../store/catalog.js';
import { SummaryStore } from '../services/summaries.js';
import { openDatabase } from '../store/db.js';
import type { Database } from '../store/schema.js';
import { FindingsStore, type ImageFindingDiff } from '../store/findings.js';
import { migrateToLatest } from '../store/migrate.js';
import { postgresAvailable, postgresSkipReason, startPostgres } from '../testkit/postgres.js';
import { backendsCpuMs, postmasterPid } from './proc-cpu.js';
import { outboxFigures } from './findings-outbox.js';
import { ACCOUNT, applyFeed, insertImages, insertTuples, PER_IMAGE, POOL, VERSIONS } from './findings-data.js';

let peakRss = 0;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 50);
const mb = (b: number) => `${Math.round(b / 2 ** 20)} MB`;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function sizeFigures(url: string, n: number): Promise<string[]> {
  const handle = await openDatabase(url);
  /** Lines are printed as they come: the 100,000 build takes minutes. */
  const out = { push: (line: string) => console.log(line) };
  try {
    await migrateToLatest(handle.kysely);
    const db = handle.kysely;
    const vulndb = new VulnDb(handle);
    await applyFeed(vulndb, false);
    const [, buildMs] = await timed(async () => {
      await insertTuples(db, vulndb);
      await insertImages(db, n);
    });
    const store = new FindingsStore(db, vulndb);
    const [r0, r0Ms] = await timed(() => store.rematch({ summaries: true }));
    out.push(`${n} images (${PER_IMAGE} packages each, ${POOL * VERSIONS.length} package variants): built in ${(buildMs / 1000).toFixed(1)} s; unchanged full re-sync's log re-matched in ${r0Ms.toFixed(0)} ms (${r0.tuples} variants, ${r0.changedTuples} changed)`);

    for (const [changed, withDiffs] of [[true, false], [false, true]] as const) {
      const [, applyMs] = await timed(() => applyFeed(vulndb, changed));
      let diffImages = 0;
      let diffRows = 0;
      peakRss = process.memoryUsage().rss;
      const [r1, r1Ms] = await timed(() => store.rematch({
        summaries: true,
        ...(withDiffs ? {
          onDiffs: async (_trx: unknown, diffs: ImageFindingDiff[]) => {
            diffImages += diffs.length;
            for (const d of diffs) diffRows += d.added.length + d.updated.length + d.removed.length;
          },
        } : {}),
      }));
      out.push(`  1% of source packages ${changed ? 'changed' : 'changed back'}: feed apply ${(applyMs / 1000).toFixed(1)} s; set-based re-match ${(r1Ms / 1000).toFixed(2)} s `
        + `(${r1.tuples} variants matched, ${r1.changedTuples} changed, ${r1.images} images' counts moved, `
        + `${withDiffs ? `${diffImages} image diffs with ${diffRows} entries` : 'no diffs asked'}); change to every count ${((applyMs + r1Ms) / 1000).toFixed(1)} s; peak RSS ${mb(peakRss)}`);
    }
    const sample = Array.from({ length: 200 }, (_, k) => 1 + Math.floor((k * n) / 200));
    out.push(`  counts of 200 sampled images against a recount: ${(await store.verify(sample)).length} mismatches`);
    if (!process.env.LADING_BENCH_NO_OUTBOX) {
      for (const line of await outboxFigures(handle, n, { reset: () => { peakRss = process.memoryUsage().rss; }, read: () => peakRss })) out.push(line);
    }
    return [];
  } finally {
    await handle.close();
  }
}

/** SummaryStore.list p50/p99 on a logging connection; EXPLAIN ANALYZE of its statements to a file. */
async function listFigures(url: string, requests = 100): Promise<string[]> {
  const captured: CompiledQuery[] = [];
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: (e) => { if (e.level === 'query') captured.push(e.query); } });
  const handle = await openDatabase(url);
  const out: string[] = [];
  const explain: string[] = [];
  try {
    const store = new SummaryStore(db, new CatalogStore(db), new VulnDb(handle));
    const [, firstMs] = await timed(() => store.list(ACCOUNT, {}));
    out.push(`  first list of the process (with its once-per-account backfill check) ${firstMs.toFixed(0)} ms`);
    const second = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });
    const [, secondMs] = await timed(() => new SummaryStore(second, new CatalogStore(second), new VulnDb(handle)).list(ACCOUNT, {}));
    await second.destroy();
    out.push(`  first list of a second process (backfill already noted in the database) ${secondMs.toFixed(0)} ms`);
    const pgPid = postmasterPid(Number(new URL(url).port));
    const dbName = new URL(url).pathname.slice(1);
    const cpuNow = () => {
      const c = process.cpuUsage();
      return [(c.user + c.system) / 1000, pgPid === undefined ? 0 : backendsCpuMs(pgPid, dbName)] as const;
    };
    const queries = [['severity=High&sort=risk', { severity: 'High', sort: 'risk' }], ['page 150', { page: 150 }], ['default page', {}],
      ['search q=/app42:', { q: '/app42:' }], ['verdict=fail&fixable', { verdict: 'fail', fixable: true }],
      ['page 150 sort=risk asc', { page: 150, sort: 'risk', order: 'asc' }], ['search q=team7/ page 3', { q: 'team7/', page: 3 }]] as const;
    for (const [label, q] of queries) {
      await store.list(ACCOUNT, q);
      const ms: number[] = [];
      const cpu0 = cpuNow();
      for (let i = 0; i < requests; i++) {
        const s = performance.now();
        await store.list(ACCOUNT, q);
        ms.push(performance.now() - s);
      }
      const cpu1 = cpuNow();
      const cpu = [(cpu1[0] - cpu0[0]) / requests, (cpu1[1] - cpu0[1]) / requests];
      ms.sort((a, b) => a - b);
      out.push(`  list ${label.padEnd(24)} p50 ${pct(ms, 50).toFixed(1)} ms  p99 ${pct(ms, 99).toFixed(1)} ms  CPU ms/request: bench ${cpu[0]!.toFixed(1)} + PostgreSQL backends ${cpu[1]!.toFixed(1)}`);
      captured.length = 0;
      await store.list(ACCOUNT, q);
      for (const c of captured) {
        const plan = await pool.query(`explain (analyze, buffers) ${c.sql}`, [...c.parameters]);
        explain.push(`-- ${label}\n${c.sql}\n${plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n')}\n`);
      }
    }
    // A jump to a deep page nobody read before: no remembered boundary, its count not cached.
    const jumps: number[] = [];
    for (let i = 0; i < 20; i++) {
      const s = performance.now();
      await new SummaryStore(db, new CatalogStore(db), new VulnDb(handle)).list(ACCOUNT, { page: 150 });
      jumps.push(performance.now() - s);
    }
    jumps.sort((a, b) => a - b);
    out.push(`  list page 150 by a new store each time (nothing remembered, 20 requests) p50 ${pct(jumps, 50).toFixed(1)} ms  max ${jumps[jumps.length - 1]!.toFixed(1)} ms`);
    out.push(...await proposedFigures(pool, requests, explain));
    const file = join(tmpdir(), 'lading-bench-list-explain.txt');
    writeFileSync(file, explain.join('\n'));
    out.push(`  EXPLAIN ANALYZE of the list statements: ${file}`);
    return out;
  } finally {
    await db.destroy();
    await handle.close();
  }
}

const LIVE = 'i.image_id, i.analysis_status, i.image_status, i.last_updated, i.analyzed_at as live_analyzed_at';
/** The list statements rewritten: count without the catalog join, the page's offset over the sort index alone, then 50 joins. */
const PROPOSED: [string, string, string, string][] = [
  ['severity=High&sort=risk', '(critical > 0 or high > 0)', 'critical desc, high desc, medium desc, low desc, image_digest desc', '0'],
  ['page 150', 'true', 'created_at desc, image_digest desc', '7450'],
];

async function proposedFigures(pool: pg.Pool, requests: number, explain: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const [label, where, order, offset] of PROPOSED) {
    const count = `select count(*) from image_summaries s where s.account = $1 and ${where}`;
    const page = `select s.*, ${LIVE} from (select account, image_digest from image_summaries s where s.account = $1 and ${where}
      order by ${order} limit 50 offset ${offset}) p join image_summaries s on s.account = p.account and s.image_digest = p.image_digest
      join catalog_images i on i.account = s.account and i.image_digest = s.image_digest order by ${order.replace(/(\w+) desc/g, 's.$1 desc')}`;
    const ms: number[] = [];
    for (let i = 0; i <= requests; i++) {
      const s = performance.now();
      await pool.query(count, [ACCOUNT]);
      await pool.query(page, [ACCOUNT]);
      if (i) ms.push(performance.now() - s);
    }
    ms.sort((a, b) => a - b);
    out.push(`  proposed ${label.padEnd(20)} p50 ${pct(ms, 50).toFixed(1)} ms  p99 ${pct(ms, 99).toFixed(1)} ms (count + page statements)`);
    for (const q of [count, page]) {
      const plan = await pool.query(`explain (analyze, buffers) ${q}`, [ACCOUNT]);
      explain.push(`-- proposed ${label}\n${q}\n${plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n')}\n`);
    }
  }
  return out;
}

/** LADING_BENCH_LIST_ONLY=1: build the images and measure the list queries only. */
async function listOnly(url: string, n: number): Promise<void> {
  const handle = await openDatabase(url);
  try {
    await migrateToLatest(handle.kysely);
    const vulndb = new VulnDb(handle);
    await applyFeed(vulndb, false);
    await insertTuples(handle.kysely, vulndb);
    await insertImages(handle.kysely, n);
  } finally {
    await handle.close();
  }
  console.log(`${n} images`);
  for (const line of await listFigures(url)) console.log(line);
}

async function main(): Promise<void> {
  const sizes = (process.argv[2] ?? '10000,100000').split(',').map(Number);
  if (!postgresAvailable()) {
    console.log(`Set-based re-match figures skipped: ${postgresSkipReason}`);
    clearInterval(sampler);
    return;
  }
  const server = await startPostgres();
  try {
    console.log('Set-based re-match on PostgreSQL (store/findings.ts)');
    for (const n of sizes) {
      const url = await server.createDatabase();
      if (process.env.LADING_BENCH_LIST_ONLY) {
        await listOnly(url, n);
        continue;
      }
      for (const line of await sizeFigures(url, n)) console.log(line);
      if (n >= 100_000 || sizes.length === 1) for (const line of await listFigures(url)) console.log(line);
    }
  } finally {
    clearInterval(sampler);
    await server.stop();
  }
}

await main();
