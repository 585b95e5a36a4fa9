/**
 * Subscriptions and repositories over the v1 API, on SQLite and PostgreSQL, with a real local
 * registry: CRUD and filters, the tag subscriptions made by image add and removed by image delete,
 * repo add (dry run and stored), and account isolation.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buildImage, type BuiltImage } from '../../testkit/images.js';
import { pushImage } from '../../testkit/registry.js';
import { ADMIN as admin, assertErrorBody, describeService, waitAnalyzed, type ApiClient } from '../../testkit/service.js';

const imageOf = (marker: string): BuiltImage => buildImage({
  layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
    { type: 'file', path: 'etc/marker', content: marker },
  ] }],
});
const one = imageOf('one');
const two = imageOf('two');
const bob = { user: 'bob', pass: 'bob-secret-1' };
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

type Sub = { subscription_id: string; subscription_type: string; subscription_key: string; subscription_value: string | null; active: boolean; userId: string };

async function subsOf(api: ApiClient, key: string, auth = admin): Promise<Record<string, boolean>> {
  const r = await api('GET', `/v1/subscriptions?subscription_key=${encodeURIComponent(key)}`, auth);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return Object.fromEntries((r.body as Sub[]).map((s) => [s.subscription_type, s.active]));
}

describeService('subscriptions API', { registry: true }, (h) => {
  let host = '';
  before(async () => {
    host = h().registry!.host;
    await pushImage(host, 'team/app', 'v1', one);
    await pushImage(host, 'team/app', 'v2', one);
    for (const tag of ['a', 'b', 'c']) await pushImage(host, 'team/repo', tag, one);
    await h().svc.accounts.createAccount({ name: 'team2' });
    await h().svc.accounts.createUser('team2', { username: bob.user, password: bob.pass });
  });

  test('add, 409 on a duplicate, get, filters, update only active and value, delete', async () => {
    const { api } = h();
    const key = `${host}/team/manual:v1`;
    const added = await api('POST', '/v1/subscriptions', { ...admin, body: { subscription_key: key, subscription_type: 'vuln_update' } });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.equal(added.body.length, 1);
    const sub = added.body[0];
    assert.deepEqual(
      { ...sub, created_at: undefined, last_updated: undefined },
      { subscription_id: md5(`admin+${key}+vuln_update`), userId: 'admin', subscription_type: 'vuln_update', subscription_key: key, subscription_value: null, active: false, created_at: undefined, last_updated: undefined },
    );
    assert.match(sub.created_at, ISO_Z);
    assertErrorBody(await api('POST', '/subscriptions', { ...admin, body: { subscription_key: key, subscription_type: 'vuln_update', active: true } }), 409, /already exists/);
    const pe = await api('POST', '/subscriptions', { ...admin, body: { subscription_key: key, subscription_type: 'policy_eval', subscription_value: 'x', active: true } });
    assert.deepEqual([pe.body[0].active, pe.body[0].subscription_value], [true, 'x']);

    assertErrorBody(await api('POST', '/v1/subscriptions', { ...admin, body: { subscription_key: key, subscription_type: 'bogus' } }), 400, /subscription_type/);
    assertErrorBody(await api('POST', '/v1/subscriptions', { ...admin, body: { subscription_type: 'tag_update' } }), 400, /subscription_key/);
    assertErrorBody(await api('POST', '/v1/subscriptions', { ...admin, body: { subscription_key: `${host}/team/app@sha256:${'a'.repeat(64)}`, subscription_type: 'tag_update' } }), 400, /not a digest/);
    assertErrorBody(await api('POST', '/v1/subscriptions', { ...admin, body: { subscription_key: `${host}/team/app`, subscription_type: 'repo_update', subscription_value: 'nope' } }), 400, /JSON object/);
    assertErrorBody(await api('POST', '/v1/subscriptions', { ...admin, body: { subscription_key: key, subscription_type: 'tag_update', active: 'yes' } }), 400, /active/);

    const byKey = await api('GET', `/v1/subscriptions?subscription_key=${encodeURIComponent(key)}`, admin);
    assert.deepEqual(byKey.body.map((s: Sub) => s.subscription_type).sort(), ['policy_eval', 'vuln_update']);
    const byType = await api('GET', '/subscriptions?subscription_type=vuln_update', admin);
    assert.deepEqual(byType.body.map((s: Sub) => s.subscription_id), [sub.subscription_id]);
    assertErrorBody(await api('GET', '/subscriptions?subscription_type=nope', admin), 400, /subscription_type/);

    const got = await api('GET', `/v1/subscriptions/${sub.subscription_id}`, admin);
    assert.deepEqual(got.body, [sub]);
    assertErrorBody(await api('GET', '/v1/subscriptions/not-an-id', admin), 400, /subscription id/);
    assertErrorBody(await api('GET', `/v1/subscriptions/${'f'.repeat(32)}`, admin), 404);

    // anchore-cli's activate: {active, subscription_type, subscription_key}; only active changes
    const put = await api('PUT', `/v1/subscriptions/${sub.subscription_id}`, { ...admin, body: { active: true, subscription_type: 'tag_update', subscription_key: 'elsewhere:v9' } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual([put.body[0].active, put.body[0].subscription_type, put.body[0].subscription_key, put.body[0].subscription_id], [true, 'vuln_update', key, sub.subscription_id]);
    const value = await api('PUT', `/v1/subscriptions/${sub.subscription_id}`, { ...admin, body: { subscription_value: 'v2' } });
    assert.deepEqual([value.body[0].active, value.body[0].subscription_value], [true, 'v2']);
    assertErrorBody(await api('PUT', `/v1/subscriptions/${sub.subscription_id}`, { ...admin, body: { active: 'on' } }), 400, /active/);
    assertErrorBody(await api('PUT', `/v1/subscriptions/${'f'.repeat(32)}`, { ...admin, body: { active: true } }), 404);

    const del = await api('DELETE', `/v1/subscriptions/${sub.subscription_id}`, admin);
    assert.equal(del.status, 200);
    assertErrorBody(await api('GET', `/v1/subscriptions/${sub.subscription_id}`, admin), 404);
    assertErrorBody(await api('DELETE', `/v1/subscriptions/${sub.subscription_id}`, admin), 404);
    assert.deepEqual(Object.keys(await subsOf(api, key)), ['policy_eval']);
  });

  test('image add creates the four tag subscriptions; re-adding never deactivates; delete removes them', async () => {
    const { api } = h();
    const v1 = `${host}/team/app:v1`;
    const v2 = `${host}/team/app:v2`;
    const add = (tag: string, query = '') => api('POST', `/v1/images${query}`, { ...admin, body: { tag } });
    assert.equal((await add(v1, '?autosubscribe=false')).status, 200);
    assert.deepEqual(await subsOf(api, v1), { analysis_update: true, policy_eval: false, tag_update: false, vuln_update: false });
    const ids = (await api('GET', `/v1/subscriptions?subscription_key=${encodeURIComponent(v1)}`, admin)).body.map((s: Sub) => s.subscription_id).sort();
    assert.deepEqual(ids, ['analysis_update', 'policy_eval', 'tag_update', 'vuln_update'].map((t) => md5(`admin+${v1}+${t}`)).sort());

    const policyEval = md5(`admin+${v1}+policy_eval`);
    await api('PUT', `/v1/subscriptions/${policyEval}`, { ...admin, body: { active: true } });
    assert.equal((await add(v1, '?autosubscribe=True')).status, 200); // anchore-cli's spelling
    assert.deepEqual(await subsOf(api, v1), { analysis_update: true, policy_eval: true, tag_update: true, vuln_update: false });
    await add(v1);
    assert.deepEqual(await subsOf(api, v1), { analysis_update: true, policy_eval: true, tag_update: true, vuln_update: false }, 'no autosubscribe does not switch tag_update off');

    await add(v2);
    assert.deepEqual(await subsOf(api, v2), { analysis_update: true, policy_eval: false, tag_update: false, vuln_update: false });
    await waitAnalyzed(api, one.manifestDigest);

    // v1 moves to another image: deleting the first image leaves v1's subscriptions (v1 still names one)
    await pushImage(host, 'team/app', 'v1', two);
    assert.equal((await add(v1, '?autosubscribe=true')).body[0].imageDigest, two.manifestDigest);
    await waitAnalyzed(api, two.manifestDigest);
    assert.equal((await api('DELETE', `/v1/images/${one.manifestDigest}`, admin)).status, 200);
    assert.deepEqual(await subsOf(api, v2), {}, 'v2 named only the deleted image');
    assert.deepEqual(await subsOf(api, v1), { analysis_update: true, policy_eval: true, tag_update: true, vuln_update: false });
    assert.equal((await api('DELETE', `/v1/images/${two.manifestDigest}`, admin)).status, 200);
    assert.deepEqual(await subsOf(api, v1), {});
  });

  test('repositories: dry run counts the tags and stores nothing; add stores repo_update; errors', async () => {
    const { api } = h();
    const repo = `${host}/team/repo`;
    const dry = await api('POST', `/v1/repositories?repository=${encodeURIComponent(repo)}&dryrun=true`, admin);
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.equal(dry.body.length, 1);
    assert.deepEqual([dry.body[0].subscription_type, dry.body[0].subscription_key, dry.body[0].active, dry.body[0].subscription_id], ['repo_update', repo, false, md5(`admin+${repo}+repo_update`)]);
    assert.deepEqual(JSON.parse(dry.body[0].subscription_value), { autosubscribe: false, lookuptag: 'latest', tagcount: 3, repotags: ['a', 'b', 'c'] });
    assert.deepEqual((await api('GET', '/v1/subscriptions?subscription_type=repo_update', admin)).body, [], 'a dry run stores nothing');

    const added = await api('POST', `/repositories?repository=${encodeURIComponent(repo)}&autosubscribe=True&lookuptag=latest`, admin);
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.equal(added.body[0].active, true);
    assert.equal(JSON.parse(added.body[0].subscription_value).tagcount, 3);
    const stored = (await api('GET', '/v1/subscriptions?subscription_type=repo_update', admin)).body;
    assert.equal(stored.length, 1);
    assert.deepEqual(JSON.parse(stored[0].subscription_value), { autosubscribe: true, lookuptag: 'latest', tagcount: 3 });

    await pushImage(host, 'team/repo', 'd', one);
    const again = await api('POST', `/v1/repositories?repository=${encodeURIComponent(repo)}&autosubscribe=false`, admin);
    assert.equal(again.body[0].subscription_id, stored[0].subscription_id);
    const after = (await api('GET', '/v1/subscriptions?subscription_type=repo_update', admin)).body;
    assert.equal(after.length, 1);
    assert.deepEqual(JSON.parse(after[0].subscription_value), { autosubscribe: false, lookuptag: 'latest', tagcount: 4 });

    const missing = await api('POST', `/v1/repositories?repository=${encodeURIComponent(`${host}/team/nope`)}`, admin);
    assertErrorBody(missing, 404, /tags of .*team\/nope.*not found/);
    assertErrorBody(await api('POST', `/v1/repositories?repository=${encodeURIComponent(`${repo}:a`)}`, admin), 400, /registry\/repo only/);
    assertErrorBody(await api('POST', '/v1/repositories', admin), 400, /repository/);
    assertErrorBody(await api('POST', `/v1/repositories?repository=${encodeURIComponent(repo)}&dryrun=maybe`, admin), 400, /dryrun/);
  });

  test('accounts are isolated', async () => {
    const { api } = h();
    const key = `${host}/team/iso:v1`;
    const mine = (await api('POST', '/v1/subscriptions', { ...admin, body: { subscription_key: key, subscription_type: 'tag_update' } })).body[0];
    assert.deepEqual((await api('GET', '/v1/subscriptions', bob)).body, []);
    assertErrorBody(await api('GET', `/v1/subscriptions/${mine.subscription_id}`, bob), 404);
    assertErrorBody(await api('PUT', `/v1/subscriptions/${mine.subscription_id}`, { ...bob, body: { active: true } }), 404);
    assertErrorBody(await api('DELETE', `/v1/subscriptions/${mine.subscription_id}`, bob), 404);
    const theirs = await api('POST', '/v1/subscriptions', { ...bob, body: { subscription_key: key, subscription_type: 'tag_update' } });
    assert.equal(theirs.status, 200, 'the same key and type in another account is no duplicate');
    assert.deepEqual([theirs.body[0].subscription_id, theirs.body[0].userId], [md5(`team2+${key}+tag_update`), 'team2']);
    const asTeam2 = await api('GET', '/v1/subscriptions', { ...admin, headers: { 'x-anchore-account': 'team2' } });
    assert.deepEqual(asTeam2.body.map((s: Sub) => s.subscription_id), [theirs.body[0].subscription_id]);
    assert.equal((await api('GET', `/v1/subscriptions/${mine.subscription_id}`, admin)).body[0].active, false, 'untouched by bob');
  });
});
