import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { openDatabase } from './db.js';
import { migrateToLatest } from './migrate.js';
import { SubscriptionStore, subscriptionId } from './subscriptions.js';

const TAG = 'reg.test/team/app:v1';

async function withStore(body: (s: SubscriptionStore) => Promise<void>): Promise<void> {
  const db = await openDatabase(':memory:');
  try {
    await migrateToLatest(db.kysely);
    await body(new SubscriptionStore(db.kysely));
  } finally {
    await db.close();
  }
}

const flags = (subs: { type: string; active: boolean }[]) => Object.fromEntries(subs.map((s) => [s.type, s.active]));

test('subscription id is md5 of account+key+type, as Anchore computes it', () => {
  assert.equal(subscriptionId('admin', TAG, 'tag_update'), createHash('md5').update(`admin+${TAG}+tag_update`).digest('hex'));
  assert.notEqual(subscriptionId('a', TAG, 'tag_update'), subscriptionId('b', TAG, 'tag_update'));
});

test('add, duplicate, get, list filters, update only active/value, delete', async () => {
  await withStore(async (s) => {
    const added = await s.add('a', { key: TAG, type: 'vuln_update' });
    assert.ok(added);
    assert.equal(added.active, false);
    assert.equal(added.value, null);
    assert.equal(await s.add('a', { key: TAG, type: 'vuln_update', active: true }), undefined, 'a duplicate is refused');
    assert.ok(await s.add('b', { key: TAG, type: 'vuln_update' }), 'another account may have the same one');
    await s.add('a', { key: 'reg.test/team/app', type: 'repo_update', value: '{"autosubscribe":false}', active: true });

    assert.deepEqual((await s.get('a', added.subscriptionId))?.key, TAG);
    assert.equal(await s.get('b', added.subscriptionId), undefined, 'ids are per account');
    assert.equal((await s.list('a')).length, 2);
    assert.deepEqual((await s.list('a', { type: 'repo_update' })).map((x) => x.key), ['reg.test/team/app']);
    assert.deepEqual((await s.list('a', { key: TAG })).map((x) => x.type), ['vuln_update']);

    const updated = await s.update('a', added.subscriptionId, { active: true, value: 'x' });
    assert.deepEqual([updated?.active, updated?.value, updated?.key, updated?.type], [true, 'x', TAG, 'vuln_update']);
    assert.equal((await s.update('a', added.subscriptionId, { value: null }))?.active, true, 'only what is given changes');
    assert.equal(await s.update('a', 'f'.repeat(32), { active: true }), undefined);

    assert.deepEqual((await s.listActive('vuln_update')).map((x) => x.account), ['a'], 'b\'s is inactive');
    assert.equal(await s.delete('b', added.subscriptionId), false);
    assert.equal(await s.delete('a', added.subscriptionId), true);
    assert.equal(await s.get('a', added.subscriptionId), undefined);
  });
});

test('a tag\'s four subscriptions: created once, activated, never deactivated by re-adding', async () => {
  await withStore(async (s) => {
    const first = await s.ensureTagSubscriptions('a', TAG, { autosubscribe: false });
    assert.deepEqual(flags(first), { policy_eval: false, tag_update: false, vuln_update: false, analysis_update: true });
    const policyEval = first.find((x) => x.type === 'policy_eval')!;
    await s.update('a', policyEval.subscriptionId, { active: true });
    assert.deepEqual(flags(await s.ensureTagSubscriptions('a', TAG, { autosubscribe: true })), { policy_eval: true, tag_update: true, vuln_update: false, analysis_update: true });
    assert.deepEqual(flags(await s.ensureTagSubscriptions('a', TAG, { autosubscribe: false })), { policy_eval: true, tag_update: true, vuln_update: false, analysis_update: true });
    assert.equal((await s.list('a')).length, 4);
    assert.deepEqual((await s.listActive('tag_update')).map((x) => [x.account, x.key]), [['a', TAG]]);

    await s.add('a', { key: 'reg.test/team/app', type: 'repo_update', active: true });
    await s.ensureTagSubscriptions('a', 'reg.test/team/app:v2', { autosubscribe: true });
    assert.equal(await s.removeTagSubscriptions('a', TAG), 4);
    assert.deepEqual((await s.list('a')).map((x) => x.key).sort(), ['reg.test/team/app', ...Array(4).fill('reg.test/team/app:v2')]);
  });
});
