/**
 * The durable job queue (see queue/queue.ts). Same conventions as 0001: text, integer; JSON and
 * timestamps (ISO 8601, UTC, always 24 characters, so they sort as text) are stored as text.
 * The id is the one dialect-specific column: an autoincrement rowid on SQLite, an identity
 * bigint on PostgreSQL.
 */
import { sql, SqliteIntrospector, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.introspection instanceof SqliteIntrospector;
  await db.schema.createTable('jobs')
    .addColumn('id', sqlite ? 'integer' : 'bigint', (c) => (sqlite ? c.primaryKey().autoIncrement() : c.primaryKey().generatedByDefaultAsIdentity()))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('key', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('queued').check(sql`state in ('queued', 'running', 'done', 'failed')`))
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull().check(sql`max_attempts >= 1`))
    .addColumn('run_at', 'text', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('result', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // Claiming: the next queued job by priority (higher first), then run_at, then id.
  await sql`create index jobs_claim on jobs (state, priority desc, run_at, id)`.execute(db);
  // Finding running jobs whose lease has expired.
  await sql`create index jobs_lease on jobs (state, lease_until)`.execute(db);
  // At most one unfinished job per (kind, key); finished ones keep their key for history.
  // The predicate is repeated verbatim by JobQueue.enqueue's ON CONFLICT target.
  await sql`create unique index jobs_unfinished_key on jobs (kind, "key") where state in ('queued', 'running')`.execute(db);
  // Listing and purging.
  await sql`create index jobs_kind_state on jobs (kind, state)`.execute(db);
  await sql`create index jobs_state_updated on jobs (state, updated_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('jobs').ifExists().execute();
}
