import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { describeOnDatabases } from '../testkit/databases.js';
import { insertRows, onSqlite, type BulkColumn } from './bulk.js';

const COLUMNS: BulkColumn[] = [{ name: 'k', type: 'text' }, { name: 'n', type: 'integer' }, { name: 'note', type: 'text' }];
// Text a PostgreSQL array literal or a JSON document must carry as it is.
const AWKWARD = ['a,b', '{braces}', 'quote " and \\ backslash', "it's", 'NULL', '', ' spaced ', 'ünïcödé ✓', 'line\nbreak'];

/** The tables these tests create. */
interface BulkTestTables {
  bulk_rows: { k: string; n: number | null; note: string | null };
  bulk_keys: { id: number; k: string };
}

describeOnDatabases('set-based inserts', (t) => {
  test('inserts every row in order, with NULLs and text that needs quoting, as one statement per call', async () => {
    const db = t.db().kysely as unknown as Kysely<BulkTestTables>;
    assert.equal(onSqlite(db), t.db().dialect === 'sqlite');
    await sql`create table bulk_rows (k text not null primary key, n integer, note text)`.execute(db);
    const rows = AWKWARD.map((k, i) => [k, i % 3 === 0 ? null : i * 1000, i % 2 ? null : `note ${k}`]);
    await db.transaction().execute((trx) => insertRows<BulkTestTables>(trx, 'bulk_rows', COLUMNS, rows));
    const back = await sql<{ k: string; n: number | null; note: string | null }>`select k, n, note from bulk_rows`.execute(db);
    const byKey = new Map(back.rows.map((r) => [r.k, [r.k, r.n === null ? null : Number(r.n), r.note]]));
    assert.deepEqual(AWKWARD.map((k) => byKey.get(k)), rows);
    assert.deepEqual(await insertRows(db, 'bulk_rows', COLUMNS, []), []);
  });

  test('ON CONFLICT DO NOTHING returns only the rows it inserted', async () => {
    const db = t.db().kysely as unknown as Kysely<BulkTestTables>;
    await sql`create table bulk_keys (id integer primary key, k text not null unique)`.execute(db);
    const first = await insertRows(db, 'bulk_keys', [{ name: 'id', type: 'integer' }, { name: 'k', type: 'text' }], [[1, 'x'], [2, 'y']], { onConflictDoNothing: ['k'], returning: ['id', 'k'] });
    assert.deepEqual(first.map((r) => [Number(r.id), r.k]).sort(), [[1, 'x'], [2, 'y']]);
    const again = await insertRows(db, 'bulk_keys', [{ name: 'id', type: 'integer' }, { name: 'k', type: 'text' }], [[3, 'y'], [4, 'z']], { onConflictDoNothing: ['k'], returning: ['id', 'k'] });
    assert.deepEqual(again.map((r) => [Number(r.id), r.k]), [[4, 'z']]);
  });
});
