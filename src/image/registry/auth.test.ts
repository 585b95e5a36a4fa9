import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryAuth, TokenCache, parseWwwAuthenticate, pullScope, type Challenge } from './auth.js';
import { HttpClient, readBody } from './http.js';
import { startHttpServer } from '../../testkit/registry.js';
import type { RegistryCredentials } from './credentials.js';

const cases: [string, string | string[], Challenge[]][] = [
  ['docker hub bearer',
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull"',
    [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/debian:pull' } }]],
  ['basic', 'Basic realm="basic-realm"', [{ scheme: 'basic', params: { realm: 'basic-realm' } }]],
  ['case-insensitive scheme and names, spaces around =', 'BEARER Realm = "r" , Service=svc',
    [{ scheme: 'bearer', params: { realm: 'r', service: 'svc' } }]],
  ['two challenges in one header', 'Basic realm="a", Bearer realm="https://t/token",service="s"',
    [{ scheme: 'basic', params: { realm: 'a' } }, { scheme: 'bearer', params: { realm: 'https://t/token', service: 's' } }]],
  ['two headers', ['Basic realm="a"', 'Bearer realm="b"'],
    [{ scheme: 'basic', params: { realm: 'a' } }, { scheme: 'bearer', params: { realm: 'b' } }]],
  ['escapes and commas inside quotes', 'Bearer realm="https://h/t?x=1,y=2",error="insufficient_scope",error_description="say \\"hi\\", \\\\ok"',
    [{ scheme: 'bearer', params: { realm: 'https://h/t?x=1,y=2', error: 'insufficient_scope', error_description: 'say "hi", \\ok' } }]],
  ['scope with several actions and a space-separated list', 'Bearer realm="r",scope="repository:a/b:pull,push repository:c:pull"',
    [{ scheme: 'bearer', params: { realm: 'r', scope: 'repository:a/b:pull,push repository:c:pull' } }]],
  ['token68', 'Negotiate abc123==, Basic realm="x"',
    [{ scheme: 'negotiate', params: {}, token68: 'abc123==' }, { scheme: 'basic', params: { realm: 'x' } }]],
  ['scheme without params', 'Basic', [{ scheme: 'basic', params: {} }]],
  ['empty quoted value and unterminated quote', 'Bearer realm="",service="abc',
    [{ scheme: 'bearer', params: { realm: '', service: 'abc' } }]],
  ['empty header', '', []],
];

for (const [name, header, want] of cases) {
  test(`WWW-Authenticate: ${name}`, () => {
    assert.deepEqual(parseWwwAuthenticate(header), want);
  });
}

test('token cache: entries expire early by a margin', () => {
  let now = 1_000_000;
  const cache = new TokenCache(() => now);
  cache.set('k', 't', 60);
  assert.equal(cache.get('k'), 't');
  now += 53_000;
  assert.equal(cache.get('k'), 't');
  now += 1_000; // 54 s: within 10% of the end
  assert.equal(cache.get('k'), undefined);
  cache.set('short', 's', 1);
  now += 850;
  assert.equal(cache.get('short'), 's');
  now += 100;
  assert.equal(cache.get('short'), undefined);
});

interface Seen { method: string; url: URL; auth?: string; body: string }

async function tokenServer(reply: (s: Seen) => { status?: number; json: unknown }) {
  const seen: Seen[] = [];
  const srv = await startHttpServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const s = { method: req.method!, url: new URL(req.url!, 'http://x'), auth: req.headers.authorization, body: Buffer.concat(chunks).toString() };
    seen.push(s);
    const r = reply(s);
    res.writeHead(r.status ?? 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(r.json));
  });
  return { srv, seen };
}

function auth(http: HttpClient, realm: string, creds?: RegistryCredentials, cache = new TokenCache()) {
  const a = new RegistryAuth({ registry: 'reg.test', http, credentials: async () => creds, cache });
  a.learn(parseWwwAuthenticate(`Bearer realm="${realm}",service="svc"`));
  return a;
}

test('token request: scope, service, account and Basic credentials; token or access_token; cached', async () => {
  let field: 'token' | 'access_token' = 'token';
  const { srv, seen } = await tokenServer(() => ({ json: { [field]: `tok-${field}`, expires_in: 300 } }));
  const http = new HttpClient();
  try {
    const cache = new TokenCache();
    const a = auth(http, `http://${srv.host}/token`, { username: 'alice', password: 'pw:with:colons' }, cache);
    assert.equal(await a.authorization([pullScope('team/app')]), 'Bearer tok-token');
    assert.equal(await a.authorization([pullScope('team/app')]), 'Bearer tok-token');
    assert.equal(seen.length, 1);
    const s = seen[0]!;
    assert.equal(s.method, 'GET');
    assert.equal(s.url.pathname, '/token');
    assert.equal(s.url.searchParams.get('service'), 'svc');
    assert.deepEqual(s.url.searchParams.getAll('scope'), ['repository:team/app:pull']);
    assert.equal(s.url.searchParams.get('account'), 'alice');
    assert.equal(s.auth, 'Basic ' + Buffer.from('alice:pw:with:colons').toString('base64'));

    field = 'access_token';
    assert.equal(await a.authorization([pullScope('other')]), 'Bearer tok-access_token');
    assert.equal(seen.length, 2);

    // anonymous: no account, no Authorization; a different identity gets its own cache entry
    const anon = auth(http, `http://${srv.host}/token`, undefined, cache);
    assert.equal(await anon.authorization([pullScope('team/app')]), 'Bearer tok-access_token');
    assert.equal(seen.length, 3);
    assert.equal(seen[2]!.url.searchParams.get('account'), null);
    assert.equal(seen[2]!.auth, undefined);
  } finally {
    await http.close();
    await srv.stop();
  }
});

test('identity token: OAuth2 refresh-token grant by POST', async () => {
  const { srv, seen } = await tokenServer(() => ({ json: { access_token: 'oauth-tok' } }));
  const http = new HttpClient();
  try {
    const a = auth(http, `http://${srv.host}/token`, { identityToken: 'refresh-me' });
    assert.equal(await a.authorization([pullScope('app')]), 'Bearer oauth-tok');
    const s = seen[0]!;
    assert.equal(s.method, 'POST');
    const form = new URLSearchParams(s.body);
    assert.equal(form.get('grant_type'), 'refresh_token');
    assert.equal(form.get('refresh_token'), 'refresh-me');
    assert.equal(form.get('service'), 'svc');
    assert.equal(form.get('scope'), 'repository:app:pull');
  } finally {
    await http.close();
    await srv.stop();
  }
});

test('token service errors are clear', async () => {
  const { srv } = await tokenServer((s) => (s.url.searchParams.get('scope')?.includes('denied')
    ? { status: 401, json: { details: 'no' } }
    : { json: { nothing: true } }));
  const http = new HttpClient();
  try {
    const a = auth(http, `http://${srv.host}/token`, { username: 'u', password: 'p' });
    await assert.rejects(a.authorization([pullScope('denied/app')]),
      { code: 'UNAUTHORIZED', message: `authentication denied for reg.test/denied/app: the token service http://${srv.host} refused the credentials (HTTP 401)` });
    await assert.rejects(a.authorization([pullScope('app')]), /has no "token" or "access_token"/);
    const b = auth(http, 'not a url');
    await assert.rejects(b.authorization([pullScope('app')]), /invalid token realm "not a url"/);
    const c = auth(http, 'http://auth.example.com/token', { username: 'u', password: 'p' });
    await assert.rejects(c.authorization([pullScope('app')]), /names a token realm that is not https \(http:\/\/auth\.example\.com\)/);
  } finally {
    await http.close();
    await srv.stop();
  }
});

test('send: a 401 with a new challenge gets one retry with the new token', async () => {
  let issued = 0;
  const tokenSrv = await startHttpServer((_req, res) => {
    issued++;
    res.end(JSON.stringify({ token: `t${issued}` }));
  });
  let accept = 't2';
  const api = await startHttpServer((req, res) => {
    if (req.headers.authorization === `Bearer ${accept}`) return void res.end('ok');
    res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${tokenSrv.host}/token",service="svc",scope="repository:app:pull"` });
    res.end();
  });
  const http = new HttpClient();
  try {
    const a = auth(http, `http://${tokenSrv.host}/token`);
    const send = (authorization?: string) => http.request({ url: `http://${api.host}/v2/app/manifests/1`, headers: authorization ? { authorization } : {} });
    // t1 is refused, t2 accepted
    let res = await a.send([pullScope('app')], send);
    assert.equal(res.status, 200);
    assert.equal((await readBody(res, 10, 'x')).toString(), 'ok');
    assert.equal(issued, 2);
    // the server stops accepting: one retry with t3, still refused -> the 401 comes back
    accept = 'never';
    res = await a.send([pullScope('app')], send);
    assert.equal(res.status, 401);
    await res.body.dump();
    assert.equal(issued, 3);
  } finally {
    await http.close();
    await api.stop();
    await tokenSrv.stop();
  }
});
