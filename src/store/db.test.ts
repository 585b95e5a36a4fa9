import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql, type Kysely, type Migration } from 'kysely';
import { openDatabase, parseDatabaseUrl, redactUrl, restrictSqliteFiles, type DatabaseHandle } from './db.js';
import { appliedSchema, knownSchemas, latestSchema, migrateToLatest } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';
import { isLadingError } from '../errors.js';
import { freePort } from '../testkit/registry.js';
import { postgresAvailable, postgresSkipReason, startPostgres, type RunningPostgres } from '../testkit/postgres.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-store-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

test('database URLs: file paths, sqlite:, :memory:, postgres', () => {
  assert.deepEqual(parseDatabaseUrl('/var/lib/x.db'), { dialect: 'sqlite', path: '/var/lib/x.db' });
  assert.deepEqual(parseDatabaseUrl('rel/x.db'), { dialect: 'sqlite', path: resolve('rel/x.db') });
  assert.deepEqual(parseDatabaseUrl('sqlite:/tmp/a.db'), { dialect: 'sqlite', path: '/tmp/a.db' });
  assert.deepEqual(parseDatabaseUrl('sqlite:///tmp/a.db'), { dialect: 'sqlite', path: '/tmp/a.db' });
  assert.deepEqual(parseDatabaseUrl(':memory:'), { dialect: 'sqlite', path: ':memory:' });
  assert.deepEqual(parseDatabaseUrl('sqlite::memory:'), { dialect: 'sqlite', path: ':memory:' });
  assert.equal(parseDatabaseUrl('postgres://u:p@h:5432/db').dialect, 'postgres');
  assert.equal(parseDatabaseUrl('postgresql://h/db').dialect, 'postgres');
  for (const bad of ['', 'mysql://h/db', 'sqlite:']) {
    assert.throws(() => parseDatabaseUrl(bad), (e) => isLadingError(e) && e.code === 'BAD_INPUT', bad);
  }
  assert.equal(redactUrl('postgres://u:secret@h:5432/db'), 'postgres://u:***@h:5432/db');
  assert.equal(redactUrl('postgres://h/db'), 'postgres://h/db');
});

test('SQLite: WAL, busy timeout, foreign keys; the directory is created; create:false refuses a missing file', async () => {
  const file = join(dir, 'sub', 'dir', 'a.db');
  const h = await openDatabase(file);
  try {
    assert.equal(h.dialect, 'sqlite');
    assert.equal(h.location, file);
    const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(h.kysely);
    assert.equal(mode.rows[0]?.journal_mode, 'wal');
    const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(h.kysely);
    assert.equal(fk.rows[0]?.foreign_keys, 1);
    const bt = await sql<{ timeout: number }>`pragma busy_timeout`.execute(h.kysely);
    assert.equal(bt.rows[0]?.timeout, 15000);
  } finally {
    await h.close();
    await h.close(); // twice is fine
  }
  assert.ok(existsSync(file));
  await assert.rejects(openDatabase(join(dir, 'missing.db'), { create: false }), (e) => isLadingError(e) && e.code === 'NOT_FOUND');
  assert.ok(!existsSync(join(dir, 'missing.db')));
});

test('SQLite files are private: a new database is 0600 with its WAL and SHM, its new directory 0700; restrictSqliteFiles tightens old ones', async () => {
  const mode = (f: string) => statSync(f).mode & 0o777;
  const file = join(dir, 'private', 'lading.db');
  const h = await openDatabase(file);
  try {
    await sql`create table t (x integer)`.execute(h.kysely);
    await sql`insert into t values (1)`.execute(h.kysely);
    assert.equal(mode(join(dir, 'private')), 0o700);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal(mode(f), 0o600, f);
  } finally {
    await h.close();
  }
  const old = join(dir, 'old.db');
  writeFileSync(old, '');
  writeFileSync(`${old}-wal`, '');
  chmodSync(old, 0o644);
  chmodSync(`${old}-wal`, 0o666);
  assert.deepEqual(restrictSqliteFiles(old), [old, `${old}-wal`]);
  assert.equal(mode(old), 0o600);
  assert.equal(mode(`${old}-wal`), 0o600);
  assert.deepEqual(restrictSqliteFiles(old), []);
});

test('PostgreSQL that is not there: a clear error, password hidden', async () => {
  const port = await freePort();
  await assert.rejects(openDatabase(`postgres://me:hunter2@127.0.0.1:${port}/x`), (e) => {
    assert.ok(isLadingError(e));
    assert.equal(e.code, 'NETWORK');
    assert.match(e.message, /cannot connect to PostgreSQL at postgres:\/\/me:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(e.message, /hunter2/);
    return true;
  });
});

/** The tables the test migrations below add. */
interface ExtraTables { images: { digest: string }; image_tags: { digest: string; tag: string }; half: { x: string | null } }

/** A later module's migration, to show the set is open: it adds a table with a foreign key. */
const extra: Record<string, Migration> = {
  ...MIGRATIONS,
  '9999-test-extra': {
    async up(db: Kysely<unknown>) {
      await db.schema.createTable('images').addColumn('digest', 'text', (c) => c.primaryKey()).execute();
      await db.schema.createTable('image_tags')
        .addColumn('digest', 'text', (c) => c.notNull().references('images.digest').onDelete('cascade'))
        .addColumn('tag', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('image_tags').execute();
      await db.schema.dropTable('images').execute();
    },
  },
};

function migrationSuite(name: string, open: () => Promise<DatabaseHandle>) {
  test(`${name}: migrations apply once, record their names, and more can be added later`, async () => {
    const h = await open();
    try {
      assert.deepEqual(await migrateToLatest(h.kysely), knownSchemas());
      assert.deepEqual(await migrateToLatest(h.kysely), []);
      assert.equal(await appliedSchema(h.kysely), latestSchema());
      const meta = await h.kysely.selectFrom('meta').selectAll().execute();
      assert.deepEqual(meta, [{ key: 'vulndb_schema', value: '1' }]);
      // every vulnerability table exists
      for (const t of ['vulnerabilities', 'aliases', 'affected', 'kev', 'epss', 'sync_state'] as const) {
        const r = await h.kysely.selectFrom(t).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
        assert.equal(Number(r.n), 0, t);
      }
      assert.deepEqual(await migrateToLatest(h.kysely, extra), ['9999-test-extra']);
      assert.equal(await appliedSchema(h.kysely, extra), '9999-test-extra');
      // foreign keys are enforced on both dialects
      const k = h.kysely as unknown as Kysely<ExtraTables>;
      await assert.rejects(k.insertInto('image_tags').values({ digest: 'sha256:nope', tag: 'x' }).execute());
      await k.insertInto('images').values({ digest: 'sha256:a' }).execute();
      await k.insertInto('image_tags').values({ digest: 'sha256:a', tag: 'latest' }).execute();
      await k.deleteFrom('images').execute();
      assert.equal((await k.selectFrom('image_tags').selectAll().execute()).length, 0);
    } finally {
      await h.close();
    }
  });

  test(`${name}: a failing migration is reported by name and leaves the database as it was`, async () => {
    const h = await open();
    try {
      await migrateToLatest(h.kysely);
      const broken: Record<string, Migration> = {
        ...MIGRATIONS,
        '9998-broken': {
          async up(db: Kysely<unknown>) {
            await db.schema.createTable('half').addColumn('x', 'text').execute();
            await sql`select * from no_such_table`.execute(db);
          },
        },
      };
      await assert.rejects(migrateToLatest(h.kysely, broken), /migration 9998-broken failed/);
      assert.equal(await appliedSchema(h.kysely, broken), latestSchema());
      // DDL is transactional on both: the half-made table is gone
      await assert.rejects((h.kysely as unknown as Kysely<ExtraTables>).selectFrom('half').selectAll().execute());
    } finally {
      await h.close();
    }
  });
}

let n = 0;
migrationSuite('SQLite', () => openDatabase(join(dir, `m${++n}.db`)));

describe('PostgreSQL', { skip: postgresAvailable() ? false : postgresSkipReason }, () => {
  let server: RunningPostgres;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => server?.stop());
  migrationSuite('PostgreSQL', async () => openDatabase(await server.createDatabase()));
});
