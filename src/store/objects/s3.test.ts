/**
 * The s3 driver against a local S3 server that checks every SigV4 signature (testing-s3.ts):
 * objects round-trip, absent ones read as undefined, and a wrong secret, a wrong bucket or an
 * unreachable endpoint fail with errors naming the request, never silently; HTTPS_PROXY/NO_PROXY
 * are honoured through a local CONNECT proxy.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LadingError } from '../../errors.js';
import { S3ObjectStore, s3Options } from './s3.js';
import { startLocalS3, type LocalS3 } from './testing-s3.js';
import { startConnectProxy } from '../../image/registry/testing-proxy.js';
import type { S3Config } from './types.js';

let s3: LocalS3;
before(async () => {
  s3 = await startLocalS3();
});
after(async () => s3.close());

function config(over: Partial<S3Config> = {}): S3Config {
  return { url: s3.url, bucket: s3.bucket, region: s3.region, prefix: 'lading/', path_style: true, access_key: s3.accessKey, secret_key: s3.secretKey, timeout: 5, ...over };
}
const store = (over: Partial<S3Config> = {}) => new S3ObjectStore(s3Options(config(over), {}));

test('s3: put, get, has, delete through signed requests; keys under the prefix, encoded once', async () => {
  const st = store();
  await st.check();
  const key = 'analyses/acct%2Fx/sha256%3Aabc/0123';
  await st.put(key, Buffer.from('document bytes'));
  assert.deepEqual([...s3.objects.keys()], [`lading/${key}`]);
  assert.equal((await st.get(key))!.toString(), 'document bytes');
  assert.equal(await st.has(key), true);
  await st.put(key, Buffer.from('replaced'));
  assert.equal((await st.get(key))!.toString(), 'replaced');
  await st.delete(key);
  assert.equal(await st.get(key), undefined);
  assert.equal(await st.has(key), false);
  await st.delete(key); // absent: nothing
  assert.equal(s3.refused, 0);
  assert.deepEqual(s3.log.map((l) => l.split(' ')[0]), ['HEAD', 'PUT', 'GET', 'HEAD', 'PUT', 'GET', 'DELETE', 'GET', 'HEAD', 'DELETE']);
});

test('s3: a wrong secret is refused by the server (SignatureDoesNotMatch), and the error says so', async () => {
  const refused = s3.refused;
  const bad = store({ secret_key: 'not-the-secret' });
  await assert.rejects(bad.put('k', Buffer.from('x')), (e: LadingError) => e.code === 'UNAUTHORIZED' && /S3 PUT http:\/\/127\.0\.0\.1:\d+\/lading-test\/lading\/k: HTTP 403 SignatureDoesNotMatch/.test(e.message));
  await assert.rejects(bad.get('k'), /HTTP 403 SignatureDoesNotMatch/);
  await assert.rejects(store({ access_key: 'AKIDOTHER' }).get('k'), /HTTP 403 AccessDenied: unknown access key/);
  await assert.rejects(store({ region: 'us-east-1' }).get('k'), /HTTP 403 AccessDenied: wrong region us-east-1/);
  assert.equal(s3.refused, refused + 4);
  assert.equal(s3.objects.has('lading/k'), false);
});

test('s3: a missing bucket and an unreachable endpoint are errors naming them', async () => {
  await assert.rejects(store({ bucket: 'nope' }).check(), /S3 HEAD http:\/\/127\.0\.0\.1:\d+\/nope\/: HTTP 404/);
  await assert.rejects(store({ bucket: 'nope' }).get('k'), /HTTP 404 NoSuchBucket/);
  await assert.rejects(store({ url: 'http://127.0.0.1:1' }).get('k'), (e: LadingError) => e.code === 'NETWORK' && /S3 GET http:\/\/127\.0\.0\.1:1\/lading-test\/lading\/k/.test(e.message));
});

test('s3: options from the configuration, else the AWS environment; a missing one is named', () => {
  const base = { prefix: '', path_style: false, timeout: 30 } as S3Config;
  const fromEnv = s3Options({ ...base, bucket: 'b' }, { AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK', AWS_SESSION_TOKEN: 'T', AWS_REGION: 'ap-south-1' });
  assert.deepEqual(fromEnv.credentials, { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'T' });
  assert.equal(fromEnv.region, 'ap-south-1');
  assert.equal(fromEnv.endpoint.href, 'https://s3.ap-south-1.amazonaws.com/');
  const virtual = new S3ObjectStore(fromEnv);
  assert.equal(virtual.url('analyses/a/b').href, 'https://b.s3.ap-south-1.amazonaws.com/analyses/a/b');
  assert.equal(s3Options({ ...base, bucket: 'b', access_key: 'A', secret_key: 'S' }, { AWS_SESSION_TOKEN: 'T' }).credentials.sessionToken, undefined, 'configured keys do not take a token from the environment');
  assert.throws(() => s3Options({ ...base, bucket: 'b' }, {}), /object_store\.s3\.access_key is required for the s3 object store \(or AWS_ACCESS_KEY_ID\)/);
  assert.throws(() => s3Options(base, { AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' }), /object_store\.s3\.bucket is required/);
});

test('s3: through HTTPS_PROXY/HTTP_PROXY (a CONNECT proxy that alone resolves the endpoint); NO_PROXY goes direct', async () => {
  const proxy = await startConnectProxy({ 's3.test': '127.0.0.1' });
  try {
    const url = `http://s3.test:${new URL(s3.url).port}`;
    const proxied = new S3ObjectStore(s3Options(config({ url }), { http_proxy: proxy.url, https_proxy: proxy.url }));
    assert.equal(proxied.proxy?.href, `${proxy.url}/`);
    await proxied.check();
    await proxied.put('via-proxy', Buffer.from('tunnelled'));
    assert.equal((await proxied.get('via-proxy'))!.toString(), 'tunnelled');
    assert.ok(proxy.tunnels.length > 0 && proxy.tunnels.every((t) => t === `s3.test:${new URL(s3.url).port}`), proxy.tunnels.join(', '));
    assert.equal(s3.objects.get('lading/via-proxy')?.toString(), 'tunnelled', 'signed for s3.test and accepted');
    await proxied.delete('via-proxy');

    const tunnels = proxy.tunnels.length;
    const direct = new S3ObjectStore(s3Options(config({ url }), { http_proxy: proxy.url, no_proxy: 'localhost,.test' }));
    assert.equal(direct.proxy, undefined);
    await assert.rejects(direct.get('k'), (e: LadingError) => e.code === 'NETWORK' && /S3 GET http:\/\/s3\.test:\d+\/lading-test\/lading\/k: .*ENOTFOUND/.test(e.message));
    assert.equal(proxy.tunnels.length, tunnels, 'NO_PROXY: no tunnel');
    assert.throws(() => s3Options(config({ url }), { https_proxy: 'socks5://p:1080' }), /https_proxy: "socks5:\/\/p:1080" uses socks5; only http:\/\/ and https:\/\/ proxies are supported/);
  } finally {
    await proxy.stop();
  }
});

test('s3: close() closes the connection pool, so that no idle connection keeps a finished process alive', { timeout: 20_000 }, async () => {
  const earlier = new Set(s3.sockets); // other tests' stores' pools
  const st = store();
  await st.put('pool/one', Buffer.from('x'));
  assert.equal((await st.get('pool/one'))!.toString(), 'x');
  const open = [...s3.sockets].filter((s) => !earlier.has(s));
  assert.ok(open.length >= 1, 'the pool keeps its connection open, idle (the server keeps it alive for minutes)');
  const closed = open.map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve()))));
  await st.close();
  await Promise.all(closed);
  assert.deepEqual([...s3.sockets].filter((s) => open.includes(s)), []);
  // A store closed is opened again if used after all (a new pool).
  assert.equal((await st.get('pool/one'))!.toString(), 'x');
  await st.close();
});
