/** Statement helpers shared by VulnDb's readers and writers: chunking, quoting, raw multi-row statements, the writer lock. */
import { randomUUID } from 'node:crypto';
import { CompiledQuery, sql, type Transaction } from 'kysely';
import type { VulnDbContext, VulnDbTables } from './types.js';

/** Values per `IN (...)` list. */
export const IN_CHUNK = 500;
/** Spooled rows written per chunk of an apply. */
export const ROWS_PER_CHUNK = 2000;
/** Well under SQLite's 32766 and PostgreSQL's 65535 bound parameters per statement. */
export const MAX_PARAMS = 8000;

export { chunks } from '../../util/arrays.js';

export const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

const paramLists = new Map<string, string>();

/** `count` bound parameters in the dialect's spelling, numbered from `first` on PostgreSQL (each list built once). */
export function params(dialect: VulnDbContext['dialect'], count: number, first = 1): string {
  const key = `${dialect}:${count}:${first}`;
  let list = paramLists.get(key);
  if (list === undefined) {
    list = Array.from({ length: count }, (_, i) => (dialect === 'postgres' ? `$${first + i}` : '?')).join(', ');
    if (paramLists.size > 1000) paramLists.clear();
    paramLists.set(key, list);
  }
  return list;
}

/**
 * Rows of a statement written as text with bound parameters. The readers of many keys use it
 * rather than the query builder, whose cost grows with every value of a long `IN` list.
 */
export async function rawRows<R>(ctx: VulnDbContext, text: string, values: readonly unknown[]): Promise<R[]> {
  return (await ctx.db.executeQuery<R>(CompiledQuery.raw(text, [...values]))).rows;
}

/** Multi-row INSERTs with bound parameters; the statement text is built once per shape (kept in `cache`). */
export async function insertRows(trx: Transaction<VulnDbTables>, dialect: VulnDbContext['dialect'], cache: Map<string, string>,
  table: string, columns: readonly string[], rows: unknown[][], conflict: string): Promise<void> {
  const per = Math.max(1, Math.min(1000, Math.floor(MAX_PARAMS / columns.length)));
  for (let i = 0; i < rows.length; i += per) {
    const part = rows.slice(i, i + per);
    const key = `${table}\0${part.length}\0${conflict}`;
    let text = cache.get(key);
    if (!text) {
      let n = 0;
      const tuple = () => `(${columns.map(() => (dialect === 'postgres' ? `$${++n}` : '?')).join(', ')})`;
      const values = Array.from({ length: part.length }, tuple).join(', ');
      text = `insert into ${q(table)} (${columns.map(q).join(', ')}) values ${values}${conflict ? ` ${conflict}` : ''}`;
      if (cache.size > 256) cache.clear();
      cache.set(key, text);
    }
    await trx.executeQuery(CompiledQuery.raw(text, part.flat()));
  }
}

/** pg_advisory_xact_lock key for VulnDb writers ("LADV"). */
const LOCK_KEY = 0x4c414456;

/** The meta key whose value every write transaction replaces with a fresh token: readers' caches compare it (cache.ts). */
export const DATA_VERSION_KEY = 'data_version';

/**
 * The first statement of every write transaction: takes the writer lock, stamps meta `built`, and
 * gives meta `data_version` a new random value (`built` alone may repeat: it is the caller's `at`).
 */
export async function lockForWrite(trx: Transaction<VulnDbTables>, dialect: VulnDbContext['dialect'], at: Date): Promise<void> {
  if (dialect === 'postgres') {
    // One writer at a time across processes (a transaction-scoped advisory lock).
    await sql`select pg_advisory_xact_lock(${LOCK_KEY})`.execute(trx);
  }
  // On SQLite a write first takes the write lock, waiting out the busy timeout (a read first
  // could fail at its first write instead, with SQLITE_BUSY).
  await trx.insertInto('meta').values({ key: 'built', value: at.toISOString() })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: at.toISOString() })).execute();
  const token = randomUUID();
  await trx.insertInto('meta').values({ key: DATA_VERSION_KEY, value: token })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: token })).execute();
}
