/**
 * The image list's counts (SummaryRows.page) are cached per account and filter with the account's
 * summary version (migrations/0024-summary-versions.ts): on both databases, every kind of write to
 * image_summaries (the store's own, another connection's raw SQL as the set-based re-match does, a
 * delete) shows in the next count, a count not written since is not counted again, and on
 * PostgreSQL a write shows only once its transaction commits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type CompiledQuery, type Kysely, type KyselyPlugin } from 'kysely';
import { describeOnDatabases } from '../testkit/databases.js';
import type { Database, ImageSummariesTable } from './schema.js';
import { removeImageSummary, SummaryRows, writeSummary } from './summaries.js';

const digest = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;

function row(account: string, i: number, critical: number): ImageSummariesTable {
  const at = `2024-01-01T00:00:${String(i).padStart(2, '0')}.000Z`;
  return {
    account, image_digest: digest(i), tags: '[]', search: `reg.test/app:v${i}\n${digest(i)}`, registry: 'reg.test', repository: 'app', tag_sort: `reg.test/app:v${i}`,
    distro: null, platform: null, image_size: null, layer_count: null, package_count: null,
    critical, high: 0, medium: 0, low: 0, negligible: 0, unknown: 0, total: critical, fixable: 0, kev: 0,
    verdict: i % 2 ? 'fail' : 'pass', evaluated_at: null, created_at: at, analyzed_at: at, sbom_at: null, refreshed_at: at,
  };
}

/** The statements a SummaryRows sends, to see whether it counted. */
function counting(db: Kysely<Database>): { rows: SummaryRows; counts: () => number } {
  const sent: CompiledQuery[] = [];
  const plugin: KyselyPlugin = {
    transformQuery: (args) => { sent.push(db.getExecutor().compileQuery(args.node, args.queryId)); return args.node; },
    transformResult: async (args) => args.result,
  };
  return { rows: new SummaryRows(db.withPlugin(plugin)), counts: () => sent.filter((c) => /count\(\*\)/.test(c.sql)).length };
}

describeOnDatabases('the image list\'s cached counts', ({ db }) => {
  test('every write shows in the next count; an unchanged account is not counted again', async () => {
    const { kysely } = db();
    for (let i = 1; i <= 4; i++) await writeSummary(kysely, row('acme', i, i <= 2 ? 1 : 0), []);
    await writeSummary(kysely, row('other', 9, 1), []);
    const { rows, counts } = counting(kysely);
    const total = async (q: Parameters<SummaryRows['page']>[1] = {}) => (await rows.page('acme', q)).total;

    assert.equal(await total(), 4);
    assert.equal(await total({ severity: 'Critical' }), 2);
    assert.equal(await total({ q: 'APP:V3' }), 1);
    const counted = counts();
    assert.equal(await total(), 4);
    assert.equal(await total({ severity: 'Critical' }), 2);
    assert.equal(counts(), counted, 'nothing written since: the cached counts are used');

    // Another account's write leaves acme's counts cached.
    await writeSummary(kysely, row('other', 10, 0), []);
    assert.equal(await total(), 4);
    assert.equal(counts(), counted);

    // A raw update as the set-based re-match makes (another writer than the store's functions).
    await sql`update image_summaries set critical = 3, total = 3 where account = 'acme' and image_digest = ${digest(4)}`.execute(kysely);
    assert.equal(await total({ severity: 'Critical' }), 3);
    assert.equal(await total(), 4);
    await removeImageSummary(kysely, 'acme', digest(1));
    assert.equal(await total(), 3);
    assert.equal(await total({ severity: 'Critical' }), 2);
    assert.equal(await total({ verdict: 'fail' }), 1);
    await writeSummary(kysely, row('acme', 5, 2), []);
    assert.equal(await total({ verdict: 'fail' }), 2);
    assert.equal(await total({ q: 'app:v5' }), 1);
    assert.ok(counts() > counted);
  });

  test('PostgreSQL: a write counts once its transaction commits, not before', async (t) => {
    const { kysely, dialect } = db();
    if (dialect !== 'postgres') return t.skip('SQLite has one connection: nobody reads beside an open write');
    await writeSummary(kysely, row('tx', 1, 1), []);
    const rows = new SummaryRows(kysely);
    assert.equal((await rows.page('tx', {})).total, 1);
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let written!: () => void;
    const wrote = new Promise<void>((r) => { written = r; });
    const writer = kysely.transaction().execute(async (trx) => {
      await writeSummary(trx, row('tx', 2, 1), []);
      written();
      await held;
    });
    await wrote;
    assert.equal((await rows.page('tx', {})).total, 1, 'not committed yet');
    release();
    await writer;
    assert.equal((await rows.page('tx', {})).total, 2, 'committed: counted again');
  });
});
