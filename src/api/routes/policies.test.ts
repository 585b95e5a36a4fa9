/**
 * Policy bundles over the v1 API on SQLite and PostgreSQL: the default bundle per account, add,
 * list, get, update, activate (exactly one active, also under concurrent activations), delete,
 * refused bundles naming their problems, account isolation, and /system/policy_spec and
 * /system/error_codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BUNDLE } from '../../policy/index.js';
import { ADMIN as admin, assertErrorBody, describeService, type ApiClient, type RequestOptions } from '../../testkit/service.js';

const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

function bundle(id: string, name: string, action = 'WARN') {
  return {
    id, name, comment: `${name} comment`, version: '1_0',
    policies: [{ id: `${id}-p`, name: 'p', version: '1_0', rules: [{ id: 'r1', gate: 'always', trigger: 'always', action, params: [] }] }],
    whitelists: [],
    mappings: [{ id: 'm1', name: 'all', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_id: `${id}-p`, whitelist_ids: [] }],
    whitelisted_images: [],
    blacklisted_images: [],
  };
}

async function actives(api: ApiClient, auth: RequestOptions): Promise<string[]> {
  const r = await api('GET', '/v1/policies', auth);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.filter((p: { active: boolean }) => p.active).map((p: { policyId: string }) => p.policyId);
}

describeService('policy bundles API', {}, (h) => {
  test('an account starts with the default bundle, active; detail shows the bundle', async () => {
    const { api } = h();
    const list = await api('GET', '/v1/policies', admin);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.length, 1);
    const d = list.body[0];
    assert.deepEqual(
      { policyId: d.policyId, active: d.active, name: d.name, userId: d.userId, policy_source: d.policy_source, policybundle: d.policybundle },
      { policyId: DEFAULT_BUNDLE.id, active: true, name: DEFAULT_BUNDLE.name, userId: 'admin', policy_source: 'local', policybundle: {} },
    );
    assert.match(d.created_at, ISO_Z);
    assert.match(d.last_updated, ISO_Z);
    const detailed = await api('GET', '/policies?detail=true', admin);
    assert.deepEqual(detailed.body[0].policybundle, DEFAULT_BUNDLE);
    const one = await api('GET', `/v1/policies/${DEFAULT_BUNDLE.id}?detail=true`, admin);
    assert.equal(one.body.length, 1);
    assert.equal(one.body[0].policybundle.id, DEFAULT_BUNDLE.id);
    // One bundle comes with its content unless detail=false (Anchore's get_policy default is true).
    assert.deepEqual((await api('GET', `/v1/policies/${DEFAULT_BUNDLE.id}`, admin)).body[0].policybundle, DEFAULT_BUNDLE);
    assert.deepEqual((await api('GET', `/v1/policies/${DEFAULT_BUNDLE.id}?detail=false`, admin)).body[0].policybundle, {});
    assertErrorBody(await api('GET', '/v1/policies?detail=maybe', admin), 400, /detail/);
    assertErrorBody(await api('GET', '/v1/policies/no-such-bundle', admin), 404);
  });

  test('add, list, update by re-adding, activate (one active), refuse deactivating or deleting the active one, delete', async () => {
    const { api } = h();
    const a = bundle('bundle-a', 'Bundle A');
    const added = await api('POST', '/v1/policies', { ...admin, body: a });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.equal(added.body.policyId, 'bundle-a');
    assert.equal(added.body.active, false, 'a new bundle is inactive');
    assert.equal(added.body.name, 'Bundle A');
    assert.equal(added.body.comment, 'Bundle A comment');
    assert.deepEqual(added.body.policybundle, a);
    assert.equal((await api('GET', '/v1/policies', admin)).body.length, 2);

    // the same id again replaces the content, keeps one record
    const renamed = await api('POST', '/policies', { ...admin, body: { ...a, name: 'Bundle A2' } });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.name, 'Bundle A2');
    const all = (await api('GET', '/v1/policies', admin)).body;
    assert.deepEqual(all.map((p: { policyId: string }) => p.policyId).sort(), [DEFAULT_BUNDLE.id, 'bundle-a'].sort());
    assert.deepEqual(await actives(api, admin), [DEFAULT_BUNDLE.id]);

    // anchore-cli's activate: GET ?detail=true, then PUT the record with active=true
    const record = (await api('GET', '/v1/policies/bundle-a?detail=true', admin)).body[0];
    const put = await api('PUT', '/v1/policies/bundle-a', { ...admin, body: { ...record, active: true } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body[0].active, true);
    assert.equal(put.body[0].policybundle.name, 'Bundle A2');
    assert.deepEqual(await actives(api, admin), ['bundle-a']);

    // the same with Anchore's default detail (none given): the record carries its bundle
    const plain = (await api('GET', `/v1/policies/${DEFAULT_BUNDLE.id}`, admin)).body[0];
    const again = await api('PUT', `/v1/policies/${DEFAULT_BUNDLE.id}`, { ...admin, body: { ...plain, active: true } });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(await actives(api, admin), [DEFAULT_BUNDLE.id]);
    assert.equal((await api('PUT', '/v1/policies/bundle-a', { ...admin, body: { ...record, active: true } })).status, 200);

    // ?active=true activates too, and switches back
    const back = await api('PUT', `/v1/policies/${DEFAULT_BUNDLE.id}?active=true`, { ...admin, body: {} });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.deepEqual(await actives(api, admin), [DEFAULT_BUNDLE.id]);

    assertErrorBody(await api('PUT', `/v1/policies/${DEFAULT_BUNDLE.id}`, { ...admin, body: { active: false } }), 400, /active/);
    assertErrorBody(await api('PUT', '/v1/policies/bundle-a', { ...admin, body: { policyId: 'other' } }), 400, /differs/);
    assertErrorBody(await api('PUT', '/v1/policies/bundle-a', { ...admin, body: { active: 'yes' } }), 400, /active/);
    assertErrorBody(await api('PUT', '/v1/policies/bundle-a', { ...admin, body: { policybundle: { ...a, id: 'bundle-b' } } }), 400, /policybundle\.id/);
    assertErrorBody(await api('PUT', '/v1/policies/nope', { ...admin, body: { active: true } }), 404);

    // PUT replaces the content when a bundle is given, and validates it
    const updated = await api('PUT', '/v1/policies/bundle-a', { ...admin, body: { policyId: 'bundle-a', active: false, policybundle: { ...a, name: 'Bundle A3' } } });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body[0].name, 'Bundle A3');
    assert.equal(updated.body[0].active, false);
    const badRule = { ...a, policies: [{ ...a.policies[0]!, rules: [{ id: 'r1', gate: 'nogate', trigger: 'x', action: 'STOP', params: [] }] }] };
    assertErrorBody(await api('PUT', '/v1/policies/bundle-a', { ...admin, body: { policybundle: badRule } }), 400, /nogate/);
    assert.equal((await api('GET', '/v1/policies/bundle-a', admin)).body[0].name, 'Bundle A3', 'a refused update stores nothing');

    assertErrorBody(await api('DELETE', `/v1/policies/${DEFAULT_BUNDLE.id}`, admin), 400, /active/);
    const del = await api('DELETE', '/v1/policies/bundle-a', admin);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assertErrorBody(await api('GET', '/v1/policies/bundle-a', admin), 404);
    assertErrorBody(await api('DELETE', '/v1/policies/bundle-a', admin), 404);
    assert.deepEqual(await actives(api, admin), [DEFAULT_BUNDLE.id]);
  });

  test('bad bundles are refused with 400 naming the problem', async () => {
    const { api } = h();
    const unknownGate = bundle('bad-1', 'Bad');
    unknownGate.policies[0]!.rules[0]!.gate = 'nogate';
    const r = await api('POST', '/v1/policies', { ...admin, body: unknownGate });
    assertErrorBody(r, 400, /policies\[0\]\.rules\[0\]\.gate: unknown gate "nogate"/);
    assert.deepEqual(r.body.detail.validation_details.map((d: { problem_type: string }) => d.problem_type), ['GateNotFoundError']);
    assertErrorBody(await api('POST', '/v1/policies', { ...admin, body: { ...bundle('bad-2', 'Bad'), version: '2_0' } }), 400, /version/);
    assertErrorBody(await api('POST', '/v1/policies', { ...admin, body: [bundle('bad-3', 'Bad')] }), 400, /JSON object/);
    const { mappings: _m, ...noMappings } = bundle('bad-4', 'Bad');
    assertErrorBody(await api('POST', '/v1/policies', { ...admin, body: noMappings }), 400, /mappings/);
    const list = (await api('GET', '/v1/policies', admin)).body.map((p: { policyId: string }) => p.policyId);
    assert.ok(!list.some((id: string) => id.startsWith('bad-')), list.join(' '));
  });

  test('concurrent activations leave exactly one active bundle', async () => {
    const { api } = h();
    for (const id of ['race-1', 'race-2', 'race-3']) assert.equal((await api('POST', '/v1/policies', { ...admin, body: bundle(id, id) })).status, 200);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => api('PUT', `/v1/policies/race-${(i % 3) + 1}?active=true`, { ...admin, body: {} })));
    for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
    const active = await actives(api, admin);
    assert.equal(active.length, 1, active.join(' '));
    assert.match(active[0]!, /^race-\d$/);
    assert.equal((await api('PUT', `/v1/policies/${DEFAULT_BUNDLE.id}?active=true`, { ...admin, body: {} })).status, 200);
  });

  test('accounts are isolated: another account cannot see, activate or delete your bundles', async () => {
    const { api, svc } = h();
    await svc.accounts.createAccount({ name: 'team-p' });
    await svc.accounts.createUser('team-p', { username: 'pat', password: 'pat-secret' });
    const pat = { user: 'pat', pass: 'pat-secret' };
    assert.equal((await api('POST', '/v1/policies', { ...admin, body: bundle('admins-own', 'Admins own') })).status, 200);

    const patList = await api('GET', '/v1/policies', pat);
    assert.deepEqual(patList.body.map((p: { policyId: string; userId: string }) => [p.policyId, p.userId]), [[DEFAULT_BUNDLE.id, 'team-p']]);
    assertErrorBody(await api('GET', '/v1/policies/admins-own', pat), 404);
    assertErrorBody(await api('PUT', '/v1/policies/admins-own?active=true', { ...pat, body: {} }), 404);
    assertErrorBody(await api('DELETE', '/v1/policies/admins-own', pat), 404);
    assertErrorBody(await api('GET', '/v1/policies', { ...pat, headers: { 'x-anchore-account': 'admin' } }), 403);

    // the same id in two accounts: separate records
    assert.equal((await api('POST', '/v1/policies', { ...pat, body: bundle('admins-own', 'Pats copy') })).status, 200);
    assert.equal((await api('PUT', '/v1/policies/admins-own?active=true', { ...pat, body: {} })).status, 200);
    assert.deepEqual(await actives(api, pat), ['admins-own']);
    assert.equal((await api('GET', '/v1/policies/admins-own', admin)).body[0].name, 'Admins own');
    assert.deepEqual(await actives(api, admin), [DEFAULT_BUNDLE.id]);

    // the admin acts in team-p through the header
    const asTeam = await api('GET', '/v1/policies/admins-own', { ...admin, headers: { 'x-anchore-account': 'team-p' } });
    assert.equal(asTeam.body[0].name, 'Pats copy');
    assert.equal(asTeam.body[0].userId, 'team-p');
  });

  test('/system/policy_spec lists the gates; /system/error_codes the error codes', async () => {
    const { api } = h();
    const spec = await api('GET', '/v1/system/policy_spec', admin);
    assert.equal(spec.status, 200);
    const vulns = spec.body.find((g: { name: string }) => g.name === 'vulnerabilities');
    assert.equal(vulns.state, 'active');
    const pkg = vulns.triggers.find((t: { name: string }) => t.name === 'package');
    assert.ok(pkg.parameters.some((p: { name: string; required: boolean }) => p.name === 'package_type' && p.required), JSON.stringify(pkg.parameters));
    assert.equal(spec.body.find((g: { name: string }) => g.name === 'anchoresec')?.state, 'eol');
    const codes = await api('GET', '/system/error_codes', admin);
    assert.equal(codes.status, 200);
    const names = codes.body.map((c: { name: string }) => c.name);
    assert.ok(names.includes('NOT_FOUND') && names.includes('BAD_INPUT'), names.join(' '));
    for (const c of codes.body) assert.ok(typeof c.description === 'string' && c.description.length > 10, JSON.stringify(c));
    assertErrorBody(await api('GET', '/v1/system/error_codes'), 401);
  });
});
