/**
 * A store test on both databases: `describeOnDatabases(name, body)` declares the suite once on a
 * migrated temporary SQLite file and once on a migrated database of a throwaway PostgreSQL server
 * (skipped, with the reason, when PostgreSQL is not installed). `db()` returns the open handle
 * inside tests; `openAnother()` opens a second handle on the same database, as a second process would.
 */
import { before, after, describe } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type DatabaseHandle } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { postgresAvailable, postgresSkipReason, startPostgres, type RunningPostgres } from './postgres.js';

export interface TestDatabase {
  db: () => DatabaseHandle;
  url: () => string;
  openAnother: () => Promise<DatabaseHandle>;
}

export function describeOnDatabases(name: string, body: (t: TestDatabase) => void): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const skip = dialect === 'postgres' && !postgresAvailable() ? postgresSkipReason : false;
    describe(`${name} (${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'})`, { skip }, () => {
      let dir: string | undefined;
      let pg: RunningPostgres | undefined;
      let url = '';
      let handle: DatabaseHandle | undefined;
      const extra: DatabaseHandle[] = [];
      before(async () => {
        dir = await mkdtemp(join(tmpdir(), `lading-db-${dialect}-`));
        if (dialect === 'postgres') {
          pg = await startPostgres();
          url = await pg.createDatabase();
        } else url = join(dir, 'lading.db');
        handle = await openDatabase(url);
        await migrateToLatest(handle.kysely);
      });
      after(async () => {
        for (const h of extra) await h.close();
        await handle?.close();
        await pg?.stop();
        if (dir) await rm(dir, { recursive: true, force: true });
      });
      body({
        db: () => {
          if (!handle) throw new Error('the database is only open inside tests and hooks');
          return handle;
        },
        url: () => url,
        openAnother: async () => {
          const h = await openDatabase(url);
          extra.push(h);
          return h;
        },
      });
    });
  }
}
