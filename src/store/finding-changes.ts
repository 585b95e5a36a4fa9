/**
 * The re-match's outbox (table finding_changes, migrations/0019-finding-changes.ts): one row per
 * image whose findings a re-match changed, written in the re-match's transaction and taken (deleted)
 * in the transaction that delivers what it causes (services/finding-changes.ts).
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

const ROW_CHUNK = 100;

export interface FindingChangeRow { id: number; account: string; image_digest: string; diff: string }

/** Add rows (inside the caller's transaction). */
export async function recordFindingChanges(trx: Kysely<Database>, rows: { account: string; image_digest: string; diff: string; created_at: string }[]): Promise<void> {
  for (let i = 0; i < rows.length; i += ROW_CHUNK) await trx.insertInto('finding_changes').values(rows.slice(i, i + ROW_CHUNK)).execute();
}

/** Whether any row waits. */
export async function hasFindingChanges(db: Kysely<Database>): Promise<boolean> {
  return !!(await db.selectFrom('finding_changes').select('id').limit(1).executeTakeFirst());
}

/** Rows after id `after`, oldest first, at most `limit`. */
export async function findingChangesAfter(db: Kysely<Database>, after: number, limit: number): Promise<FindingChangeRow[]> {
  const rows = await db.selectFrom('finding_changes').select(['id', 'account', 'image_digest', 'diff']).where('id', '>', after).orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** Take (delete) these rows inside the caller's transaction: the ids of those still there. */
export async function takeFindingChanges(trx: Kysely<Database>, ids: number[]): Promise<Set<number>> {
  const taken = await trx.deleteFrom('finding_changes').where('id', 'in', ids).returning('id').execute();
  return new Set(taken.map((r) => Number(r.id)));
}
