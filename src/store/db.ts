/**
 * Opening a database for either dialect, behind one kysely interface:
 * - a file path, `sqlite:PATH` or `:memory:` → SQLite through better-sqlite3 (WAL journal, a busy
 *   timeout, foreign keys on, prepared statements cached);
 * - `postgres://…` / `postgresql://…` → PostgreSQL through a pg Pool.
 * A handle's kysely is typed by the one schema (store/schema.ts); the migrations are in migrate.ts.
 * A SQLite file created here is mode 0600 (its WAL and shared-memory files take the same mode from
 * SQLite) in a directory created 0700; `restrictSqliteFiles` tightens an existing one (the service
 * does at start).
 * `openVulnDb` is the one-call way to get a migrated vulnerability database.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteAdapter, SqliteDialect, type DialectAdapter, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { LadingError, describeError } from '../errors.js';
import { migrateToLatest } from './migrate.js';
import { VulnDb } from '../feeds/vulndb.js';
import type { Database } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

export interface DatabaseHandle<T = Database> {
  kysely: Kysely<T>;
  dialect: DialectName;
  /** What was opened, for messages: the SQLite file path, or the PostgreSQL URL with any password hidden. */
  location: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Create a missing SQLite file (and its directory). Default true; false → NOT_FOUND. */
  create?: boolean;
  /** SQLite: how long a writer waits for another process's lock. Default 15 s. */
  busyTimeoutMs?: number;
  /** PostgreSQL: pool size. Default 10. */
  poolMax?: number;
}

export type ParsedUrl = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; connectionString: string };

/** Which dialect a database URL names, and where. */
export function parseDatabaseUrl(url: string): ParsedUrl {
  const u = url.trim();
  if (!u) throw new LadingError('BAD_INPUT', 'empty database location');
  if (/^postgres(ql)?:\/\//i.test(u)) return { dialect: 'postgres', connectionString: u };
  let path = u;
  if (/^sqlite:/i.test(path)) {
    path = path.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new LadingError('BAD_INPUT', `unsupported database URL scheme in "${redactUrl(u)}": use a file path, sqlite:PATH or postgres://…`);
  }
  if (!path) throw new LadingError('BAD_INPUT', `no file path in database URL "${u}"`);
  return { dialect: 'sqlite', path: path === ':memory:' ? path : resolve(path) };
}

/** A URL with its password replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const p = new URL(url);
    if (p.password) p.password = '***';
    return p.toString();
  } catch {
    return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
  }
}

/** SQLite runs DDL inside transactions, so each migration is all-or-nothing, as on PostgreSQL. */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class LadingSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/** better-sqlite3 under kysely, with a small cache of prepared statements (bulk inserts reuse theirs). */
function sqliteFacade(raw: BetterSqlite3.Database, cacheSize = 64): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => raw.close(),
    prepare(sql: string): SqliteStatement {
      let stmt = cache.get(sql);
      if (stmt) {
        // most recently used last
        cache.delete(sql);
        cache.set(sql, stmt);
        return stmt as unknown as SqliteStatement;
      }
      stmt = raw.prepare(sql);
      cache.set(sql, stmt);
      if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
      return stmt as unknown as SqliteStatement;
    },
  };
}

/** An empty file readable by its owner only, in a directory (created 0700 when missing). */
function createPrivateFile(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
  } catch (e) {
    throw new LadingError('BAD_INPUT', `cannot create the SQLite database ${path}: ${describeError(e)}`, { cause: e });
  }
}

/**
 * Make a SQLite database file and its -wal, -shm and -journal files mode 0600 (owner only);
 * files that do not exist are skipped. Returns the files whose mode changed.
 */
export function restrictSqliteFiles(path: string): string[] {
  const changed: string[] = [];
  for (const f of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    try {
      if ((statSync(f).mode & 0o777) === 0o600) continue;
      chmodSync(f, 0o600);
      changed.push(f);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new LadingError('BAD_INPUT', `cannot make ${f} private (mode 0600): ${describeError(e)}`, { cause: e });
    }
  }
  return changed;
}

export async function openDatabase<T = Database>(url: string, options: OpenOptions = {}): Promise<DatabaseHandle<T>> {
  const parsed = parseDatabaseUrl(url);
  if (parsed.dialect === 'sqlite') {
    const { path } = parsed;
    if (path !== ':memory:' && !existsSync(path)) {
      if (options.create === false) throw new LadingError('NOT_FOUND', `no database at ${path}`);
      createPrivateFile(path);
    }
    let raw: BetterSqlite3.Database;
    try {
      raw = new BetterSqlite3(path, { timeout: options.busyTimeoutMs ?? 15_000 });
      raw.pragma('journal_mode = WAL');
      raw.pragma('synchronous = NORMAL');
      raw.pragma('foreign_keys = ON');
      raw.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 15_000))}`);
    } catch (e) {
      throw new LadingError('BAD_INPUT', `cannot open the SQLite database ${path}: ${describeError(e)}`, { cause: e });
    }
    const kysely = new Kysely<T>({ dialect: new LadingSqliteDialect({ database: sqliteFacade(raw) }) });
    let closed = false;
    return {
      kysely,
      dialect: 'sqlite',
      location: path,
      close: async () => {
        if (closed) return;
        closed = true;
        await kysely.destroy();
        if (raw.open) raw.close();
      },
    };
  }
  const location = redactUrl(parsed.connectionString);
  // pg is loaded only for a PostgreSQL URL: the CLI on its SQLite file never pays for it.
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: parsed.connectionString, max: options.poolMax ?? 10 });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  try {
    const c = await pool.connect();
    c.release();
  } catch (e) {
    await pool.end().catch(() => {});
    throw new LadingError('NETWORK', `cannot connect to PostgreSQL at ${location}: ${describeError(e)}`, { cause: e });
  }
  const kysely = new Kysely<T>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    kysely,
    dialect: 'postgres',
    location,
    close: async () => {
      if (closed) return;
      closed = true;
      await kysely.destroy();
    },
  };
}

/** Open (creating when allowed) and migrate a database, and wrap it as the vulnerability store. */
export async function openVulnDb(url: string, options: OpenOptions = {}): Promise<VulnDb> {
  const handle = await openDatabase(url, options);
  try {
    await migrateToLatest(handle.kysely);
  } catch (e) {
    await handle.close();
    throw e;
  }
  return new VulnDb(handle);
}
