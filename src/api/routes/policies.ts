/**
 * Policy bundles (services/policies.ts): GET /policies, POST /policies, GET/PUT/DELETE
 * /policies/{policyId}. Responses are Anchore's PolicyBundleRecord: the bundle itself
 * (`policybundle`) in the list only with detail=true, for one bundle unless detail=false (Anchore's
 * defaults: list_policies false, get_policy true); POST and PUT always return it. A PUT with
 * `active: true` in the record, or `?active=true`, makes it the account's one active bundle.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { LadingError } from '../../errors.js';
import { bundleRejection, type PolicyBundleRecord } from '../../store/policies.js';
import { ApiError } from '../errors.js';
import type { ApiDeps } from '../app.js';
import { accountOf } from '../context.js';
import { isoZ } from '../views.js';

/** The record Anchore's PUT takes (what GET returned, perhaps with `active` changed). */
const updateSchema = z.object({
  policyId: z.string().min(1).max(256).optional(),
  active: z.boolean().optional(),
  policybundle: z.record(z.string(), z.unknown()).optional(),
});

const policyIdSchema = z.string().min(1).max(256).regex(/^[^\s/]+$/, 'no spaces or slashes');

function policyIdOf(req: FastifyRequest): string {
  const raw = (req.params as { policyId: string }).policyId;
  const r = policyIdSchema.safeParse(raw);
  if (!r.success) throw new ApiError(400, `policyId: ${r.error.issues[0]!.message}`);
  return r.data;
}

/** A boolean query parameter: true/false (any case), 1/0; absent → `fallback`; anything else → 400. */
function boolParam(req: FastifyRequest, name: string, fallback: boolean): boolean {
  const v = (req.query as Record<string, unknown>)[name];
  if (v === undefined || v === '') return fallback;
  const s = String(v).toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw new ApiError(400, `${name}: expected true or false, not ${JSON.stringify(v)}`);
}

/** Anchore's PolicyBundleRecord. */
export function policyRecordView(r: PolicyBundleRecord, account: string, detail: boolean): Record<string, unknown> {
  return {
    policyId: r.policyId,
    active: r.active,
    userId: account,
    ...(r.name !== undefined ? { name: r.name } : {}),
    ...(r.comment !== undefined ? { comment: r.comment } : {}),
    policy_source: 'local',
    created_at: isoZ(r.createdAt),
    last_updated: isoZ(r.lastUpdated),
    policybundle: detail ? r.bundle : {},
    policybundlemeta: {},
  };
}

/** Lading's errors from the store with Anchore's statuses; a refused bundle lists its problems. */
async function storeCall<T>(fn: () => Promise<T>, bundle?: unknown): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof LadingError && e.code === 'BAD_INPUT') {
      const rejected = bundle !== undefined ? bundleRejection(bundle) : undefined;
      throw new ApiError(400, e.message, rejected ? {
        validation_details: rejected.problems.map((p) => ({ severity: p.severity, problem_type: p.type, location: p.location, details: p.message })),
      } : {});
    }
    if (e instanceof LadingError && e.code === 'NOT_FOUND') throw new ApiError(404, e.message);
    throw e;
  }
}

export function policiesRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const store = deps.policies;

  app.get('/policies', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const detail = boolParam(req, 'detail', false);
    return (await store.listBundles(account)).map((r) => policyRecordView(r, account, detail));
  });

  app.post('/policies', async (req) => {
    const account = await accountOf(req, deps, 'write');
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'invalid request body: expected a policy bundle (a JSON object)');
    const { record } = await storeCall(() => store.addBundle(account, body), body);
    return policyRecordView(record, account, true);
  });

  app.get('/policies/:policyId', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const policyId = policyIdOf(req);
    // Anchore's get_policy defaults detail to true, so a client's get-then-put keeps the bundle.
    const detail = boolParam(req, 'detail', true);
    const record = await store.getBundle(account, policyId);
    if (!record) throw new ApiError(404, `no policy bundle ${policyId}`);
    return [policyRecordView(record, account, detail)];
  });

  app.put('/policies/:policyId', async (req) => {
    const account = await accountOf(req, deps, 'write');
    const policyId = policyIdOf(req);
    const r = updateSchema.safeParse(req.body ?? {});
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new ApiError(400, `invalid request body: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
    }
    const body = r.data;
    if (body.policyId !== undefined && body.policyId !== policyId) {
      throw new ApiError(400, `policyId in the path (${policyId}) differs from policyId in the body (${body.policyId})`);
    }
    const active = boolParam(req, 'active', false) || body.active === true ? true : body.active;
    const record = await storeCall(() => store.updateBundle(account, policyId, {
      ...(body.policybundle !== undefined ? { bundle: body.policybundle } : {}),
      ...(active !== undefined ? { active } : {}),
    }), body.policybundle);
    return [policyRecordView(record, account, true)];
  });

  app.delete('/policies/:policyId', async (req) => {
    const account = await accountOf(req, deps, 'write');
    const policyId = policyIdOf(req);
    await storeCall(() => store.deleteBundle(account, policyId));
    return true;
  });
}
