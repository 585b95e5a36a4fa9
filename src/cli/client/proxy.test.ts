/**
 * The CLI as a client of the service behind a proxy: with HTTPS_PROXY/HTTP_PROXY set, `lading`
 * reaches the service through a local CONNECT proxy that alone resolves the service's host name
 * (`lading.test`); NO_PROXY naming the host goes direct (and fails to resolve it, proving the proxy
 * was not used); a proxy variable that is not an http(s) URL is an error naming it (exit 2); over
 * https (a TLS front with a self-signed certificate) --insecure is still honoured, through the proxy too.
 */
import { after, before, test } from 'node:test';
import { rm } from 'node:fs/promises';
import assert from 'node:assert/strict';
import { startConnectProxy, type ConnectProxy } from '../../image/registry/testing-proxy.js';
import { opensslAvailable, selfSignedCert, startTlsFront } from '../../testkit/registry.js';
import { ADMIN, describeService } from '../../testkit/service.js';
import { lading } from '../testing.js';

let proxy: ConnectProxy;
before(async () => {
  proxy = await startConnectProxy({ 'lading.test': '127.0.0.1' });
});
after(async () => proxy.stop());

/** Every proxy variable set here (lower case wins over upper case, so both are set). */
function proxyEnv(values: { http?: string; https?: string; no?: string }): Record<string, string> {
  return {
    http_proxy: values.http ?? '', HTTP_PROXY: values.http ?? '', https_proxy: values.https ?? '', HTTPS_PROXY: values.https ?? '',
    no_proxy: values.no ?? '', NO_PROXY: values.no ?? '',
  };
}

describeService('lading CLI through a proxy', { dialects: ['sqlite'] }, (h) => {
  const env = () => ({
    LADING_URL: `http://lading.test:${new URL(h().svc.url!).port}`, LADING_USER: ADMIN.user, LADING_PASS: ADMIN.pass, LADING_ACCOUNT: '',
    ANCHORE_CLI_URL: '', ANCHORE_CLI_USER: '', ANCHORE_CLI_PASS: '',
  });

  test('HTTP_PROXY: the service is reached through the proxy', async () => {
    const before1 = proxy.tunnels.length;
    const r = await lading(['system', 'status'], { ...env(), ...proxyEnv({ http: proxy.url, https: proxy.url }) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Service api \(.*\): up$/m);
    const port = new URL(h().svc.url!).port;
    assert.deepEqual(proxy.tunnels.slice(before1), [`lading.test:${port}`]);
  });

  test('NO_PROXY naming the host goes direct; a bad proxy URL is named', async () => {
    const before1 = proxy.tunnels.length;
    const direct = await lading(['system', 'status'], { ...env(), ...proxyEnv({ http: proxy.url, no: 'example.com,lading.test' }) });
    assert.equal(direct.code, 2);
    assert.match(direct.stderr, /^lading: error: cannot reach the Lading service at http:\/\/lading\.test:\d+\/v1: ENOTFOUND/);
    assert.equal(proxy.tunnels.length, before1, 'no tunnel');
    const refused = await lading(['system', 'status'], { ...env(), ...proxyEnv({ http: `http://127.0.0.1:1` }) });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /cannot reach the Lading service at http:\/\/lading\.test:\d+\/v1 through proxy 127\.0\.0\.1:1: /);
    const bad = await lading(['system', 'status'], { ...env(), ...proxyEnv({ http: 'socks5://proxy:1080' }) });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /http_proxy: "socks5:\/\/proxy:1080" uses socks5; only http:\/\/ and https:\/\/ proxies are supported/);
  });

  test('https with a self-signed certificate: refused, then --insecure, direct and through the proxy', { skip: !opensslAvailable() && 'no openssl' }, async () => {
    const tls = await selfSignedCert();
    const front = await startTlsFront(new URL(h().svc.url!).host, tls);
    try {
      const base = { ...env(), LADING_URL: `https://127.0.0.1:${front.port}` };
      const refused = await lading(['system', 'status'], { ...base, ...proxyEnv({}) });
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /cannot reach the Lading service at https:\/\/127\.0\.0\.1:\d+\/v1: /);
      const insecure = await lading(['system', 'status', '--insecure'], { ...base, ...proxyEnv({}) });
      assert.equal(insecure.code, 0, insecure.stderr);
      const before1 = proxy.tunnels.length;
      const proxied = await lading(['system', 'status', '--insecure'], { ...base, LADING_URL: `https://lading.test:${front.port}`, ...proxyEnv({ https: proxy.url }) });
      assert.equal(proxied.code, 0, proxied.stderr);
      assert.deepEqual(proxy.tunnels.slice(before1), [`lading.test:${front.port}`]);
    } finally {
      await front.stop();
      await rm(tls.dir, { recursive: true, force: true });
    }
  });
});
