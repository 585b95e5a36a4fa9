/**
 * SBOM imports (see services/imports.ts): an import operation per account, and the content
 * uploaded to it (the SBOM, manifest, parent manifest, image config, Dockerfile), gzip-compressed
 * and keyed by the sha256 of the bytes as uploaded (bytea on PostgreSQL, blob on SQLite).
 * Timestamps are ISO 8601 UTC text.
 */
import { PostgresAdapter, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const blob = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';

  await db.schema.createTable('image_imports')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('uuid', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_updated', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_imports_pk', ['account', 'uuid'])
    .execute();

  await db.schema.createTable('image_import_contents')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('operation_uuid', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('content_gz', blob, (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_import_contents_pk', ['account', 'operation_uuid', 'content_type', 'digest'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['image_import_contents', 'image_imports']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
