/**
 * Webhooks: Anchore's test endpoint (`POST /system/webhooks/{webhook_type}/test`, admin only),
 * and Lading's delivery log: `GET /system/webhooks/notifications` and
 * `GET /system/webhooks/notifications/{notificationId}`, account-scoped (x-anchore-account for admins).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { NOTIFICATION_TYPES } from '../../config/schema.js';
import { requireAuthorized } from '../../store/authorize.js';
import { NOTIFICATION_STATUSES, WEBHOOK_TARGETS, type DeliveryAttempt, type Notification } from '../../services/notify.js';
import { ApiError } from '../errors.js';
import { parseInput } from '../validate.js';
import type { ApiDeps } from '../app.js';
import { accountOf, userOf } from '../context.js';
import { isoZ } from '../views.js';

const oneOf = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `expected one of ${values.join(', ')}` });
const positiveInt = (max: number) => z.string().regex(/^\d{1,9}$/, { error: 'expected a whole number' }).transform(Number)
  .refine((n) => n >= 1 && n <= max, { error: `expected a whole number from 1 to ${max}` });

const testParams = z.object({ webhook_type: oneOf(WEBHOOK_TARGETS as [string, ...string[]]) });
const testQuery = z.object({ notification_type: oneOf(NOTIFICATION_TYPES).default('tag_update') });
const listQuery = z.object({
  status: oneOf(NOTIFICATION_STATUSES).optional(),
  type: oneOf(NOTIFICATION_TYPES).optional(),
  page: positiveInt(1_000_000).optional(),
  limit: positiveInt(1000).optional(),
});
const idParams = z.object({ notificationId: z.uuid({ error: 'expected a notification id (a UUID)' }) });

function summary(n: Notification): Record<string, unknown> {
  return {
    notificationId: n.id,
    userId: n.account,
    notification_type: n.type,
    subscription_key: n.subscriptionKey,
    status: n.status,
    attempts: n.attempts,
    test: n.test,
    created_at: isoZ(n.createdAt),
    last_updated: isoZ(n.lastUpdated),
    next_attempt_at: n.status === 'pending' ? isoZ(n.nextAttemptAt) : null,
    deadline: isoZ(n.deadline),
    pending_targets: n.status === 'delivered' ? [] : n.targets,
    last_error: n.lastError ?? null,
  };
}

function attemptView(a: DeliveryAttempt): Record<string, unknown> {
  return {
    attempt: a.attempt,
    target: a.target,
    url: a.url ?? null,
    status_code: a.statusCode ?? null,
    error: a.error ?? null,
    duration_ms: a.durationMs,
    at: isoZ(a.at),
  };
}

export function webhooksRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { notifier } = deps;

  const detail = async (found: { notification: Notification; attempts: DeliveryAttempt[] }) => ({
    ...summary(found.notification),
    notification: await notifier.envelopeOf(found.notification),
    delivery_log: found.attempts.map(attemptView),
  });

  app.post('/system/webhooks/:webhook_type/test', async (req) => {
    requireAuthorized(userOf(req), 'admin');
    const { webhook_type } = parseInput(testParams, req.params, 'path parameter');
    const { notification_type } = parseInput(testQuery, req.query, 'query parameter');
    const account = await accountOf(req, deps, 'write');
    return detail(await notifier.sendTest(account, webhook_type as (typeof WEBHOOK_TARGETS)[number], notification_type));
  });

  app.get('/system/webhooks/notifications', async (req) => {
    const q = parseInput(listQuery, req.query, 'query parameter');
    const account = await accountOf(req, deps, 'read');
    const page = q.page ?? 1;
    const { items, nextPage } = await notifier.list(account, { ...q, page });
    return { results: items.map(summary), page, next_page: nextPage, item_count: items.length };
  });

  app.get('/system/webhooks/notifications/:notificationId', async (req) => {
    const { notificationId } = parseInput(idParams, req.params, 'path parameter');
    const account = await accountOf(req, deps, 'read');
    const found = await notifier.get(account, notificationId);
    if (!found) throw new ApiError(404, `notification ${notificationId} not found`);
    return detail(found);
  });
}
