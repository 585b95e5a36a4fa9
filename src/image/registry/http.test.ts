import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { HttpClient, isLoopback, plainHttpAllowed, readBody, retryAfterMs, schemesFor } from './http.js';
import { opensslAvailable, selfSignedCert, startHttpServer } from '../../testkit/registry.js';
import { isLadingError } from '../../errors.js';

const fast = { retryBaseMs: 5, retryMaxDelayMs: 2000 };

test('which hosts may use plain http', () => {
  for (const h of ['localhost', 'localhost:5000', '127.0.0.1', '127.0.0.1:5000', '127.9.8.7:80', '[::1]:5000', '::1', 'foo.localhost:1']) {
    assert.ok(isLoopback(h), h);
    assert.deepEqual(schemesFor(h, []).schemes, ['https', 'http'], h);
  }
  for (const h of ['registry.example.com', 'registry.example.com:5000', '128.0.0.1', '10.0.0.1:5000', 'localhost.example.com', '[::2]:5000']) {
    assert.ok(!isLoopback(h), h);
    assert.deepEqual(schemesFor(h, []).schemes, ['https'], h);
  }
  assert.ok(plainHttpAllowed('reg.internal:5000', ['reg.internal:5000']));
  assert.ok(plainHttpAllowed('reg.internal:5000', ['reg.internal']));
  assert.ok(plainHttpAllowed('reg.internal', ['http://reg.internal/']));
  assert.ok(!plainHttpAllowed('reg.internal:5001', ['reg.internal:5000']));
  assert.equal(schemesFor('reg.internal:5000', ['reg.internal:5000']).reason, 'insecure');
});

test('Retry-After as seconds or a date', () => {
  assert.equal(retryAfterMs('3'), 3000);
  assert.equal(retryAfterMs('0'), 0);
  assert.equal(retryAfterMs(undefined), undefined);
  assert.equal(retryAfterMs('soon'), undefined);
  const now = Date.parse('2024-01-01T00:00:00Z');
  assert.equal(retryAfterMs('Mon, 01 Jan 2024 00:00:05 GMT', now), 5000);
  assert.equal(retryAfterMs('Mon, 01 Jan 2023 00:00:05 GMT', now), 0);
});

test('503 twice, then 200: retried', async () => {
  let n = 0;
  const srv = await startHttpServer((_req, res) => {
    n++;
    if (n <= 2) {
      res.writeHead(503);
      return void res.end('busy');
    }
    res.end('ok');
  });
  const client = new HttpClient(fast);
  try {
    const res = await client.request({ url: `http://${srv.host}/x` });
    assert.equal(res.status, 200);
    assert.equal((await readBody(res, 100, 'x')).toString(), 'ok');
    assert.equal(n, 3);
  } finally {
    await client.close();
    await srv.stop();
  }
});

test('429 with Retry-After waits that long; attempts are bounded; POST is not retried', async () => {
  let n = 0;
  const srv = await startHttpServer((req, res) => {
    n++;
    if (req.url === '/once' && n === 1) {
      res.writeHead(429, { 'retry-after': '1' });
      return void res.end();
    }
    if (req.url === '/once') return void res.end('ok');
    res.writeHead(500);
    res.end();
  });
  const client = new HttpClient({ ...fast, maxAttempts: 3 });
  try {
    const t0 = Date.now();
    const res = await client.request({ url: `http://${srv.host}/once` });
    assert.equal(res.status, 200);
    assert.ok(Date.now() - t0 >= 900, `waited ${Date.now() - t0} ms`);
    await res.body.dump();

    n = 0;
    const failing = await client.request({ url: `http://${srv.host}/always` });
    assert.equal(failing.status, 500);
    assert.equal(n, 3);
    await failing.body.dump();

    n = 0;
    const post = await client.request({ url: `http://${srv.host}/always`, method: 'POST', body: 'x' });
    assert.equal(post.status, 500);
    assert.equal(n, 1);
    await post.body.dump();
  } finally {
    await client.close();
    await srv.stop();
  }
});

test('a dropped connection is retried; a dead port gives a NETWORK error', async () => {
  let n = 0;
  const srv = await startHttpServer((req, res) => {
    n++;
    if (n === 1) return void req.socket.destroy();
    res.end('ok');
  });
  const client = new HttpClient({ ...fast, maxAttempts: 2 });
  try {
    const res = await client.request({ url: `http://${srv.host}/` });
    assert.equal(res.status, 200);
    await res.body.dump();
    assert.equal(n, 2);
    await srv.stop();
    await assert.rejects(client.request({ url: `http://${srv.host}/` }),
      (e: unknown) => isLadingError(e) && e.code === 'NETWORK' && /cannot reach http:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED/.test(e.message));
  } finally {
    await client.close();
    await srv.stop().catch(() => undefined);
  }
});

test('redirects: Authorization kept on the same origin, dropped on another, hops bounded', async () => {
  const seen: { where: string; auth?: string }[] = [];
  const other = await startHttpServer((req, res) => {
    seen.push({ where: 'other' + req.url, auth: req.headers.authorization });
    if (req.url === '/back') {
      res.writeHead(302, { location: `http://${main.host}/final` });
      return void res.end();
    }
    res.end('from other');
  });
  const main = await startHttpServer((req, res) => {
    seen.push({ where: 'main' + req.url, auth: req.headers.authorization });
    if (req.url === '/same') {
      res.writeHead(307, { location: '/target' });
      return void res.end();
    }
    if (req.url === '/cross') {
      res.writeHead(307, { location: `http://${other.host}/blob` });
      return void res.end();
    }
    if (req.url === '/bounce') {
      res.writeHead(302, { location: `http://${other.host}/back` });
      return void res.end();
    }
    if (req.url?.startsWith('/loop')) {
      res.writeHead(302, { location: `/loop${Number(req.url.slice(5) || 0) + 1}` });
      return void res.end();
    }
    if (req.url === '/downgrade') {
      res.writeHead(302, { location: 'http://registry.example.com/x' });
      return void res.end();
    }
    res.end('from main');
  });
  const client = new HttpClient(fast);
  const headers = { authorization: 'Bearer secret' };
  try {
    let res = await client.request({ url: `http://${main.host}/same`, headers });
    assert.equal((await readBody(res, 100, 'x')).toString(), 'from main');
    assert.deepEqual(seen, [{ where: 'main/same', auth: 'Bearer secret' }, { where: 'main/target', auth: 'Bearer secret' }]);

    seen.length = 0;
    res = await client.request({ url: `http://${main.host}/cross`, headers });
    assert.equal((await readBody(res, 100, 'x')).toString(), 'from other');
    assert.equal(res.url.host, other.host);
    assert.deepEqual(seen, [{ where: 'main/cross', auth: 'Bearer secret' }, { where: 'other/blob', auth: undefined }]);

    // once it has left the origin, a redirect back does not bring the credentials back
    seen.length = 0;
    res = await client.request({ url: `http://${main.host}/bounce`, headers });
    await res.body.dump();
    assert.deepEqual(seen.map((s) => s.auth), ['Bearer secret', undefined, undefined]);

    await assert.rejects(client.request({ url: `http://${main.host}/loop` }), /more than 10 redirects/);
    await assert.rejects(client.request({ url: `http://${main.host}/downgrade` }), /refusing a redirect to plain http \(http:\/\/registry\.example\.com\)/);
  } finally {
    await client.close();
    await main.stop();
    await other.stop();
  }
});

test('TLS: verified by default, trusted with a CA file, unverified for insecure-listed hosts', { skip: opensslAvailable() ? false : 'openssl is not installed' }, async () => {
  const tls = await selfSignedCert();
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (_req, res) => res.end('secure'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const strict = new HttpClient(fast);
  const withCa = new HttpClient({ ...fast, caFile: tls.certFile });
  const insecure = new HttpClient({ ...fast, insecureRegistries: [host] });
  try {
    await assert.rejects(strict.request({ url: `https://${host}/` }),
      (e: unknown) => isLadingError(e) && e.code === 'TLS' && /TLS: certificate signed by unknown authority for 127\.0\.0\.1/.test(e.message));
    for (const c of [withCa, insecure]) {
      const res = await c.request({ url: `https://${host}/` });
      assert.equal((await readBody(res, 100, 'x')).toString(), 'secure');
    }
    assert.throws(() => new HttpClient({ caFile: '/nonexistent/ca.pem' }), /cannot read the CA file \/nonexistent\/ca\.pem/);
  } finally {
    await Promise.all([strict.close(), withCa.close(), insecure.close()]);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(tls.dir, { recursive: true, force: true });
  }
});

test('a body over the limit is refused while reading', async () => {
  const srv = await startHttpServer((req, res) => {
    if (req.url === '/declared') return void res.end(Buffer.alloc(5000));
    res.write(Buffer.alloc(3000)); // chunked: no Content-Length
    res.end(Buffer.alloc(3000));
  });
  const client = new HttpClient(fast);
  try {
    await assert.rejects(readBody(await client.request({ url: `http://${srv.host}/declared` }), 4096, 'doc'), /doc is 5000 bytes, over the limit of 4096/);
    await assert.rejects(readBody(await client.request({ url: `http://${srv.host}/chunked` }), 4096, 'doc'), /doc is over the limit of 4096 bytes/);
  } finally {
    await client.close();
    await srv.stop();
  }
});
