/**
 * Registry authentication: `WWW-Authenticate` challenges, Basic credentials, and the Docker token
 * protocol (a bearer token from the challenge's realm for `repository:NAME:pull`), with tokens
 * cached per (realm, service, scope, identity) until `expires_in` runs out.
 */
import { createHash } from 'node:crypto';
import { LadingError } from '../../errors.js';
import { discard, plainHttpAllowed, readBody, type HttpClient, type HttpResponse } from './http.js';
import type { RegistryCredentials } from './credentials.js';

export interface Challenge {
  /** Lower-case scheme: `basic`, `bearer`, ... */
  scheme: string;
  /** Parameters with lower-case names. */
  params: Record<string, string>;
  token68?: string;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

/** Parse `WWW-Authenticate` (RFC 7235): several challenges per header, several headers, quoted strings with escapes. */
export function parseWwwAuthenticate(value: string | string[] | undefined): Challenge[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap((v) => parseWwwAuthenticate(v));
  const s = value;
  let i = 0;
  const out: Challenge[] = [];
  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TOKEN_CHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    let v = '';
    i++; // opening quote
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      v += s[i];
      i++;
    }
    i++; // closing quote (or end of input)
    return v;
  };
  while (i < s.length) {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
    if (i >= s.length) break;
    const scheme = readToken();
    if (!scheme) {
      i++; // not a token character: skip it
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    skipWs();
    const t68 = TOKEN68.exec(s.slice(i));
    if (t68) {
      const after = s.slice(i + t68[0].length).trimStart();
      if (after === '' || after.startsWith(',')) {
        challenge.token68 = t68[0];
        i += t68[0].length;
        continue;
      }
    }
    // auth-params until something that is not `name = value` (the next challenge's scheme)
    for (;;) {
      while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
      const save = i;
      const name = readToken();
      skipWs();
      if (!name || s[i] !== '=') {
        i = save;
        break;
      }
      i++;
      skipWs();
      const val = s[i] === '"' ? readQuoted() : readToken();
      challenge.params[name.toLowerCase()] = val;
    }
  }
  return out;
}

export interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Bearer tokens by (realm, service, scope, identity). Safe to share between clients. */
export class TokenCache {
  private readonly entries = new Map<string, CachedToken>();
  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.token;
  }

  /** Keep a token until shortly before it expires (10% of its life, at most 10 s, early). */
  set(key: string, token: string, expiresInSeconds: number): void {
    const life = expiresInSeconds * 1000;
    this.entries.set(key, { token, expiresAt: this.now() + life - Math.min(10_000, life / 10) });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/** The process-wide token cache used when a client is given none. */
export const sharedTokenCache = new TokenCache();

export const DEFAULT_TOKEN_LIFETIME_SECONDS = 60;

export interface RegistryAuthOptions {
  /** Registry host as the user named it, for messages. */
  registry: string;
  http: HttpClient;
  /** Looked up once, the first time the registry asks for authentication. */
  credentials: () => Promise<RegistryCredentials | undefined>;
  cache?: TokenCache;
  signal?: AbortSignal;
}

export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

function scopeSubject(registry: string, scopes: string[]): string {
  const repo = scopes.map((s) => /^repository:([^:]+):/.exec(s)?.[1]).find(Boolean);
  return repo ? `${registry}/${repo}` : registry;
}

/** Authorization for one registry: learns its challenge, builds headers, fetches and caches tokens. */
export class RegistryAuth {
  private challenge?: Challenge;
  private creds?: Promise<RegistryCredentials | undefined>;
  private readonly cache: TokenCache;
  /** Token requests made by this instance (diagnostics, tests). */
  tokenRequests = 0;

  constructor(private readonly options: RegistryAuthOptions) {
    this.cache = options.cache ?? sharedTokenCache;
  }

  /** Remember what the registry asked for (from the `/v2/` probe or a 401). Bearer is preferred over Basic. */
  learn(challenges: Challenge[]): void {
    const chosen = challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ?? challenges.find((c) => c.scheme === 'basic');
    if (!chosen) return;
    // A challenge's scope belongs to the request that got it; `send` adds it for the retry only.
    const { scope: _scope, ...params } = chosen.params;
    this.challenge = { ...chosen, params };
  }

  get scheme(): string | undefined {
    return this.challenge?.scheme;
  }

  credentials(): Promise<RegistryCredentials | undefined> {
    this.creds ??= this.options.credentials();
    return this.creds;
  }

  async hasCredentials(): Promise<boolean> {
    const c = await this.credentials();
    return !!c && !!(c.password !== undefined || c.identityToken || c.registryToken);
  }

  private async cacheKey(realm: string, service: string, scopes: string[]): Promise<string> {
    const c = await this.credentials();
    const identity = c ? createHash('sha256').update(`${c.username ?? ''}\0${c.password ?? ''}\0${c.identityToken ?? ''}`).digest('hex').slice(0, 16) : 'anonymous';
    return [realm, service, [...scopes].sort().join(' '), identity].join('\n');
  }

  /** The Authorization header value for a request needing `scopes`, or undefined (anonymous). */
  async authorization(scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    const creds = await this.credentials();
    if (ch.scheme === 'basic') {
      if (!creds || creds.username === undefined || creds.password === undefined) return undefined;
      return 'Basic ' + Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
    }
    if (ch.scheme !== 'bearer') return undefined;
    if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
    const realm = ch.params.realm!;
    const service = ch.params.service ?? '';
    const all = [...new Set(scopes)];
    const key = await this.cacheKey(realm, service, all);
    const cached = this.cache.get(key);
    if (cached) return `Bearer ${cached}`;
    const { token, expiresIn } = await this.fetchToken(realm, service, all, creds, signal);
    this.cache.set(key, token, expiresIn);
    return `Bearer ${token}`;
  }

  private async invalidate(scopes: string[]): Promise<void> {
    const ch = this.challenge;
    if (ch?.scheme !== 'bearer' || !ch.params.realm) return;
    this.cache.delete(await this.cacheKey(ch.params.realm, ch.params.service ?? '', [...new Set(scopes)]));
  }

  private async fetchToken(realm: string, service: string, scopes: string[], creds: RegistryCredentials | undefined,
    signal?: AbortSignal): Promise<{ token: string; expiresIn: number }> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new LadingError('REGISTRY', `${this.options.registry} names an invalid token realm "${realm}"`);
    }
    // Credentials go to the realm only over https, or plain http where the registry itself may use it.
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && plainHttpAllowed(url.host, this.options.http.options.insecureRegistries))) {
      throw new LadingError('REGISTRY', `${this.options.registry} names a token realm that is not https (${url.origin}); only loopback and insecure-listed hosts may use plain http`);
    }
    const subject = scopeSubject(this.options.registry, scopes);
    const what = `token for ${subject} from ${url.origin}${url.pathname}`;
    this.tokenRequests++;
    let res: HttpResponse;
    if (creds?.identityToken) {
      // OAuth2 refresh-token grant, as docker does with an identity token.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'lading', service });
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await this.options.http.request({
        url, method: 'POST', body: form.toString(), retry: true, what, signal,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    } else {
      if (service) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (creds?.username !== undefined && creds.password !== undefined) {
        url.searchParams.set('account', creds.username);
        headers.authorization = 'Basic ' + Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
      }
      res = await this.options.http.request({ url, headers, what, signal });
    }
    if (res.status === 401 || res.status === 403) {
      await discard(res);
      throw new LadingError('UNAUTHORIZED', creds
        ? `authentication denied for ${subject}: the token service ${url.origin} refused the credentials (HTTP ${res.status})`
        : `authentication required for ${subject}: the token service ${url.origin} refused anonymous access (HTTP ${res.status})`);
    }
    if (res.status !== 200) {
      await discard(res);
      throw new LadingError('REGISTRY', `${what}: HTTP ${res.status}`);
    }
    const body = await readBody(res, 1024 * 1024, what);
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch {
      throw new LadingError('REGISTRY', `${what}: the response is not JSON`);
    }
    const d = (doc ?? {}) as Record<string, unknown>;
    const token = typeof d.token === 'string' && d.token ? d.token : typeof d.access_token === 'string' && d.access_token ? d.access_token : undefined;
    if (!token) throw new LadingError('REGISTRY', `${what}: the response has no "token" or "access_token"`);
    const expiresIn = typeof d.expires_in === 'number' && d.expires_in > 0 ? d.expires_in : DEFAULT_TOKEN_LIFETIME_SECONDS;
    return { token, expiresIn };
  }

  /**
   * Send a request with authorization for `scopes`. After a 401 the challenge is learned again,
   * a stale token dropped, and the request sent once more if there is anything new to offer.
   * The 401 that cannot be helped comes back to the caller to report.
   */
  async send(scopes: string[], doRequest: (authorization: string | undefined) => Promise<HttpResponse>, signal?: AbortSignal): Promise<HttpResponse> {
    const first = await this.authorization(scopes, signal);
    const res = await doRequest(first);
    if (res.status !== 401) return res;
    const challenges = parseWwwAuthenticate(res.headers['www-authenticate']);
    if (!challenges.length) return res;
    this.learn(challenges);
    if (first?.startsWith('Bearer ')) await this.invalidate(scopes);
    const asked = challenges.find((c) => c.scheme === 'bearer')?.params.scope;
    const retryScopes = asked && !scopes.includes(asked) ? [...scopes, asked] : scopes;
    const second = await this.authorization(retryScopes, signal);
    if (second === undefined || second === first) return res;
    await discard(res);
    return doRequest(second);
  }
}
