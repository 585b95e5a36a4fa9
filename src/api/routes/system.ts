/**
 * `/`, `/health`, `/version` (no authentication), `/status`, `/system`, `/system/status`,
 * `/system/policy_spec` (the gates), `/system/error_codes`.
 */
import type { FastifyInstance } from 'fastify';
import type { ErrorCode } from '../../errors.js';
import { policySpec } from '../../policy/index.js';
import { VERSION } from '../../version.js';
import { latestSchema } from '../../store/migrate.js';
import type { ApiDeps } from '../app.js';
import { userOf } from '../context.js';
import { isoZ } from '../views.js';
import { ApiError } from '../errors.js';
import type { CycleState } from '../../services/cycles.js';

/** A cycle's last run, as /system shows it. */
function cycleView(c: CycleState): Record<string, unknown> {
  return {
    name: c.name, runs: c.runs, running: c.leaseOwner !== undefined, next_due: isoZ(c.nextDue),
    last_started: isoZ(c.lastStarted), last_finished: isoZ(c.lastFinished), last_status: c.lastStatus ?? null,
    last_error: c.lastError ?? null, last_summary: c.lastSummary ?? null, last_duration_ms: c.lastDurationMs ?? null, last_host: c.lastOwner ?? null,
  };
}

/** What each of Lading's error codes (errors.ts; `detail.error_code` of an error body) means. */
const ERROR_CODES: Record<ErrorCode, string> = {
  BAD_REFERENCE: 'An image reference (tag or digest) could not be parsed',
  BAD_INPUT: 'A request, file or value was invalid; the message names what is wrong',
  NOT_FOUND: 'The image, tag, blob, record or file does not exist',
  UNAUTHORIZED: 'The registry or service refused the credentials, or they are missing',
  UNSUPPORTED: 'A format, media type or feature that Lading does not support',
  DIGEST_MISMATCH: 'Content did not match the digest that names it',
  LIMIT_EXCEEDED: 'A configured size or count limit was exceeded',
  NETWORK: 'A connection failed or timed out',
  TLS: "A server's TLS certificate could not be verified (unknown authority, expired, or for another host); the message says which",
  REGISTRY: 'The registry answered with an error',
  PLATFORM_NOT_FOUND: 'The image index has no manifest for the requested platform',
  DESTINATION_DENIED: "An outbound connection (registry, webhook, feed) refused by the service's outbound rules; the message names the rule",
  INTERNAL: 'An unexpected internal error',
};

/** /status and /system/status: this process, its queue and its cycles. */
async function statusOf(deps: ApiDeps) {
  const queue = await deps.queue.stats().catch(() => undefined);
  const cycles = await deps.cycles?.states().catch(() => undefined);
  return {
    available: true,
    busy: false,
    up: true,
    message: 'all good',
    version: VERSION,
    db_version: latestSchema(),
    detail: {
      service_name: 'lading', ...(deps.service ? { roles: deps.service.roles } : {}), ...(queue ? { queue } : {}),
      ...(cycles ? { cycles: cycles.map(cycleView) } : {}),
    },
  };
}

/** Anchore's service records: every process's roles from the registry (this one alone without it). */
async function serviceStates(deps: ApiDeps, filter: { servicename?: string; hostid?: string } = {}) {
  const detail = await statusOf(deps);
  const records = deps.services ? await deps.services.list(filter) : [];
  if (!records.length && !deps.services) {
    return (deps.service?.roles ?? ['api']).map((role) => ({
      hostid: deps.service?.hostId ?? 'lading', servicename: role, base_url: 'N/A', status: true, status_message: 'available', version: VERSION, service_detail: detail,
    }));
  }
  return records.map((r) => ({
    hostid: r.hostid,
    servicename: r.servicename,
    base_url: r.baseUrl ?? 'N/A',
    status: r.up,
    status_message: r.up ? 'available' : r.stoppedAt ? 'stopped' : 'orphaned',
    version: r.version,
    last_heartbeat: isoZ(r.heartbeatAt),
    service_detail: r.up ? detail : { ...detail, up: false, available: false, message: r.stoppedAt ? 'stopped' : 'no heartbeat' },
  }));
}

export function systemRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const pub = { config: { public: true } };
  app.get('/', pub, async (req, reply) => {
    // Browsers land on the web UI (src/api/ui.ts); API clients keep Anchore's "v1".
    if ((req.headers.accept ?? '').includes('text/html')) return reply.redirect('/ui/', 302);
    return reply.type('application/json').send(JSON.stringify('v1'));
  });
  app.get('/health', pub, async (_req, reply) => reply.type('application/json').send(JSON.stringify('ok')));
  app.get('/version', pub, async () => ({ service: { version: VERSION }, api: { version: 'v1' }, db: { schema_version: latestSchema() } }));

  app.get('/status', async (req) => {
    userOf(req);
    return statusOf(deps);
  });
  app.get('/system/status', async (req) => {
    userOf(req);
    return statusOf(deps);
  });
  app.get('/system', async (req) => {
    userOf(req);
    return { service_states: await serviceStates(deps) };
  });
  app.get('/system/services', async (req) => {
    userOf(req);
    return serviceStates(deps);
  });
  app.get('/system/services/:servicename', async (req) => {
    userOf(req);
    return serviceStates(deps, { servicename: (req.params as { servicename: string }).servicename });
  });
  app.get('/system/services/:servicename/:hostid', async (req) => {
    userOf(req);
    const p = req.params as { servicename: string; hostid: string };
    return serviceStates(deps, p);
  });
  app.delete('/system/services/:servicename/:hostid', async (req) => {
    if (userOf(req).accountType !== 'admin') throw new ApiError(403, 'only the admin account can remove service records');
    const p = req.params as { servicename: string; hostid: string };
    const rec = (await deps.services?.list(p)) ?? [];
    if (!rec.length) throw new ApiError(404, `no service ${p.servicename} on host ${p.hostid}`);
    if (rec[0]!.up) throw new ApiError(409, `service ${p.servicename} on host ${p.hostid} is up (heartbeat ${isoZ(rec[0]!.heartbeatAt)}); stop it first`);
    await deps.services!.remove(p.servicename, p.hostid);
    return null;
  });
  app.get('/system/policy_spec', async (req) => {
    userOf(req);
    return policySpec();
  });
  app.get('/system/error_codes', async (req) => {
    userOf(req);
    return Object.entries(ERROR_CODES).map(([name, description]) => ({ name, description }));
  });
}
