/**
 * The `s3` driver: objects in a bucket of any S3-compatible store (AWS S3, MinIO, Ceph RGW...),
 * over plain HTTP PUT, GET, DELETE and HEAD signed with SigV4 (sigv4.ts). Virtual-hosted URLs
 * (https://bucket.endpoint/key) by default, path-style (https://endpoint/bucket/key) with
 * `path_style: true`. Credentials: object_store.s3.access_key/secret_key (and session_token), else
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN); region: s3.region, else
 * AWS_REGION / AWS_DEFAULT_REGION, else us-east-1. Behind a proxy, HTTPS_PROXY/HTTP_PROXY/NO_PROXY
 * of the environment are honoured as for registries, feeds and webhooks (image/registry/proxy.ts).
 */
import { fetch, type Dispatcher, type Response } from 'undici';
import { LadingError, describeError } from '../../errors.js';
import { dispatcherFor, proxyFor, proxySettings, type ProxySettings } from '../../image/registry/proxy.js';
import { EMPTY_SHA256, signRequest, uriEncode, type Credentials } from './sigv4.js';
import { sha256Hex } from './codec.js';
import type { DriverContext, DriverFactory, ObjectStore, S3Config } from './types.js';

export interface S3Options {
  endpoint: URL;
  bucket: string;
  region: string;
  prefix: string;
  pathStyle: boolean;
  credentials: Credentials;
  timeoutMs: number;
  /** HTTPS_PROXY/HTTP_PROXY/NO_PROXY (proxy.ts); none when absent. */
  proxy?: ProxySettings;
}

/** The `<Code>` and `<Message>` of an S3 XML error body, when it has them. */
function s3Error(body: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  return [code, message].filter(Boolean).join(': ') || body.slice(0, 200).trim();
}

export class S3ObjectStore implements ObjectStore {
  readonly name = 's3' as const;
  readonly inline = false;
  readonly location: string;
  /** The proxy the bucket's URL goes through, if any. */
  readonly proxy: URL | undefined;
  private dispatcher: Dispatcher | undefined;

  constructor(private readonly o: S3Options) {
    this.proxy = o.proxy ? proxyFor(this.url(''), o.proxy) : undefined;
    this.location = `${o.endpoint.origin} bucket ${o.bucket}${o.prefix ? ` prefix ${o.prefix}` : ''}${this.proxy ? ` through proxy ${this.proxy.host}` : ''}`;
  }

  /** One connection pool for the store (every key shares the bucket's host), direct or through the proxy. */
  private agent(): Dispatcher {
    this.dispatcher ??= dispatcherFor(this.proxy, {
      connect: { timeout: this.o.timeoutMs, rejectUnauthorized: true },
      headersTimeout: this.o.timeoutMs,
      bodyTimeout: this.o.timeoutMs,
    });
    return this.dispatcher;
  }

  /**
   * Close the connection pool: idle keep-alive connections to the bucket would otherwise keep a
   * finishing process (a CLI command, a service shutting down) alive until they time out.
   */
  async close(): Promise<void> {
    const d = this.dispatcher;
    this.dispatcher = undefined;
    await d?.close();
  }

  /** The URL of a key (or of the bucket, for ''). */
  url(key: string): URL {
    const path = key ? uriEncode(`${this.o.prefix}${key}`, true) : '';
    const base = this.o.endpoint.pathname.replace(/\/+$/, '');
    const u = new URL(this.o.endpoint.origin);
    if (this.o.pathStyle) u.pathname = `${base}/${uriEncode(this.o.bucket)}/${path}`;
    else {
      u.hostname = `${this.o.bucket}.${u.hostname}`;
      u.pathname = `${base}/${path}`;
    }
    return u;
  }

  private async request(method: string, key: string, body?: Buffer): Promise<Response> {
    const url = this.url(key);
    const headers = signRequest({ method, url, payloadHash: body ? sha256Hex(body) : EMPTY_SHA256, region: this.o.region }, this.o.credentials);
    delete headers.host;
    try {
      return await fetch(url, { method, headers, ...(body ? { body } : {}), signal: AbortSignal.timeout(this.o.timeoutMs), dispatcher: this.agent() });
    } catch (e) {
      const cause = e instanceof Error && e.cause instanceof Error ? ` (${e.cause.message})` : '';
      throw new LadingError('NETWORK', `S3 ${method} ${url.href}${this.proxy ? ` through proxy ${this.proxy.host}` : ''}: ${describeError(e)}${cause}`, { cause: e });
    }
  }

  private async fail(method: string, key: string, res: Response): Promise<never> {
    const text = method === 'HEAD' ? '' : await res.text().catch(() => '');
    throw new LadingError(res.status === 403 ? 'UNAUTHORIZED' : 'INTERNAL', `S3 ${method} ${this.url(key).href}: HTTP ${res.status}${text ? ` ${s3Error(text)}` : ''}`);
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    const res = await this.request('PUT', key, bytes);
    if (!res.ok) await this.fail('PUT', key, res);
    await res.arrayBuffer();
  }

  async get(key: string): Promise<Buffer | undefined> {
    const res = await this.request('GET', key);
    if (res.status === 404) {
      // Only a missing key is a missing object: a missing bucket (NoSuchBucket) is an error.
      const text = await res.text().catch(() => '');
      if (!text || /<Code>NoSuchKey<\/Code>/.test(text)) return undefined;
      throw new LadingError('INTERNAL', `S3 GET ${this.url(key).href}: HTTP 404 ${s3Error(text)}`);
    }
    if (!res.ok) await this.fail('GET', key, res);
    return Buffer.from(await res.arrayBuffer());
  }

  async delete(key: string): Promise<void> {
    const res = await this.request('DELETE', key);
    if (!res.ok && res.status !== 404) await this.fail('DELETE', key, res);
    await res.arrayBuffer();
  }

  /** HEAD the bucket: resolves when it exists and the credentials may use it. */
  async check(): Promise<void> {
    const res = await this.request('HEAD', '');
    if (!res.ok) await this.fail('HEAD', '', res);
  }

  /** Whether key exists (HEAD). */
  async has(key: string): Promise<boolean> {
    const res = await this.request('HEAD', key);
    if (res.status === 404) return false;
    if (!res.ok) await this.fail('HEAD', key, res);
    return true;
  }
}

function required(v: string | undefined, key: string, env?: string): string {
  if (v) return v;
  throw new LadingError('BAD_INPUT', `object_store.s3.${key} is required for the s3 object store${env ? ` (or ${env})` : ''}`);
}

/** The driver's options from object_store.s3 and the environment; the error names the missing key. */
export function s3Options(c: S3Config, env: DriverContext['env']): S3Options {
  const region = c.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const fromConfig = c.access_key !== undefined || c.secret_key !== undefined;
  const accessKeyId = required(fromConfig ? c.access_key : env.AWS_ACCESS_KEY_ID, 'access_key', fromConfig ? undefined : 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = required(fromConfig ? c.secret_key : env.AWS_SECRET_ACCESS_KEY, 'secret_key', fromConfig ? undefined : 'AWS_SECRET_ACCESS_KEY');
  const sessionToken = fromConfig ? c.session_token : c.session_token ?? env.AWS_SESSION_TOKEN;
  return {
    endpoint: new URL(c.url ?? `https://s3.${region}.amazonaws.com`),
    bucket: required(c.bucket, 'bucket'),
    region,
    prefix: c.prefix,
    pathStyle: c.path_style,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    timeoutMs: c.timeout * 1000,
    proxy: proxySettings(env),
  };
}

export const openS3Store: DriverFactory = (config, context) => new S3ObjectStore(s3Options(config.s3, context.env));
