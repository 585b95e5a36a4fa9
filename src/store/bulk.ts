/**
 * Set-based inserts of many rows as ONE statement whose text does not depend on the row count, so
 * the database parses and plans it once and the query builder does no per-value work:
 * - PostgreSQL: `insert into t (a, b) select * from unnest($1::text[], $2::integer[])`, one array
 *   parameter per column (the usual bulk path besides COPY);
 * - SQLite: `insert into t (a, b) select value ->> 0, value ->> 1 from json_each(?)`, the rows as
 *   one JSON array parameter (SQLite has no array parameters).
 * Both insert in the order given, and take ON CONFLICT … DO NOTHING and RETURNING.
 */
import { SqliteAdapter, sql, type Kysely, type RawBuilder } from 'kysely';

export type BulkColumnType = 'text' | 'integer' | 'bigint';

export interface BulkColumn {
  name: string;
  type: BulkColumnType;
}

export interface BulkOptions {
  /** ON CONFLICT (these columns) DO NOTHING. */
  onConflictDoNothing?: readonly string[];
  /** Columns to return, of the rows inserted. */
  returning?: readonly string[];
}

/** Rows per statement: bounds the size of one parameter on either database. */
const BULK_ROWS = 5000;

/** Whether a query builder (a transaction too) runs on SQLite. */
export function onSqlite<DB>(db: Kysely<DB>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

function statement<DB>(db: Kysely<DB>, table: keyof DB & string, columns: readonly BulkColumn[], rows: readonly (readonly unknown[])[], options: BulkOptions): RawBuilder<Record<string, unknown>> {
  const names = sql.join(columns.map((c) => sql.ref(c.name)));
  const source = onSqlite(db)
    ? sql`select ${sql.join(columns.map((_, i) => sql`value ->> ${sql.lit(i)}`))} from json_each(${JSON.stringify(rows)})`
    : sql`select * from unnest(${sql.join(columns.map((c, i) => sql`${rows.map((r) => r[i] ?? null)}::${sql.raw(c.type)}[]`))})`;
  // `where true`: SQLite needs it to read ON CONFLICT after INSERT … SELECT as the upsert clause.
  const conflict = options.onConflictDoNothing ? sql` on conflict (${sql.join(options.onConflictDoNothing.map((c) => sql.ref(c)))}) do nothing` : sql``;
  const returning = options.returning ? sql` returning ${sql.join(options.returning.map((c) => sql.ref(c)))}` : sql``;
  return sql<Record<string, unknown>>`insert into ${sql.table(table)} (${names}) ${source} where true${conflict}${returning}`;
}

/**
 * Insert rows (each a list of values in `columns` order) with as few statements as their number
 * allows; the returned rows when `returning` is given. `table` is one of the schema's tables
 * (`Database` for the stores).
 */
export async function insertRows<DB>(db: Kysely<DB>, table: NoInfer<keyof DB & string>, columns: readonly BulkColumn[], rows: readonly (readonly unknown[])[], options: BulkOptions = {}): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < rows.length; i += BULK_ROWS) {
    const r = await statement(db, table, columns, rows.slice(i, i + BULK_ROWS), options).execute(db);
    out.push(...r.rows);
  }
  return out;
}
