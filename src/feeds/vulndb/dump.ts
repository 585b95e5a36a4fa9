/** The whole vulnerability database as rows (for bundles: the file format lives in feeds/import.ts), and back. */
import { sql } from 'kysely';
import { LadingError } from '../../errors.js';
import { restoredEverything } from '../changes.js';
import { checkStoredRow } from './checks.js';
import { insertRows, lockForWrite, q } from './sql.js';
import { DATA_TABLES, VULNDB_META_KEYS, VULNDB_SCHEMA, VULNDB_TABLES, type VulnDbContext, type VulnDbTables } from './types.js';
import type { Writer } from './write.js';

/** Every row of every VulnDb table, table by table, from one consistent snapshot. */
export async function dump(ctx: VulnDbContext, onRow: (table: string, values: unknown[]) => Promise<void> | void): Promise<void> {
  const builder = ctx.dialect === 'postgres' ? ctx.db.transaction().setIsolationLevel('repeatable read') : ctx.db.transaction();
  await builder.execute(async (trx) => {
    for (const [table, columns] of Object.entries(VULNDB_TABLES)) {
      const cols = columns.map(q).join(', ');
      const where = table === 'meta' ? ` where "key" in (${VULNDB_META_KEYS.map((k) => `'${k}'`).join(', ')})` : '';
      if (ctx.dialect === 'postgres') {
        await sql.raw(`declare lading_dump no scroll cursor for select ${cols} from ${q(table)}${where}`).execute(trx);
        for (;;) {
          const res = await sql.raw<Record<string, unknown>>('fetch 2000 from lading_dump').execute(trx);
          if (!res.rows.length) break;
          for (const r of res.rows) await onRow(table, columns.map((c) => r[c] ?? null));
        }
        await sql.raw('close lading_dump').execute(trx);
      } else {
        const all = trx.selectFrom(table as keyof VulnDbTables).selectAll();
        const query = table === 'meta' ? all.where(sql<boolean>`"key" in (${sql.join([...VULNDB_META_KEYS])})`) : all;
        for await (const r of query.stream(1000)) {
          await onRow(table, columns.map((c) => (r as Record<string, unknown>)[c] ?? null));
        }
      }
    }
  });
}

/**
 * Replace every VulnDb table's rows with `rows` (each a table name and a row object by column
 * name), validating each, in one transaction: a bad row throws and nothing changes.
 * `check` runs once the rows are written, inside the transaction (a bundle's trailer check).
 */
export async function restore(w: Writer, rows: AsyncIterable<{ table: string; row: Record<string, unknown>; where: string }>, check?: () => void): Promise<Record<string, number>> {
  const counts: Record<string, number> = Object.fromEntries(Object.keys(VULNDB_TABLES).map((t) => [t, 0]));
  await w.ctx.db.transaction().execute(async (trx) => {
    await lockForWrite(trx, w.ctx.dialect, new Date());
    for (const t of [...DATA_TABLES, 'sync_state' as const]) await trx.deleteFrom(t).execute();
    await trx.deleteFrom('meta').where('key', 'in', [...VULNDB_META_KEYS]).execute();
    const pending = new Map<string, unknown[][]>();
    const flush = async (table: string) => {
      const list = pending.get(table);
      if (!list?.length) return;
      pending.set(table, []);
      const conflict = table === 'meta' ? 'on conflict ("key") do update set "value" = excluded."value"' : '';
      await insertRows(trx, w.ctx.dialect, w.insertSql, table, VULNDB_TABLES[table]!, list, conflict);
    };
    for await (const { table, row, where } of rows) {
      const columns = VULNDB_TABLES[table];
      if (!columns) throw new LadingError('BAD_INPUT', `${where}: unknown table "${table}"`);
      const problem = checkStoredRow(table, row);
      if (problem) throw new LadingError('BAD_INPUT', `${where}: ${table}: ${problem}`);
      // other modules' meta keys are theirs: a bundle neither carries nor replaces them
      if (table === 'meta' && !(VULNDB_META_KEYS as readonly unknown[]).includes(row.key)) continue;
      const list = pending.get(table) ?? [];
      list.push(columns.map((c) => row[c] ?? null));
      pending.set(table, list);
      counts[table] = (counts[table] ?? 0) + 1;
      if (list.length >= 1000) await flush(table);
    }
    for (const t of pending.keys()) await flush(t);
    check?.();
    await restoredEverything(trx, new Date());
    // The schema marker belongs to this database's migrations, not to the bundle.
    await trx.insertInto('meta').values({ key: 'vulndb_schema', value: String(VULNDB_SCHEMA) })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(VULNDB_SCHEMA) })).execute();
  });
  return counts;
}
