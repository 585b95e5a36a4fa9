/**
 * Subscriptions (what the watcher polls and the notifier delivers for) and events (the per-account
 * log of what happened), see store/subscriptions.ts and store/events.ts. Keyed by account
 * first; timestamps are ISO 8601 UTC text; JSON is text; booleans are integers 0/1.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('subscriptions')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('subscription_type', 'text', (c) => c.notNull())
    .addColumn('subscription_key', 'text', (c) => c.notNull())
    .addColumn('subscription_value', 'text')
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_updated', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('subscriptions_pk', ['account', 'subscription_id'])
    .addUniqueConstraint('subscriptions_key_type', ['account', 'subscription_key', 'subscription_type'])
    .execute();
  await db.schema.createIndex('subscriptions_type_active').on('subscriptions').columns(['subscription_type', 'active']).execute();

  await db.schema.createTable('events')
    .addColumn('generated_uuid', 'text', (c) => c.primaryKey())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text')
    .addColumn('source_servicename', 'text')
    .addColumn('source_hostid', 'text')
    .addColumn('source_base_url', 'text')
    .addColumn('source_request_id', 'text')
    .addColumn('timestamp', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_account_timestamp').on('events').columns(['account', 'timestamp']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['events', 'subscriptions']) await db.schema.dropTable(t).ifExists().execute();
}
