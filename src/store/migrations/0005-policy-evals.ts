/**
 * Stored policy evaluations (see services/policies.ts): one row per evaluation of an image as a
 * tag, with the evaluation document gzip-compressed (bytea on PostgreSQL, blob on SQLite); and the
 * image manifest kept beside each stored analysis (`/images/{digest}/metadata/manifest`).
 */
import { PostgresAdapter, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const blob = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';

  await db.schema.createTable('policy_evals')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('eval_id', 'text', (c) => c.notNull())
    .addColumn('image_digest', 'text', (c) => c.notNull())
    .addColumn('tag', 'text', (c) => c.notNull())
    .addColumn('policy_id', 'text', (c) => c.notNull())
    .addColumn('final_action', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('doc_gz', blob, (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('policy_evals_pk', ['account', 'eval_id'])
    .execute();
  await db.schema.createIndex('policy_evals_image').on('policy_evals').columns(['account', 'image_digest', 'tag', 'created_at']).execute();

  await db.schema.alterTable('catalog_analyses').addColumn('manifest', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('catalog_analyses').dropColumn('manifest').execute();
  await db.schema.dropTable('policy_evals').ifExists().execute();
}
