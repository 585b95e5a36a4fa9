/**
 * Periodic service cycles (services/cycles.ts): one row per cycle name, holding who runs it now
 * (a lease, so one process runs it at a time across every host), when it is next due, and how
 * its last run went. Timestamps are ISO 8601 text (24 characters, sort as text).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('service_cycles')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('next_due', 'text', (c) => c.notNull())
    .addColumn('runs', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_started', 'text')
    .addColumn('last_finished', 'text')
    .addColumn('last_owner', 'text')
    .addColumn('last_status', 'text')
    .addColumn('last_error', 'text')
    .addColumn('last_summary', 'text')
    .addColumn('last_duration_ms', 'integer')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('service_cycles').ifExists().execute();
}
