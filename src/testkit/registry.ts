/**
 * A real registry for tests and benchmarks: Debian's `docker-registry` (distribution 2.8) on
 * 127.0.0.1 with a throw-away config and storage, a pusher speaking the registry HTTP API, and
 * small Node servers in front of it: a token-auth front (Bearer realm, counted token requests)
 * a programmable proxy for redirects, failures and tampering, and an https front with a given
 * certificate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { request } from 'undici';
import { parseWwwAuthenticate } from '../image/registry/auth.js';
import type { BuiltImage, BuiltIndex } from './images.js';

export const REGISTRY_BIN = process.env.LADING_REGISTRY_BIN ?? '/usr/bin/docker-registry';

/** Whether the registry binary is installed; tests skip with `registrySkipReason` otherwise. */
export function registryAvailable(): boolean {
  return existsSync(REGISTRY_BIN);
}

export const registrySkipReason = `${REGISTRY_BIN} is not installed (apt-get install docker-registry, or set LADING_REGISTRY_BIN)`;

export interface Creds {
  user: string;
  pass: string;
}

export interface RunningServer {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  stop(): Promise<void>;
}

const children = new Map<ChildProcess, string>();
let exitHookInstalled = false;
/** Registries still running when the process exits (a crashed test) are killed and their directories removed. */
function track(child: ChildProcess, dir: string): void {
  children.set(child, dir);
  child.once('exit', () => children.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const [c, d] of children) {
        c.kill('SIGKILL');
        rmSync(d, { recursive: true, force: true });
      }
    });
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Start `docker-registry serve` on a free loopback port; resolves once `/v2/` answers. */
export async function startRegistry(options: { htpasswd?: Creds } = {}): Promise<RunningServer & { dir: string }> {
  if (!registryAvailable()) throw new Error(registrySkipReason);
  const dir = await mkdtemp(join(tmpdir(), 'lading-registry-'));
  const port = await freePort();
  const auth = options.htpasswd
    ? `auth:\n  htpasswd:\n    realm: lading-test\n    path: ${join(dir, 'htpasswd')}\n`
    : '';
  if (options.htpasswd) {
    // cost 4: the registry checks the hash on every request; the default cost would slow tests down
    const hash = bcrypt.hashSync(options.htpasswd.pass, 4);
    await writeFile(join(dir, 'htpasswd'), `${options.htpasswd.user}:${hash}\n`);
  }
  const config = `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
  secret: ${randomBytes(16).toString('hex')}
${auth}`;
  await writeFile(join(dir, 'config.yml'), config);
  const child = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child, dir);
  let log = '';
  const keep = (b: Buffer) => {
    log = (log + b.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const stop = async () => {
    if (!exited) {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await done;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`docker-registry exited at start:\n${log}`);
    }
    try {
      const r = await request(`http://127.0.0.1:${port}/v2/`);
      await r.body.dump();
      if (r.statusCode === 200 || r.statusCode === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`docker-registry did not answer on 127.0.0.1:${port} within 15 s:\n${log}`);
    }
    await sleep(30);
  }
  return { host: `127.0.0.1:${port}`, port, dir, stop };
}

/** A tiny pushing client: handles Basic and Bearer challenges with `pull,push` scope. */
class Pusher {
  private authorization?: string;
  constructor(readonly host: string, readonly repo: string, readonly creds?: Creds) {}

  async send(method: 'GET' | 'HEAD' | 'POST' | 'PUT', url: string, headers: Record<string, string> = {}, body?: Buffer) {
    for (let attempt = 0; ; attempt++) {
      const res = await request(url, {
        method,
        headers: { ...headers, ...(this.authorization ? { authorization: this.authorization } : {}) },
        body: body ?? null,
      });
      if (res.statusCode !== 401 || attempt > 0) return res;
      const challenges = parseWwwAuthenticate(res.headers['www-authenticate']);
      await res.body.dump();
      const bearer = challenges.find((c) => c.scheme === 'bearer');
      const basic = challenges.find((c) => c.scheme === 'basic');
      const basicValue = this.creds ? 'Basic ' + Buffer.from(`${this.creds.user}:${this.creds.pass}`).toString('base64') : undefined;
      if (bearer?.params.realm) {
        const t = new URL(bearer.params.realm);
        if (bearer.params.service) t.searchParams.set('service', bearer.params.service);
        t.searchParams.set('scope', `repository:${this.repo}:pull,push`);
        if (this.creds) t.searchParams.set('account', this.creds.user);
        const tr = await request(t, { headers: basicValue ? { authorization: basicValue } : {} });
        if (tr.statusCode !== 200) throw new Error(`push: token request to ${t.origin} failed with HTTP ${tr.statusCode}: ${await tr.body.text()}`);
        const doc = (await tr.body.json()) as { token?: string; access_token?: string };
        this.authorization = `Bearer ${doc.token ?? doc.access_token}`;
      } else if (basic && basicValue) {
        this.authorization = basicValue;
      } else {
        throw new Error(`push to ${this.host}/${this.repo}: authentication required and no credentials given`);
      }
    }
  }

  async blob(digest: string, bytes: Buffer): Promise<void> {
    const base = `http://${this.host}/v2/${this.repo}`;
    const head = await this.send('HEAD', `${base}/blobs/${digest}`);
    await head.body.dump();
    if (head.statusCode === 200) return;
    const start = await this.send('POST', `${base}/blobs/uploads/`, { 'content-length': '0' });
    await start.body.dump();
    const location = start.headers.location;
    if (start.statusCode !== 202 || typeof location !== 'string') throw new Error(`push: starting an upload to ${base} gave HTTP ${start.statusCode}`);
    const url = new URL(location, `http://${this.host}`);
    url.searchParams.set('digest', digest);
    const put = await this.send('PUT', url.toString(), { 'content-type': 'application/octet-stream' }, bytes);
    const text = await put.body.text();
    if (put.statusCode !== 201) throw new Error(`push: uploading blob ${digest} to ${base} gave HTTP ${put.statusCode}: ${text}`);
  }

  async manifest(ref: string, bytes: Buffer, mediaType: string): Promise<void> {
    const res = await this.send('PUT', `http://${this.host}/v2/${this.repo}/manifests/${ref}`, { 'content-type': mediaType }, bytes);
    const text = await res.body.text();
    if (res.statusCode !== 201) throw new Error(`push: manifest ${this.host}/${this.repo}:${ref} gave HTTP ${res.statusCode}: ${text}`);
  }
}

/** Push raw manifest bytes with a media type (any content: for hostile cases). */
export async function pushManifest(host: string, repo: string, ref: string, bytes: Buffer, mediaType: string, creds?: Creds): Promise<void> {
  await new Pusher(host, repo, creds).manifest(ref, bytes, mediaType);
}

/** Push an image or index over the registry API: blobs (skipping existing ones), child manifests by digest, then the tag. */
export async function pushImage(host: string, repo: string, tag: string, item: BuiltImage | BuiltIndex, creds?: Creds): Promise<void> {
  const p = new Pusher(host, repo, creds);
  const images = item.kind === 'index' ? item.images : [item];
  for (const img of images) {
    for (const [digest, bytes] of img.blobs) await p.blob(digest, bytes);
    if (item.kind === 'index') await p.manifest(img.manifestDigest, img.manifestBytes, img.manifestMediaType);
  }
  if (item.kind === 'index') await p.manifest(tag, item.bytes, item.mediaType);
  else await p.manifest(tag, item.manifestBytes, item.manifestMediaType);
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A Node http server on 127.0.0.1 with a free port. */
export async function startHttpServer(handler: Handler): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(e));
    });
  });
  return listening(server);
}

/** Forward a request to the upstream registry, streaming both ways. The Host header is kept, so upload locations point back here. */
export function forward(req: IncomingMessage, res: ServerResponse, upstream: string, headers: Record<string, string | string[] | undefined> = req.headers): void {
  const [hostname, port] = upstream.split(':') as [string, string];
  const out = http.request({ hostname, port: Number(port), method: req.method, path: req.url, headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  out.on('error', (e) => {
    if (!res.headersSent) res.writeHead(502);
    res.end(String(e));
  });
  req.pipe(out);
}

/** Fetch from the upstream registry into memory (for a proxy that alters the answer). */
export async function fetchUpstream(upstream: string, path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') {
  const r = await request(`http://${upstream}${path}`, { method, headers });
  const body = Buffer.from(await r.body.arrayBuffer());
  return { status: r.statusCode, headers: r.headers, body };
}

/**
 * A proxy in front of a registry. `intercept` may answer a request itself (return true) or leave
 * it to be forwarded (return false). For redirects, failures, tampering.
 */
export async function startProxy(upstream: string, intercept: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>): Promise<RunningServer> {
  return startHttpServer(async (req, res) => {
    if (await intercept(req, res)) return;
    forward(req, res, upstream);
  });
}

export interface TokenProxy extends RunningServer {
  realm: string;
  service: string;
  /** Requests to the token endpoint (answered or refused). */
  readonly tokenRequests: number;
  /** Scopes asked for, one entry per token request. */
  readonly scopesRequested: string[][];
  /** Make every issued token invalid (as if expired server-side). */
  revokeTokens(): void;
}

export interface TokenProxyOptions {
  /** Seconds advertised in `expires_in`, and the real lifetime. Default 300. */
  expiresIn?: number;
  /** Which field carries the token. Default both `token` and `access_token`. */
  tokenField?: 'token' | 'access_token' | 'both';
}

/**
 * A token-auth front for a registry, like Docker Hub's: every API request needs a bearer token
 * from `/token`, which checks Basic credentials (when `creds` is given) and grants the scopes asked
 * for (`repository:NAME:pull[,push]`). Valid requests are proxied upstream.
 */
export async function startTokenProxy(upstream: string, creds?: Creds, options: TokenProxyOptions = {}): Promise<TokenProxy> {
  const service = 'lading-test';
  const tokens = new Map<string, { expiresAt: number; grants: Set<string> }>();
  const scopesRequested: string[][] = [];
  let tokenRequests = 0;
  let realm = '';
  const deny = (res: ServerResponse, status: number, scope: string | undefined, message: string) => {
    const params = [`realm="${realm}"`, `service="${service}"`, ...(scope ? [`scope="${scope}"`] : [])];
    res.writeHead(status, { 'content-type': 'application/json', 'www-authenticate': `Bearer ${params.join(',')}` });
    res.end(JSON.stringify({ errors: [{ code: status === 401 ? 'UNAUTHORIZED' : 'DENIED', message }] }));
  };
  const server = await startHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      tokenRequests++;
      const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
      scopesRequested.push(scopes);
      if (url.searchParams.get('service') !== service) {
        res.writeHead(400, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ error: 'unknown service' }));
      }
      if (creds) {
        const m = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
        const given = m ? Buffer.from(m[1]!, 'base64').toString() : undefined;
        if (given !== `${creds.user}:${creds.pass}`) {
          res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="lading-test-token"' });
          return void res.end(JSON.stringify({ details: given ? 'incorrect username or password' : 'authentication required' }));
        }
      }
      const grants = new Set<string>();
      for (const s of scopes) {
        const m = /^repository:([a-z0-9._/-]+):([a-z,*]+)$/.exec(s);
        if (!m) {
          res.writeHead(400, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ error: `bad scope ${s}` }));
        }
        for (const action of m[2]!.split(',')) grants.add(`${m[1]}:${action}`);
      }
      const token = randomBytes(18).toString('base64url');
      const expiresIn = options.expiresIn ?? 300;
      tokens.set(token, { expiresAt: Date.now() + expiresIn * 1000, grants });
      const field = options.tokenField ?? 'both';
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({
        ...(field !== 'access_token' ? { token } : {}),
        ...(field !== 'token' ? { access_token: token } : {}),
        expires_in: expiresIn,
        issued_at: new Date().toISOString(),
      }));
    }
    const m = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(url.pathname);
    const name = m?.[1];
    const action = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push';
    const scope = name ? `repository:${name}:${action === 'pull' ? 'pull' : 'pull,push'}` : undefined;
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const t = bearer ? tokens.get(bearer) : undefined;
    if (!t || t.expiresAt <= Date.now()) return deny(res, 401, scope, t ? 'token expired' : 'authentication required');
    if (name && !t.grants.has(`${name}:${action}`)) return deny(res, 401, scope, `token does not grant ${action} on ${name}`);
    const headers = { ...req.headers };
    delete headers.authorization;
    forward(req, res, upstream, headers);
  });
  realm = `http://${server.host}/token`;
  return {
    ...server,
    realm,
    service,
    get tokenRequests() {
      return tokenRequests;
    },
    scopesRequested,
    revokeTokens: () => tokens.clear(),
  };
}

export const OPENSSL_BIN = '/usr/bin/openssl';

export function opensslAvailable(): boolean {
  return existsSync(OPENSSL_BIN);
}

/** A self-signed certificate for 127.0.0.1 / localhost, written to a temp dir (cert.pem is also the CA file). */
export async function selfSignedCert(): Promise<{ dir: string; certFile: string; keyFile: string; cert: Buffer; key: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), 'lading-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(OPENSSL_BIN, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=lading-test',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`openssl failed: ${err}`))));
  });
  return { dir, certFile, keyFile, cert: await readFile(certFile), key: await readFile(keyFile) };
}

/** An https front (the given certificate) forwarding to a plain-http registry: a registry whose certificate a client may not trust. */
export async function startTlsFront(upstream: string, tls: { cert: Buffer; key: Buffer }): Promise<RunningServer> {
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => forward(req, res, upstream));
  server.on('tlsClientError', () => { /* a client that refused the certificate */ });
  return listening(server);
}

/** Start `server` on a free loopback port: its host:port, and a stop that drops open connections. */
async function listening(server: http.Server | https.Server): Promise<RunningServer> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    port,
    stop: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
