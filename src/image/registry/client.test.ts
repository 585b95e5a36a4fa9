/**
 * The registry client against a real registry (distribution 2.8 on 127.0.0.1), with Node fronts
 * for token auth, redirects, failures and tampering.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RegistryClient, type RegistryClientOptions } from './client.js';
import { TokenCache } from './auth.js';
import { withLimits } from '../limits.js';
import { buildImage } from '../../testkit/images.js';
import {
  fetchUpstream, forward, opensslAvailable, pushImage, selfSignedCert, pushManifest, registryAvailable, registrySkipReason, startHttpServer, startProxy,
  startRegistry, startTokenProxy, type RunningServer,
} from '../../testkit/registry.js';
import { MediaTypes } from '../types.js';
import type { Readable } from 'node:stream';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';

const skip = registryAvailable() ? false : registrySkipReason;
const CREDS = { user: 'lading', pass: 's3cret-pass' };

const img = buildImage({
  layers: [
    { entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=test\n' }] },
    // incompressible and big enough to arrive in many chunks: for broken-download tests
    { entries: [{ type: 'file', path: 'opt/big.bin', content: randomBytes(400_000) }], compression: 'none' },
  ],
});
const dockerImg = buildImage({ format: 'docker', layers: [{ entries: [{ type: 'file', path: 'a.txt', content: 'schema2' }] }] });
const bigLayer = img.layers[1]!;

function client(host: string, extra: RegistryClientOptions = {}): RegistryClient {
  return new RegistryClient(host, { credentialLookup: false, tokenCache: new TokenCache(), http: { retryBaseMs: 5 }, ...extra });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

describe('registry client', { skip }, () => {
  let reg: RunningServer;
  let authReg: RunningServer;
  const cleanup: RunningServer[] = [];
  const front = async (intercept: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>) => {
    const p = await startProxy(reg.host, intercept);
    cleanup.push(p);
    return p;
  };

  before(async () => {
    [reg, authReg] = await Promise.all([startRegistry(), startRegistry({ htpasswd: CREDS })]);
    await pushImage(reg.host, 'app', 'v1', img);
    await pushImage(reg.host, 'docker/app', 'v1', dockerImg);
    await pushImage(reg.host, 'tagged', 't1', img);
    for (const t of ['t2', 't3', 't4', 't5']) await pushManifest(reg.host, 'tagged', t, img.manifestBytes, img.manifestMediaType);
    await pushImage(authReg.host, 'private/app', 'v1', img, CREDS);
  });

  after(async () => {
    await Promise.all([...cleanup, reg, authReg].filter(Boolean).map((s) => s.stop()));
  });

  it('probes /v2/ (https first, then plain http on loopback) and fetches manifests by tag and digest', async () => {
    const c = client(reg.host);
    try {
      assert.equal(await c.ping(), `http://${reg.host}`);
      const byTag = await c.getManifest('app', 'v1');
      assert.equal(byTag.digest, img.manifestDigest);
      assert.equal(byTag.mediaType, MediaTypes.ociManifest);
      assert.deepEqual(byTag.bytes, img.manifestBytes);
      const byDigest = await c.getManifest('app', img.manifestDigest);
      assert.deepEqual(byDigest.bytes, img.manifestBytes);
      assert.deepEqual(await c.headManifest('app', 'v1'), { digest: img.manifestDigest, mediaType: MediaTypes.ociManifest, size: img.manifestBytes.length });
      // schema 2 comes back as schema 2 (not converted to schema 1), byte for byte
      const d = await c.getManifest('docker/app', 'v1');
      assert.equal(d.mediaType, MediaTypes.dockerManifest);
      assert.equal(d.digest, dockerImg.manifestDigest);
    } finally {
      await c.close();
    }
  });

  it('a pull makes no /v2/ probe: its first request finds the scheme and a 401 brings the challenge (anonymous, Basic, Bearer)', async () => {
    const seen: string[] = [];
    const recorded = async (upstream: string) => {
      const p = await startProxy(upstream, (req) => {
        seen.push(`${req.method} ${req.url} ${req.headers.authorization?.split(' ')[0] ?? 'anonymous'}`);
        return false;
      });
      cleanup.push(p);
      return p;
    };
    const config = `GET /v2/app/blobs/${img.manifest.config.digest}`;
    const open = client((await recorded(reg.host)).host);
    const basic = client((await recorded(authReg.host)).host, { credentials: { username: CREDS.user, password: CREDS.pass } });
    const tp = await startTokenProxy(reg.host, CREDS);
    cleanup.push(tp);
    const bearer = client((await recorded(tp.host)).host, { credentials: { username: CREDS.user, password: CREDS.pass } });
    try {
      // both at once on a fresh client: the second waits for the first to find the scheme
      const [m, c] = await Promise.all([open.getManifest('app', 'v1'), open.fetchBlob('app', img.manifest.config, 1 << 20, 'config')]);
      assert.equal(m.digest, img.manifestDigest);
      assert.deepEqual(c, img.configBytes);
      assert.deepEqual(seen.sort(), [config, 'GET /v2/app/manifests/v1'].map((r) => `${r} anonymous`).sort());
      seen.length = 0;
      assert.equal((await basic.getManifest('private/app', 'v1')).digest, img.manifestDigest);
      await basic.fetchBlob('private/app', img.manifest.config, 1 << 20, 'config');
      assert.deepEqual(seen, ['GET /v2/private/app/manifests/v1 anonymous', 'GET /v2/private/app/manifests/v1 Basic',
        `GET /v2/private/app/blobs/${img.manifest.config.digest} Basic`]);
      seen.length = 0;
      assert.equal((await bearer.getManifest('app', 'v1')).digest, img.manifestDigest);
      await bearer.fetchBlob('app', img.manifest.config, 1 << 20, 'config');
      assert.deepEqual(seen, ['GET /v2/app/manifests/v1 anonymous', 'GET /v2/app/manifests/v1 Bearer', `${config} Bearer`]);
      assert.equal(tp.tokenRequests, 1);
    } finally {
      await Promise.all([open.close(), basic.close(), bearer.close()]);
    }
  });

  it('an https registry on loopback: its certificate is checked, never downgraded to http', { skip: opensslAvailable() ? false : 'openssl is not installed' }, async () => {
    const tls = await selfSignedCert();
    const server = https.createServer({ cert: tls.cert, key: tls.key }, (_req, res) => res.end('{}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const strict = client(host);
    const trusting = client(host, { caFile: tls.certFile });
    try {
      await assert.rejects(strict.ping(), { code: 'TLS', message: /TLS: certificate signed by unknown authority for 127\.0\.0\.1 .*use --ca-cert FILE or --insecure/ });
      assert.equal(await trusting.ping(), `https://${host}`);
    } finally {
      await Promise.all([strict.close(), trusting.close()]);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await rm(tls.dir, { recursive: true, force: true });
    }
  });

  it('names what is missing', async () => {
    const c = client(reg.host);
    try {
      await assert.rejects(c.getManifest('app', 'nope'), { code: 'NOT_FOUND', message: new RegExp(`^manifest nope not found in ${reg.host}/app \\(HTTP 404\\) \\(MANIFEST_UNKNOWN`) });
      await assert.rejects(c.getManifest('ghost', 'latest'), { code: 'NOT_FOUND', message: new RegExp(`manifest latest not found in ${reg.host}/ghost \\(HTTP 404\\) \\(MANIFEST_UNKNOWN`) });
      const missing = { mediaType: MediaTypes.ociLayerGzip, digest: sha(Buffer.from('absent')), size: 6 };
      await assert.rejects(c.openBlob('app', missing), { code: 'NOT_FOUND', message: new RegExp(`blob ${missing.digest} not found in ${reg.host}/app`) });
    } finally {
      await c.close();
    }
  });

  it('streams blobs and reads configs verified', async () => {
    const c = client(reg.host);
    try {
      assert.deepEqual(await readAll(await c.openBlob('app', bigLayer.desc)), bigLayer.blob);
      // a reader may stop early: the connection is dropped quietly
      const partial = await c.openBlob('app', bigLayer.desc);
      for await (const chunk of partial) {
        assert.ok((chunk as Buffer).length > 0);
        break;
      }
      assert.ok(partial.destroyed);
      const cfg = await c.fetchBlob('app', img.manifest.config, 1 << 20, 'config');
      assert.deepEqual(cfg, img.configBytes);
      await assert.rejects(c.fetchBlob('app', img.manifest.config, 10, 'config'), { code: 'LIMIT_EXCEEDED', message: /config sha256:[0-9a-f]{64} is \d+ bytes, over the limit of 10/ });
      // a descriptor whose size disagrees with what the registry has
      await assert.rejects(c.openBlob('app', { ...img.manifest.config, size: 5 }), { code: 'DIGEST_MISMATCH', message: /the registry sends \d+ bytes, the descriptor says 5/ });
    } finally {
      await c.close();
    }
  });

  it('lists tags across pages', async () => {
    const c = client(reg.host);
    try {
      assert.deepEqual((await c.listTags('tagged', { pageSize: 2 })).sort(), ['t1', 't2', 't3', 't4', 't5']);
      await assert.rejects(c.listTags('ghost'), { code: 'NOT_FOUND' });
    } finally {
      await c.close();
    }
  });

  it('refuses a manifest over the size limit, declared or streamed', async () => {
    const small = client(reg.host, { limits: withLimits({ maxManifestBytes: 200 }) });
    const chunked = await front(async (req, res) => {
      if (!req.url?.includes('/manifests/')) return false;
      const up = await fetchUpstream(reg.host, req.url, { accept: String(req.headers.accept) });
      res.writeHead(up.status, { 'content-type': String(up.headers['content-type']) }); // no Content-Length: chunked
      for (let i = 0; i < up.body.length; i += 50) res.write(up.body.subarray(i, i + 50));
      res.end();
      return true;
    });
    const viaChunked = client(chunked.host, { limits: withLimits({ maxManifestBytes: 200 }) });
    try {
      await assert.rejects(small.getManifest('app', 'v1'), { code: 'LIMIT_EXCEEDED', message: new RegExp(`manifest ${reg.host}/app:v1 is ${img.manifestBytes.length} bytes, over the limit of 200`) });
      await assert.rejects(viaChunked.getManifest('app', 'v1'), { code: 'LIMIT_EXCEEDED', message: /is over the limit of 200 bytes/ });
    } finally {
      await small.close();
      await viaChunked.close();
    }
  });

  it('detects a tampered manifest: wrong Docker-Content-Digest, or bytes not matching the digest asked for', async () => {
    const tamper = await front(async (req, res) => {
      if (!req.url?.includes('/manifests/')) return false;
      const up = await fetchUpstream(reg.host, req.url, { accept: String(req.headers.accept) });
      const byDigest = req.url.includes('sha256:');
      const body = byDigest ? Buffer.concat([up.body, Buffer.from(' ')]) : up.body;
      res.writeHead(200, { 'content-type': String(up.headers['content-type']), 'docker-content-digest': byDigest ? String(up.headers['docker-content-digest']) : sha(Buffer.from('other')) });
      res.end(body);
      return true;
    });
    const c = client(tamper.host);
    try {
      await assert.rejects(c.getManifest('app', 'v1'), { code: 'DIGEST_MISMATCH', message: new RegExp(`manifest ${tamper.host}/app:v1 \\(Docker-Content-Digest\\) sha256:[0-9a-f]{64}: content digest is ${img.manifestDigest}`) });
      await assert.rejects(c.getManifest('app', img.manifestDigest), { code: 'DIGEST_MISMATCH', message: new RegExp(`manifest ${tamper.host}/app@${img.manifestDigest} ${img.manifestDigest}: content digest is sha256:`) });
    } finally {
      await c.close();
    }
  });

  it('refuses schema 1 clearly (the registry converts schema 2 when asked for schema 1 only)', async () => {
    const v1only = await front((req, res) => {
      if (!req.url?.includes('/manifests/')) return false;
      forward(req, res, reg.host, { ...req.headers, accept: MediaTypes.dockerSchema1Signed });
      return true;
    });
    const c = client(v1only.host);
    try {
      await assert.rejects(c.getManifest('docker/app', 'v1'), { code: 'UNSUPPORTED', message: new RegExp(`manifest ${v1only.host}/docker/app:v1 is a Docker schema 1 manifest, which is deprecated and not supported`) });
    } finally {
      await c.close();
    }
  });

  it('retries 503 and 429 responses', async () => {
    let manifestCalls = 0;
    const flaky = await front((req, res) => {
      if (!req.url?.includes('/manifests/')) return false;
      manifestCalls++;
      if (manifestCalls === 1) res.writeHead(503, { 'retry-after': '0' });
      else if (manifestCalls === 2) res.writeHead(429);
      else return false;
      res.end();
      return true;
    });
    const c = client(flaky.host);
    try {
      assert.equal((await c.getManifest('app', 'v1')).digest, img.manifestDigest);
      assert.equal(manifestCalls, 3);
    } finally {
      await c.close();
    }
  });

  it('resumes a broken blob download with Range, or by skipping when Range is ignored; gives up after the bound', async () => {
    const seen: (string | undefined)[] = [];
    let mode: 'range' | 'norange' | 'always-break' = 'range';
    let cuts = 0;
    const cut = async (req: IncomingMessage, res: ServerResponse) => {
      const up = await fetchUpstream(reg.host, req.url!, {});
      res.writeHead(200, { 'content-length': String(up.body.length), 'content-type': 'application/octet-stream' });
      res.write(up.body.subarray(0, 150_000 + cuts * 10_000), () => setTimeout(() => res.socket?.destroy(), 20));
      cuts++;
    };
    const breaking = await front(async (req, res) => {
      if (!req.url?.includes(`/blobs/${bigLayer.desc.digest}`)) return false;
      seen.push(req.headers.range);
      if (mode === 'always-break' || seen.length === 1) {
        await cut(req, res);
        return true;
      }
      const headers = { ...req.headers };
      if (mode === 'norange') delete headers.range;
      forward(req, res, reg.host, headers);
      return true;
    });
    const c = client(breaking.host, { maxBlobResumes: 2 });
    try {
      assert.deepEqual(await readAll(await c.openBlob('app', bigLayer.desc)), bigLayer.blob);
      assert.equal(seen.length, 2);
      assert.equal(seen[0], undefined);
      assert.match(seen[1] ?? '', /^bytes=\d+-$/);
      assert.ok(Number(/=(\d+)-/.exec(seen[1]!)![1]) > 0);

      seen.length = 0;
      mode = 'norange';
      assert.deepEqual(await readAll(await c.openBlob('app', bigLayer.desc)), bigLayer.blob);
      assert.equal(seen.length, 2);

      seen.length = 0;
      mode = 'always-break';
      await assert.rejects(readAll(await c.openBlob('app', bigLayer.desc)), { code: 'NETWORK', message: /the download broke at byte \d+ .* after 2 resumes/ });
      assert.equal(seen.length, 3);
    } finally {
      await c.close();
    }
  });

  it('htpasswd registry: no credentials, wrong password, right password', async () => {
    const anon = client(authReg.host);
    const wrong = client(authReg.host, { credentials: { username: CREDS.user, password: 'wrong' } });
    const right = client(authReg.host, { credentials: { username: CREDS.user, password: CREDS.pass } });
    try {
      await assert.rejects(anon.getManifest('private/app', 'v1'), { code: 'UNAUTHORIZED', message: new RegExp(`^authentication required for ${authReg.host}/private/app: no credentials found \\(HTTP 401\\)`) });
      await assert.rejects(wrong.getManifest('private/app', 'v1'), { code: 'UNAUTHORIZED', message: new RegExp(`^authentication denied for ${authReg.host}/private/app`) });
      assert.equal((await right.getManifest('private/app', 'v1')).digest, img.manifestDigest);
      assert.deepEqual(await readAll(await right.openBlob('private/app', img.layers[0]!.desc)), img.layers[0]!.blob);
    } finally {
      await Promise.all([anon.close(), wrong.close(), right.close()]);
    }
  });

  it('token auth: push and pull through a Bearer front, tokens reused per scope, refreshed when expired or revoked', async () => {
    const tp = await startTokenProxy(reg.host, CREDS, { expiresIn: 2 });
    cleanup.push(tp);
    await pushImage(tp.host, 'tok/app', 'v1', img, CREDS);
    const pushTokens = tp.tokenRequests;
    assert.ok(tp.scopesRequested.some((s) => s.includes('repository:tok/app:pull,push')));

    const c = client(tp.host, { credentials: { username: CREDS.user, password: CREDS.pass } });
    try {
      assert.equal((await c.getManifest('tok/app', 'v1')).digest, img.manifestDigest);
      await c.fetchBlob('tok/app', img.manifest.config, 1 << 20, 'config');
      assert.deepEqual(await readAll(await c.openBlob('tok/app', img.layers[0]!.desc)), img.layers[0]!.blob);
      assert.equal(tp.tokenRequests - pushTokens, 1, 'one token for three requests in one scope');
      assert.deepEqual(tp.scopesRequested.at(-1), ['repository:tok/app:pull']);
      await c.getManifest('app', 'v1');
      assert.equal(tp.tokenRequests - pushTokens, 2, 'another repository, another token');

      // expiry: the cached token ages out (2 s lifetime, kept 1.8 s) and a new one is asked for, without a 401
      await new Promise((r) => setTimeout(r, 1900));
      await c.getManifest('tok/app', 'v1');
      assert.equal(tp.tokenRequests - pushTokens, 3);

      // revoked server-side: 401, a new token, one retry
      tp.revokeTokens();
      assert.equal((await c.getManifest('tok/app', 'v1')).digest, img.manifestDigest);
      assert.equal(tp.tokenRequests - pushTokens, 4);
      assert.equal(c.tokenRequests, 4);
    } finally {
      await c.close();
    }

    const anon = client(tp.host);
    const wrong = client(tp.host, { credentials: { username: CREDS.user, password: 'nope' } });
    try {
      await assert.rejects(anon.getManifest('tok/app', 'v1'), { code: 'UNAUTHORIZED', message: new RegExp(`^authentication required for ${tp.host}/tok/app: the token service http://${tp.host} refused anonymous access \\(HTTP 401\\)`) });
      await assert.rejects(wrong.getManifest('tok/app', 'v1'), { code: 'UNAUTHORIZED', message: new RegExp(`^authentication denied for ${tp.host}/tok/app`) });
    } finally {
      await Promise.all([anon.close(), wrong.close()]);
    }
  });

  it('token auth: anonymous tokens, and a realm answering with access_token only', async () => {
    const tp = await startTokenProxy(reg.host, undefined, { tokenField: 'access_token' });
    cleanup.push(tp);
    const c = client(tp.host);
    try {
      assert.equal((await c.getManifest('app', 'v1')).digest, img.manifestDigest);
      assert.equal(tp.tokenRequests, 1);
    } finally {
      await c.close();
    }
  });

  it('a blob redirect to another origin does not carry the Authorization header', async () => {
    const storageSaw: (string | undefined)[] = [];
    const storage = await startHttpServer(async (req, res) => {
      storageSaw.push(req.headers.authorization);
      const up = await fetchUpstream(reg.host, req.url!.replace('/storage', ''));
      res.writeHead(up.status, { 'content-length': String(up.body.length) });
      res.end(up.body);
    });
    cleanup.push(storage);
    const redirecting = await front((req, res) => {
      if (!req.url?.includes('/blobs/')) return false;
      res.writeHead(307, { location: `http://${storage.host}/storage${req.url}` });
      res.end();
      return true;
    });
    const tp = await startTokenProxy(redirecting.host, CREDS);
    cleanup.push(tp);
    const c = client(tp.host, { credentials: { username: CREDS.user, password: CREDS.pass } });
    try {
      assert.deepEqual(await readAll(await c.openBlob('app', img.layers[0]!.desc)), img.layers[0]!.blob);
      assert.deepEqual(await c.fetchBlob('app', img.manifest.config, 1 << 20, 'config'), img.configBytes);
      assert.deepEqual(storageSaw, [undefined, undefined]);
      assert.equal(tp.tokenRequests, 1); // the registry itself did get the bearer token
    } finally {
      await c.close();
    }
  });
});
