/**
 * The v1 API as a fastify app: every route at `/v1/...` and at the unversioned path (Anchore
 * rewrote the latter to the former), HTTP basic or bearer-token authentication, the
 * `x-anchore-account` header, and Anchore's error body for every failure.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { describeError } from '../errors.js';
import { browserSafety, unsupportedMediaType } from './browser.js';
import { loginThrottle, type LoginThrottle } from './throttle.js';
import type { AccountStore } from '../store/accounts.js';
import type { CatalogStore } from '../store/catalog.js';
import type { JobQueue } from '../queue/queue.js';
import type { VulnDb } from '../feeds/vulndb.js';
import type { SourceOptions } from '../image/sources/index.js';
import { ApiError, errorBody, sendError } from './errors.js';
import { authHook } from './context.js';
import { imageRoutes } from './routes/images.js';
import { systemRoutes } from './routes/system.js';
import { feedsRoutes } from './routes/feeds.js';
import { policiesRoutes } from './routes/policies.js';
import { registriesRoutes } from './routes/registries.js';
import { subscriptionsRoutes } from './routes/subscriptions.js';
import { eventsRoutes } from './routes/events.js';
import { accountsRoutes } from './routes/accounts.js';
import { queryRoutes } from './routes/query.js';
import { importsRoutes } from './routes/imports.js';
import { webhooksRoutes } from './routes/webhooks.js';
import { archivesRoutes } from './routes/archives.js';
import { archiveFileRoutes } from './routes/archive-files.js';
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
import type { ImportStore } from '../store/imports.js';
import type { ArchiveStore } from '../store/archive.js';
import type { SummaryStore } from '../services/summaries.js';
import type { VulnReports } from '../services/reports.js';
import type { BaseStore } from '../store/bases.js';
import type { PackageQueries } from '../services/packages.js';
import type { Notifier } from '../services/notify.js';
import { RouteCatalog } from './openapi.js';

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
  /** Each analyzed image's base image (store/bases.ts). */
  bases: BaseStore;
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
  /** Failed-login counting (api/throttle.ts); default one built from config.auth. */
  loginThrottle?: LoginThrottle;
  /** Security messages (failed logins); default stderr. */
  log?: (message: string) => void;
  /** Where every 5xx is reported, with the request id its answer carries; default stderr. */
  onServerError?: (requestId: string, request: string, error: unknown) => void;
  /** pino logging; default off. */
  logger?: boolean | Record<string, unknown>;
  /** This process's metrics (/metrics, HTTP request counters); absent when metrics.enabled is false. */
  metrics?: ServiceMetrics;
  /** Serve HTTPS with this certificate and key (listen.tls_*; the caller reloads them through app.server). */
  https?: { cert: Buffer; key: Buffer };
}

function reportToStderr(requestId: string, request: string, error: unknown): void {
  const stack = error instanceof Error && error.stack ? `\n${error.stack}` : '';
  process.stderr.write(`lading api: request ${requestId} (${request}) failed: ${describeError(error)}${stack}\n`);
}

export const API_PREFIXES = ['', '/v1'] as const;

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const options = { logger: deps.logger ?? false, bodyLimit: 16 * 1024 * 1024, genReqId: () => randomUUID() };
  // One type for both: what the routes see does not depend on the transport.
  const app = (deps.https ? Fastify({ ...options, https: deps.https }) : Fastify(options)) as unknown as FastifyInstance;
  if (deps.metrics) instrumentHttp(app, deps.metrics);
  app.decorate('reportServerError', deps.onServerError ?? reportToStderr);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  browserSafety(app, deps.config.listen.allowed_origins ?? []);
  const throttle = deps.loginThrottle ?? loginThrottle(deps.config, deps.log);
  app.addHook('onRequest', authHook(deps.accounts, throttle));

  app.setErrorHandler((error, request, reply) => {
    const fe = error as { validation?: unknown; statusCode?: number; message: string };
    if (fe.validation || fe.statusCode === 400) return sendError(reply, new ApiError(400, fe.message), request);
    if (fe.statusCode === 415) return sendError(reply, new ApiError(415, unsupportedMediaType(request)), request);
    return sendError(reply, error, request);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody(404, `no such path: ${request.method} ${request.url.split('?')[0]}`));
  });

  const catalog = new RouteCatalog();
  app.addHook('onRoute', (route) => catalog.add(route));
  deps = { ...deps, loginThrottle: throttle };
  for (const prefix of API_PREFIXES) {
    await app.register(async (scope) => {
      systemRoutes(scope, deps);
      feedsRoutes(scope, deps);
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
      archiveFileRoutes(scope, deps);
      summariesRoutes(scope, deps);
      scope.get('/swagger.json', { config: { public: true } }, async () => catalog.document());
    }, { prefix });
  }
  metricsRoutes(app, deps);
  await uiRoutes(app, deps);
  return app;
}
