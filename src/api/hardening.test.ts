/**
 * The API against a browser on another site and against bad input (issue 18): JSON-only bodies,
 * the Origin check, no Basic challenge to browsers, login throttling, deep and out-of-range input,
 * 5xx answers with a request id and no internal message, annotation and image quotas.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage } from '../testkit/images.js';
import { pushImage } from '../testkit/registry.js';
import { ADMIN as admin, apiClient, assertErrorBody, describeService, startTestService } from '../testkit/service.js';

const imageA = buildImage({ layers: [{ entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.19.0\n' }] }] });
const imageB = buildImage({ layers: [{ entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.20.0\n' }] }] });
const logs: string[] = [];
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describeService('API hardening', {
  registry: true,
  dialects: ['sqlite'],
  config: {
    listen: { allowed_origins: ['https://ui.example.com'] },
    auth: { max_failed_logins_per_user: 3, max_failed_logins_per_client: 8, failed_login_window: '10m' },
    quotas: { max_images_per_account: 1, max_annotation_bytes: 1024 },
  },
  start: { log: (m: string) => logs.push(m) },
}, (h) => {
  before(async () => {
    await pushImage(h().registry!.host, 'team/a', 'v1', imageA);
    await pushImage(h().registry!.host, 'team/b', 'v1', imageB);
  });
  const raw = (method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) =>
    fetch(`${h().svc.url}${path}`, { method, headers: init.headers ?? {}, ...(init.body !== undefined ? { body: init.body } : {}) });

  test('write endpoints take JSON only (415); the OAuth token endpoint takes its form', async () => {
    const auth = basic('admin', admin.pass);
    const form = await raw('POST', '/v1/accounts', { headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=formed' });
    assert.equal(form.status, 415);
    assert.match((await form.json() as { message: string }).message, /content type "application\/x-www-form-urlencoded" is not accepted: send JSON.*only POST \/oauth\/token takes a form/);
    const text = await raw('POST', '/v1/accounts', { headers: { authorization: auth, 'content-type': 'text/plain' }, body: '{"name":"texted"}' });
    assert.equal(text.status, 415);
    assert.equal((await h().api('GET', '/v1/accounts', admin)).body.some((a: { name: string }) => ['formed', 'texted'].includes(a.name)), false);
    const json = await raw('POST', '/v1/accounts', { headers: { authorization: auth, 'content-type': 'application/json; charset=utf-8' }, body: '{"name":"jsoned"}' });
    assert.equal(json.status, 200);
    const token = await raw('POST', '/v1/oauth/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=password&username=admin&password=${admin.pass}` });
    assert.equal(token.status, 200);
  });

  test('state-changing requests from another origin are refused; same origin and listed origins pass; reads are not affected', async () => {
    const { api, svc } = h();
    const own = new URL(svc.url!).origin;
    assertErrorBody(await api('POST', '/v1/accounts', { ...admin, headers: { origin: 'https://evil.example' }, body: { name: 'evil' } }), 403, /cross-origin request refused: Origin "https:\/\/evil.example".*listen.allowed_origins/);
    assertErrorBody(await api('POST', '/v1/accounts', { ...admin, headers: { 'sec-fetch-site': 'cross-site' }, body: { name: 'evil2' } }), 403, /cross-site/);
    assertErrorBody(await api('POST', '/v1/accounts', { ...admin, headers: { origin: 'null' }, body: { name: 'evil3' } }), 403);
    assert.equal((await api('POST', '/v1/accounts', { ...admin, headers: { origin: own }, body: { name: 'same-origin' } })).status, 200);
    assert.equal((await api('POST', '/v1/accounts', { ...admin, headers: { origin: 'https://ui.example.com' }, body: { name: 'listed-origin' } })).status, 200);
    assert.equal((await api('GET', '/v1/accounts', { ...admin, headers: { origin: 'https://evil.example' } })).status, 200);
    assert.equal((await api('GET', '/v1/accounts', admin)).body.some((a: { name: string }) => a.name.startsWith('evil')), false);
  });

  test('a 401 challenges browsers with Bearer (no password prompt to cache), other clients with Basic', async () => {
    const browser = await raw('GET', '/v1/images', { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0', accept: 'text/html,*/*' } });
    assert.equal(browser.status, 401);
    assert.equal(browser.headers.get('www-authenticate'), 'Bearer realm="lading"');
    const cli = await raw('GET', '/v1/images', { headers: { 'user-agent': 'anchore-cli/0.9.4 python-requests/2.31' } });
    assert.equal(cli.status, 401);
    assert.match(cli.headers.get('www-authenticate') ?? '', /^basic realm=/i);
  });

  test('bad input is a 400 naming the problem: 5,000-deep annotations, registry ports above 65535', async () => {
    const { api } = h();
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const r = await raw('POST', '/v1/images', { headers: { authorization: basic('admin', admin.pass), 'content-type': 'application/json' }, body: `{"tag":"x/y:1","annotations":${deep}}` });
    assert.equal(r.status, 400);
    assert.match((await r.json() as { message: string }).message, /nested deeper than 64 levels/);
    assertErrorBody(await api('POST', '/v1/images', { ...admin, body: { tag: '127.0.0.1:99999/x/y:1' } }), 400, /port 99999 is out of range/);
    assertErrorBody(await api('POST', '/v1/registries?validate=true', { ...admin, body: { registry: '127.0.0.1:70000', registry_user: 'u', registry_pass: 'p' } }), 400, /port 70000 is out of range/);
    assertErrorBody(await api('POST', '/v1/repositories?repository=127.0.0.1:99999/x/y', admin), 400, /port 99999 is out of range/);
  });

  test('annotations are bounded; an account holds at most quotas.max_images_per_account images', async () => {
    const { api, registry } = h();
    assertErrorBody(await api('POST', '/v1/images', { ...admin, body: { tag: `${registry!.host}/team/a:v1`, annotations: { big: 'x'.repeat(2000) } } }), 400, /annotations: \d+ bytes of JSON, over the limit of 1024 \(quotas.max_annotation_bytes\)/);
    assert.equal((await api('POST', '/v1/images', { ...admin, body: { tag: `${registry!.host}/team/a:v1`, annotations: { team: 'a' } } })).status, 200);
    assertErrorBody(await api('POST', '/v1/images', { ...admin, body: { tag: `${registry!.host}/team/b:v1` } }), 400, /account admin holds 1 images.*quotas.max_images_per_account is 1/);
    assert.equal((await api('POST', '/v1/images', { ...admin, body: { tag: `${registry!.host}/team/a:v1` } })).status, 200, 'the same image again is not a new one');
    assert.equal((await api('GET', '/v1/images', admin)).body.length, 1);
  });

  test('failed logins: 429 with Retry-After per user, then per client address; logged without the password', async () => {
    const { api, svc } = h();
    await svc.accounts.createUser('admin', { username: 'tina', password: 'tina-pass-1', role: 'read-write' });
    for (let i = 0; i < 3; i++) assertErrorBody(await api('GET', '/v1/images', { user: 'tina', pass: `guess-${i}` }), 401);
    const throttled = await api('GET', '/v1/images', { user: 'tina', pass: 'tina-pass-1' });
    assertErrorBody(throttled, 429, /too many failed logins for user "tina": try again in \d+ s/);
    assert.ok(Number(throttled.headers.get('retry-after')) > 0);
    const oauth = await raw('POST', '/v1/oauth/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=password&username=tina&password=tina-pass-1' });
    assert.equal(oauth.status, 429);
    assert.equal((await oauth.json() as { error: string }).error, 'slow_down');
    assert.ok(Number(oauth.headers.get('retry-after')) > 0);
    assert.equal((await api('GET', '/v1/images', admin)).status, 200, 'another user from the same address still gets in');
    const failed = logs.filter((l) => /failed login for user "tina" from /.test(l));
    assert.equal(failed.length, 3);
    assert.ok(!logs.some((l) => l.includes('guess-')), 'no password in the log');
    // Five more failures from this address, over other names: the address is throttled for everyone.
    for (let i = 0; i < 5; i++) assertErrorBody(await api('GET', '/v1/images', { user: `nobody${i}`, pass: 'wrong-pass' }), 401);
    assertErrorBody(await api('GET', '/v1/images', admin), 429, /too many failed logins from /);
  });
});

test('a 5xx carries a request id, is logged with it, and does not echo the internal message', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lading-5xx-'));
  const logged: string[] = [];
  const { svc } = await startTestService(join(dir, 'lading.db'), dir, { start: { roles: ['api'], log: (m) => logged.push(m) } });
  try {
    await svc.db.close();
    const r = await apiClient(svc.url!)('GET', '/v1/accounts', admin);
    assertErrorBody(r, 500, /^internal error \(request id [\w-]+\)$/);
    const id = r.headers.get('x-request-id');
    assert.ok(id);
    assert.equal(r.body.detail.request_id, id);
    assert.doesNotMatch(r.text, /database|closed|sqlite/i);
    assert.ok(logged.some((l) => l.includes(`request ${id} (GET /v1/accounts) failed`)), logged.join('\n'));
  } finally {
    await svc.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('outbound guard: loopback, metadata and denied destinations are a 403 naming the rule, and nothing is connected to', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lading-outbound-'));
  let connections = 0;
  const listener = createServer((socket) => {
    connections++;
    socket.destroy();
  }).listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const port = (listener.address() as { port: number }).port;
  const { svc } = await startTestService(join(dir, 'lading.db'), dir, {
    config: { outbound: { allow_loopback: false, deny: ['*.blocked.example'] } },
    start: { roles: ['api'], log: () => {} },
  });
  try {
    const api = apiClient(svc.url!);
    assertErrorBody(await api('POST', '/v1/images', { ...admin, body: { tag: `127.0.0.1:${port}/x:latest` } }), 403, /outbound connection to 127.0.0.1 refused: a loopback address \(set outbound.allow_loopback: true/);
    assertErrorBody(await api('POST', '/v1/images', { ...admin, body: { tag: '169.254.169.254/latest/meta-data:x' } }), 403, /169.254.169.254 refused: a link-local or cloud metadata address/);
    assertErrorBody(await api('POST', '/v1/images', { ...admin, body: { tag: 'registry.blocked.example/x:1' } }), 403, /matches outbound.deny entry "\*.blocked.example"/);
    assertErrorBody(await api('POST', '/v1/registries?validate=true', { ...admin, body: { registry: `localhost:${port}`, registry_user: 'u', registry_pass: 'p' } }), 403, /localhost refused: a loopback address/);
    assertErrorBody(await api('POST', `/v1/repositories?repository=${encodeURIComponent(`127.0.0.1:${port}/x`)}`, admin), 403, /loopback address/);
    assert.equal(connections, 0);
  } finally {
    await svc.close();
    listener.close();
    await rm(dir, { recursive: true, force: true });
  }
});
