/**
 * /registries end to end on SQLite and PostgreSQL, with a real registry that wants a password
 * (htpasswd): validation against it, the password never shown and encrypted in the database, the
 * credentials used for adding and analyzing an image, update/get/list/delete, and isolation
 * between accounts. A production-mode service without encryption_key refuses to store one.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildImage } from '../../testkit/images.js';
import { pushImage, startRegistry, type RunningServer } from '../../testkit/registry.js';
import { ADMIN as admin, assertErrorBody, describeService, waitAnalyzed } from '../../testkit/service.js';

const CREDS = { user: 'puller', pass: 'pull-pass-s3cret' };
const OTHER = { user: 'olga', pass: 'olga-password' } as const;

const image = buildImage({
  layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
    { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\nSource: openssl\n' },
  ] }],
});

const SHOWN_KEYS = ['created_at', 'last_updated', 'registry', 'registry_ca_cert', 'registry_name', 'registry_type', 'registry_user', 'registry_verify', 'userId'];

describeService('registries', {}, (h) => {
  let reg: RunningServer;
  const path = (registry: string) => `/v1/registries/${encodeURIComponent(registry)}`;
  const body = (registry: string, pass = CREDS.pass, extra: Record<string, unknown> = {}) => ({ registry, registry_user: CREDS.user, registry_pass: pass, registry_type: 'docker_v2', registry_verify: true, ...extra });

  before(async () => {
    reg = await startRegistry({ htpasswd: CREDS });
    await pushImage(reg.host, 'team/app', 'v1', image, CREDS);
    await h().svc.accounts.createAccount({ name: 'other' });
    await h().svc.accounts.createUser('other', { username: OTHER.user, password: OTHER.pass });
  });
  after(async () => reg?.stop());

  test('without a registry record, adding an image from the registry fails naming authentication', async () => {
    const r = await h().api('POST', '/v1/images', { ...admin, body: { tag: `${reg.host}/team/app:v1` } });
    assertErrorBody(r, 400, /authentication required/);
    assert.match(r.body.message, /no registry credentials .* POST \/registries/);
  });

  test('add: a wrong password is refused with the registry\'s answer (406); the right one is stored, encrypted, never shown', async () => {
    const { api, svc } = h();
    const wrong = await api('POST', '/v1/registries', { ...admin, body: body(reg.host, 'not-the-password') });
    assertErrorBody(wrong, 406, /HTTP 401/);
    assert.ok(!wrong.text.includes('not-the-password'));
    assert.deepEqual((await api('GET', '/v1/registries', admin)).body, []);

    const ok = await api('POST', '/v1/registries', { ...admin, body: body(reg.host, CREDS.pass, { registry_name: 'team registry' }) });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.length, 1);
    const rec = ok.body[0];
    assert.deepEqual(Object.keys(rec).sort(), SHOWN_KEYS);
    assert.deepEqual({ ...rec, created_at: undefined, last_updated: undefined },
      { registry: reg.host, userId: 'admin', registry_user: CREDS.user, registry_verify: true, registry_type: 'docker_v2', registry_name: 'team registry', registry_ca_cert: null, created_at: undefined, last_updated: undefined });
    assert.match(rec.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(!ok.text.includes(CREDS.pass));

    const rows = await svc.db.kysely.selectFrom('registries').selectAll().where('account', '=', 'admin').execute();
    assert.equal(rows.length, 1);
    assert.match(rows[0]!.registry_pass, /^v1:/);
    assert.ok(!JSON.stringify(rows).includes(CREDS.pass), 'the row holds no plaintext password');

    assertErrorBody(await api('POST', '/v1/registries', { ...admin, body: body(reg.host) }), 409, /^registry already exists in DB$/);
  });

  test('bad input is 400, awsauto 406', async () => {
    const { api } = h();
    const bad: [unknown, RegExp][] = [
      [{ registry: 'r.example.com', registry_user: 'u' }, /registry_pass/],
      [body('https://r.example.com'), /URL scheme/],
      [body('r.example.com/'), /cannot end with/],
      [body('r.example.com', 'p', { registry_type: 'gcr' }), /registry_type/],
      [body('r.example.com', 'p', { registry_verify: 'yes' }), /registry_verify/],
      [body('r.example.com', 'p', { surprise: 1 }), /surprise/],
      [body('r.example.com', 'p', { registry_type: 'awsecr' }), /Amazon ECR host/],
      ['not json at all', /./],
    ];
    for (const [b, message] of bad) {
      const headers = typeof b === 'string' ? { 'content-type': 'application/json' } : undefined;
      assertErrorBody(await api('POST', '/v1/registries?validate=false', { ...admin, body: b, ...(headers ? { headers } : {}) }), 400, message);
    }
    assertErrorBody(await api('POST', '/v1/registries?validate=maybe', { ...admin, body: body('r.example.com') }), 400, /validate/);
    assertErrorBody(await api('POST', '/v1/registries?validate=false', {
      ...admin, body: { registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com', registry_user: 'awsauto', registry_pass: 'awsauto', registry_type: 'awsecr' },
    }), 406, /awsauto/);
    assertErrorBody(await api('GET', `/v1/registries/${encodeURIComponent('https://x')}`, admin), 400, /URL scheme/);
    assert.deepEqual((await api('GET', '/v1/registries', admin)).body.map((r: { registry: string }) => r.registry), [reg.host]);
  });

  test('an image from the password-protected registry is added and analyzed with the account\'s credentials', async () => {
    const { api } = h();
    const added = await api('POST', '/v1/images', { ...admin, body: { tag: `${reg.host}/team/app:v1` } });
    assert.equal(added.status, 200, added.text);
    assert.equal(added.body[0].imageDigest, image.manifestDigest);
    const img = await waitAnalyzed(api, image.manifestDigest);
    assert.equal(img.image_content.metadata.distro, 'debian');
    const os = await api('GET', `/v1/images/${image.manifestDigest}/content/os`, admin);
    assert.deepEqual(os.body.content.map((p: { package: string }) => p.package), ['libssl3']);
  });

  test('accounts are isolated: another account neither sees nor pulls with my credentials', async () => {
    const { api } = h();
    assert.deepEqual((await api('GET', '/v1/registries', OTHER)).body, []);
    assertErrorBody(await api('GET', path(reg.host), OTHER), 404);
    assertErrorBody(await api('DELETE', path(reg.host), OTHER), 404);
    const pull = await api('POST', '/v1/images', { ...OTHER, body: { tag: `${reg.host}/team/app:v1` } });
    assertErrorBody(pull, 400, /authentication required/);
    // Its own record, with a wrong password stored unchecked, is the one its pulls use; mine still works.
    const own = await api('POST', '/v1/registries?validate=false', { ...OTHER, body: body(`${reg.host}/team*`, 'olga-wrong-pass') });
    assert.equal(own.status, 200, own.text);
    assert.equal(own.body[0].userId, 'other');
    assertErrorBody(await api('POST', '/v1/images', { ...OTHER, body: { tag: `${reg.host}/team/app:v1` } }), 400, /authentication denied/);
    assert.equal((await api('POST', '/v1/images', { ...admin, body: { tag: `${reg.host}/team/app:v1` } })).status, 200);
    // An admin acting in the other account sees only its records.
    const asOther = await api('GET', '/v1/registries', { ...admin, headers: { 'x-anchore-account': 'other' } });
    assert.deepEqual(asOther.body.map((r: { registry: string; userId: string }) => [r.registry, r.userId]), [[`${reg.host}/team*`, 'other']]);
    assert.equal((await api('DELETE', `/v1/registries/${reg.host}/team*`, OTHER)).status, 200); // raw slashes work too
  });

  test('get, update, delete', async () => {
    const { api } = h();
    const got = await api('GET', path(reg.host), admin);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body[0].registry_name, 'team registry');
    assert.equal((await api('GET', `/registries/${encodeURIComponent(reg.host)}`, admin)).body[0].registry, reg.host);

    // A wrong password is checked and refused; the stored record is unchanged.
    assertErrorBody(await api('PUT', path(reg.host), { ...admin, body: { registry_pass: 'still-wrong' } }), 406, /HTTP 401/);
    // Without a password the stored one is kept (and validated).
    const renamed = await api('PUT', path(reg.host), { ...admin, body: { registry: reg.host, registry_name: 'renamed', registry_verify: false } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body[0].registry_name, 'renamed');
    assert.equal(renamed.body[0].registry_verify, false);
    assert.ok(!renamed.text.includes(CREDS.pass));
    assert.ok(Date.parse(renamed.body[0].last_updated) >= Date.parse(renamed.body[0].created_at));
    assertErrorBody(await api('PUT', path(reg.host), { ...admin, body: { registry: 'elsewhere.example.com' } }), 400, /not the one in the path/);
    assertErrorBody(await api('PUT', path('missing.example.com'), { ...admin, body: { registry_pass: 'x' } }), 404);

    // A record made for a repository prefix, by its encoded and raw names.
    const prefix = `${reg.host}/team/app`;
    assert.equal((await api('POST', '/v1/registries?validate=false', { ...admin, body: body(prefix) })).status, 200);
    assert.equal((await api('GET', path(prefix), admin)).body[0].registry, prefix);
    assert.equal((await api('GET', `/v1/registries/${prefix}`, admin)).body[0].registry, prefix);
    assert.deepEqual((await api('GET', '/v1/registries', admin)).body.map((r: { registry: string }) => r.registry).sort(), [reg.host, prefix].sort());

    for (const r of [prefix, reg.host]) {
      const del = await api('DELETE', path(r), admin);
      assert.equal(del.status, 200, del.text);
      assert.equal(del.body, true);
    }
    assertErrorBody(await api('GET', path(reg.host), admin), 404);
    assertErrorBody(await api('DELETE', path(reg.host), admin), 404);
    assert.deepEqual((await api('GET', '/v1/registries', admin)).body, []);
  });
});

describeService('registries in production mode without encryption_key', { dialects: ['sqlite'], config: { production_mode: true } }, (h) => {
  test('adding a registry fails naming encryption_key; nothing is stored', async () => {
    const { api } = h();
    const r = await api('POST', '/v1/registries?validate=false', { ...admin, body: { registry: 'r.example.com', registry_user: 'u', registry_pass: 'p' } });
    assertErrorBody(r, 400, /encryption_key/);
    assert.deepEqual((await api('GET', '/v1/registries', admin)).body, []);
  });
});
