/**
 * An archived image keeps its policy evaluation history, as Anchore's analysis archive does (its
 * policy_evaluation artifacts): `evaluations_gz` holds the image's stored evaluations (gzip JSON,
 * bytea on PostgreSQL, blob on SQLite) when it was archived; null on rows archived before.
 */
import { PostgresAdapter, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const blob = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
  await db.schema.alterTable('archived_images').addColumn('evaluations_gz', blob).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('archived_images').dropColumn('evaluations_gz').execute();
}
