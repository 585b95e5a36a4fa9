/**
 * Hot queries of a fixed shape built and compiled once per database handle, then run with new
 * values for their named parameters: kysely's building and compiling cost more CPU than many of
 * the small statements themselves (a per-request login read, the import statements). The SQL of a
 * query depends only on the dialect, so it is kept per dialect adapter (shared by a handle and its
 * transactions). Only for queries whose shape does not depend on the values (no IN lists of varying
 * length, no optional clauses, no values written into the SQL).
 */
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import { LadingError } from '../errors.js';

const MARK = '\u0000lading-param:';

interface Compiled<R, P extends string> { query: CompiledQuery<R>; slots: (P | undefined)[] }

export class ReusableQuery<DB, R, P extends string> {
  private readonly byAdapter = new WeakMap<object, Compiled<R, P>>();

  /** `build` makes the query with `param(name)` where each value goes. */
  constructor(private readonly build: (db: Kysely<DB>, param: <T>(name: P) => T) => Compilable<R>) {}

  /** The compiled query with these values in place. */
  compiled(db: Kysely<DB>, values: Record<P, unknown>): CompiledQuery<R> {
    const adapter = db.getExecutor().adapter;
    let c = this.byAdapter.get(adapter);
    if (!c) {
      const names = new Set<P>();
      const query = this.build(db, <T>(name: P) => {
        names.add(name);
        return `${MARK}${name}` as T;
      }).compile();
      const slots = query.parameters.map((v) => (typeof v === 'string' && v.startsWith(MARK) ? (v.slice(MARK.length) as P) : undefined));
      const missing = [...names].filter((n) => !slots.includes(n));
      if (missing.length || query.sql.includes(MARK)) {
        throw new LadingError('INTERNAL', `reusable query: parameter ${missing.join(', ') || 'written into the SQL'} is not a bound parameter of ${query.sql}`);
      }
      c = { query, slots };
      this.byAdapter.set(adapter, c);
    }
    const { query, slots } = c;
    return { ...query, parameters: query.parameters.map((v, i) => (slots[i] === undefined ? v : values[slots[i]]))};
  }

  /** Run it on db (a handle or a transaction) with these values. */
  execute(db: Kysely<DB>, values: Record<P, unknown>): Promise<QueryResult<R>> {
    return db.executeQuery(this.compiled(db, values));
  }
}
