/**
 * The HTTP layer under the registry client, on undici: timeouts, bounded retries with backoff and
 * jitter, manual redirects that never carry the Authorization header to another origin, TLS
 * verification (with an optional extra CA), and the plain-HTTP rule docker follows.
 *
 * Which scheme a registry gets (see `schemesFor`):
 * - any host: https with certificate verification (system CAs plus `caFile`);
 * - loopback (localhost, 127.0.0.0/8, ::1): https first, then plain http when the server does not
 *   speak TLS at all. A certificate that fails verification is an error, never a reason to
 *   downgrade (trust it with `caFile`, or list the host as insecure);
 * - hosts listed in `insecureRegistries` (`host` or `host:port`; `*` for every host): as docker's
 *   `--insecure-registry`: https without certificate verification first, then plain http.
 * A redirect may go to plain http only when its target host is one of those allowed above.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { request } from './undici.js';
import { LadingError } from '../../errors.js';
import { deniedCause, type OutboundGuard } from './guard.js';
import { dispatcherFor, proxyFor, proxySettings, type ProxySettings } from './proxy.js';

export interface HttpOptions {
  /** A PEM file of extra certificate authorities, trusted on top of the system ones. */
  caFile?: string;
  /** Extra certificate authorities as PEM text (a registry record's CA), trusted like `caFile`. */
  caPem?: string;
  /** What to do about an untrusted certificate, in TLS errors (default DEFAULT_TLS_HINT). */
  tlsHint?: string;
  /** Outbound proxies (proxy.ts); default: from the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY); false: none. */
  proxy?: ProxySettings | false;
  /** Hosts (`host` or `host:port`) reached without certificate checks, falling back to plain http. */
  insecureRegistries: string[];
  connectTimeoutMs: number;
  /** Time allowed until the response headers arrive. */
  headersTimeoutMs: number;
  /** Longest pause allowed between two chunks of a response body. */
  bodyIdleTimeoutMs: number;
  /** Attempts per request, the first included, for 429 / 5xx / connection errors. */
  maxAttempts: number;
  /** First backoff delay; doubled per attempt, with jitter. */
  retryBaseMs: number;
  /** Cap on a single backoff delay, Retry-After included. */
  retryMaxDelayMs: number;
  maxRedirects: number;
  userAgent: string;
  /** The service's outbound guard (guard.ts): every hop's host and every address connected to are checked. */
  guard?: OutboundGuard;
}

export const DEFAULT_HTTP_OPTIONS: HttpOptions = {
  insecureRegistries: [],
  connectTimeoutMs: 30_000,
  headersTimeoutMs: 60_000,
  bodyIdleTimeoutMs: 60_000,
  maxAttempts: 4,
  retryBaseMs: 250,
  retryMaxDelayMs: 20_000,
  maxRedirects: 10,
  userAgent: 'lading/0.1',
};

export type ResponseBody = Dispatcher.ResponseData['body'];

export interface HttpRequest {
  url: string | URL;
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: Buffer | string;
  signal?: AbortSignal;
  /** Retry on 429, 5xx and connection errors. Default: true for GET and HEAD. */
  retry?: boolean;
  /** Follow redirects. Default: true. */
  followRedirects?: boolean;
  /** Names the request in error messages ("manifest of 127.0.0.1:5000/app:1"). */
  what?: string;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  url: URL;
  body: ResponseBody;
}

/** The first value of a response header. */
export function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Drop a response body that will not be read, so the connection can be reused. */
export async function discard(res: HttpResponse): Promise<void> {
  try {
    await res.body.dump({ limit: 256 * 1024 });
  } catch {
    // the connection is gone anyway
  }
}

/** Close a response without reading the rest of its body (the connection is dropped). */
export function drop(res: HttpResponse | { body: ResponseBody }): void {
  res.body.on('error', () => { /* destroyed on purpose */ });
  res.body.destroy();
}

/** Read a whole body, refusing (and dropping the connection) past `max` bytes. */
export async function readBody(res: HttpResponse, max: number, what: string): Promise<Buffer> {
  const declared = Number(header(res, 'content-length'));
  if (Number.isFinite(declared) && declared > max) {
    drop(res);
    throw new LadingError('LIMIT_EXCEEDED', `${what} is ${declared} bytes, over the limit of ${max}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > max) {
        drop(res);
        throw new LadingError('LIMIT_EXCEEDED', `${what} is over the limit of ${max} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (e) {
    if (e instanceof LadingError) throw e;
    throw new LadingError('NETWORK', `${what}: the connection broke while reading (${describeNetworkError(e)})`, { cause: e });
  }
  return Buffer.concat(chunks, total);
}

/** Host name without port or IPv6 brackets. */
export function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colons = host.split(':').length - 1;
  if (colons === 1) return host.slice(0, host.indexOf(':'));
  return host; // a bare IPv6 address, or no port
}

export function isLoopback(host: string): boolean {
  const name = hostName(host).toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) return name === '::1' || name === '0:0:0:0:0:0:0:1';
  return false;
}

/** Whether `host` (host[:port]) is in the insecure list, by exact host:port or by bare host name. */
export function isListedInsecure(host: string, insecure: readonly string[]): boolean {
  const h = host.toLowerCase();
  return insecure.some((entry) => {
    const e = entry.trim().toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
    return e === '*' || e === h || e === hostName(h);
  });
}

export function plainHttpAllowed(host: string, insecure: readonly string[]): boolean {
  return isLoopback(host) || isListedInsecure(host, insecure);
}

export interface SchemePlan {
  schemes: ('https' | 'http')[];
  /** Why plain http may be used, for messages. */
  reason?: 'loopback' | 'insecure';
}

/** The schemes to try for a registry host, in order (see the module comment). */
export function schemesFor(host: string, insecure: readonly string[]): SchemePlan {
  if (isListedInsecure(host, insecure)) return { schemes: ['https', 'http'], reason: 'insecure' };
  if (isLoopback(host)) return { schemes: ['https', 'http'], reason: 'loopback' };
  return { schemes: ['https'] };
}

/** The code of an error or of the first cause that has one (undici wraps socket errors). */
export function errorCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && !(cur instanceof LadingError)) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENOTCONN',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);

/** A transient network failure worth another attempt (TLS and DNS-not-found are not). */
export function isRetryableNetworkError(e: unknown): boolean {
  const code = errorCode(e);
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/** The server did not speak TLS (a plain HTTP server answering a TLS hello). */
export function isNotTlsError(e: unknown): boolean {
  const code = errorCode(e) ?? '';
  return code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || code === 'EPROTO'
    || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET';
}

const CERT_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID/;

/** What to do about an untrusted certificate, in the words of the CLI (registry add and the standalone commands). */
export const DEFAULT_TLS_HINT = 'use --ca-cert FILE or --insecure';

const UNKNOWN_AUTHORITY = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE']);

/** The certificate problem of a failed connection to `host`, in plain words ("certificate signed by unknown authority for HOST"), or undefined. */
export function tlsProblem(e: unknown, host: string): string | undefined {
  const code = errorCode(e);
  if (!code || !CERT_CODES.test(code)) return undefined;
  if (UNKNOWN_AUTHORITY.has(code)) return `certificate signed by unknown authority for ${host} (${code})`;
  if (code === 'CERT_HAS_EXPIRED') return `certificate for ${host} has expired`;
  if (code === 'CERT_NOT_YET_VALID') return `certificate for ${host} is not yet valid`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `certificate is not valid for the name ${host}`;
  return `certificate for ${host} not trusted (${code})`;
}

export function describeNetworkError(e: unknown): string {
  const code = errorCode(e);
  const reason = (e as { reason?: unknown }).reason;
  // OpenSSL messages carry a long prefix; its `reason` says it plainly.
  const msg = typeof reason === 'string' && reason ? reason : (e instanceof Error ? e.message : String(e)).trim();
  if (code && CERT_CODES.test(code)) {
    return `TLS certificate not trusted (${code}: ${msg}); trust its CA with a CA file, or list the registry as insecure`;
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return 'timed out waiting for the response headers';
  if (code === 'UND_ERR_BODY_TIMEOUT') return 'timed out waiting for more of the response body';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'timed out connecting';
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const RETRY_STATUS = (s: number) => s === 429 || s === 500 || s === 502 || s === 503 || s === 504;

/** Retry-After as milliseconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class HttpClient {
  readonly options: HttpOptions;
  private readonly dispatchers = new Map<string, Dispatcher>();
  private extraCa?: string;
  private readonly proxies: ProxySettings;

  constructor(options: Partial<HttpOptions> = {}) {
    this.options = { ...DEFAULT_HTTP_OPTIONS, ...options };
    this.proxies = this.options.proxy === false ? { noProxy: [] } : this.options.proxy ?? proxySettings();
    if (this.options.caFile) {
      try {
        this.extraCa = readFileSync(this.options.caFile, 'utf8');
      } catch (e) {
        throw new LadingError('BAD_INPUT', `cannot read the CA file ${this.options.caFile}: ${(e as Error).message}`);
      }
    }
    if (this.options.caPem) this.extraCa = `${this.extraCa ?? ''}\n${this.options.caPem}`;
  }

  /** The proxy a request to `url` goes through (proxy.ts), or undefined. */
  proxyFor(url: URL): URL | undefined {
    return proxyFor(url, this.proxies);
  }

  private agent(url: URL): Dispatcher {
    const unverified = url.protocol === 'https:' && isListedInsecure(url.host, this.options.insecureRegistries);
    const proxy = this.proxyFor(url);
    const key = `${unverified ? 'unverified' : 'verifying'} ${proxy?.href ?? ''}`;
    let d = this.dispatchers.get(key);
    if (!d) {
      d = dispatcherFor(proxy, {
        headersTimeout: this.options.headersTimeoutMs,
        bodyTimeout: this.options.bodyIdleTimeoutMs,
        keepAliveTimeout: 4_000,
        ...(this.options.guard ? { lookup: this.options.guard.lookup() } : {}),
        connect: {
          timeout: this.options.connectTimeoutMs,
          rejectUnauthorized: !unverified,
          ...(this.extraCa && !unverified ? { ca: [...rootCertificates, this.extraCa] } : {}),
        },
      });
      this.dispatchers.set(key, d);
    }
    return d;
  }

  /**
   * Send a request, following redirects and retrying transient failures. Any status comes back as
   * a response (the caller maps it); only network failures throw (LadingError NETWORK, or the
   * abort reason when the signal fired).
   */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const origin = new URL(req.url);
    const what = req.what ?? `${req.method ?? 'GET'} ${origin.origin}${origin.pathname}`;
    let url = origin;
    let method = req.method ?? 'GET';
    let body = req.body;
    let authAllowed = true;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': this.options.userAgent };
      for (const [k, v] of Object.entries(req.headers ?? {})) {
        const key = k.toLowerCase();
        // The Authorization header goes only to the origin it was meant for.
        if (key === 'authorization' && !authAllowed) continue;
        headers[key] = v;
      }
      this.options.guard?.checkUrl(url);
      if (this.options.guard && this.proxyFor(url)) await this.options.guard.checkProxied(url.hostname);
      const res = await this.send(url, method, headers, body, req, what);
      if (!REDIRECTS.has(res.status) || req.followRedirects === false) return res;
      const location = header(res, 'location');
      if (!location) return res;
      await discard(res);
      if (hop >= this.options.maxRedirects) {
        throw new LadingError('NETWORK', `${what}: more than ${this.options.maxRedirects} redirects`);
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new LadingError('REGISTRY', `${what}: redirect to an invalid location "${location}"`);
      }
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw new LadingError('REGISTRY', `${what}: redirect to unsupported scheme ${next.protocol}`);
      }
      if (next.protocol === 'http:' && !plainHttpAllowed(next.host, this.options.insecureRegistries)) {
        throw new LadingError('REGISTRY', `${what}: refusing a redirect to plain http (${next.origin}); only loopback and insecure-listed hosts may use http`);
      }
      if (next.origin !== origin.origin) authAllowed = false;
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
      }
      url = next;
    }
  }

  private async send(url: URL, method: string, headers: Record<string, string>, body: Buffer | string | undefined,
    req: HttpRequest, what: string): Promise<HttpResponse> {
    const retry = req.retry ?? (method === 'GET' || method === 'HEAD');
    const attempts = retry ? Math.max(1, this.options.maxAttempts) : 1;
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse;
      try {
        const r = await request(url, {
          method: method as Dispatcher.HttpMethod,
          headers,
          body: body ?? null,
          signal: req.signal ?? null,
          dispatcher: this.agent(url),
        });
        res = { status: r.statusCode, headers: r.headers, url, body: r.body };
      } catch (e) {
        if (req.signal?.aborted) throw req.signal.reason;
        const denied = deniedCause(e);
        if (denied) throw denied;
        if (attempt < attempts && isRetryableNetworkError(e)) {
          await sleep(this.backoff(attempt), req.signal);
          continue;
        }
        const tls = tlsProblem(e, url.hostname);
        if (tls) throw new LadingError('TLS', `${what}: TLS: ${tls} (${this.options.tlsHint ?? DEFAULT_TLS_HINT})`, { cause: e });
        const proxy = this.proxyFor(url);
        const via = proxy ? ` through the proxy ${proxy.host}` : '';
        throw new LadingError('NETWORK', `${what}: cannot reach ${url.origin}${via} (${describeNetworkError(e)})`, { cause: e });
      }
      if (attempt < attempts && RETRY_STATUS(res.status)) {
        const after = retryAfterMs(header(res, 'retry-after'));
        await discard(res);
        await sleep(after !== undefined ? Math.min(after, this.options.retryMaxDelayMs) : this.backoff(attempt), req.signal);
        continue;
      }
      return res;
    }
  }

  /** Exponential backoff with jitter: base * 2^(n-1), scaled by a random factor in [0.5, 1). */
  backoff(attempt: number): number {
    const exp = Math.min(this.options.retryMaxDelayMs, this.options.retryBaseMs * 2 ** (attempt - 1));
    return Math.round(exp * (0.5 + Math.random() * 0.5));
  }

  async close(): Promise<void> {
    await Promise.all([...this.dispatchers.values()].map((d) => d.close()));
  }
}
