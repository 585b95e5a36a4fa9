/**
 * The vulnerability database's change log (`vuln_changes`, written by feeds/changes.ts on every
 * apply) and the cursors its readers keep in `meta`, for the modules that follow the log (the
 * set-based re-match, store/findings.ts): they read and write those two tables only through here.
 * Every function takes the caller's connection or transaction, typed by any schema that includes
 * the vulnerability tables (the service keeps them in its one database).
 */
import type { Kysely } from 'kysely';
import { chunks } from '../util/arrays.js';
import type { VulnDbTables } from './tables.js';

/** A changed (namespace, name) key; namespace `*` (feeds/changes.ts EVERYTHING): everything changed. */
export interface ChangedKey { namespace: string; name: string }

// Kysely<DB> is invariant in DB: these functions see a database through the vulnerability tables alone (they name no other).
const own = <DB extends VulnDbTables>(db: Kysely<DB>) => db as unknown as Kysely<VulnDbTables>;

/** The log's rows after id `after`, oldest first, at most `limit`. */
export async function changesAfter<DB extends VulnDbTables>(db: Kysely<DB>, after: number, limit: number): Promise<(ChangedKey & { id: number })[]> {
  const rows = await own(db).selectFrom('vuln_changes').select(['id', 'namespace', 'name']).where('id', '>', after).orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ id: Number(r.id), namespace: r.namespace, name: r.name }));
}

/** Every key logged after id `after`. */
export async function changedKeysAfter<DB extends VulnDbTables>(db: Kysely<DB>, after: number): Promise<ChangedKey[]> {
  return own(db).selectFrom('vuln_changes').select(['namespace', 'name']).where('id', '>', after).execute();
}

/** The newest id of the log (0 when it is empty). */
export async function newestChangeId<DB extends VulnDbTables>(db: Kysely<DB>): Promise<number> {
  const r = await own(db).selectFrom('vuln_changes').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
  return Number(r?.id ?? 0);
}

/** Log these keys as changed by `source`. */
export async function logChanges<DB extends VulnDbTables>(db: Kysely<DB>, source: string, keys: ChangedKey[], at: Date = new Date()): Promise<void> {
  const rows = keys.map((k) => ({ source, namespace: k.namespace, name: k.name, created_at: at.toISOString() }));
  for (const part of chunks(rows, 500)) await own(db).insertInto('vuln_changes').values(part).execute();
}

/** A reader's cursor (the last log id it handled), 0 when it has none. */
export async function readCursor<DB extends VulnDbTables>(db: Kysely<DB>, key: string): Promise<number> {
  const r = await own(db).selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
  return r ? Number(r.value) : 0;
}

/** The cursor, created at 0 when missing and, with `forUpdate` (PostgreSQL), locked until the transaction ends. */
export async function lockCursor<DB extends VulnDbTables>(trx: Kysely<DB>, key: string, forUpdate: boolean): Promise<number> {
  await own(trx).insertInto('meta').values({ key, value: '0' }).onConflict((oc) => oc.column('key').doNothing()).execute();
  let q = own(trx).selectFrom('meta').select('value').where('key', '=', key);
  if (forUpdate) q = q.forUpdate();
  const r = await q.executeTakeFirstOrThrow();
  return Number(r.value);
}

/** Move an existing cursor to `value`. */
export async function moveCursor<DB extends VulnDbTables>(trx: Kysely<DB>, key: string, value: number): Promise<void> {
  await own(trx).updateTable('meta').set({ value: String(value) }).where('key', '=', key).execute();
}
