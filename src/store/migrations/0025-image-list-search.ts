/**
 * The web UI's image list at 100,000 images (store/summaries.ts SummaryRows):
 *
 * - image_summary_backfills: per account, when the first list built the rows of images from before
 *   the summary table (services/summaries.ts ensure). Once it is there a process's first list reads
 *   this one row instead of comparing every image key of the account (3.4 s at 100,000 images).
 * - PostgreSQL: the search filter (`search LIKE '%text%'`) read every row of the account (a
 *   sequential scan, about 120 ms at 100,000 images). A trigram GIN index (extension pg_trgm, in
 *   Debian's postgresql package) answers it from the index. CREATE EXTENSION needs the CREATE
 *   privilege on the database (pg_trgm is a trusted extension): where it is not permitted, or the
 *   extension is not installed, the migration notes it and goes on without the index (the search
 *   still works, by a scan). An administrator can run `CREATE EXTENSION pg_trgm` and
 *   `CREATE INDEX image_summaries_search_trgm ON image_summaries USING gin (search gin_trgm_ops)`
 *   later. SQLite has no trigram index here: its lists stay small enough to scan.
 */
import { sql, SqliteIntrospector, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('image_summary_backfills')
    .addColumn('account', 'text', (c) => c.primaryKey())
    .addColumn('completed_at', 'text', (c) => c.notNull())
    .execute();
  if (db.introspection instanceof SqliteIntrospector) return;
  // A plpgsql block with an exception handler runs its body in a subtransaction: a refused
  // CREATE EXTENSION rolls back only that, not the migration's transaction.
  await sql.raw(`do $$
    declare
      schema text;
    begin
      begin
        create extension if not exists pg_trgm;
      exception when others then
        raise notice 'lading: pg_trgm not available (%), the image search runs without its trigram index', sqlerrm;
      end;
      select n.nspname into schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm';
      if schema is not null then
        execute format('create index image_summaries_search_trgm on image_summaries using gin (search %I.gin_trgm_ops)', schema);
      end if;
    end $$`).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!(db.introspection instanceof SqliteIntrospector)) await sql.raw('drop index if exists image_summaries_search_trgm').execute(db);
  await db.schema.dropTable('image_summary_backfills').execute();
}
