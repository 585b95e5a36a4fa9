/**
 * `/`, `/health`, `/version` (no authentication), `/status`, `/system`, `/system/status`,
 * `/system/feeds`, `/system/policy_spec` (the gates), `/system/error_codes`.
 */
import type { FastifyInstance } from 'fastify';
import type { ErrorCode } from '../../errors.js';
import { policySpec } from '../../policy/index.js';
import { VERSION } from '../../version.js';
import { latestSchema } from '../../store/migrate.js';
import type { ApiDeps } from '../app.js';
import { accountOf, userOf } from '../app.js';
import { isoZ } from '../views.js';

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
  REGISTRY: 'The registry answered with an error',
  PLATFORM_NOT_FOUND: 'The image index has no manifest for the requested platform',
  INTERNAL: 'An unexpected internal error',
};

export function systemRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const pub = { config: { public: true } };
  app.get('/', pub, async (_req, reply) => reply.type('application/json').send(JSON.stringify('v1')));
  app.get('/health', pub, async (_req, reply) => reply.type('application/json').send(JSON.stringify('ok')));
  app.get('/version', pub, async () => ({ service: { version: VERSION }, api: { version: 'v1' }, db: { schema_version: latestSchema() } }));

  const status = async () => {
    const queue = await deps.queue.stats().catch(() => undefined);
    return {
      available: true,
      busy: false,
      up: true,
      message: 'all good',
      version: VERSION,
      db_version: latestSchema(),
      detail: { service_name: 'lading', ...(deps.service ? { roles: deps.service.roles } : {}), ...(queue ? { queue } : {}) },
    };
  };
  app.get('/status', async (req) => {
    userOf(req);
    return status();
  });
  app.get('/system/status', async (req) => {
    userOf(req);
    return status();
  });
  app.get('/system', async (req) => {
    userOf(req);
    const s = await status();
    const host = deps.service?.hostId ?? 'lading';
    return {
      service_states: (deps.service?.roles ?? ['api']).map((role) => ({
        hostid: host,
        servicename: role,
        base_url: 'N/A',
        status: true,
        status_message: 'available',
        version: VERSION,
        service_detail: s,
      })),
    };
  });
  app.get('/system/feeds', async (req) => {
    await accountOf(req, deps, 'read');
    const sources = await deps.vulndb.status();
    return sources.map((s) => ({
      name: s.source,
      created_at: isoZ(s.lastSuccess),
      updated_at: isoZ(s.lastSync),
      last_full_sync: isoZ(s.lastSuccess),
      enabled: true,
      groups: [{ name: s.source, created_at: isoZ(s.lastSuccess), last_sync: isoZ(s.lastSync), record_count: s.records, enabled: true }],
    }));
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
