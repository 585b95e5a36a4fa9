/**
 * Accounts, users, credentials, self routes, roles and OAuth tokens over HTTP, on SQLite and
 * PostgreSQL; the password cache (a changed password, a disabled account) and account deletion
 * with its resources.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { buildImage } from '../../testkit/images.js';
import { pushImage } from '../../testkit/registry.js';
import { ADMIN as admin, assertErrorBody, describeService, waitAnalyzed, type ApiClient } from '../../testkit/service.js';
import { OAUTH_TOKEN_SECONDS } from './accounts.js';

const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

const image = buildImage({
  layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
    { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13.dfsg-1\nSource: zlib\n' },
  ] }],
});

function oauth(base: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  }).then(async (r) => ({ status: r.status, body: await r.json() as Record<string, unknown>, headers: r.headers }));
}

async function createAccount(api: ApiClient, name: string): Promise<void> {
  const r = await api('POST', '/v1/accounts', { ...admin, body: { name } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

async function createUser(api: ApiClient, account: string, username: string, password: string, role?: string): Promise<void> {
  const r = await api('POST', `/v1/accounts/${account}/users`, { ...admin, body: { username, password, ...(role ? { role } : {}) } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

describeService('accounts, users and credentials API', { registry: true }, (h) => {
  before(async () => pushImage(h().registry!.host, 'team/base', 'v1', image));

  test('account create, get, list, state; refusals', async () => {
    const { api } = h();
    const created = await api('POST', '/v1/accounts', { ...admin, body: { name: 'team-a', email: 'ops@example.com' } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.deepEqual(Object.keys(created.body).sort(), ['created_at', 'email', 'last_updated', 'name', 'state', 'type']);
    assert.deepEqual([created.body.name, created.body.email, created.body.type, created.body.state], ['team-a', 'ops@example.com', 'user', 'enabled']);
    assert.match(created.body.created_at, ISO_Z);
    assert.match(created.body.last_updated, ISO_Z);

    assertErrorBody(await api('POST', '/accounts', { ...admin, body: { name: 'team-a' } }), 400, /already exists/);
    assertErrorBody(await api('POST', '/accounts', { ...admin, body: { name: 'x2', type: 'admin' } }), 400, /type/);
    assertErrorBody(await api('POST', '/accounts', { ...admin, body: { name: 'anchore-system' } }), 400, /reserved/);
    assertErrorBody(await api('POST', '/accounts', { ...admin, body: { name: 'bad name!' } }), 400, /invalid account name/);
    assertErrorBody(await api('POST', '/accounts', { ...admin, body: { name: 'x3', email: 'not-an-email' } }), 400, /email/);
    assertErrorBody(await api('POST', '/accounts', { ...admin, body: {} }), 400, /name/);

    const all = await api('GET', '/v1/accounts', admin);
    assert.deepEqual(all.body.map((a: { name: string }) => a.name), ['admin', 'team-a']);
    assert.equal(all.body[0].type, 'admin');
    assert.deepEqual((await api('GET', '/v1/accounts?state=disabled', admin)).body, []);
    assertErrorBody(await api('GET', '/v1/accounts?state=sleepy', admin), 400, /state/);

    const one = await api('GET', '/accounts/team-a', admin);
    assert.deepEqual(one.body, created.body);
    assertErrorBody(await api('GET', '/v1/accounts/nobody', admin), 404);

    const disabled = await api('PUT', '/v1/accounts/team-a/state', { ...admin, body: { state: 'disabled' } });
    assert.equal(disabled.status, 200);
    assert.deepEqual(disabled.body, { state: 'disabled' });
    assert.equal((await api('GET', '/v1/accounts/team-a', admin)).body.state, 'disabled');
    assert.deepEqual((await api('GET', '/v1/accounts?state=disabled', admin)).body.map((a: { name: string }) => a.name), ['team-a']);
    assert.deepEqual((await api('PUT', '/v1/accounts/team-a/state', { ...admin, body: { state: 'enabled' } })).body, { state: 'enabled' });
    assertErrorBody(await api('PUT', '/v1/accounts/team-a/state', { ...admin, body: { state: 'deleting' } }), 400);
    assertErrorBody(await api('PUT', '/v1/accounts/admin/state', { ...admin, body: { state: 'disabled' } }), 400, /cannot be disabled/);
    assertErrorBody(await api('PUT', '/v1/accounts/nobody/state', { ...admin, body: { state: 'disabled' } }), 404);

    assertErrorBody(await api('DELETE', '/v1/accounts/admin', admin), 400, /cannot be deleted/);
    assertErrorBody(await api('DELETE', '/v1/accounts/team-a', admin), 400, /disable it first/);
    assertErrorBody(await api('DELETE', '/v1/accounts/nobody', admin), 404);
  });

  test('users and credentials: values never shown, a changed password stops working at once', async () => {
    const { api } = h();
    const made = await api('POST', '/v1/accounts/team-a/users', { ...admin, body: { username: 'alice', password: 'alice-pass1' } });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    assert.deepEqual({ ...made.body, created_at: 'x', last_updated: 'x' }, { username: 'alice', type: 'native', source: null, role: 'read-write', created_at: 'x', last_updated: 'x' });
    assert.match(made.body.created_at, ISO_Z);
    assertErrorBody(await api('POST', '/v1/accounts/team-a/users', { ...admin, body: { username: 'alice', password: 'alice-pass1' } }), 400, /already exists/);
    assertErrorBody(await api('POST', '/v1/accounts/team-a/users', { ...admin, body: { username: 'carol', password: 'short' } }), 400, /6 to 128/);
    assertErrorBody(await api('POST', '/v1/accounts/team-a/users', { ...admin, body: { username: 'carol', password: 'x'.repeat(129) } }), 400, /6 to 128/);
    assertErrorBody(await api('POST', '/v1/accounts/team-a/users', { ...admin, body: { username: 'carol', password: 'carol-pass', role: 'admin' } }), 400, /admin role/);
    assertErrorBody(await api('POST', '/v1/accounts/nobody/users', { ...admin, body: { username: 'carol', password: 'carol-pass' } }), 404);
    await createUser(api, 'team-a', 'bob', 'bob-pass-1');

    assert.deepEqual((await api('GET', '/v1/accounts/team-a/users', admin)).body.map((u: { username: string }) => u.username), ['alice', 'bob']);
    assert.equal((await api('GET', '/v1/accounts/team-a/users/alice', admin)).body.username, 'alice');
    assertErrorBody(await api('GET', '/v1/accounts/admin/users/alice', admin), 404);
    assertErrorBody(await api('GET', '/v1/accounts/nobody/users', admin), 404);

    let alice = { user: 'alice', pass: 'alice-pass1' };
    assert.equal((await api('GET', '/v1/account', alice)).body.name, 'team-a');
    const me = await api('GET', '/v1/user', alice);
    assert.equal(me.body.username, 'alice');
    assert.equal(me.body.type, 'native');

    const creds = await api('GET', '/v1/accounts/team-a/users/alice/credentials', admin);
    assert.equal(creds.status, 200);
    assert.equal(creds.body.length, 1);
    assert.deepEqual([creds.body[0].type, creds.body[0].value], ['password', '********']);
    assert.match(creds.body[0].created_at, ISO_Z);
    assert.ok(!creds.text.includes('alice-pass1') && !creds.text.includes('scrypt'));
    assert.deepEqual((await api('GET', '/v1/user/credentials', alice)).body, creds.body);

    // Logged in (and cached); the admin changes the password: the old one fails at once.
    assert.equal((await api('GET', '/v1/images', alice)).status, 200);
    const changed = await api('POST', '/v1/accounts/team-a/users/alice/credentials', { ...admin, body: { type: 'password', value: 'alice-pass2' } });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.deepEqual([changed.body.type, changed.body.value], ['password', '********']);
    assertErrorBody(await api('GET', '/v1/images', alice), 401);
    alice = { user: 'alice', pass: 'alice-pass2' };
    assert.equal((await api('GET', '/v1/images', alice)).status, 200);

    // Her own change, both ways anchore-cli makes it.
    assert.equal((await api('POST', '/v1/user/credentials', { ...alice, body: { type: 'password', value: 'alice-pass3' } })).status, 200);
    assertErrorBody(await api('GET', '/v1/user', alice), 401);
    alice = { user: 'alice', pass: 'alice-pass3' };
    assert.equal((await api('POST', '/v1/accounts/team-a/users/alice/credentials', { ...alice, body: { type: 'password', value: 'alice-pass4' } })).status, 200);
    alice = { user: 'alice', pass: 'alice-pass4' };
    assert.equal((await api('GET', '/v1/user', alice)).body.username, 'alice');

    assertErrorBody(await api('POST', '/v1/user/credentials', { ...alice, body: { type: 'token', value: 'alice-pass5' } }), 400, /password/);
    assertErrorBody(await api('POST', '/v1/user/credentials', { ...alice, body: { type: 'password', value: '123' } }), 400, /6 to 128/);
    assertErrorBody(await api('POST', '/v1/accounts/team-a/users/nobody/credentials', { ...admin, body: { type: 'password', value: 'whatever1' } }), 404);

    // Deleting a credential: bob can no longer log in; nobody deletes their own.
    assert.equal((await api('GET', '/v1/user', { user: 'bob', pass: 'bob-pass-1' })).status, 200);
    assertErrorBody(await api('DELETE', '/v1/accounts/team-a/users/bob/credentials', admin), 400, /credential_type/);
    assertErrorBody(await api('DELETE', '/v1/accounts/team-a/users/bob/credentials?credential_type=token', admin), 400, /credential_type/);
    const removed = await api('DELETE', '/v1/accounts/team-a/users/bob/credentials?credential_type=password', admin);
    assert.equal(removed.status, 204);
    assert.equal(removed.text, '');
    assertErrorBody(await api('GET', '/v1/user', { user: 'bob', pass: 'bob-pass-1' }), 401);
    assert.deepEqual((await api('GET', '/v1/accounts/team-a/users/bob/credentials', admin)).body, []);
    assertErrorBody(await api('DELETE', '/v1/accounts/admin/users/admin/credentials?credential_type=password', admin), 400, /authenticated as/);
    assert.equal((await api('POST', '/v1/accounts/team-a/users/bob/credentials', { ...admin, body: { type: 'password', value: 'bob-pass-2' } })).status, 200);
    assert.equal((await api('GET', '/v1/user', { user: 'bob', pass: 'bob-pass-2' })).status, 200);

    // Deleting a user.
    assertErrorBody(await api('DELETE', '/v1/accounts/admin/users/admin', admin), 400, /authenticated as/);
    const del = await api('DELETE', '/v1/accounts/team-a/users/bob', admin);
    assert.equal(del.status, 204);
    assertErrorBody(await api('GET', '/v1/user', { user: 'bob', pass: 'bob-pass-2' }), 401);
    assertErrorBody(await api('GET', '/v1/accounts/team-a/users/bob', admin), 404);
    assertErrorBody(await api('DELETE', '/v1/accounts/team-a/users/bob', admin), 404);
  });

  test('roles: read-only writes nothing, read-write manages no accounts, disabled accounts cannot log in', async () => {
    const { api } = h();
    await createUser(api, 'team-a', 'rory', 'rory-pass1', 'read-only');
    const rory = { user: 'rory', pass: 'rory-pass1' };
    const alice = { user: 'alice', pass: 'alice-pass4' };
    assert.equal((await api('GET', '/v1/accounts/team-a/users/rory', admin)).body.role, 'read-only');
    assert.equal((await api('GET', '/v1/images', rory)).status, 200);
    assert.equal((await api('GET', '/v1/user', rory)).body.username, 'rory');
    assert.equal((await api('GET', '/v1/user/credentials', rory)).body.length, 1);
    assertErrorBody(await api('POST', '/v1/images', { ...rory, body: { tag: `${h().registry!.host}/team/base:v1` } }), 403, /read-only/);
    assertErrorBody(await api('POST', '/v1/user/credentials', { ...rory, body: { type: 'password', value: 'rory-pass2' } }), 403, /read-only/);
    assertErrorBody(await api('POST', '/v1/accounts/team-a/users/rory/credentials', { ...rory, body: { type: 'password', value: 'rory-pass2' } }), 403, /read-only/);
    assertErrorBody(await api('DELETE', '/v1/accounts/team-a/users/alice', rory), 403);

    for (const [method, path, body] of [
      ['GET', '/v1/accounts', undefined],
      ['POST', '/v1/accounts', { name: 'mine' }],
      ['PUT', '/v1/accounts/team-a/state', { state: 'disabled' }],
      ['DELETE', '/v1/accounts/team-a', undefined],
      ['POST', '/v1/accounts/team-a/users', { username: 'eve', password: 'eve-pass1' }],
      ['DELETE', '/v1/accounts/team-a/users/rory', undefined],
      ['POST', '/v1/accounts/team-a/users/rory/credentials', { type: 'password', value: 'taken-over' }],
      ['GET', '/v1/accounts/admin', undefined],
      ['GET', '/v1/accounts/admin/users', undefined],
    ] as const) {
      assertErrorBody(await api(method, path, { ...alice, ...(body ? { body } : {}) }), 403);
    }
    // Her own account and its users she may read.
    assert.equal((await api('GET', '/v1/accounts/team-a', alice)).body.name, 'team-a');
    assert.deepEqual((await api('GET', '/v1/accounts/team-a/users', alice)).body.map((u: { username: string }) => u.username), ['alice', 'rory']);

    // Disabling the account logs its users out, cached logins included.
    assert.equal((await api('GET', '/v1/user', alice)).status, 200);
    assert.equal((await api('PUT', '/v1/accounts/team-a/state', { ...admin, body: { state: 'disabled' } })).status, 200);
    assertErrorBody(await api('GET', '/v1/user', alice), 401);
    assertErrorBody(await api('GET', '/v1/images', rory), 401);
    assert.equal((await api('PUT', '/v1/accounts/team-a/state', { ...admin, body: { state: 'enabled' } })).status, 200);
    assert.equal((await api('GET', '/v1/user', alice)).status, 200);
  });

  test('POST /oauth/token: a bearer token for the password grant; OAuth errors', async () => {
    const { api, svc } = h();
    const base = svc.url!;
    const got = await oauth(base, { grant_type: 'password', username: 'alice', password: 'alice-pass4', client_id: 'anonymous' });
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.equal(got.body.token_type, 'bearer');
    assert.equal(got.body.expires_in, OAUTH_TOKEN_SECONDS);
    assert.equal(got.headers.get('cache-control'), 'no-store');
    const token = got.body.access_token as string;
    assert.match(token, /^lading_/);
    const me = await api('GET', '/v1/user', { token });
    assert.equal(me.status, 200);
    assert.equal(me.body.username, 'alice');
    assert.equal((await api('GET', '/v1/account', { token })).body.name, 'team-a');

    // Anchore's form without a body: the Basic credentials.
    const viaHeader = await oauth(`${base}/v1`, {}, { authorization: `Basic ${Buffer.from('rory:rory-pass1').toString('base64')}` });
    assert.equal(viaHeader.status, 200, JSON.stringify(viaHeader.body));
    assert.equal((await api('GET', '/v1/user', { token: viaHeader.body.access_token as string })).body.username, 'rory');

    const bad = await oauth(base, { grant_type: 'password', username: 'alice', password: 'wrong-password' });
    assert.deepEqual([bad.status, bad.body.error], [400, 'invalid_grant']);
    const grant = await oauth(base, { grant_type: 'client_credentials', username: 'alice', password: 'alice-pass4' });
    assert.deepEqual([grant.status, grant.body.error], [400, 'unsupported_grant_type']);
    const client = await oauth(base, { username: 'alice', password: 'alice-pass4', client_id: 'someone' });
    assert.deepEqual([client.status, client.body.error], [401, 'invalid_client']);
    const missing = await oauth(base, { grant_type: 'password', username: 'alice' });
    assert.deepEqual([missing.status, missing.body.error], [400, 'invalid_request']);

    // Expired tokens are removed when a new one is issued.
    const expired = { id: 'expired-token', username: 'alice', token_hash: 'x'.repeat(64), name: 'oauth', expires_at: '2020-01-01T00:00:00.000Z', created_at: '2019-12-31T23:00:00.000Z', last_used_at: null };
    await svc.db.kysely.insertInto('api_tokens').values(expired).execute();
    assert.equal((await oauth(base, { username: 'alice', password: 'alice-pass4' })).status, 200);
    assert.equal((await svc.db.kysely.selectFrom('api_tokens').select('id').where('id', '=', 'expired-token').execute()).length, 0);

    // A disabled account's token stops working.
    assert.equal((await api('PUT', '/v1/accounts/team-a/state', { ...admin, body: { state: 'disabled' } })).status, 200);
    assertErrorBody(await api('GET', '/v1/user', { token }), 401);
    const refused = await oauth(base, { username: 'alice', password: 'alice-pass4' });
    assert.deepEqual([refused.status, refused.body.error], [400, 'invalid_grant']);
    assert.equal((await api('PUT', '/v1/accounts/team-a/state', { ...admin, body: { state: 'enabled' } })).status, 200);
  });

  test('deleting a disabled account removes its users and resources', async () => {
    const { api, svc } = h();
    await createAccount(api, 'team-gone');
    await createUser(api, 'team-gone', 'gus', 'gus-pass-1');
    const gus = { user: 'gus', pass: 'gus-pass-1' };
    const added = await api('POST', '/v1/images', { ...gus, body: { tag: `${h().registry!.host}/team/base:v1` } });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    await waitAnalyzed(api, image.manifestDigest, gus);
    const count = async (table: 'catalog_images' | 'catalog_image_tags' | 'catalog_analyses' | 'image_packages' | 'users') => Number((await svc.db.kysely.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('account', '=', 'team-gone').executeTakeFirstOrThrow()).n);
    assert.equal(await count('catalog_images'), 1);
    assert.ok(await count('image_packages') > 0);

    assert.equal((await api('PUT', '/v1/accounts/team-gone/state', { ...admin, body: { state: 'disabled' } })).status, 200);
    const del = await api('DELETE', '/v1/accounts/team-gone', admin);
    assert.equal(del.status, 204, JSON.stringify(del.body));
    assertErrorBody(await api('GET', '/v1/accounts/team-gone', admin), 404);
    assertErrorBody(await api('GET', '/v1/images', gus), 401);
    for (const table of ['catalog_images', 'catalog_image_tags', 'catalog_analyses', 'image_packages', 'users'] as const) assert.equal(await count(table), 0, table);

    // The name can be used again, with nothing left over.
    await createAccount(api, 'team-gone');
    await createUser(api, 'team-gone', 'gus', 'gus-pass-2');
    assert.deepEqual((await api('GET', '/v1/images', { user: 'gus', pass: 'gus-pass-2' })).body, []);
  });

  test('tokens end with a password change, a removed password, a deleted user, a disabled account, and a sign-out', async () => {
    const { api, svc } = h();
    const base = `${svc.url}/v1`;
    await createAccount(api, 'team-tok');
    await createUser(api, 'team-tok', 'tess', 'tess-pass-1');
    await createUser(api, 'team-tok', 'tom', 'tom-pass-1');
    const token = async (username: string, password: string) => (await oauth(base, { username, password })).body.access_token as string;
    const works = async (t: string) => (await api('GET', '/v1/user', { token: t })).status === 200;

    // An admin sets tess's password: every token of hers stops working at once.
    const t1 = await token('tess', 'tess-pass-1');
    const named = (await svc.accounts.createToken('tess', { name: 'ci' })).token;
    assert.ok(await works(t1) && await works(named));
    assert.equal((await api('POST', '/v1/accounts/team-tok/users/tess/credentials', { ...admin, body: { type: 'password', value: 'tess-pass-2' } })).status, 200);
    assert.equal(await works(t1), false);
    assert.equal(await works(named), false);

    // Changing her own password from a session keeps that session, ends the others.
    const here = await token('tess', 'tess-pass-2');
    const elsewhere = await token('tess', 'tess-pass-2');
    assert.equal((await api('POST', '/v1/user/credentials', { token: here, body: { type: 'password', value: 'tess-pass-3' } })).status, 200);
    assert.equal(await works(here), true);
    assert.equal(await works(elsewhere), false);

    // Sign-out revokes the session's own token; basic auth has none to revoke.
    assert.equal((await api('DELETE', '/v1/oauth/token', { token: here })).status, 204);
    assert.equal(await works(here), false);
    assertErrorBody(await api('DELETE', '/v1/oauth/token', { user: 'tess', pass: 'tess-pass-3' }), 400, /no token to revoke/);

    // Removing the password, deleting the user, disabling the account.
    const t2 = await token('tess', 'tess-pass-3');
    assert.equal((await api('DELETE', '/v1/accounts/team-tok/users/tess/credentials?credential_type=password', admin)).status, 204);
    assert.equal(await works(t2), false);
    const t3 = await token('tom', 'tom-pass-1');
    assert.equal((await api('PUT', '/v1/accounts/team-tok/state', { ...admin, body: { state: 'disabled' } })).status, 200);
    assert.equal((await api('PUT', '/v1/accounts/team-tok/state', { ...admin, body: { state: 'enabled' } })).status, 200);
    assert.equal(await works(t3), false, 'enabling the account again does not bring old tokens back');
    const t4 = await token('tom', 'tom-pass-1');
    assert.equal((await api('DELETE', '/v1/accounts/team-tok/users/tom', admin)).status, 204);
    assert.equal(await works(t4), false);
    assert.equal(Number((await svc.db.kysely.selectFrom('api_tokens').select((eb) => eb.fn.countAll().as('n')).where('username', 'in', ['tess', 'tom']).executeTakeFirstOrThrow()).n), 0);
  });
});
