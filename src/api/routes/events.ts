/**
 * Events: the taxonomy (`GET /event_types`), an account's events listed with Anchore's filters and
 * pages, one by id, and deletion by id or by time window and level.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { eventTypesList, type EventRecord } from '../../store/events.js';
import { ApiError } from '../errors.js';
import type { ApiDeps } from '../app.js';
import { accountOf } from '../context.js';
import { isoZ } from '../views.js';
import { parseInput } from '../validate.js';

const instant = z.string().min(1).transform((s, ctx) => {
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not an ISO 8601 date-time` });
    return z.NEVER;
  }
  return d.toISOString();
});
const level = z.enum(['info', 'error']);
const positiveInt = (max: number) => z.string().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().int().min(1).max(max));

const listQuery = z.object({
  source_servicename: z.string().min(1).optional(),
  source_hostid: z.string().min(1).optional(),
  event_type: z.string().min(1).max(256).optional(),
  resource_type: z.string().min(1).optional(),
  resource_id: z.string().min(1).optional(),
  level: level.optional(),
  since: instant.optional(),
  before: instant.optional(),
  page: positiveInt(1_000_000).optional(),
  limit: positiveInt(1000).optional(),
});
const deleteQuery = z.object({ since: instant.optional(), before: instant.optional(), level: level.optional() });
const idParams = z.object({ eventId: z.string().regex(/^[0-9a-f]{32}$/, 'expected an event id (32 hex digits)') });

function eventView(e: EventRecord): Record<string, unknown> {
  return {
    generated_uuid: e.generatedUuid,
    created_at: isoZ(e.createdAt),
    event: {
      type: e.type,
      level: e.level,
      message: e.message,
      details: e.details,
      timestamp: isoZ(e.timestamp),
      resource: { user_id: e.resource.userId, type: e.resource.type, id: e.resource.id },
      source: e.source,
    },
  };
}

export function eventsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const store = deps.events;

  const idOf = (req: FastifyRequest) => parseInput(idParams, req.params, 'path').eventId;

  app.get('/event_types', async (req) => {
    await accountOf(req, deps, 'read');
    return eventTypesList();
  });

  app.get('/events', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const q = parseInput(listQuery, req.query, 'query');
    const page = await store.list(account, {
      ...(q.source_servicename !== undefined ? { sourceServicename: q.source_servicename } : {}),
      ...(q.source_hostid !== undefined ? { sourceHostid: q.source_hostid } : {}),
      ...(q.event_type !== undefined ? { eventType: q.event_type } : {}),
      ...(q.resource_type !== undefined ? { resourceType: q.resource_type } : {}),
      ...(q.resource_id !== undefined ? { resourceId: q.resource_id } : {}),
      ...(q.level !== undefined ? { level: q.level } : {}),
      ...(q.since !== undefined ? { since: q.since } : {}),
      ...(q.before !== undefined ? { before: q.before } : {}),
    }, { page: q.page ?? 1, limit: q.limit ?? 100 });
    return { next_page: page.nextPage, item_count: page.results.length, page: page.page, results: page.results.map(eventView) };
  });

  app.delete('/events', async (req) => {
    const account = await accountOf(req, deps, 'write');
    const q = parseInput(deleteQuery, req.query, 'query');
    return store.deleteMatching(account, {
      ...(q.since !== undefined ? { since: q.since } : {}),
      ...(q.before !== undefined ? { before: q.before } : {}),
      ...(q.level !== undefined ? { level: q.level } : {}),
    });
  });

  app.get('/events/:eventId', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const id = idOf(req);
    const event = await store.get(account, id);
    if (!event) throw new ApiError(404, `no event ${id}`);
    return eventView(event);
  });

  app.delete('/events/:eventId', async (req, reply) => {
    const account = await accountOf(req, deps, 'write');
    const id = idOf(req);
    if (!(await store.delete(account, id))) throw new ApiError(404, `no event ${id}`);
    return reply.code(200).send();
  });
}
