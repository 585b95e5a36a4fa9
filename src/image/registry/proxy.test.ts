/**
 * Outbound proxies from the environment: parsing, NO_PROXY, and real requests through a local
 * CONNECT proxy (testing-proxy.ts) to a local HTTP server and a real registry, named `*.test` so
 * that only the proxy can resolve them (as behind a corporate proxy).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HttpClient, readBody } from './http.js';
import { OutboundGuard } from './guard.js';
import { proxyFor, proxySettings } from './proxy.js';
import { RegistryClient } from './client.js';
import { TokenCache } from './auth.js';
import { startConnectProxy, type ConnectProxy } from './testing-proxy.js';
import { pushImage, registryAvailable, registrySkipReason, startHttpServer, startRegistry, type RunningServer } from '../../testkit/registry.js';
import { buildImage } from '../../testkit/images.js';
import { postWebhook } from '../../services/notify/post.js';
import { isLadingError } from '../../errors.js';

const VARS = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'];

/** Run with these proxy variables set (and the others unset), then restore the environment. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));
  for (const v of VARS) delete process.env[v];
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const v of VARS) {
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
    }
  }
}

describe('proxy settings', () => {
  it('reads both cases, the lowercase form first, and a bare host:port as http', () => {
    const s = proxySettings({ HTTPS_PROXY: 'http://upper:1', https_proxy: 'lower:3128', HTTP_PROXY: 'http://plain:8080', NO_PROXY: 'a.example, .b.example  c:5000' });
    assert.equal(s.https?.href, 'http://lower:3128/');
    assert.equal(s.http?.href, 'http://plain:8080/');
    assert.deepEqual(s.noProxy, ['a.example', '.b.example', 'c:5000']);
    assert.deepEqual(proxySettings({}), { noProxy: [] });
  });

  it('names a variable that is not a usable proxy URL', () => {
    assert.throws(() => proxySettings({ HTTPS_PROXY: 'socks5://p:1080' }), /HTTPS_PROXY: "socks5:\/\/p:1080" uses socks5; only http/);
    assert.throws(() => proxySettings({ http_proxy: 'http://[bad' }), /http_proxy: "http:\/\/\[bad" is not a proxy URL/);
  });

  it('NO_PROXY: domains and subdomains, ports, addresses, CIDRs, *; loopback always direct', () => {
    const s = proxySettings({ HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'corp.example,.svc,reg.io:5000,10.1.2.3,192.168.0.0/16' });
    const via = (u: string) => proxyFor(new URL(u), s)?.host;
    assert.equal(via('https://corp.example/v2/'), undefined);
    assert.equal(via('https://registry.corp.example/v2/'), undefined);
    assert.equal(via('https://x.svc/'), undefined);
    assert.equal(via('https://reg.io:5000/'), undefined);
    assert.equal(via('https://reg.io/'), 'p:3128');
    assert.equal(via('https://10.1.2.3/'), undefined);
    assert.equal(via('https://192.168.7.7:5000/'), undefined);
    assert.equal(via('https://notcorp.example/'), 'p:3128');
    assert.equal(via('https://127.0.0.1:5000/'), undefined);
    assert.equal(via('https://localhost/'), undefined);
    assert.equal(via('http://plain.example/'), undefined, 'no HTTP_PROXY: http URLs are direct');
    assert.equal(proxyFor(new URL('https://any.example/'), proxySettings({ HTTPS_PROXY: 'p:1', NO_PROXY: '*' })), undefined);
  });
});

describe('requests through a CONNECT proxy', () => {
  let proxy: ConnectProxy;
  let server: RunningServer;
  let received = 0;

  before(async () => {
    server = await startHttpServer((_req, res) => {
      received++;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('hello through the proxy');
    });
    proxy = await startConnectProxy({ 'feeds.test': '127.0.0.1', 'hooks.test': '127.0.0.1' });
  });
  after(async () => {
    await proxy.stop();
    await server.stop();
  });

  it('HTTP_PROXY from the environment carries a feed download', async () => {
    await withEnv({ HTTP_PROXY: proxy.url }, async () => {
      const http = new HttpClient({ maxAttempts: 1 });
      try {
        const res = await http.request({ url: `http://feeds.test:${server.port}/data.json` });
        assert.equal(res.status, 200);
        assert.equal((await readBody(res, 1000, 'x')).toString(), 'hello through the proxy');
      } finally {
        await http.close();
      }
    });
    assert.deepEqual(proxy.tunnels, [`feeds.test:${server.port}`]);
  });

  it('NO_PROXY sends the request direct: the proxy sees nothing', async () => {
    const before = proxy.tunnels.length;
    await withEnv({ http_proxy: proxy.url, no_proxy: '.test' }, async () => {
      const http = new HttpClient({ maxAttempts: 1 });
      try {
        // Only the proxy knows feeds.test: direct, the name does not resolve.
        await assert.rejects(http.request({ url: `http://feeds.test:${server.port}/data.json` }), (e: unknown) => {
          assert.ok(isLadingError(e) && /cannot reach http:\/\/feeds\.test/.test(e.message) && !/proxy/.test(e.message), String(e));
          return true;
        });
      } finally {
        await http.close();
      }
    });
    assert.equal(proxy.tunnels.length, before);
  });

  it('the guard judges the destination, not the proxy (a loopback proxy is fine with loopback refused)', async () => {
    const guard = new OutboundGuard({ allow: [], deny: ['denied.test'], allowLoopback: false, allowPrivate: true });
    const proxies = proxySettings({ HTTP_PROXY: proxy.url });
    const http = new HttpClient({ maxAttempts: 1, guard, proxy: proxies });
    const before = proxy.tunnels.length;
    try {
      const res = await http.request({ url: `http://feeds.test:${server.port}/ok` });
      assert.equal(res.status, 200);
      await readBody(res, 1000, 'x');
      for (const host of ['denied.test', 'metadata.google.internal', '169.254.169.254']) {
        await assert.rejects(http.request({ url: `http://${host}:${server.port}/` }), (e: unknown) => isLadingError(e) && e.code === 'DESTINATION_DENIED');
      }
    } finally {
      await http.close();
    }
    assert.deepEqual(proxy.tunnels.slice(before), [`feeds.test:${server.port}`]);
  });

  it('webhooks go through the proxy too, the guard still judging the destination', async () => {
    const guard = new OutboundGuard({ allow: [], deny: ['denied.test'], allowLoopback: false, allowPrivate: true });
    const before = received;
    const ok = await withEnv({ HTTP_PROXY: proxy.url }, () => postWebhook({ url: new URL(`http://hooks.test:${server.port}/hook`), body: '{}', verifyTls: true, timeoutMs: 5000, guard }));
    assert.deepEqual(ok, { statusCode: 200 });
    assert.equal(received, before + 1);
    assert.ok(proxy.tunnels.includes(`hooks.test:${server.port}`));
    const refused = await withEnv({ HTTP_PROXY: proxy.url }, () => postWebhook({ url: new URL(`http://denied.test:${server.port}/hook`), body: '{}', verifyTls: true, timeoutMs: 5000, guard }));
    assert.match(refused.error ?? '', /refused: .*denied\.test.*outbound\.deny/);
  });
});

describe('a registry pull through HTTPS_PROXY', { skip: registryAvailable() ? false : registrySkipReason }, () => {
  let proxy: ConnectProxy;
  let reg: RunningServer;
  const img = buildImage({ layers: [{ entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=proxied\n' }] }] });

  before(async () => {
    reg = await startRegistry();
    await pushImage(reg.host, 'app', 'v1', img);
    proxy = await startConnectProxy({ 'registry.test': '127.0.0.1' });
  });
  after(async () => {
    await proxy.stop();
    await reg.stop();
  });

  it('the probe and the manifest come through the proxy', async () => {
    const host = `registry.test:${reg.port}`;
    await withEnv({ HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url }, async () => {
      const client = new RegistryClient(host, { credentialLookup: false, tokenCache: new TokenCache(), insecureRegistries: [host], http: { retryBaseMs: 5, maxAttempts: 1 } });
      try {
        const m = await client.getManifest('app', 'v1');
        assert.equal(m.digest, img.manifestDigest);
      } finally {
        await client.close();
      }
    });
    assert.ok(proxy.tunnels.length >= 1);
    assert.ok(proxy.tunnels.every((t) => t === `registry.test:${reg.port}`), proxy.tunnels.join());
  });
});
