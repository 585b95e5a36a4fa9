/**
 * The service registry: one row per running role of each process (host id + service name), with
 * its heartbeat, so `/system` shows every process of a scaled-out service, not just the one asked.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('service_registry')
    .addColumn('hostid', 'text', (c) => c.notNull())
    .addColumn('servicename', 'text', (c) => c.notNull())
    .addColumn('base_url', 'text')
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('heartbeat_at', 'text', (c) => c.notNull())
    .addColumn('stopped_at', 'text')
    .addPrimaryKeyConstraint('service_registry_pk', ['hostid', 'servicename'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('service_registry').ifExists().execute();
}
