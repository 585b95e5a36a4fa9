/**
 * Durable webhook notifications. `notify(account, type, subscriptionKey, payload)` stores a
 * notification (migration 0010) addressed to the destinations configured for its type at that
 * moment; `deliverDue()` (run every cycle_timers.notifications by `startDeliveryCycle`) POSTs
 * Anchore's envelope (notify/envelope.ts) to each destination still owed it, logs every POST, and
 * retries with exponential backoff (capped) until the deadline (created + webhooks.retry_deadline),
 * after which the notification is `failed`. A destination that answered 2xx is not posted again.
 *
 * Claiming is one UPDATE of due rows that sets a lease (owner, until) and counts the attempt; on
 * PostgreSQL the rows are selected FOR UPDATE SKIP LOCKED, on SQLite the write lock makes the
 * statement atomic. So any number of processes may deliver, each attempt happens once, and a
 * process that dies mid-delivery leaves a lease that expires: another process takes the
 * notification over. Notifications live in the database, so a restart loses none.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely, Selectable } from 'kysely';
import { NOTIFICATION_TYPES, type NotificationType } from '../config/schema.js';
import { LadingError, describeError } from '../errors.js';
import type { AccountStore } from '../store/accounts.js';
import { destinationOf, envelope, substitute, targetsFor, testNotification, withoutCredentials, type TargetName, type WebhooksConfig } from './notify/envelope.js';
import { postWebhook } from './notify/post.js';
import { OutboundGuard } from '../image/registry/guard.js';
import type { Database, NotificationDeliveriesTable, NotificationsTable } from '../store/schema.js';
import { NotificationRows } from '../store/notifications.js';

export const NOTIFICATION_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];
/** Where POST /system/webhooks/{webhook_type}/test may send: the general destination or a type's. */
export const WEBHOOK_TARGETS: readonly TargetName[] = ['general', ...NOTIFICATION_TYPES];




type Row = Selectable<NotificationsTable>;

export interface Notification {
  id: string;
  account: string;
  type: NotificationType;
  subscriptionKey: string;
  payload: Record<string, unknown>;
  /** Destinations still owed it. */
  targets: TargetName[];
  test: boolean;
  status: NotificationStatus;
  attempts: number;
  nextAttemptAt: string;
  deadline: string;
  lastError?: string;
  createdAt: string;
  lastUpdated: string;
}

export interface DeliveryAttempt {
  attempt: number;
  target: TargetName;
  /** Without credentials; undefined when the configured URL was unusable. */
  url?: string;
  statusCode?: number;
  error?: string;
  durationMs: number;
  at: string;
}

export interface DeliverySummary {
  /** Notifications attempted. */
  attempted: number;
  delivered: number;
  failed: number;
  /** Still pending, with a later attempt scheduled. */
  retrying: number;
}

export interface ListFilter {
  status?: NotificationStatus;
  type?: NotificationType;
  /** 1-based. */
  page?: number;
  limit?: number;
}

export interface NotifierDatabase {
  kysely: Kysely<Database>;
  dialect: 'sqlite' | 'postgres';
}

export interface NotifierOptions {
  /** The notification rows' store (the composition root's); default one over the database. */
  rows?: NotificationRows;
  /** ms since the epoch; default Date.now. */
  clock?: () => number;
  /** Delay after the first failed attempt, doubling per attempt, at most capMs. Default 10 s, 15 min. */
  backoff?: { baseMs?: number; capMs?: number };
  /** Notifications claimed at once. Default 50. */
  batchSize?: number;
  /** This deliverer's name in leases; default host:pid:random. */
  owner?: string;
  /**
   * The service's outbound guard (image/registry/guard.ts; webhooks.allow_private_targets is applied
   * on top). Default: only link-local and metadata addresses refused (unless allow_private_targets).
   */
  guard?: OutboundGuard;
}

const MAX_ERROR_CHARS = 2000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function clip(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}

function toNotification(r: Row): Notification {
  return {
    id: r.id,
    account: r.account,
    type: r.type as NotificationType,
    subscriptionKey: r.subscription_key,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    targets: JSON.parse(r.targets) as TargetName[],
    test: Number(r.test) === 1,
    status: r.status as NotificationStatus,
    attempts: Number(r.attempts),
    nextAttemptAt: r.next_attempt_at,
    deadline: r.deadline,
    ...(r.last_error !== null ? { lastError: r.last_error } : {}),
    createdAt: r.created_at,
    lastUpdated: r.last_updated,
  };
}

function toAttempt(r: Selectable<NotificationDeliveriesTable>): DeliveryAttempt {
  return {
    attempt: Number(r.attempt),
    target: r.target as TargetName,
    ...(r.url !== null ? { url: r.url } : {}),
    ...(r.status_code !== null ? { statusCode: Number(r.status_code) } : {}),
    ...(r.error !== null ? { error: r.error } : {}),
    durationMs: Number(r.duration_ms),
    at: r.at,
  };
}

function requireType(type: string): NotificationType {
  if (!(NOTIFICATION_TYPES as readonly string[]).includes(type)) {
    throw new LadingError('BAD_INPUT', `unknown notification type ${JSON.stringify(type)} (expected one of ${NOTIFICATION_TYPES.join(', ')})`);
  }
  return type as NotificationType;
}

export class Notifier {
  private readonly rows: NotificationRows;
  private readonly clock: () => number;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly batchSize: number;
  private readonly owner: string;
  private readonly guard: OutboundGuard;

  constructor(database: NotifierDatabase, private readonly webhooks: WebhooksConfig, private readonly accounts: Pick<AccountStore, 'getAccount'>, options: NotifierOptions = {}) {
    this.rows = options.rows ?? new NotificationRows(database.kysely, database.dialect);
    this.clock = options.clock ?? Date.now;
    this.baseMs = options.backoff?.baseMs ?? 10_000;
    this.capMs = options.backoff?.capMs ?? 900_000;
    this.batchSize = options.batchSize ?? 50;
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const policy = options.guard?.policy ?? { allow: [], deny: [], allowLoopback: true, allowPrivate: true };
    this.guard = new OutboundGuard({ ...policy, allowLinkLocal: webhooks.allow_private_targets });
  }

  /** What watchers and events call: store a notification for delivery (through `db`: a caller's transaction). Same as enqueue. */
  async notify(account: string, type: NotificationType, subscriptionKey: string, payload: Record<string, unknown>, db?: Kysely<Database>): Promise<Notification | undefined> {
    return this.enqueue(account, type, subscriptionKey, payload, db ? { db } : {});
  }

  /**
   * Store a notification for the destinations configured for its type. Returns undefined (and
   * stores nothing) when no destination is configured, as Anchore dropped such notifications.
   * `retryDeadlineSeconds` overrides webhooks.retry_deadline; `db` stores it in a caller's transaction.
   */
  async enqueue(account: string, type: NotificationType, subscriptionKey: string, payload: Record<string, unknown>,
    options: { retryDeadlineSeconds?: number; db?: Kysely<Database> } = {}): Promise<Notification | undefined> {
    requireType(type);
    const targets = targetsFor(this.webhooks, type);
    if (targets.length === 0) return undefined;
    const now = this.clock();
    const deadline = now + Math.round((options.retryDeadlineSeconds ?? this.webhooks.retry_deadline) * 1000);
    const row = this.newRow(account, type, subscriptionKey, payload, targets, now, deadline);
    await this.rows.insert(row, options.db);
    return toNotification(row);
  }

  /**
   * Store many notifications of one type with multi-row inserts (in `db`: a caller's
   * transaction); how many were stored (none when no destination is configured for the type).
   */
  async enqueueMany(type: NotificationType, items: readonly { account: string; subscriptionKey: string; payload: Record<string, unknown> }[], db?: Kysely<Database>): Promise<number> {
    requireType(type);
    const targets = targetsFor(this.webhooks, type);
    if (targets.length === 0 || !items.length) return 0;
    const now = this.clock();
    const deadline = now + Math.round(this.webhooks.retry_deadline * 1000);
    await this.rows.insertMany(items.map((i) => this.newRow(i.account, type, i.subscriptionKey, i.payload, targets, now, deadline)), db);
    return items.length;
  }

  /**
   * Send a synthetic notification of `notificationType` to one destination now, once (no
   * retries), as Anchore's test endpoint did (`<notification_type>` in the URL becomes `test`).
   */
  async sendTest(account: string, target: TargetName, notificationType: NotificationType): Promise<{ notification: Notification; attempts: DeliveryAttempt[] }> {
    requireType(notificationType);
    if (!destinationOf(this.webhooks, target)) throw new LadingError('BAD_INPUT', `no webhook is configured for type=${target} (set ${target === 'general' ? 'webhooks.url' : `webhooks.types.${target}.url`})`);
    const now = this.clock();
    const { subscriptionKey, payload } = testNotification(notificationType, account, iso(now));
    const row: Row = {
      ...this.newRow(account, notificationType, subscriptionKey, payload, [target], now, now),
      test: 1,
      attempts: 1,
      lease_owner: this.owner,
      lease_until: iso(now + this.leaseMs()),
    };
    await this.rows.insert(row);
    await this.deliverClaimed(row);
    const stored = await this.get(account, row.id);
    if (!stored) throw new LadingError('INTERNAL', `test notification ${row.id} vanished`);
    return stored;
  }

  /** Claim and deliver every due notification (in batches); what happened. */
  async deliverDue(): Promise<DeliverySummary> {
    const summary: DeliverySummary = { attempted: 0, delivered: 0, failed: 0, retrying: 0 };
    // Bounded, so a crowd of instantly-due retries cannot keep one call going forever.
    for (let round = 0; round < 20; round++) {
      const rows = await this.claim();
      const outcomes = await Promise.all(rows.map((r) => this.deliverClaimed(r)));
      for (const o of outcomes) {
        summary.attempted++;
        if (o === 'delivered') summary.delivered++;
        else if (o === 'failed') summary.failed++;
        else if (o === 'pending') summary.retrying++;
      }
      if (rows.length < this.batchSize) break;
    }
    return summary;
  }

  /** One of the account's notifications with its delivery log (oldest attempt first). */
  async get(account: string, id: string): Promise<{ notification: Notification; attempts: DeliveryAttempt[] } | undefined> {
    const found = await this.rows.get(account, id);
    return found && { notification: toNotification(found.row), attempts: found.log.map(toAttempt) };
  }

  /** Every delivery attempt (all accounts), counted by notification type and outcome: a 2xx answer (`success`), another status (`http_error`) or none (`error`). */
  async deliveryOutcomes(): Promise<{ type: string; outcome: string; n: number }[]> {
    return this.rows.deliveryOutcomes();
  }

  /** The account's notifications, newest first; one page and whether another follows. */
  async list(account: string, filter: ListFilter = {}): Promise<{ items: Notification[]; nextPage: boolean }> {
    const limit = filter.limit ?? 100;
    const page = filter.page ?? 1;
    const rows = await this.rows.list(account, filter, limit, (page - 1) * limit);
    return { items: rows.slice(0, limit).map(toNotification), nextPage: rows.length > limit };
  }

  /**
   * The envelope, with `tries` attempts made before it: by default as last sent (delivered or
   * failed) or as it will next be sent (pending).
   */
  async envelopeOf(n: Notification, tries = n.status === 'pending' ? n.attempts : Math.max(0, n.attempts - 1)): Promise<Record<string, unknown>> {
    const email = (await this.accounts.getAccount(n.account))?.email ?? null;
    return envelope({
      id: n.id,
      account: n.account,
      email,
      type: n.type,
      subscriptionKey: n.subscriptionKey,
      payload: n.payload,
      createdAt: n.createdAt,
      lastUpdated: n.lastUpdated,
      tries,
      deadline: n.deadline,
    });
  }

  private newRow(account: string, type: NotificationType, subscriptionKey: string, payload: Record<string, unknown>, targets: TargetName[], now: number, deadline: number): Row {
    let payloadText: string;
    try {
      payloadText = JSON.stringify(payload ?? {});
    } catch (e) {
      throw new LadingError('BAD_INPUT', `notification payload cannot be stored as JSON: ${describeError(e)}`, { cause: e });
    }
    return {
      id: randomUUID(),
      account,
      type,
      subscription_key: subscriptionKey,
      payload: payloadText,
      targets: JSON.stringify(targets),
      test: 0,
      status: 'pending',
      attempts: 0,
      next_attempt_at: iso(now),
      deadline: iso(deadline),
      lease_owner: null,
      lease_until: null,
      last_error: null,
      created_at: iso(now),
      last_updated: iso(now),
    };
  }

  /** Long enough for every destination to time out, with a margin. */
  private leaseMs(): number {
    return Math.round(this.webhooks.timeout * 1000) * 2 + 30_000;
  }

  private async claim(): Promise<Row[]> {
    const now = this.clock();
    return this.rows.claim(this.owner, iso(now), iso(now + this.leaseMs()), this.batchSize);
  }

  /** POST to every destination still owed the notification, log each, and record the outcome (if the lease still holds). */
  private async deliverClaimed(row: Row): Promise<NotificationStatus | undefined> {
    const n = toNotification(row);
    const body = JSON.stringify(await this.envelopeOf(n, n.attempts - 1));
    const results = await Promise.all(n.targets.map((t) => this.postTo(n, t, body)));
    const now = this.clock();
    const failedTargets = results.filter((r) => r.statusCode === undefined || r.statusCode < 200 || r.statusCode > 299);
    const lastError = failedTargets.map((r) => `${r.target}: ${r.error ?? `HTTP ${r.statusCode}`}`).join('; ');
    let status: NotificationStatus = 'pending';
    let next = row.next_attempt_at;
    if (failedTargets.length === 0) status = 'delivered';
    else if (now >= Date.parse(row.deadline)) status = 'failed';
    else {
      const delay = Math.min(this.capMs, this.baseMs * 2 ** Math.min(Math.max(n.attempts - 1, 0), 40));
      next = iso(Math.min(now + delay, Date.parse(row.deadline)));
    }
    const update = { status, targets: JSON.stringify(failedTargets.map((r) => r.target)), next_attempt_at: next, last_error: lastError ? clip(lastError) : null, last_updated: iso(now) };
    const deliveries = results.map((r) => ({
      notification_id: row.id, attempt: n.attempts, target: r.target, url: r.url ?? null, status_code: r.statusCode ?? null,
      error: r.error ? clip(r.error) : null, duration_ms: r.durationMs, at: r.at,
    }));
    // The lease expired and another deliverer took over: its attempt is the one that counts,
    // but what this one sent is still logged.
    const held = await this.rows.record(row.id, this.owner, n.attempts, update, deliveries);
    return held ? status : undefined;
  }

  private async postTo(n: Notification, target: TargetName, body: string): Promise<DeliveryAttempt> {
    const started = this.clock();
    const at = iso(started);
    const elapsed = () => Math.max(0, this.clock() - started);
    const dest = destinationOf(this.webhooks, target);
    if (!dest) return { attempt: n.attempts, target, error: `no webhook URL is configured for ${target} any more`, durationMs: 0, at };
    let url: URL;
    try {
      url = new URL(substitute(dest.url, n.account, n.test ? 'test' : n.type));
    } catch {
      return { attempt: n.attempts, target, error: `the configured URL of ${target} is not a valid URL once its placeholders are replaced`, durationMs: 0, at };
    }
    let auth = dest.auth;
    if (!auth && (url.username || url.password)) auth = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    const result = await postWebhook({
      url: new URL(withoutCredentials(url)),
      body,
      ...(auth ? { auth } : {}),
      verifyTls: dest.verifyTls,
      timeoutMs: Math.round(this.webhooks.timeout * 1000),
      guard: this.guard,
    });
    return { attempt: n.attempts, target, url: withoutCredentials(url), ...result, durationMs: elapsed(), at };
  }
}

/**
 * Run `deliverDue` now and then every intervalSeconds until stopped; `stop()` waits for a
 * running round. Errors (say, the database briefly away) go to onError and the cycle goes on.
 */
export function startDeliveryCycle(notifier: Pick<Notifier, 'deliverDue'>, intervalSeconds: number, onError: (e: unknown) => void = () => {}): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const round = () => {
    running = notifier.deliverDue().then(() => {}, onError).finally(() => {
      if (!stopped) timer = setTimeout(round, Math.max(1, intervalSeconds * 1000));
    });
  };
  round();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
