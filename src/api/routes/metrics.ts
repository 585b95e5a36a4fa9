/**
 * `/metrics` (Prometheus text format, services/metrics.ts) and `/ready` (readiness: the database
 * answers and is migrated), outside the /v1 prefix; the HTTP request metrics hook; and the probe
 * listener of processes without the API (`metrics.port`): /health, /ready and /metrics.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { ApiDeps } from '../app.js';
import { authHook, userOf } from '../context.js';
import { ApiError, errorBody, sendError } from '../errors.js';
import { LoginThrottle } from '../throttle.js';
import { readiness, UNMATCHED_ROUTE, type ServiceMetrics } from '../../services/metrics.js';

export type MetricsDeps = Pick<ApiDeps, 'db' | 'config' | 'accounts' | 'metrics'>;

export function metricsRoutes(app: FastifyInstance, deps: MetricsDeps): void {
  app.get('/ready', { config: { public: true } }, async (_req, reply) => {
    const r = await readiness(deps.db);
    if (r.ready) return { status: 'ready', db: 'ok', schema_version: r.schemaVersion };
    return reply.code(503).send({ status: 'not ready', reason: r.reason });
  });

  const metrics = deps.metrics;
  if (!metrics || !deps.config.metrics.enabled) return; // no route: 404
  const authRequired = deps.config.metrics.auth_required;
  app.get('/metrics', { config: { public: !authRequired } }, async (req, reply) => {
    // Cluster-wide figures (every account's images): only the admin account's users see them.
    if (authRequired && userOf(req).accountType !== 'admin') throw new ApiError(403, 'only users of the admin account can read /metrics');
    const { contentType, text } = await metrics.scrape();
    return reply.type(contentType).send(text);
  });
}

/** Count and time every answered request by its route template (never the raw URL: bounded labels). */
export function instrumentHttp(app: FastifyInstance, metrics: ServiceMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode, reply.elapsedTime / 1000);
  });
}

/** The listener of a process without the API role: /health (liveness), /ready, /metrics; same auth rules. */
export async function buildProbeApp(deps: MetricsDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  if (deps.metrics) instrumentHttp(app, deps.metrics);
  app.addHook('onRequest', authHook(deps.accounts, new LoginThrottle(deps.config)));
  app.setErrorHandler((error, request, reply) => sendError(reply, error, request));
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody(404, `no such path: ${request.method} ${request.url.split('?')[0]}`));
  });
  app.get('/health', { config: { public: true } }, async (_req, reply) => reply.type('application/json').send(JSON.stringify('ok')));
  metricsRoutes(app, deps);
  return app;
}
