/**
 * The v1 API as a fastify app: every route at `/v1/...` and at the unversioned path (Anchore
 * rewrote the latter to the former), HTTP basic or bearer-token authentication, the
 * `x-anchore-account` header, and Anchore's error body for every failure.
 */
import { createHmac, randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AccountStore, AuthUser } from '../store/accounts.js';
import { requireAuthorized } from '../store/accounts.js';
import type { CatalogStore } from '../store/catalog.js';
import type { JobQueue } from '../queue/queue.js';
import type { VulnDb } from '../feeds/vulndb.js';
import type { SourceOptions } from '../image/sources/index.js';
import { ApiError, errorBody, sendError } from './errors.js';
import { imageRoutes } from './routes/images.js';
import { systemRoutes } from './routes/system.js';
import { policiesRoutes } from './routes/policies.js';
import { registriesRoutes } from './routes/registries.js';
import { subscriptionsRoutes } from './routes/subscriptions.js';
import { eventsRoutes } from './routes/events.js';
import { accountsRoutes } from './routes/accounts.js';
import { queryRoutes } from './routes/query.js';
import { importsRoutes } from './routes/imports.js';
import { webhooksRoutes } from './routes/webhooks.js';
import { archivesRoutes } from './routes/archives.js';
import { summariesRoutes } from './routes/summaries.js';
import { instrumentHttp, metricsRoutes } from './routes/metrics.js';
import type { ServiceMetrics } from '../services/metrics.js';
import { uiRoutes } from './ui.js';
import type { DatabaseHandle } from '../store/db.js';
import type { LadingConfig } from '../config/schema.js';
import type { CycleRunner, CycleSpec } from '../services/cycles.js';
import type { ServiceRegistry } from '../store/service-registry.js';
import type { PolicyStore } from '../store/policies.js';
import type { RegistryStore } from '../services/registries.js';
import type { SubscriptionStore } from '../store/subscriptions.js';
import type { EventStore } from '../store/events.js';
import type { ImportStore } from '../services/imports.js';
import type { ArchiveStore } from '../services/archive.js';
import type { SummaryStore } from '../services/summaries.js';
import type { VulnReports } from '../services/reports.js';
import type { PackageQueries } from '../services/packages.js';
import type { Notifier } from '../services/notify.js';
import { RouteCatalog } from './openapi.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No authentication (/, /health, /version). */
    public?: boolean;
  }
  interface FastifyRequest {
    user?: AuthUser;
  }
}

export interface ApiDeps {
  /** The service database (stores are thin wrappers over db.kysely). */
  db: DatabaseHandle;
  /** The validated configuration the service started with. */
  config: LadingConfig;
  accounts: AccountStore;
  catalog: CatalogStore;
  queue: JobQueue;
  /** The vulnerability database (same database as the catalog). */
  vulndb: VulnDb;
  /** The process's stores (services/root.ts builds each once): the routes use these, never their own. */
  policies: PolicyStore;
  registries: RegistryStore;
  subscriptions: SubscriptionStore;
  events: EventStore;
  imports: ImportStore;
  archive: ArchiveStore;
  summaries: SummaryStore;
  reports: VulnReports;
  packages: PackageQueries;
  notifier: Notifier;
  /** How images are fetched when added (registry options). */
  sourceOptions?: SourceOptions;
  /** Attempts for an analyze job. */
  analysisMaxAttempts?: number;
  /** The periodic cycles (their state for /system; runs on request such as POST /system/feeds). */
  cycles?: CycleRunner;
  /** Every process's roles and heartbeats (/system). */
  services?: ServiceRegistry;
  /** The feed sync cycle; absent when feeds.enabled is false. */
  feedSync?: CycleSpec;
  /** What /system reports about this process. */
  service?: { hostId: string; roles: string[]; dbLocation: string };
  /** pino logging; default off. */
  logger?: boolean | Record<string, unknown>;
  /** This process's metrics (/metrics, HTTP request counters); absent when metrics.enabled is false. */
  metrics?: ServiceMetrics;
}

export const API_PREFIXES = ['', '/v1'] as const;

/** The authenticated user; throws 401 when the hook did not set one. */
export function userOf(request: FastifyRequest): AuthUser {
  if (!request.user) throw new ApiError(401, 'Unauthorized');
  return request.user;
}

/** The account a request acts in: the user's own, or x-anchore-account (admins only). */
export async function accountOf(request: FastifyRequest, deps: Pick<ApiDeps, 'accounts'>, action: 'read' | 'write' = request.method === 'GET' ? 'read' : 'write'): Promise<string> {
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

async function authenticate(request: FastifyRequest, accounts: AccountStore, cache: AuthCache): Promise<AuthUser> {
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
    user = await cache.verify(decoded.slice(0, colon), decoded.slice(colon + 1));
  } else if (scheme === 'bearer') {
    user = await accounts.verifyToken(m[2]!);
  }
  if (!user) throw unauthorized();
  return user;
}

/** The onRequest hook that authenticates every request to a non-public route (sets request.user). */
export function authHook(accounts: AccountStore): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  const authCache = new AuthCache(accounts);
  return async (request, reply) => {
    if (request.routeOptions.config?.public) return;
    if (!request.routeOptions.url) return; // not found: the 404 handler answers
    try {
      request.user = await authenticate(request, accounts, authCache);
    } catch (e) {
      reply.header('www-authenticate', 'basic realm="Authentication required"');
      return sendError(reply, e, request);
    }
  };
}

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: deps.logger ?? false, bodyLimit: 16 * 1024 * 1024 });
  if (deps.metrics) instrumentHttp(app, deps.metrics);
  app.addHook('onRequest', authHook(deps.accounts));

  app.setErrorHandler((error, request, reply) => {
    const fe = error as { validation?: unknown; statusCode?: number; message: string };
    if (fe.validation || fe.statusCode === 400) return sendError(reply, new ApiError(400, fe.message), request);
    return sendError(reply, error, request);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody(404, `no such path: ${request.method} ${request.url.split('?')[0]}`));
  });

  const catalog = new RouteCatalog();
  app.addHook('onRoute', (route) => catalog.add(route));
  for (const prefix of API_PREFIXES) {
    await app.register(async (scope) => {
      systemRoutes(scope, deps);
      imageRoutes(scope, deps);
      policiesRoutes(scope, deps);
      registriesRoutes(scope, deps);
      subscriptionsRoutes(scope, deps);
      eventsRoutes(scope, deps);
      accountsRoutes(scope, deps);
      queryRoutes(scope, deps);
      importsRoutes(scope, deps);
      webhooksRoutes(scope, deps);
      archivesRoutes(scope, deps);
      summariesRoutes(scope, deps);
      scope.get('/swagger.json', { config: { public: true } }, async () => catalog.document());
    }, { prefix });
  }
  metricsRoutes(app, deps);
  await uiRoutes(app, deps);
  return app;
}
