/**
 * The catalog (see store/catalog.ts): images per account, the tags that named them, the stored
 * analysis (the SBOM, gzip-compressed: bytea on PostgreSQL, blob on SQLite) and policy bundles.
 * Every table is keyed by account first. Timestamps are ISO 8601 UTC text; JSON is text.
 */
import { PostgresAdapter, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const blob = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';

  await db.schema.createTable('catalog_images')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('image_digest', 'text', (c) => c.notNull())
    .addColumn('image_id', 'text')
    .addColumn('manifest_digest', 'text', (c) => c.notNull())
    .addColumn('parent_digest', 'text')
    .addColumn('analysis_status', 'text', (c) => c.notNull())
    .addColumn('analysis_error', 'text')
    .addColumn('image_status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('annotations', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('dockerfile', 'text')
    .addColumn('metadata', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_updated', 'text', (c) => c.notNull())
    .addColumn('analyzed_at', 'text')
    .addPrimaryKeyConstraint('catalog_images_pk', ['account', 'image_digest'])
    .execute();
  await db.schema.createIndex('catalog_images_status').on('catalog_images').columns(['account', 'analysis_status']).execute();

  await db.schema.createTable('catalog_image_tags')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('fulltag', 'text', (c) => c.notNull())
    .addColumn('image_digest', 'text', (c) => c.notNull())
    .addColumn('registry', 'text', (c) => c.notNull())
    .addColumn('repo', 'text', (c) => c.notNull())
    .addColumn('tag', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_updated', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('catalog_image_tags_pk', ['account', 'fulltag', 'image_digest'])
    .execute();
  await db.schema.createIndex('catalog_image_tags_digest').on('catalog_image_tags').columns(['account', 'image_digest']).execute();

  await db.schema.createTable('catalog_analyses')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('image_digest', 'text', (c) => c.notNull())
    .addColumn('sbom_gz', blob, (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('catalog_analyses_pk', ['account', 'image_digest'])
    .execute();

  await db.schema.createTable('policy_bundles')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('policy_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('bundle', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_updated', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('policy_bundles_pk', ['account', 'policy_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['policy_bundles', 'catalog_analyses', 'catalog_image_tags', 'catalog_images']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
