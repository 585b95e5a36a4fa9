/**
 * The HTTP client of the Lading service (Anchore's v1 API): basic auth, x-anchore-account, JSON
 * in and out. A failure becomes a ServiceError carrying the API's own message and the exit code
 * anchore-cli used: 1 for a request the service refused (4xx), 2 for a bad login (401), a server
 * error (5xx) or a service that cannot be reached.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { LadingError, describeError, type ErrorCode } from '../../errors.js';
import type { Connection } from './connection.js';

export class ServiceError extends LadingError {
  readonly exitCode: 1 | 2;
  /** The API's error body, when there was one. */
  readonly body: unknown;
  constructor(exitCode: 1 | 2, code: ErrorCode, message: string, body?: unknown) {
    super(code, message);
    this.exitCode = exitCode;
    this.body = body;
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface CallOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is, with this content type (uploads; a stream is sent as it is read). */
  raw?: { bytes: Buffer | Readable; contentType: string };
  /** Answer with the response text as it is (downloads), not parsed JSON. */
  text?: boolean;
  /** Answer with the response bytes as they are (binary downloads). */
  binary?: boolean;
}

function errorCode(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'UNAUTHORIZED';
  if (status === 404) return 'NOT_FOUND';
  if (status >= 500) return 'INTERNAL';
  return 'BAD_INPUT';
}

/** The message of an Anchore error body, else the text of the response. */
function errorMessage(body: unknown, text: string, status: number): string {
  const m = body && typeof body === 'object' ? (body as { message?: unknown }).message : undefined;
  const message = typeof m === 'string' && m ? m : text.trim() || `HTTP ${status}`;
  return message.replace(/\s*\n\s*/g, ' ');
}

export class ServiceClient {
  readonly conn: Connection;
  private dispatcher: Dispatcher | undefined;
  /** The proxy the service is reached through (known after the first call). */
  private proxy: URL | undefined;

  constructor(conn: Connection) {
    this.conn = conn;
  }

  /**
   * undici (and the proxy module, which loads it) on the first call, so that commands which never
   * call the service start fast. The service is reached through HTTPS_PROXY/HTTP_PROXY unless
   * NO_PROXY names it (image/registry/proxy.ts, as pulls, feeds and webhooks do); a bad proxy
   * variable is an error naming it.
   */
  private async send(url: string, options: { method: Dispatcher.HttpMethod; headers: Record<string, string>; body?: string | Buffer | Readable }): Promise<Dispatcher.ResponseData> {
    const { request } = await import('undici');
    if (!this.dispatcher) {
      const { dispatcherFor, proxyFor, proxySettings } = await import('../../image/registry/proxy.js');
      let proxy: URL | undefined;
      try {
        proxy = proxyFor(new URL(url), proxySettings());
      } catch (e) {
        throw new ServiceError(2, 'BAD_INPUT', describeError(e));
      }
      this.proxy = proxy;
      this.dispatcher = dispatcherFor(proxy, { connect: { timeout: 30_000, rejectUnauthorized: !this.conn.insecure }, headersTimeout: 300_000, bodyTimeout: 300_000 });
    }
    return request(url, { ...options, dispatcher: this.dispatcher });
  }

  url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return `${this.conn.url}${path}${qs ? `?${qs}` : ''}`;
  }

  async call<T>(method: Dispatcher.HttpMethod, path: string, opts: CallOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.conn.user !== undefined) headers.authorization = `Basic ${Buffer.from(`${this.conn.user}:${this.conn.pass ?? ''}`).toString('base64')}`;
    if (this.conn.account) headers['x-anchore-account'] = this.conn.account;
    let body: string | Buffer | Readable | undefined;
    if (opts.raw) {
      body = opts.raw.bytes;
      headers['content-type'] = opts.raw.contentType;
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    let res: Dispatcher.ResponseData;
    try {
      res = await this.send(this.url(path, opts.query), { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (e) {
      if (e instanceof ServiceError) throw e;
      const err = e as NodeJS.ErrnoException;
      const via = this.proxy ? ` through proxy ${this.proxy.host}` : '';
      throw new ServiceError(2, 'NETWORK', `cannot reach the Lading service at ${this.conn.url}${via}: ${err.code ?? err.message}${err.code && err.message && !err.message.includes(err.code) ? ` (${err.message})` : ''}`);
    }
    const bytes = Buffer.from(await res.body.arrayBuffer());
    const text = bytes.toString('utf8');
    if (opts.binary && res.statusCode >= 200 && res.statusCode < 300) return bytes as T;
    let parsed: unknown = text;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch { /* not JSON: keep the text */ }
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return (opts.text ? text : text ? parsed : null) as T;
    const message = errorMessage(parsed, text, res.statusCode);
    if (res.statusCode === 401) {
      const who = this.conn.user === undefined ? 'no user given (use --user/--pass or LADING_USER/LADING_PASS)' : `user ${this.conn.user}`;
      throw new ServiceError(2, 'UNAUTHORIZED', `the Lading service at ${this.conn.url} refused the login (${who}): ${message}`, parsed);
    }
    throw new ServiceError(res.statusCode >= 500 ? 2 : 1, errorCode(res.statusCode), message, parsed);
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.call<T>('GET', path, query ? { query } : {});
  }

  post<T>(path: string, body?: unknown, query?: Query): Promise<T> {
    return this.call<T>('POST', path, { ...(body !== undefined ? { body } : {}), ...(query ? { query } : {}) });
  }

  put<T>(path: string, body?: unknown, query?: Query): Promise<T> {
    return this.call<T>('PUT', path, { ...(body !== undefined ? { body } : {}), ...(query ? { query } : {}) });
  }

  /** The body of a GET as text (an SBOM download). */
  download(path: string, query?: Query): Promise<string> {
    return this.call<string>('GET', path, { text: true, ...(query ? { query } : {}) });
  }

  /** The body of a GET as bytes (an archive download). */
  downloadBytes(path: string, query?: Query): Promise<Buffer> {
    return this.call<Buffer>('GET', path, { binary: true, ...(query ? { query } : {}) });
  }

  /** POST bytes as they are (an SBOM upload; a file's stream for a large one). */
  upload<T>(path: string, bytes: Buffer | Readable, contentType: string): Promise<T> {
    return this.call<T>('POST', path, { raw: { bytes, contentType } });
  }

  delete<T>(path: string, query?: Query): Promise<T> {
    return this.call<T>('DELETE', path, query ? { query } : {});
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }
}

/** One path segment, URL-encoded (registries such as `host:5000` and repository names with slashes). */
export function seg(s: string): string {
  return encodeURIComponent(s);
}
