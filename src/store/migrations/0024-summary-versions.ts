/**
 * Exact image-list counts without counting every request (store/summaries.ts SummaryRows.page):
 * image_summary_versions holds, per account, a number that moves whenever a transaction that
 * wrote the account's image_summaries rows commits; a count is cached with the version it was
 * read with and reused only while the version is unchanged, so it is never stale.
 *
 * The number is moved by triggers, so every writer (the summary hooks, the set-based re-match of
 * store/finding-sql.ts, backfills, deletes) is covered without knowing of it. On PostgreSQL the
 * trigger is a deferred constraint trigger: it runs at commit, once per account and transaction
 * (a transaction-local setting remembers the accounts done), so the version row is locked only
 * while committing and no writer waits on it in the middle of its transaction (no deadlock with
 * the rows it locks); bumps are ordered by that row lock, so a snapshot that sees version V sees
 * exactly the writes that produced it. SQLite has one writer at a time: plain row triggers.
 *
 * The re-match updates most rows of image_summaries and image_summary_findings at once: the
 * per-table autovacuum settings below vacuum and analyze them after 2% of their rows changed
 * instead of the default 20% / 10%, so index-only scans and the planner's estimates stay good
 * (the re-match also analyzes them itself after a large change: store/findings.ts).
 */
import { sql, SqliteIntrospector, type Kysely } from 'kysely';

const TABLES = ['image_summaries', 'image_summary_findings'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.introspection instanceof SqliteIntrospector;
  await db.schema.createTable('image_summary_versions')
    .addColumn('account', 'text', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  if (sqlite) {
    for (const [op, row] of [['insert', 'new'], ['update', 'new'], ['delete', 'old']] as const) {
      await sql.raw(`create trigger image_summaries_version_${op} after ${op} on image_summaries for each row begin
        insert into image_summary_versions (account, version) values (${row}.account, 1)
          on conflict (account) do update set version = version + 1;
      end`).execute(db);
    }
    return;
  }
  await sql.raw(`create function lading_bump_summary_version() returns trigger language plpgsql as $$
    declare
      a text := case when tg_op = 'DELETE' then old.account else new.account end;
      done text := coalesce(current_setting('lading.summary_versions_bumped', true), '');
      mark text := '/' || md5(a) || '/';
    begin
      if position(mark in done) > 0 then return null; end if;
      perform set_config('lading.summary_versions_bumped', done || mark, true);
      insert into image_summary_versions (account, version) values (a, 1)
        on conflict (account) do update set version = image_summary_versions.version + 1;
      return null;
    end $$`).execute(db);
  await sql.raw(`create constraint trigger image_summaries_version after insert or update or delete on image_summaries
    deferrable initially deferred for each row execute function lading_bump_summary_version()`).execute(db);
  for (const t of TABLES) {
    await sql.raw(`alter table ${t} set (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02)`).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.introspection instanceof SqliteIntrospector;
  if (sqlite) {
    for (const op of ['insert', 'update', 'delete']) await sql.raw(`drop trigger if exists image_summaries_version_${op}`).execute(db);
  } else {
    await sql.raw('drop trigger if exists image_summaries_version on image_summaries').execute(db);
    await sql.raw('drop function if exists lading_bump_summary_version()').execute(db);
    for (const t of TABLES) await sql.raw(`alter table ${t} reset (autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor, autovacuum_vacuum_insert_scale_factor)`).execute(db);
  }
  await db.schema.dropTable('image_summary_versions').execute();
}
