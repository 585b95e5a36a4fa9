/**
 * Analysis documents outside the database (store/objects/): each catalog_analyses row says which
 * object store keeps its document (`store`: db, dir, s3) and under which key (`object_key`, null
 * for db), with the sha256 and size of the stored bytes (checked on every read from an object
 * store). A row of the db store keeps the bytes in sbom_gz as before; for the others sbom_gz is
 * empty. sbom_gz may now hold zstd or plain JSON as well as gzip (the bytes say which). Rows
 * written before this migration are db rows without sha256 or size.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('catalog_analyses').addColumn('store', 'text', (c) => c.notNull().defaultTo('db')).execute();
  await db.schema.alterTable('catalog_analyses').addColumn('object_key', 'text').execute();
  await db.schema.alterTable('catalog_analyses').addColumn('doc_sha256', 'text').execute();
  await db.schema.alterTable('catalog_analyses').addColumn('doc_bytes', 'integer').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const c of ['doc_bytes', 'doc_sha256', 'object_key', 'store']) await db.schema.alterTable('catalog_analyses').dropColumn(c).execute();
}
