/**
 * The outbox of the set-based re-match (services/finding-changes.ts): one row per image whose
 * findings a re-match changed, written in the re-match's own transaction (store/findings.ts), so a
 * process that dies after that commit loses no vuln_update event, notification or policy
 * re-evaluation: whichever process runs the re-match cycle next delivers the rows and deletes them
 * in the transaction that records what they caused. `diff` is the vuln_update diff as JSON.
 */
import { SqliteIntrospector, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.introspection instanceof SqliteIntrospector;
  await db.schema.createTable('finding_changes')
    .addColumn('id', 'integer', (c) => (sqlite ? c.primaryKey().autoIncrement() : c.primaryKey().generatedByDefaultAsIdentity()))
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('image_digest', 'text', (c) => c.notNull())
    .addColumn('diff', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('finding_changes').ifExists().execute();
}
