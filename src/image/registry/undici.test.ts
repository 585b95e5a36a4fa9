/**
 * The registry client's undici, loaded without undici's index: plain requests and a CONNECT tunnel
 * through a proxy (ProxyAgent needs the request methods undici's index would have put on
 * Dispatcher's prototype) against local servers, and the index itself never loaded.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Agent, request } from './undici.js';
import { dispatcherFor } from './proxy.js';
import { startConnectProxy, type ConnectProxy } from './testing-proxy.js';

describe('undici without its index', () => {
  let server: http.Server;
  let port: number;
  let proxy: ConnectProxy;
  before(async () => {
    server = http.createServer((req, res) => {
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain' });
      res.end(`${req.method} ${req.url}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    proxy = await startConnectProxy({ 'registry.test': '127.0.0.1' });
  });
  after(async () => {
    await proxy.stop();
    await new Promise((r) => server.close(r));
  });

  it('sends the method, path and query of the URL to its origin and answers status and body', async () => {
    const agent = new Agent();
    try {
      const ok = await request(new URL(`http://127.0.0.1:${port}/v2/app/manifests/v1?n=2`), { method: 'HEAD', dispatcher: agent });
      assert.equal(ok.statusCode, 200);
      await ok.body.dump();
      const got = await request(new URL(`http://127.0.0.1:${port}/v2/`), { method: 'GET', dispatcher: agent });
      assert.equal(await got.body.text(), 'GET /v2/');
      const missing = await request(new URL(`http://127.0.0.1:${port}/missing`), { method: 'DELETE', dispatcher: agent });
      assert.equal(missing.statusCode, 404);
      assert.equal(await missing.body.text(), 'DELETE /missing');
    } finally {
      await agent.close();
    }
  });

  it('tunnels through a CONNECT proxy', async () => {
    const opts = { connect: { timeout: 5000, rejectUnauthorized: true }, headersTimeout: 5000, bodyTimeout: 5000 };
    const agent = dispatcherFor(new URL(proxy.url), opts);
    try {
      const r = await request(new URL(`http://registry.test:${port}/v2/?last=a`), { method: 'GET', dispatcher: agent });
      assert.equal(await r.body.text(), 'GET /v2/?last=a');
      assert.deepEqual(proxy.tunnels, [`registry.test:${port}`]);
    } finally {
      await agent.close();
    }
  });

  it('left undici\'s index unloaded', () => {
    const require = createRequire(import.meta.url);
    assert.ok(require.cache[require.resolve('undici/lib/dispatcher/agent.js')], 'the agent came from undici\'s own file');
    assert.equal(require.cache[require.resolve('undici')], undefined);
  });
});
