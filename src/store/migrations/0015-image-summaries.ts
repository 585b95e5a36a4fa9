/**
 * Per-image summaries for the web UI's lists and dashboard (services/summaries.ts):
 * - image_summaries: one row per (account, image_digest) with what lists sort and filter by (tags,
 *   severity counts, verdict, sizes, package count), recomputed from the stored state whenever an
 *   input changes; analysis and image status are read live from catalog_images;
 * - image_summary_findings: the (vulnerability id, package name) pairs of each image, so "images
 *   with CVE-…" is an indexed lookup;
 * - vuln_trend: snapshots of an account's finding totals (counts as JSON), oldest first by `at`.
 * Timestamps are ISO 8601 UTC text.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  let t = db.schema.createTable('image_summaries')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('image_digest', 'text', (c) => c.notNull())
    /** JSON list of the image's fulltags, oldest first. */
    .addColumn('tags', 'text', (c) => c.notNull())
    /** Lower-cased fulltags and digest, newline-separated: what `q` searches. */
    .addColumn('search', 'text', (c) => c.notNull())
    /** Registry, repository and fulltag (lower-cased, for sorting) of the first tag. */
    .addColumn('registry', 'text')
    .addColumn('repository', 'text')
    .addColumn('tag_sort', 'text', (c) => c.notNull())
    .addColumn('distro', 'text')
    .addColumn('platform', 'text')
    .addColumn('image_size', 'bigint')
    .addColumn('layer_count', 'integer')
    .addColumn('package_count', 'integer');
  for (const col of ['critical', 'high', 'medium', 'low', 'negligible', 'unknown', 'total', 'fixable', 'kev']) {
    t = t.addColumn(col, 'integer', (c) => c.notNull().defaultTo(0));
  }
  await t
    /** pass | warn | fail from the newest stored policy evaluation; null when never evaluated. */
    .addColumn('verdict', 'text')
    .addColumn('evaluated_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('analyzed_at', 'text')
    /** The analyzed_at the package count, distro and platform were read for. */
    .addColumn('sbom_at', 'text')
    .addColumn('refreshed_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_summaries_pk', ['account', 'image_digest'])
    .execute();
  const sorts: Record<string, string[]> = {
    created: ['created_at'], analyzed: ['analyzed_at'], tag: ['tag_sort'], risk: ['critical', 'high', 'medium', 'low'],
    high: ['high'], total: ['total'], packages: ['package_count'], size: ['image_size'],
  };
  for (const [name, cols] of Object.entries(sorts)) {
    await db.schema.createIndex(`image_summaries_${name}`).on('image_summaries').columns(['account', ...cols, 'image_digest']).execute();
  }

  await db.schema.createTable('image_summary_findings')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('image_digest', 'text', (c) => c.notNull())
    .addColumn('vuln_id', 'text', (c) => c.notNull())
    .addColumn('package_name', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('image_summary_findings_image').on('image_summary_findings').columns(['account', 'image_digest']).execute();
  await db.schema.createIndex('image_summary_findings_vuln').on('image_summary_findings').columns(['account', 'vuln_id']).execute();

  await db.schema.createTable('vuln_trend')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('counts', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('vuln_trend_account').on('vuln_trend').columns(['account', 'at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['vuln_trend', 'image_summary_findings', 'image_summaries']) await db.schema.dropTable(t).ifExists().execute();
}
