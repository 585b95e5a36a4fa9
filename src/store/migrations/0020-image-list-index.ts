/**
 * The image lists read pages in creation order: `GET /v1/images` (store/catalog.ts listImages,
 * newest first, then by digest) over catalog_images, which had only its primary key and a status
 * index, so every list sorted all of an account's images. This index returns them in that order.
 * (The web UI's list reads image_summaries, whose (account, created_at, image_digest) index is
 * image_summaries_created of 0015.)
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('catalog_images_created').on('catalog_images').columns(['account', 'created_at desc', 'image_digest']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('catalog_images_created').ifExists().execute();
}
