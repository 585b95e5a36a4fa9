/**
 * `/`, `/health`, `/version` (no authentication), `/status`, `/system`, `/system/status`,
 * `/system/feeds` (GET, and POST to sync now), `/system/policy_spec` (the gates), `/system/error_codes`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../errors.js';
import { policySpec } from '../../policy/index.js';
import { VERSION } from '../../version.js';
import { latestSchema } from '../../store/migrate.js';
import type { ApiDeps } from '../app.js';
import { accountOf, userOf } from '../context.js';
import { isoZ } from '../views.js';
import { ApiError } from '../errors.js';
import { ADMIN_ACCOUNT } from '../../store/accounts.js';
import { anchoreSyncResults, lastReport, type FeedSyncReport } from '../../services/feeds.js';
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

/** POST /system/feeds: sync now and answer with the results (admin only; a sync already running is a 409). */
async function syncFeedsNow(deps: ApiDeps, req: FastifyRequest) {
  const account = await accountOf(req, deps, 'write');
  if (account !== ADMIN_ACCOUNT || userOf(req).accountType !== 'admin') throw new ApiError(403, 'only the admin account can sync feeds');
  const q = req.query as Record<string, unknown>;
  if (q.flush === 'true' || q.flush === 'True') throw new ApiError(400, 'flush is not supported: each sync replaces or updates a source\'s data as its feed says');
  if (!deps.feedSync || !deps.cycles) throw new ApiError(409, 'feed sync is disabled in this service\'s configuration (feeds.enabled: false); load data with `lading db import`');
  let report: FeedSyncReport | undefined;
  const spec = deps.feedSync;
  const outcome = await deps.cycles.runNow({
    ...spec,
    run: async (signal) => {
      const summary = await spec.run(signal);
      report = lastReport(spec);
      return summary;
    },
  });
  if (!outcome) {
    const state = (await deps.cycles.states()).find((c) => c.name === spec.name);
    throw new ApiError(409, `a feed sync is already running (started ${isoZ(state?.lastStarted) ?? 'recently'} by ${state?.leaseOwner ?? 'another process'})`);
  }
  if (outcome.status === 'failed' && !report) throw new ApiError(502, `feed sync failed: ${outcome.error}`);
  return report ? anchoreSyncResults(report) : [];
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
  app.get('/system/feeds', async (req) => {
    await accountOf(req, deps, 'read');
    const sources = await deps.vulndb.status();
    // last_sync is the last successful sync or import (a failed attempt is last_attempt, with its error).
    return sources.map((s) => ({
      name: s.source,
      created_at: isoZ(s.lastSuccess),
      updated_at: isoZ(s.lastSync),
      last_full_sync: isoZ(s.lastSuccess),
      enabled: true,
      groups: [{
        name: s.source, created_at: isoZ(s.lastSuccess), last_sync: isoZ(s.lastSuccess), record_count: s.records, enabled: true,
        status: s.status, kind: s.kind ?? null, last_attempt: isoZ(s.lastSync), last_error: s.error ?? null,
      }],
    }));
  });

  // Anchore's POST /system/feeds: sync now (and answer with the results). One sync runs at a time
  // across every process: a sync already running is a 409, not a second one.
  app.post('/system/feeds', async (req) => syncFeedsNow(deps, req));

  app.get('/system/policy_spec', async (req) => {
    userOf(req);
    return policySpec();
  });
  app.get('/system/error_codes', async (req) => {
    userOf(req);
    return Object.entries(ERROR_CODES).map(([name, description]) => ({ name, description }));
  });
}
