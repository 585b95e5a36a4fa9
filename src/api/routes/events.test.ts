/**
 * Events over the v1 API, on SQLite and PostgreSQL, with a real local registry: the analyzer
 * records user.image.analysis.completed for an image that analyzes and .failed for one whose layer
 * is gone from the registry; listing with every filter and pages; get, delete by id and by
 * filter; the taxonomy; account isolation.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { buildImage } from '../../testkit/images.js';
import { pushImage } from '../../testkit/registry.js';
import { ADMIN as admin, assertErrorBody, describeService, waitAnalyzed, type ApiClient } from '../../testkit/service.js';

const good = buildImage({ layers: [{ entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' }] }] });
const broken = buildImage({ layers: [{ entries: [{ type: 'file', path: 'etc/marker', content: 'broken' }] }] });
const bob = { user: 'bob', pass: 'bob-secret-1' };
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** Poll GET /events?{query} until it lists `n` events. */
async function eventsWhen(api: ApiClient, query: string, n: number): Promise<any> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await api('GET', `/v1/events?${query}`, admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    if (r.body.item_count === n) return r.body;
    if (Date.now() > deadline) assert.fail(`GET /events?${query}: ${r.body.item_count} events, expected ${n}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

describeService('events API', { registry: true }, (h) => {
  let host = '';
  let goodTag = '';
  let brokenTag = '';
  let completed: any;
  let failed: any;
  let between = '';

  before(async () => {
    host = h().registry!.host;
    goodTag = `${host}/team/ev:v1`;
    brokenTag = `${host}/team/broken:v1`;
    await pushImage(host, 'team/ev', 'v1', good);
    await pushImage(host, 'team/broken', 'v1', broken);
    // The manifest and config stay, the layer goes: adding works, the analysis fails.
    const del = await fetch(`http://${host}/v2/team/broken/blobs/${broken.layers[0]!.desc.digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    await h().svc.accounts.createAccount({ name: 'team2' });
    await h().svc.accounts.createUser('team2', { username: bob.user, password: bob.pass });
  });

  test('an analysis records user.image.analysis.completed, a failed one .failed', async () => {
    const { api } = h();
    assert.equal((await api('POST', '/v1/images', { ...admin, body: { tag: goodTag } })).status, 200);
    await waitAnalyzed(api, good.manifestDigest);
    completed = (await eventsWhen(api, 'event_type=user.image.analysis.completed', 1)).results[0];
    assert.match(completed.generated_uuid, /^[0-9a-f]{32}$/);
    assert.match(completed.created_at, ISO_Z);
    const e = completed.event;
    assert.deepEqual([e.type, e.level, e.message], ['user.image.analysis.completed', 'info', 'Image analysis available']);
    assert.match(e.timestamp, ISO_Z);
    assert.deepEqual(e.resource, { user_id: 'admin', type: 'image_tag', id: goodTag });
    assert.equal(e.source.servicename, 'analyzer');
    assert.equal(typeof e.source.hostid, 'string');
    assert.equal(e.details.imageDigest, good.manifestDigest);
    assert.deepEqual(e.details.curr_eval, { imageDigest: good.manifestDigest, analysis_status: 'analyzed', annotations: {} });
    assert.equal(e.details.subscription_type, 'analysis_update');

    await new Promise((res) => setTimeout(res, 20));
    between = new Date().toISOString();
    await new Promise((res) => setTimeout(res, 20));

    const added = await api('POST', '/v1/images', { ...admin, body: { tag: brokenTag } });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    failed = (await eventsWhen(api, 'event_type=user.image.analysis.failed', 1)).results[0];
    assert.deepEqual([failed.event.level, failed.event.resource.id, failed.event.resource.type], ['error', brokenTag, 'image_tag']);
    assert.equal(failed.event.details.imageDigest, broken.manifestDigest);
    assert.equal(failed.event.details.curr_eval.analysis_status, 'analysis_failed');
    assert.match(failed.event.details.error, /blob|not found|unknown/i);
    assert.equal((await api('GET', `/v1/images/${broken.manifestDigest}`, admin)).body[0].analysis_status, 'analysis_failed');
  });

  test('filters and pages', async () => {
    const { api } = h();
    const ids = async (query: string) => {
      const r = await api('GET', `/v1/events?${query}`, admin);
      assert.equal(r.status, 200, `${query}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.item_count, r.body.results.length);
      return r.body.results.map((x: { generated_uuid: string }) => x.generated_uuid);
    };
    const c = completed.generated_uuid;
    const f = failed.generated_uuid;
    assert.deepEqual(await ids(''), [f, c], 'newest first');
    assert.deepEqual(await ids('event_type=user.image.*'), [f, c]);
    assert.deepEqual(await ids('event_type=user.image'), [f, c]);
    assert.deepEqual(await ids('event_type=user.imag'), []);
    assert.deepEqual(await ids('event_type=*.failed'), [f]);
    assert.deepEqual(await ids('level=error'), [f]);
    assert.deepEqual(await ids('level=info'), [c]);
    assert.deepEqual(await ids('resource_type=image_tag'), [f, c]);
    assert.deepEqual(await ids('resource_type=image_digest'), []);
    assert.deepEqual(await ids(`resource_id=${encodeURIComponent(goodTag)}`), [c]);
    assert.deepEqual(await ids('source_servicename=analyzer'), [f, c]);
    assert.deepEqual(await ids('source_servicename=api'), []);
    assert.deepEqual(await ids(`source_hostid=${encodeURIComponent(completed.event.source.hostid)}`), [f, c]);
    assert.deepEqual(await ids(`since=${encodeURIComponent(between)}`), [f]);
    assert.deepEqual(await ids(`before=${encodeURIComponent(between)}`), [c]);
    assert.deepEqual(await ids('since=2999-01-01T00:00:00Z'), []);

    const p1 = (await api('GET', '/v1/events?limit=1', admin)).body;
    assert.deepEqual([p1.item_count, p1.next_page, p1.page, p1.results[0].generated_uuid], [1, true, 1, f]);
    const p2 = (await api('GET', '/events?limit=1&page=2', admin)).body;
    assert.deepEqual([p2.item_count, p2.next_page, p2.page, p2.results[0].generated_uuid], [1, false, 2, c]);
    assert.equal((await api('GET', '/v1/events?limit=1&page=3', admin)).body.item_count, 0);

    assertErrorBody(await api('GET', '/v1/events?since=yesterday-ish', admin), 400, /since/);
    assertErrorBody(await api('GET', '/v1/events?level=warn', admin), 400, /level/);
    assertErrorBody(await api('GET', '/v1/events?limit=0', admin), 400, /limit/);
    assertErrorBody(await api('GET', '/v1/events?page=abc', admin), 400, /page/);
  });

  test('get one, the taxonomy, and accounts are isolated', async () => {
    const { api } = h();
    const got = await api('GET', `/v1/events/${completed.generated_uuid}`, admin);
    assert.deepEqual(got.body, completed);
    assertErrorBody(await api('GET', `/v1/events/${'0'.repeat(32)}`, admin), 404);
    assertErrorBody(await api('GET', '/v1/events/nope', admin), 400, /event id/);

    const types = await api('GET', '/v1/event_types', admin);
    assert.deepEqual(types.body.map((cat: { name: string }) => cat.name), ['system', 'user']);
    const user = types.body.find((cat: { name: string }) => cat.name === 'user');
    const image = user.subcategories.find((s: { name: string }) => s.name === 'image');
    assert.ok(image.events.some((x: unknown) => JSON.stringify(x) === JSON.stringify({ name: 'analysis.completed', type: 'user.image.analysis.completed', message: 'Image analysis available', resource_type: 'image_tag' })));

    assert.deepEqual((await api('GET', '/v1/events', bob)).body.results, []);
    assertErrorBody(await api('GET', `/v1/events/${completed.generated_uuid}`, bob), 404);
    assertErrorBody(await api('DELETE', `/v1/events/${completed.generated_uuid}`, bob), 404);
    assert.deepEqual((await api('DELETE', '/v1/events', bob)).body, []);
    assert.equal((await api('GET', '/v1/events', { ...admin, headers: { 'x-anchore-account': 'team2' } })).body.item_count, 0);
    assert.equal((await api('GET', '/v1/events', admin)).body.item_count, 2, 'bob deleted nothing of admin\'s');
  });

  test('delete by filter and by id', async () => {
    const { api } = h();
    assertErrorBody(await api('DELETE', '/v1/events?before=soon', admin), 400, /before/);
    assert.deepEqual((await api('DELETE', `/v1/events?before=${encodeURIComponent(between)}&level=error`, admin)).body, []);
    assert.deepEqual((await api('DELETE', `/v1/events?before=${encodeURIComponent(between)}`, admin)).body, [completed.generated_uuid]);
    assertErrorBody(await api('GET', `/v1/events/${completed.generated_uuid}`, admin), 404);
    const del = await api('DELETE', `/v1/events/${failed.generated_uuid}`, admin);
    assert.equal(del.status, 200);
    assertErrorBody(await api('DELETE', `/v1/events/${failed.generated_uuid}`, admin), 404);
    assert.equal((await api('GET', '/v1/events', admin)).body.item_count, 0);
  });
});
