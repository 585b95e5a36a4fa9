/**
 * The per-image re-match index of 0012 (image_match_keys, image_vuln_results) is replaced by the
 * set-based engine of 0016 (store/findings.ts): its tables go. `down` brings them back empty.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('image_vuln_results').ifExists().execute();
  await db.schema.dropTable('image_match_keys').ifExists().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
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
