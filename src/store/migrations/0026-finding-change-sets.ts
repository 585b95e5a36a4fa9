/**
 * The re-match's outbox as change sets (store/finding-changes.ts): a re-match batch keeps its
 * changed package variants' diff rows (finding_change_diffs, keyed by the batch: the newest
 * vuln_changes id it consumed) and writes one finding_changes row per changed image with that
 * `batch` and an empty `diff`, both by INSERT … SELECT in its own transaction; the delivery joins
 * them back to each image's package rows for its vuln_update diff. Rows written before (with
 * their diff as JSON) have no batch and are delivered as they were. `announced` = 1 once the
 * row's vuln_update events and notifications are written (in that same transaction); the row is
 * deleted when its re-evaluations are stored: two stages, each done once.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('finding_changes').addColumn('batch', 'bigint').execute();
  await db.schema.alterTable('finding_changes').addColumn('announced', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.createTable('finding_change_diffs')
    .addColumn('batch', 'bigint', (c) => c.notNull())
    .addColumn('tuple_id', 'integer', (c) => c.notNull())
    .addColumn('change', 'text', (c) => c.notNull())
    .addColumn('vuln_id', 'text', (c) => c.notNull())
    .addColumn('feed_group', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('fix', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .execute();
  await sql`create index finding_change_diffs_batch on finding_change_diffs (batch, tuple_id)`.execute(db);
  await sql`create index finding_changes_batch on finding_changes (batch)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('finding_change_diffs').ifExists().execute();
  await sql`drop index if exists finding_changes_batch`.execute(db);
  await db.schema.alterTable('finding_changes').dropColumn('batch').execute();
  await db.schema.alterTable('finding_changes').dropColumn('announced').execute();
}
