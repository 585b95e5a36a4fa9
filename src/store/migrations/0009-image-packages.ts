/**
 * The package index (see services/packages.ts): one row per package of each analyzed image, so
 * "which images hold package X" is one indexed query instead of reading every stored SBOM. Filled
 * when an analysis is saved and removed with the image. `lookup_name` is the other name
 * vulnerability feeds key the package by, when it differs: the OS source package (dpkg Source:,
 * rpm source rpm, apk origin) or the normalised ecosystem name (PEP 503, Maven group:artifact).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('image_packages')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('image_digest', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('purl', 'text', (c) => c.notNull())
    .addColumn('path', 'text')
    .addColumn('lookup_name', 'text')
    .execute();
  await db.schema.createIndex('image_packages_image').on('image_packages').columns(['account', 'image_digest']).execute();
  await db.schema.createIndex('image_packages_name').on('image_packages').columns(['account', 'name']).execute();
  await db.schema.createIndex('image_packages_lookup').on('image_packages').columns(['account', 'lookup_name']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('image_packages').ifExists().execute();
}
