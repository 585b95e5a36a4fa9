/**
 * Deep pages of the image list seek from remembered page boundaries (store/summary-seek.ts) and the
 * search filter has a trigram index on PostgreSQL (migrations/0025-image-list-search.ts). On both
 * databases: every page read through boundaries equals the same page read by OFFSET alone (a new
 * SummaryRows remembers nothing), for each sort and order, with ties, nulls, filters, and after
 * writes that move rows between pages; a re-read page seeks (a row comparison, no skipped rows).
 * On PostgreSQL: the search reads the trigram index, and a role that may not CREATE EXTENSION still
 * migrates (without the index) and searches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type CompiledQuery, type Kysely, type KyselyPlugin } from 'kysely';
import pg from 'pg';
import { describeOnDatabases } from '../testkit/databases.js';
import { openDatabase } from './db.js';
import { migrateToLatest } from './migrate.js';
import type { Database, ImageSummariesTable } from './schema.js';
import { SummaryRows, writeSummary, type SummaryQuery } from './summaries.js';

const digest = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;

function row(account: string, i: number): ImageSummariesTable {
  // Ties on purpose: 5 creation times, 3 risk levels; every 4th image not analyzed (nulls).
  const at = `2024-01-0${1 + (i % 5)}T00:00:00.000Z`;
  const critical = i % 3;
  return {
    account, image_digest: digest(i), tags: '[]', search: `reg.test/team${i % 2}/app:v${i}\n${digest(i)}`, registry: 'reg.test', repository: 'app', tag_sort: `reg.test/app:v${i % 7}`,
    distro: null, platform: null, image_size: null, layer_count: null, package_count: null,
    critical, high: i % 2, medium: 0, low: 0, negligible: 0, unknown: 0, total: critical + (i % 2), fixable: i % 2, kev: 0,
    verdict: i % 2 ? 'fail' : 'pass', evaluated_at: null, created_at: at, analyzed_at: i % 4 ? at : null, sbom_at: null, refreshed_at: at,
  };
}

function capturing(db: Kysely<Database>): { rows: SummaryRows; sent: CompiledQuery[] } {
  const sent: CompiledQuery[] = [];
  const plugin: KyselyPlugin = {
    transformQuery: (args) => { sent.push(db.getExecutor().compileQuery(args.node, args.queryId)); return args.node; },
    transformResult: async (args) => args.result,
  };
  return { rows: new SummaryRows(db.withPlugin(plugin)), sent };
}

const QUERIES: SummaryQuery[] = [
  {}, { order: 'asc' }, { sort: 'risk' }, { sort: 'risk', order: 'asc' }, { sort: 'tag' }, { sort: 'analyzed_at' },
  { q: 'team1/' }, { severity: 'Critical', sort: 'risk' }, { verdict: 'fail', fixable: true, order: 'asc' },
];

describeOnDatabases('the image list\'s deep pages', ({ db, url }) => {
  test('pages read from remembered boundaries equal pages read by offset, before and after writes', async () => {
    const { kysely } = db();
    for (let i = 1; i <= 23; i++) await writeSummary(kysely, row('acme', i), []);
    await writeSummary(kysely, row('other', 99), []);
    const { rows, sent } = capturing(kysely);
    const limit = 4;
    const byOffset = async (q: SummaryQuery, page: number) => (await new SummaryRows(kysely).page('acme', { ...q, page, limit })).keys;
    const check = async (q: SummaryQuery, pages: number[]) => {
      for (const page of pages) assert.deepEqual((await rows.page('acme', { ...q, page, limit })).keys, await byOffset(q, page), `${JSON.stringify(q)} page ${page}`);
    };
    for (const q of QUERIES) await check(q, [1, 2, 3, 4, 5, 6, 7, 6, 3, 5, 1, 2, 4, 7]);

    // A re-read deep page seeks from its remembered predecessor: a row comparison, no offset.
    sent.length = 0;
    await rows.page('acme', { page: 5, limit });
    const pageSql = sent.find((c) => /order by/.test(c.sql))!;
    assert.match(pageSql.sql, /\("s"\."created_at", "s"\."image_digest"\) < \(/, pageSql.sql);
    assert.equal(pageSql.parameters.at(-1), 0, 'nothing skipped');

    // Writes move rows between pages: the boundaries of the old version are not used.
    await writeSummary(kysely, { ...row('acme', 30), created_at: '2024-02-01T00:00:00.000Z', critical: 9, total: 9 }, []);
    await sql`update image_summaries set critical = 5, created_at = '2023-01-01T00:00:00.000Z' where account = 'acme' and image_digest = ${digest(7)}`.execute(kysely);
    await kysely.deleteFrom('image_summaries').where('account', '=', 'acme').where('image_digest', '=', digest(12)).execute();
    for (const q of QUERIES) await check(q, [5, 3, 6, 1, 7]);
  });

  test('PostgreSQL: the search reads the trigram index', async (t) => {
    const { kysely, dialect } = db();
    if (dialect !== 'postgres') return t.skip('SQLite: no trigram index, the search scans');
    // An account of 5,000 images (as the bench's: 500 repositories), so that the planner weighs a real table.
    await sql`insert into image_summaries (account, image_digest, tags, search, registry, repository, tag_sort, critical, high, medium, low, negligible, unknown, total, fixable, kev, created_at, refreshed_at)
      select 'big', 'sha256:' || lpad(to_hex(i), 64, '0'), '[]', 'reg.test/team' || (i % 50) || '/app' || (i % 500) || ':v' || i, 'reg.test', 'app', 'reg.test/app:v' || i,
        0, 0, 0, 0, 0, 0, 0, 0, 0, '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z' from generate_series(1, 5000) i`.execute(kysely);
    await sql`vacuum analyze image_summaries`.execute(kysely); // the trigram index's pending entries merged, as autovacuum does
    const { rows, sent } = capturing(kysely);
    assert.equal((await rows.page('big', { q: '/APP42:' })).total, 10);
    const plans: string[] = [];
    for (const q of sent.filter((c) => /like/.test(c.sql))) {
      plans.push(await kysely.transaction().execute(async (trx) => {
        // 5,000 rows are still few enough to scan: make the planner show how it reads a large account.
        await sql`set local enable_seqscan = off`.execute(trx);
        const r = await trx.executeQuery<Record<string, string>>({ ...q, sql: `explain ${q.sql}` });
        return r.rows.map((x) => x['QUERY PLAN']).join('\n');
      }));
    }
    assert.equal(plans.length, 2, 'the count and the page');
    for (const plan of plans) assert.match(plan, /image_summaries_search_trgm/, plan);
  });

  test('PostgreSQL: without the right to CREATE EXTENSION the migration goes on without the index', async (t) => {
    if (db().dialect !== 'postgres') return t.skip('PostgreSQL only');
    const admin = new pg.Client({ connectionString: url() });
    await admin.connect();
    try {
      await admin.query('create role lading_limited login');
      await admin.query('create database lading_limited_db');
    } finally {
      await admin.end();
    }
    const dbUrl = new URL(url());
    dbUrl.pathname = '/lading_limited_db';
    const owner = new pg.Client({ connectionString: dbUrl.toString() });
    await owner.connect();
    try {
      // The role may create tables in public, but not extensions (no CREATE on the database).
      await owner.query('grant create, usage on schema public to lading_limited');
      await owner.query('revoke create on database lading_limited_db from public');
    } finally {
      await owner.end();
    }
    dbUrl.username = 'lading_limited';
    const handle = await openDatabase(dbUrl.toString());
    try {
      await migrateToLatest(handle.kysely);
      const idx = await sql<{ n: string }>`select count(*) as n from pg_indexes where indexname = 'image_summaries_search_trgm'`.execute(handle.kysely);
      assert.equal(Number(idx.rows[0]!.n), 0);
      for (let i = 1; i <= 3; i++) await writeSummary(handle.kysely, row('acme', i), []);
      assert.deepEqual((await new SummaryRows(handle.kysely).page('acme', { q: 'APP:V2' })).keys, [digest(2)]);
    } finally {
      await handle.close();
    }
  });
});
