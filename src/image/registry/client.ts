/**
 * A Docker Registry HTTP API v2 / OCI distribution client for pulling: the `/v2/` probe, manifests
 * (bounded, digest-verified), blobs (streamed, resumed with Range after a broken connection) and
 * tag lists. Everything it reads fully it verifies; layer blobs are verified by their reader.
 */
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { LadingError } from '../../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import { verifyBytes } from '../manifest.js';
import { MediaTypes, type Descriptor } from '../types.js';
import { isDigest } from '../reference.js';
import { RegistryAuth, parseWwwAuthenticate, pullScope, type TokenCache } from './auth.js';
import { lookupCredentials, type CredentialLookupOptions, type RegistryCredentials } from './credentials.js';
import {
  HttpClient, describeNetworkError, discard, drop, header, isNotTlsError, isRetryableNetworkError, readBody, schemesFor,
  type HttpOptions, type HttpResponse, type ResponseBody,
} from './http.js';

/**
 * Every manifest type we read. Schema 1 is listed so that a registry holding only schema 1 answers
 * with it and we can refuse it clearly; without the schema 2 type a registry converts schema 2 to
 * schema 1, and without the OCI types it does not serve OCI manifests at all.
 */
export const MANIFEST_ACCEPT = [
  MediaTypes.ociIndex,
  MediaTypes.ociManifest,
  MediaTypes.dockerManifestList,
  MediaTypes.dockerManifest,
  MediaTypes.dockerSchema1Signed,
  MediaTypes.dockerSchema1,
].join(', ');

export interface RegistryClientOptions {
  /** Credentials to use as they are; otherwise they are looked up (see credentials.ts) when the registry asks. */
  credentials?: RegistryCredentials;
  /** Options for the lookup, or false for anonymous access only. */
  credentialLookup?: CredentialLookupOptions | false;
  insecureRegistries?: string[];
  caFile?: string;
  limits?: Limits;
  http?: Partial<HttpOptions>;
  tokenCache?: TokenCache;
  /** Resumes of a broken blob download (Range requests). Default 3. */
  maxBlobResumes?: number;
}

export interface FetchedManifest {
  bytes: Buffer;
  /** Content-Type without parameters. */
  mediaType: string;
  /** The verified digest of `bytes`. */
  digest: string;
}

interface RegistryErrorBody {
  errors?: { code?: string; message?: string }[];
}

const SCHEMA1_TYPES = new Set<string>([MediaTypes.dockerSchema1, MediaTypes.dockerSchema1Signed]);

/** The host the API lives on: Docker Hub's API is registry-1.docker.io. */
export function apiHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

function digestOf(bytes: Buffer, alg: string): string {
  return `${alg}:${createHash(alg).update(bytes).digest('hex')}`;
}

function isSchema1(bytes: Buffer, mediaType: string): boolean {
  if (SCHEMA1_TYPES.has(mediaType)) return true;
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { schemaVersion?: unknown; mediaType?: unknown };
    return doc.schemaVersion === 1 || SCHEMA1_TYPES.has(String(doc.mediaType));
  } catch {
    return false;
  }
}

export class RegistryClient {
  readonly registry: string;
  readonly host: string;
  readonly limits: Limits;
  private readonly http: HttpClient;
  private readonly auth: RegistryAuth;
  private readonly insecure: string[];
  private readonly maxResumes: number;
  private base?: Promise<string>;
  /** The scheme and host that answered (set by the first request or the probe). */
  private baseUrl?: string;
  /** The first request, while it finds the scheme. */
  private first?: Promise<HttpResponse>;

  constructor(registry: string, options: RegistryClientOptions = {}) {
    this.registry = registry;
    this.host = apiHost(registry);
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.insecure = options.insecureRegistries ?? [];
    this.maxResumes = options.maxBlobResumes ?? 3;
    this.http = new HttpClient({ ...options.http, insecureRegistries: this.insecure, ...(options.caFile ? { caFile: options.caFile } : {}) });
    const lookup = options.credentialLookup;
    this.auth = new RegistryAuth({
      registry,
      http: this.http,
      cache: options.tokenCache,
      credentials: async () => options.credentials ?? (lookup === false ? undefined : lookupCredentials(registry, lookup ?? {})),
    });
  }

  /** Token requests made so far (diagnostics, tests). */
  get tokenRequests(): number {
    return this.auth.tokenRequests;
  }

  /**
   * Probe `/v2/` once: pick the scheme and learn the authentication challenge. Returns the base URL.
   * Pulls do not need it (the first request of a pull finds the scheme itself, and a 401 carries
   * the challenge); registry logins use it to check credentials.
   */
  ping(signal?: AbortSignal): Promise<string> {
    this.base ??= this.probe(signal);
    this.base.catch(() => {
      this.base = undefined; // a failed probe is tried again next time
    });
    return this.base;
  }

  private async probe(signal?: AbortSignal): Promise<string> {
    const res = await this.onSomeScheme('/v2/', (base) => this.http.request({ url: `${base}/v2/`, what: `registry ${this.registry}`, signal }), signal);
    if (res.status === 401) {
      this.auth.learn(parseWwwAuthenticate(res.headers['www-authenticate']));
      await discard(res);
      return this.baseUrl!;
    }
    if (res.status >= 200 && res.status < 300) {
      await discard(res);
      return this.baseUrl!;
    }
    throw await this.failure(res, `registry ${this.registry} (probe of ${this.baseUrl}/v2/)`, undefined, 'probe');
  }

  /**
   * Send a first request on the schemes this host may use, in order (https; then plain http for a
   * loopback host that does not speak TLS, or on any failure for an insecure-listed one), and
   * remember the one that answered: every later request goes there directly.
   */
  private async onSomeScheme(path: string, send: (base: string) => Promise<HttpResponse>, signal?: AbortSignal): Promise<HttpResponse> {
    const plan = schemesFor(this.host, this.insecure);
    let lastError: unknown;
    for (const [i, scheme] of plan.schemes.entries()) {
      const base = `${scheme}://${this.host}`;
      try {
        const res = await send(base);
        this.baseUrl = base;
        return res;
      } catch (e) {
        if (signal?.aborted) throw e;
        lastError = e;
        const more = i < plan.schemes.length - 1;
        if (more && (plan.reason === 'insecure' || isNotTlsError(e))) continue;
        throw e;
      }
    }
    throw lastError instanceof Error ? lastError : new LadingError('NETWORK', `cannot reach registry ${this.registry} (${path})`);
  }

  /**
   * A GET/HEAD on `/v2/<repo>/...` with pull authorization. No `/v2/` probe first: the first
   * request finds the scheme (onSomeScheme) and a 401 teaches the challenge (RegistryAuth.send),
   * one round trip less per image than probing. Requests made while the first one is still
   * finding the scheme wait for it.
   */
  private async call(repo: string, path: string, options: { method?: 'GET' | 'HEAD'; headers?: Record<string, string>; signal?: AbortSignal; what: string }): Promise<HttpResponse> {
    if (!this.baseUrl && this.first) await this.first.catch(() => undefined);
    const send = (base: string) => this.auth.send([pullScope(repo)], (authorization) => this.http.request({
      url: `${base}/v2/${repo}/${path}`,
      method: options.method ?? 'GET',
      headers: { ...options.headers, ...(authorization ? { authorization } : {}) },
      signal: options.signal,
      what: options.what,
    }), options.signal);
    if (this.baseUrl) return send(this.baseUrl);
    const first = this.onSomeScheme(`/v2/${repo}/${path}`, send, options.signal);
    this.first = first;
    return first;
  }

  /** A LadingError for an unexpected response; reads a little of the body for the registry's error codes. */
  private async failure(res: HttpResponse, what: string, repo: string | undefined, kind: 'manifest' | 'blob' | 'tags' | 'probe', ref?: string): Promise<LadingError> {
    let detail = '';
    try {
      const body = await readBody(res, 64 * 1024, what);
      const doc = JSON.parse(body.toString('utf8')) as RegistryErrorBody;
      const parts = (doc.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).filter(Boolean);
      if (parts.length) detail = ` (${parts.join('; ')})`;
    } catch {
      await discard(res);
    }
    const where = repo ? `${this.registry}/${repo}` : this.registry;
    const status = `HTTP ${res.status}`;
    if (res.status === 401 || res.status === 403) {
      const hasCreds = await this.auth.hasCredentials().catch(() => false);
      const more = res.status === 403 ? detail : ''; // a 401's body only repeats "authentication required"
      return new LadingError('UNAUTHORIZED', hasCreds
        ? `authentication denied for ${where}: the credentials were refused or lack pull access (${status})${more}`
        : `authentication required for ${where}: no credentials found (${status}); log in with docker login or pass a username and password${more}`);
    }
    if (res.status === 404) {
      const thing = kind === 'manifest' ? `manifest ${ref}` : kind === 'blob' ? `blob ${ref}` : kind === 'tags' ? 'tag list' : 'the registry API (/v2/)';
      return new LadingError('NOT_FOUND', `${thing} not found in ${where} (${status})${detail}`);
    }
    if (res.status === 429) return new LadingError('REGISTRY', `${what}: ${where} is rate limiting requests (${status})${detail}`);
    return new LadingError('REGISTRY', `${what}: unexpected ${status} from ${where}${detail}`);
  }

  /**
   * Fetch a manifest or index by tag or digest. By digest, its bytes must hash to that digest; by
   * tag, to Docker-Content-Digest when the registry sends one. Schema 1 is refused.
   */
  async getManifest(repo: string, ref: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const byDigest = isDigest(ref);
    const name = `${this.registry}/${repo}${byDigest ? '@' : ':'}${ref}`;
    const what = `manifest ${name}`;
    const res = await this.call(repo, `manifests/${ref}`, { headers: { accept: MANIFEST_ACCEPT }, signal, what });
    if (res.status !== 200) throw await this.failure(res, what, repo, 'manifest', ref);
    const bytes = await readBody(res, this.limits.maxManifestBytes, what);
    const mediaType = (header(res, 'content-type') ?? '').split(';')[0]!.trim();
    // Before any digest check: a signed schema 1 manifest's digest excludes its signatures.
    if (isSchema1(bytes, mediaType)) {
      throw new LadingError('UNSUPPORTED', `${what} is a Docker schema 1 manifest, which is deprecated and not supported; push the image again with a current client (schema 2 or OCI)`);
    }
    let digest: string;
    if (byDigest) {
      verifyBytes(bytes, ref, what);
      digest = ref;
    } else {
      const claimed = header(res, 'docker-content-digest')?.trim();
      if (claimed && isDigest(claimed)) {
        verifyBytes(bytes, claimed, `${what} (Docker-Content-Digest)`);
        digest = claimed;
      } else {
        digest = digestOf(bytes, 'sha256');
      }
    }
    return { bytes, mediaType, digest };
  }

  /** The digest and media type a tag points at, without reading the manifest (HEAD). */
  async headManifest(repo: string, ref: string, signal?: AbortSignal): Promise<{ digest?: string; mediaType: string; size?: number }> {
    const what = `manifest ${this.registry}/${repo}${isDigest(ref) ? '@' : ':'}${ref}`;
    const res = await this.call(repo, `manifests/${ref}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT }, signal, what });
    if (res.status !== 200) throw await this.failure(res, what, repo, 'manifest', ref);
    await discard(res);
    const digest = header(res, 'docker-content-digest')?.trim();
    const size = Number(header(res, 'content-length'));
    return {
      ...(digest && isDigest(digest) ? { digest } : {}),
      mediaType: (header(res, 'content-type') ?? '').split(';')[0]!.trim(),
      ...(Number.isFinite(size) ? { size } : {}),
    };
  }

  private async requestBlob(repo: string, desc: Descriptor, offset: number, signal?: AbortSignal): Promise<HttpResponse> {
    const what = `blob ${desc.digest} of ${this.registry}/${repo}`;
    const res = await this.call(repo, `blobs/${desc.digest}`, { headers: offset > 0 ? { range: `bytes=${offset}-` } : {}, signal, what });
    if (res.status !== 200 && res.status !== 206) throw await this.failure(res, what, repo, 'blob', desc.digest);
    return res;
  }

  /**
   * The raw bytes of a blob, streamed. Redirects to storage go without Authorization. If the
   * connection breaks, the download resumes where it stopped (Range; bounded attempts).
   * The digest is not checked here: the reader does that as the bytes go by.
   */
  async openBlob(repo: string, desc: Descriptor, signal?: AbortSignal): Promise<Readable> {
    const what = `blob ${desc.digest} of ${this.registry}/${repo}`;
    const first = await this.requestBlob(repo, desc, 0, signal);
    const length = Number(header(first, 'content-length'));
    if (first.status === 200 && Number.isFinite(length) && desc.size >= 0 && length !== desc.size) {
      drop(first);
      throw new LadingError('DIGEST_MISMATCH', `${what}: the registry sends ${length} bytes, the descriptor says ${desc.size}`);
    }
    const maxResumes = this.maxResumes;
    const reopen = async (offset: number): Promise<Readable> => {
      const res = await this.requestBlob(repo, desc, offset, signal);
      if (res.status === 206) {
        const m = /^bytes (\d+)-/.exec(header(res, 'content-range') ?? '');
        if (!m || Number(m[1]) !== offset) {
          drop(res);
          throw new LadingError('REGISTRY', `${what}: resuming at byte ${offset}, the registry answered with range "${header(res, 'content-range') ?? ''}"`);
        }
        return res.body;
      }
      return skipBytes(res.body, offset); // no range support: read again from the start and drop what we have
    };
    async function* chunks(): AsyncGenerator<Buffer> {
      let body: Readable = first.body;
      let offset = 0;
      let resumes = 0;
      for (;;) {
        try {
          for await (const chunk of body as AsyncIterable<Buffer>) {
            offset += chunk.length;
            yield chunk;
          }
          return;
        } catch (e) {
          body.destroy();
          if (signal?.aborted) throw signal.reason;
          if (resumes >= maxResumes || !isRetryableNetworkError(e)) {
            throw new LadingError('NETWORK', `${what}: the download broke at byte ${offset} (${describeNetworkError(e)})${resumes ? ` after ${resumes} resumes` : ''}`, { cause: e });
          }
          resumes++;
          body = await reopen(offset);
        }
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  /** A whole blob read into memory (configs): bounded by `max` and verified against the descriptor. */
  async fetchBlob(repo: string, desc: Descriptor, max: number, what: string, signal?: AbortSignal): Promise<Buffer> {
    if (desc.size > max) throw new LadingError('LIMIT_EXCEEDED', `${what} ${desc.digest} is ${desc.size} bytes, over the limit of ${max}`);
    const stream = await this.openBlob(repo, desc, signal);
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > max) throw new LadingError('LIMIT_EXCEEDED', `${what} ${desc.digest} is over the limit of ${max} bytes`);
        chunks.push(chunk);
      }
    } finally {
      stream.destroy();
    }
    const bytes = Buffer.concat(chunks, total);
    verifyBytes(bytes, desc.digest, what, desc.size);
    return bytes;
  }

  /** All tags of a repository, following `Link: <...>; rel="next"` pages. */
  async listTags(repo: string, options: { pageSize?: number; maxPages?: number; signal?: AbortSignal } = {}): Promise<string[]> {
    const what = `tag list of ${this.registry}/${repo}`;
    const tags: string[] = [];
    let path = `tags/list?n=${options.pageSize ?? 1000}`;
    for (let page = 0; page < (options.maxPages ?? 1000); page++) {
      const res = await this.call(repo, path, { signal: options.signal, what });
      if (res.status !== 200) throw await this.failure(res, what, repo, 'tags');
      const body = await readBody(res, 16 * 1024 * 1024, what);
      let doc: { tags?: unknown };
      try {
        doc = JSON.parse(body.toString('utf8')) as { tags?: unknown };
      } catch {
        throw new LadingError('REGISTRY', `${what}: the response is not JSON`);
      }
      if (doc.tags !== null && doc.tags !== undefined && !(Array.isArray(doc.tags) && doc.tags.every((t) => typeof t === 'string'))) {
        throw new LadingError('REGISTRY', `${what}: "tags" is not a list of strings`);
      }
      tags.push(...((doc.tags as string[] | null | undefined) ?? []));
      const next = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(header(res, 'link') ?? '')?.[1];
      if (!next) return tags;
      const nextUrl = new URL(next, 'http://x');
      const prefix = `/v2/${repo}/`;
      if (!nextUrl.pathname.startsWith(prefix)) throw new LadingError('REGISTRY', `${what}: unexpected next-page link "${next}"`);
      path = nextUrl.pathname.slice(prefix.length) + nextUrl.search;
    }
    throw new LadingError('LIMIT_EXCEEDED', `${what}: more than ${options.maxPages ?? 1000} pages`);
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

/** Drop the first `n` bytes of a stream (a resume against a server without Range support). */
function skipBytes(body: ResponseBody, n: number): Readable {
  let left = n;
  return Readable.from((async function* () {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (left >= chunk.length) {
        left -= chunk.length;
        continue;
      }
      yield left > 0 ? chunk.subarray(left) : chunk;
      left = 0;
    }
  })(), { objectMode: false });
}
