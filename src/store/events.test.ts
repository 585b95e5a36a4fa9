import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from './db.js';
import { migrateToLatest } from './migrate.js';
import { EVENT_TYPES, EventStore, eventTypesList, recordAnalysisOutcome } from './events.js';

async function withStore(body: (s: EventStore, clock: { t: number }) => Promise<void>): Promise<void> {
  const db = await openDatabase(':memory:');
  const clock = { t: Date.parse('2024-05-01T10:00:00.000Z') };
  try {
    await migrateToLatest(db.kysely);
    await body(new EventStore(db.kysely, { source: { servicename: 'analyzer', hostid: 'h1' }, now: () => new Date(clock.t) }), clock);
  } finally {
    await db.close();
  }
}

test('the taxonomy: Anchore\'s types, grouped by category and subcategory, sorted by name', () => {
  assert.equal(EVENT_TYPES.size, 33);
  const list = eventTypesList();
  assert.deepEqual(list.map((c) => c.name), ['system', 'user']);
  const user = list.find((c) => c.name === 'user')!;
  assert.deepEqual(user.subcategories.map((s) => s.name), ['checks', 'image', 'policy']);
  assert.deepEqual(user.subcategories.find((s) => s.name === 'image')!.events, [
    { name: 'analysis.failed', type: 'user.image.analysis.failed', message: 'Failed to analyze image', resource_type: 'image_tag' },
    { name: 'analysis.completed', type: 'user.image.analysis.completed', message: 'Image analysis available', resource_type: 'image_tag' },
  ]);
  assert.equal(list.flatMap((c) => c.subcategories.flatMap((s) => s.events)).length, EVENT_TYPES.size, 'every type listed once');
  assert.ok(list.every((c) => c.subcategories.every((s) => s.events.length > 0)), 'no empty subcategory');
  assert.equal(EVENT_TYPES.get('system.feeds.sync.failed')?.level, 'error');
});

test('add fills level, message, resource type and source from the type; unknown types are refused', async () => {
  await withStore(async (s) => {
    const e = await s.add('a', { type: 'system.repository.list_tags_fail', resource: { id: 'reg/repo' }, details: { cause: 'x' } });
    assert.match(e.generatedUuid, /^[0-9a-f]{32}$/);
    assert.deepEqual([e.level, e.message, e.resource, e.source.servicename, e.source.hostid, e.timestamp],
      ['error', 'Failed to list tags in repository', { userId: 'a', type: 'repository', id: 'reg/repo' }, 'analyzer', 'h1', '2024-05-01T10:00:00.000Z']);
    assert.deepEqual(await s.get('a', e.generatedUuid), e);
    assert.equal(await s.get('b', e.generatedUuid), undefined);
    await assert.rejects(s.add('a', { type: 'user.image.nope', resource: { id: null } }), /unknown event type/);
  });
});

test('list: filters, event type prefix and wildcard, time window, pages newest first; delete', async () => {
  await withStore(async (s, clock) => {
    const ids: string[] = [];
    const image = { account: 'a', imageDigest: `sha256:${'1'.repeat(64)}`, annotations: { k: 'v' }, tags: [{ fulltag: 'r/x:1' }, { fulltag: 'r/x:2' }] } as never;
    await recordAnalysisOutcome(s, image, { status: 'analyzed' }, 'r/x:1');
    clock.t += 1000;
    await recordAnalysisOutcome(s, image, { status: 'analysis_failed', reason: 'blob unknown' }, 'r/x:1');
    clock.t += 1000;
    ids.push((await s.add('a', { type: 'system.feeds.sync.completed', resource: { id: null }, source: { servicename: 'feeds' } })).generatedUuid);
    await s.add('b', { type: 'user.image.analysis.completed', resource: { id: 'r/x:1' } });

    const all = await s.list('a');
    assert.equal(all.results.length, 5);
    assert.equal(all.nextPage, false);
    assert.equal(all.results[0]!.generatedUuid, ids[0], 'newest first');
    const failed = all.results.find((e) => e.type === 'user.image.analysis.failed')!;
    assert.deepEqual(failed.details, {
      imageDigest: `sha256:${'1'.repeat(64)}`,
      last_eval: { imageDigest: `sha256:${'1'.repeat(64)}`, analysis_status: 'analyzing', annotations: { k: 'v' } },
      curr_eval: { imageDigest: `sha256:${'1'.repeat(64)}`, analysis_status: 'analysis_failed', annotations: { k: 'v' } },
      subscription_type: 'analysis_update',
      annotations: { k: 'v' },
      error: 'blob unknown',
    });

    const count = async (f: Parameters<EventStore['list']>[1]) => (await s.list('a', f)).results.length;
    assert.equal(await count({ eventType: 'user.image.*' }), 4);
    assert.equal(await count({ eventType: 'user.image' }), 4, 'a dotted prefix');
    assert.equal(await count({ eventType: 'user.imag' }), 0, 'prefixes stop at dots');
    assert.equal(await count({ eventType: '*.completed' }), 3);
    assert.equal(await count({ eventType: 'user.image.analysis.failed' }), 2);
    assert.equal(await count({ level: 'error' }), 2);
    assert.equal(await count({ resourceId: 'r/x:2' }), 2);
    assert.equal(await count({ resourceType: 'image_tag', sourceServicename: 'analyzer', sourceHostid: 'h1' }), 4);
    assert.equal(await count({ sourceServicename: 'feeds' }), 1);
    assert.equal(await count({ since: '2024-05-01T10:00:00.500Z' }), 3);
    assert.equal(await count({ before: '2024-05-01T10:00:00.500Z' }), 2);
    assert.equal(await count({ since: '2024-05-01T10:00:00.500Z', before: '2024-05-01T10:00:01.500Z' }), 2);

    const p1 = await s.list('a', {}, { limit: 2 });
    const p3 = await s.list('a', {}, { limit: 2, page: 3 });
    assert.deepEqual([p1.results.length, p1.nextPage, p3.results.length, p3.nextPage, p3.page], [2, true, 1, false, 3]);
    const paged = [...p1.results, ...(await s.list('a', {}, { limit: 2, page: 2 })).results, ...p3.results].map((e) => e.generatedUuid);
    assert.deepEqual(paged, all.results.map((e) => e.generatedUuid), 'pages cover the list once, in order');

    assert.deepEqual(await s.deleteMatching('a', { level: 'error', before: '2024-05-01T10:00:00.500Z' }), []);
    assert.equal((await s.deleteMatching('a', { level: 'error' })).length, 2);
    assert.equal(await s.delete('a', ids[0]!), true);
    assert.equal(await s.delete('a', ids[0]!), false);
    assert.equal((await s.deleteMatching('a')).length, 2);
    assert.equal((await s.list('b')).results.length, 1, 'another account\'s events stay');
  });
});
