import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnDatabases } from '../testkit/databases.js';
import { ServiceRegistry } from './service-registry.js';

describeOnDatabases('service registry', ({ db }) => {
  test('processes register roles; a stale heartbeat is down, a stopped one says so; records can be removed', async () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const reg = new ServiceRegistry(db().kysely, 30_000, () => new Date(now));
    await reg.register('host-a:1', ['api', 'worker'], '1.0.0', 'http://a:8228/v1');
    await reg.register('host-b:2', ['worker'], '1.0.0');
    assert.deepEqual((await reg.list()).map((r) => [r.servicename, r.hostid, r.up]), [['api', 'host-a:1', true], ['worker', 'host-a:1', true], ['worker', 'host-b:2', true]]);
    now += 60_000;
    await reg.heartbeat('host-a:1');
    now += 40_000; // host-b last beat 100 s ago (> 3 × 30 s); host-a 40 s ago
    assert.deepEqual((await reg.list({ servicename: 'worker' })).map((r) => [r.hostid, r.up]), [['host-a:1', true], ['host-b:2', false]]);
    await reg.stopped('host-a:1');
    const a = await reg.list({ hostid: 'host-a:1' });
    assert.ok(a.every((r) => !r.up && r.stoppedAt));
    assert.equal(a[0]!.baseUrl, 'http://a:8228/v1');
    // a restart re-registers the same host id as running
    await reg.register('host-a:1', ['api'], '1.0.1');
    assert.deepEqual((await reg.list({ hostid: 'host-a:1', servicename: 'api' })).map((r) => [r.up, r.version]), [[true, '1.0.1']]);
    assert.equal(await reg.remove('worker', 'host-b:2'), true);
    assert.equal(await reg.remove('worker', 'host-b:2'), false);
  });
});
