/**
 * The analysis archive (services/archive.ts): transition rules per account (system_global ones,
 * made by an admin, apply to every account) and archived analyses keyed by (account, digest),
 * holding the stored SBOM (gzip: bytea on PostgreSQL, blob on SQLite), the manifest, the image's
 * tags (JSON) and metadata. Timestamps are ISO 8601 UTC text; JSON is text.
 */
import { PostgresAdapter, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const blob = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';

  await db.schema.createTable('archive_rules')
    .addColumn('rule_id', 'text', (c) => c.primaryKey())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('registry', 'text', (c) => c.notNull())
    .addColumn('repository', 'text', (c) => c.notNull())
    .addColumn('tag', 'text', (c) => c.notNull())
    .addColumn('analysis_age_days', 'integer', (c) => c.notNull())
    .addColumn('tag_versions_newer', 'integer', (c) => c.notNull())
    .addColumn('transition', 'text', (c) => c.notNull())
    .addColumn('system_global', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_images_per_account', 'integer')
    .addColumn('exclude', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_updated', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('archive_rules_account').on('archive_rules').columns(['account']).execute();

  await db.schema.createTable('archived_images')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('image_digest', 'text', (c) => c.notNull())
    .addColumn('parent_digest', 'text')
    .addColumn('image_id', 'text')
    .addColumn('annotations', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('metadata', 'text')
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('sbom_gz', blob, (c) => c.notNull())
    .addColumn('manifest', 'text')
    .addColumn('size_bytes', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('image_created_at', 'text', (c) => c.notNull())
    .addColumn('analyzed_at', 'text')
    .addColumn('archived_at', 'text', (c) => c.notNull())
    .addColumn('last_updated', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('archived_images_pk', ['account', 'image_digest'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('archived_images').ifExists().execute();
  await db.schema.dropTable('archive_rules').ifExists().execute();
}
