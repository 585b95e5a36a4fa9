/**
 * What a feed update changed, and which images that concerns (feeds/changes.ts, services/rematch.ts):
 * - affected_digests: per source and (namespace, name), an order-independent digest of its
 *   affected rows, so a full re-sync can tell which packages really changed;
 * - vuln_changes: an append-only log of changed (namespace, name) keys (`*` = everything), read by
 *   the re-match cycle from its cursor, whichever process (service or `lading db import`) wrote it;
 * - image_match_keys: for every analyzed image, the (namespace, name) keys its packages are looked
 *   up under, so a change finds its images without scanning them all;
 * - image_vuln_results: every image's current vulnerability summary, the baseline of vuln_update diffs.
 */
import { SqliteIntrospector, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.introspection instanceof SqliteIntrospector;
  await db.schema.createTable('affected_digests')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('namespace', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('affected_digests_pk', ['source', 'namespace', 'name'])
    .execute();

  await db.schema.createTable('vuln_changes')
    .addColumn('id', sqlite ? 'integer' : 'bigint', (c) => (sqlite ? c.primaryKey().autoIncrement() : c.primaryKey().generatedByDefaultAsIdentity()))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('namespace', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema.createTable('image_match_keys')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('image_digest', 'text', (c) => c.notNull())
    .addColumn('namespace', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_match_keys_pk', ['account', 'image_digest', 'namespace', 'name'])
    .execute();
  await db.schema.createIndex('image_match_keys_key').on('image_match_keys').columns(['namespace', 'name']).execute();

  await db.schema.createTable('image_vuln_results')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('image_digest', 'text', (c) => c.notNull())
    .addColumn('results', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_vuln_results_pk', ['account', 'image_digest'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['image_vuln_results', 'image_match_keys', 'vuln_changes', 'affected_digests']) await db.schema.dropTable(t).ifExists().execute();
}
