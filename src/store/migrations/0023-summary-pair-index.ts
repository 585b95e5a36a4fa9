/**
 * A re-match rebuilds the summary pairs (image_summary_findings) of each changed (image, package
 * name) (store/finding-sql.ts refreshSummaryFindings): its DELETE finds them by account, digest
 * and package name. With only the (account, image_digest) index PostgreSQL read the whole table
 * (5.2 million pairs at 10,000 images, 12 s); this index finds them directly, and serves the
 * (account, image_digest) lookups of the index it replaces.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('image_summary_findings_image_name').on('image_summary_findings').columns(['account', 'image_digest', 'package_name']).execute();
  await db.schema.dropIndex('image_summary_findings_image').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('image_summary_findings_image').on('image_summary_findings').columns(['account', 'image_digest']).execute();
  await db.schema.dropIndex('image_summary_findings_image_name').execute();
}
