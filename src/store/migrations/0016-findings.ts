/**
 * Set-based re-matching (store/findings.ts). An image's findings are a function of its packages'
 * match-relevant fields and the vulnerability data, so they are stored per distinct package
 * variant ("tuple") and joined to images through the package rows:
 * - finding_tuples: one row per distinct (distro namespace, type, name, version, source name and
 *   version, epoch, module stream / maven coordinates); `tuple` is its canonical JSON (unique),
 *   `package` the minimal package the matcher is fed with;
 * - finding_tuple_keys: the (namespace, name) lookup keys of each tuple (what vuln_changes names);
 * - tuple_findings: the current findings of each tuple (one row per vulnerability and feed group);
 * - finding_images: one row per image (surrogate id) with its counts kept by difference: severity
 *   counts, total, fixable and KEV of the counted findings (all but vendor_only = wont-fix);
 * - finding_image_packages: one row per package of each image (image id, tuple id, path);
 * - finding_tuple_delta, finding_tuple_diff: work rows written and deleted inside one re-match
 *   transaction (per-tuple count deltas and finding changes), joined set-wise with the packages.
 */
import { sql, SqliteIntrospector, type Kysely } from 'kysely';

const COUNTS = ['critical', 'high', 'medium', 'low', 'negligible', 'unknown', 'total', 'fixable', 'kev'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.introspection instanceof SqliteIntrospector;
  const id = (t: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
    t.addColumn('id', 'integer', (c) => (sqlite ? c.primaryKey().autoIncrement() : c.primaryKey().generatedByDefaultAsIdentity()));

  await id(db.schema.createTable('finding_tuples'))
    .addColumn('tuple', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('package', 'text', (c) => c.notNull())
    .execute();

  await db.schema.createTable('finding_tuple_keys')
    .addColumn('namespace', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('tuple_id', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('finding_tuple_keys_pk', ['namespace', 'name', 'tuple_id'])
    .execute();

  await db.schema.createTable('tuple_findings')
    .addColumn('tuple_id', 'integer', (c) => c.notNull())
    .addColumn('vuln_id', 'text', (c) => c.notNull())
    .addColumn('feed_group', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('fix', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('fixable', 'integer', (c) => c.notNull())
    .addColumn('vendor_only', 'integer', (c) => c.notNull())
    .addColumn('kev', 'integer', (c) => c.notNull())
    .addColumn('aliases', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('tuple_findings_pk', ['tuple_id', 'vuln_id', 'feed_group'])
    .execute();

  let images = id(db.schema.createTable('finding_images'))
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('image_digest', 'text', (c) => c.notNull());
  for (const col of COUNTS) images = images.addColumn(col, 'integer', (c) => c.notNull().defaultTo(0));
  await images.addUniqueConstraint('finding_images_image', ['account', 'image_digest']).execute();

  await db.schema.createTable('finding_image_packages')
    .addColumn('image_id', 'integer', (c) => c.notNull())
    .addColumn('tuple_id', 'integer', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('finding_image_packages_tuple').on('finding_image_packages').columns(['tuple_id', 'image_id']).execute();
  await db.schema.createIndex('finding_image_packages_image').on('finding_image_packages').columns(['image_id']).execute();

  let delta = db.schema.createTable('finding_tuple_delta').addColumn('tuple_id', 'integer', (c) => c.primaryKey());
  for (const col of COUNTS) delta = delta.addColumn(col, 'integer', (c) => c.notNull());
  await delta.execute();

  await db.schema.createTable('finding_tuple_diff')
    .addColumn('tuple_id', 'integer', (c) => c.notNull())
    .addColumn('change', 'text', (c) => c.notNull())
    .addColumn('vuln_id', 'text', (c) => c.notNull())
    .addColumn('feed_group', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('fix', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('finding_tuple_diff_tuple').on('finding_tuple_diff').columns(['tuple_id']).execute();

  // On a database with a change log the re-match cursor starts at its newest change: images stored
  // before are indexed from their stored analysis with the current data (services/freshness.ts
  // indexMissingImages). On a new one the cursor starts at the log's beginning (no row yet).
  await sql`insert into meta (key, value) select 'findings_seq', cast(max(id) as text) from vuln_changes having max(id) is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from meta where key = 'findings_seq'`.execute(db);
  for (const t of ['finding_tuple_diff', 'finding_tuple_delta', 'finding_image_packages', 'finding_images', 'tuple_findings', 'finding_tuple_keys', 'finding_tuples']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
