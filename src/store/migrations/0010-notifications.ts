/**
 * Webhook notifications (see services/notify/): one row per notification, kept until purged, and
 * a delivery log with one row per POST. Timestamps are ISO 8601 UTC text (24 characters, so they
 * sort as text); JSON is text. A notification is claimed by setting lease_owner/lease_until; its
 * status stays `pending` while it is being delivered. The log's id is the one dialect-specific
 * column (autoincrement on SQLite, an identity bigint on PostgreSQL).
 */
import { sql, SqliteIntrospector, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.introspection instanceof SqliteIntrospector;
  await db.schema.createTable('notifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('subscription_key', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    /** JSON list of the destinations still to receive it: `general` and/or the type's own. */
    .addColumn('targets', 'text', (c) => c.notNull())
    /** 1: a synthetic notification sent by POST /system/webhooks/{type}/test. */
    .addColumn('test', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending').check(sql`status in ('pending', 'delivered', 'failed')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('deadline', 'text', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_updated', 'text', (c) => c.notNull())
    .execute();
  // Finding due notifications.
  await sql`create index notifications_due on notifications (status, next_attempt_at)`.execute(db);
  // Listing an account's, newest first.
  await sql`create index notifications_account on notifications (account, created_at)`.execute(db);

  await db.schema.createTable('notification_deliveries')
    .addColumn('id', sqlite ? 'integer' : 'bigint', (c) => (sqlite ? c.primaryKey().autoIncrement() : c.primaryKey().generatedByDefaultAsIdentity()))
    .addColumn('notification_id', 'text', (c) => c.notNull().references('notifications.id').onDelete('cascade'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    /** The URL posted to, without credentials. */
    .addColumn('url', 'text')
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await sql`create index notification_deliveries_notification on notification_deliveries (notification_id, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('notification_deliveries').ifExists().execute();
  await db.schema.dropTable('notifications').ifExists().execute();
}
