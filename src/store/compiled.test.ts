/**
 * Reusable compiled queries on both databases: the same compiled statement run with other values
 * gives what a freshly built query gives, on a handle and inside a transaction; a parameter that
 * does not end up bound is refused when the query is first compiled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { describeOnDatabases } from '../testkit/databases.js';
import { ReusableQuery } from './compiled.js';
import type { Database } from './schema.js';

const READ = new ReusableQuery<Database, { key: string; value: string }, 'key'>((db, p) => db.selectFrom('meta').select(['key', 'value']).where('key', '=', p<string>('key')));
const WRITE = new ReusableQuery<Database, unknown, 'key' | 'value'>((db, p) => db.insertInto('meta').values({ key: p('key'), value: p('value') })
  .onConflict((oc) => oc.column('key').doUpdateSet({ value: p<string>('value') })));

describeOnDatabases('reusable compiled queries', (t) => {
  test('one compiled statement, other values each run; on the handle and in a transaction', async () => {
    const db = t.db().kysely;
    await WRITE.execute(db, { key: 'compiled-a', value: '1' });
    await WRITE.execute(db, { key: 'compiled-b', value: '2' });
    await WRITE.execute(db, { key: 'compiled-a', value: '3' });
    assert.equal(READ.compiled(db, { key: 'x' }).sql, READ.compiled(db, { key: 'y' }).sql);
    assert.deepEqual(READ.compiled(db, { key: 'x' }).parameters, ['x']);
    assert.deepEqual((await READ.execute(db, { key: 'compiled-a' })).rows, [{ key: 'compiled-a', value: '3' }]);
    assert.deepEqual((await READ.execute(db, { key: 'compiled-b' })).rows, await db.selectFrom('meta').select(['key', 'value']).where('key', '=', 'compiled-b').execute());
    assert.deepEqual((await READ.execute(db, { key: 'compiled-none' })).rows, []);
    await db.transaction().execute(async (trx) => {
      await WRITE.execute(trx, { key: 'compiled-b', value: '4' });
      assert.equal((await READ.execute(trx, { key: 'compiled-b' })).rows[0]?.value, '4');
    });
    assert.equal((await READ.execute(db, { key: 'compiled-b' })).rows[0]?.value, '4');
  });

  test('a parameter that is not bound is refused', () => {
    const db = t.db().kysely;
    const unused = new ReusableQuery<Database, unknown, 'key'>((d, p) => {
      p('key');
      return d.selectFrom('meta').select('value').where('key', '=', 'fixed');
    });
    assert.throws(() => unused.compiled(db, { key: 'x' }), { code: 'INTERNAL', message: /parameter key is not a bound parameter/ });
    const inlined = new ReusableQuery<Database, unknown, 'key'>((d, p) => d.selectFrom('meta').select('value').where('key', '=', sql.lit(p<string>('key'))));
    assert.throws(() => inlined.compiled(db, { key: 'x' }), { code: 'INTERNAL' });
  });
});
