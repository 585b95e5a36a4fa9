/**
 * What every route needs from a request: the authenticated user, the account it acts in, and the
 * onRequest hook that authenticates it. Routes import these from here, not from app.ts (which
 * imports the routes), so no two modules import each other.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountStore, AuthUser } from '../store/accounts.js';
import { requireAuthorized } from '../store/authorize.js';
import { ApiError, sendError } from './errors.js';
import { challengeFor } from './browser.js';
import type { LoginThrottle } from './throttle.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No authentication (/, /health, /version). */
    public?: boolean;
  }
  interface FastifyRequest {
    user?: AuthUser;
  }
}

/** The authenticated user; throws 401 when the hook did not set one. */
export function userOf(request: FastifyRequest): AuthUser {
  if (!request.user) throw new ApiError(401, 'Unauthorized');
  return request.user;
}

/** The account a request acts in: the user's own, or x-anchore-account (admins only). */
export async function accountOf(request: FastifyRequest, deps: { accounts: AccountStore }, action: 'read' | 'write' = request.method === 'GET' ? 'read' : 'write'): Promise<string> {
  const user = userOf(request);
  const header = request.headers['x-anchore-account'];
  const target = Array.isArray(header) ? header[0] : header;
  const account = requireAuthorized(user, action, target || undefined);
  if (account !== user.account) {
    const a = await deps.accounts.getAccount(account);
    if (!a) throw new ApiError(404, `no account ${account}`);
    if (a.state !== 'enabled') throw new ApiError(403, `account ${account} is ${a.state}`);
  }
  return account;
}

function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized');
}

/** How long a successful basic-auth verification is reused, and how many are kept. */
const AUTH_CACHE_TTL_MS = 60_000;
const AUTH_CACHE_MAX = 10_000;

/**
 * Successful basic-auth verifications, so scrypt does not run on every request. Keyed by an HMAC
 * of user and password under a per-process random key (never the password itself). A hit still
 * reads the user row and holds only while the password hash is the one verified and the account is
 * enabled: a password change, a deleted user or a disabled account ends it at once, in every process.
 */
class AuthCache {
  private readonly secret = randomBytes(32);
  private readonly entries = new Map<string, { credential: string; expires: number }>();

  constructor(private readonly accounts: AccountStore, private readonly ttlMs = AUTH_CACHE_TTL_MS) {}

  async verify(username: string, password: string): Promise<AuthUser | undefined> {
    const key = createHmac('sha256', this.secret).update(`${username.length}:${username}`).update(password).digest('base64');
    const now = Date.now();
    // Read before verifying: a password changed meanwhile leaves a stale fingerprint, never a wrong one.
    const state = await this.accounts.loginState(username);
    const hit = this.entries.get(key);
    if (hit && state && hit.expires > now && hit.credential === state.credential) return state.user;
    if (hit) this.entries.delete(key);
    const user = await this.accounts.verifyPassword(username, password);
    if (user && state) {
      if (this.entries.size >= AUTH_CACHE_MAX) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { credential: state.credential, expires: now + this.ttlMs });
    }
    return user;
  }
}

async function authenticate(request: FastifyRequest, accounts: AccountStore, cache: AuthCache, throttle: LoginThrottle): Promise<AuthUser> {
  const h = request.headers.authorization;
  if (!h) throw unauthorized();
  const m = /^(\S+)\s+(.+)$/.exec(h.trim());
  if (!m) throw unauthorized();
  const scheme = m[1]!.toLowerCase();
  let user: AuthUser | undefined;
  if (scheme === 'basic') {
    const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw unauthorized();
    const username = decoded.slice(0, colon);
    throttle.check(username, request.ip);
    user = await cache.verify(username, decoded.slice(colon + 1));
    if (user) throttle.succeeded(username);
    else throttle.failed(username, request.ip, `basic auth, ${request.method} ${request.url.split('?')[0]}`);
  } else if (scheme === 'bearer') {
    user = await accounts.verifyToken(m[2]!);
  }
  if (!user) throw unauthorized();
  return user;
}

/** The onRequest hook that authenticates every request to a non-public route (sets request.user). */
export function authHook(accounts: AccountStore, throttle: LoginThrottle): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  const authCache = new AuthCache(accounts);
  return async (request, reply) => {
    if (request.routeOptions.config?.public) return;
    if (!request.routeOptions.url) return; // not found: the 404 handler answers
    try {
      request.user = await authenticate(request, accounts, authCache, throttle);
    } catch (e) {
      // No Basic challenge to browsers (api/browser.ts): it would make them cache the password.
      if (e instanceof ApiError && e.status === 401) reply.header('www-authenticate', challengeFor(request));
      return sendError(reply, e, request);
    }
  };
}
