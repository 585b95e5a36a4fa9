/**
 * The durable job queue: work shared through the database (the `jobs` table, migration
 * 0002-jobs), so that no two workers take the same job and a killed worker's job is taken again
 * after its lease expires. One code path for both dialects:
 *
 * - claim is ONE statement: `UPDATE jobs SET state = 'running', … WHERE id = (SELECT id … LIMIT 1)
 *   RETURNING *`. On PostgreSQL the inner select takes its row `FOR UPDATE SKIP LOCKED`, so
 *   concurrent claimers pass over each other's rows instead of waiting. On SQLite a write
 *   statement takes the database's write lock before it reads (an implicit BEGIN IMMEDIATE;
 *   other processes wait on the busy timeout), so select and update are one atomic step.
 * - a lease is (lease_owner, attempts): heartbeat, complete, fail and release change the row only
 *   while this worker still holds that lease, so a worker whose lease expired and whose job was
 *   claimed again (even by itself) cannot overwrite the newer attempt.
 * - running jobs whose lease expired are put back in the queue (or failed, after their last
 *   attempt) by `reapExpired`, which `claim` runs at most every `reapIntervalMs`; claiming one
 *   again counts an attempt. `reclaimOrphans` does the same at once for the jobs of workers known
 *   to be dead (a restarted service's crashed predecessor on the same host, queue/owners.ts).
 *
 * Times come from an injectable clock (ms since the epoch) and are stored as ISO 8601 text.
 * Leases compare the clocks of different hosts: keep them in sync (NTP) when workers span hosts.
 */
import { sql, type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { Database, JobsTable } from '../store/schema.js';
import { LadingError, describeError } from '../errors.js';

export type JobState = 'queued' | 'running' | 'done' | 'failed';
export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'done', 'failed'];
/** States in which a job's key is taken (the dedupe window). */
export const UNFINISHED_STATES: readonly JobState[] = ['queued', 'running'];

export interface Job<P = unknown> {
  id: number;
  kind: string;
  /** Dedupe key: at most one unfinished job per (kind, key). */
  key: string | null;
  payload: P;
  state: JobState;
  /** Higher runs first. */
  priority: number;
  /** Claims so far, this one included. */
  attempts: number;
  maxAttempts: number;
  /** Not claimed before this time (the backoff delay after a failure). */
  runAt: Date;
  /** The worker holding (or, once finished, that last held) the job. */
  leaseOwner: string | null;
  leaseUntil: Date | null;
  lastError: string | null;
  /** What the handler returned (undefined when nothing was stored). */
  result: unknown;
  createdAt: Date;
  updatedAt: Date;
}

export interface EnqueueOptions {
  /** Dedupe key: while a job of this kind with this key is queued or running, enqueue returns it instead. */
  key?: string;
  /** Earliest time to run (Date or ms since the epoch); default now. */
  runAt?: Date | number;
  /** Default: the queue's defaultMaxAttempts (5). */
  maxAttempts?: number;
  /** Integer; higher runs first. Default 0. */
  priority?: number;
}

export interface BackoffOptions {
  /** Delay after the first failed attempt; doubles with each attempt. Default 1 s. */
  baseMs: number;
  /** Longest delay. Default 1 h. */
  capMs: number;
  /** 0..1: the delay is reduced by up to this fraction at random, to spread retries. Default 0. */
  jitter: number;
}

export interface JobQueueOptions {
  /** ms since the epoch; default Date.now. */
  clock?: () => number;
  backoff?: Partial<BackoffOptions>;
  defaultMaxAttempts?: number;
  /** claim() looks for expired leases at most this often (by the clock). Default 1000; 0 = every claim. */
  reapIntervalMs?: number;
  /** For jitter; default Math.random. */
  random?: () => number;
}

export interface FailOptions {
  /** false: fail now whatever the attempts left. Default true. */
  retry?: boolean;
  /** Retry after this delay instead of the backoff. */
  delayMs?: number;
}

export interface ListOptions {
  state?: JobState;
  kind?: string;
  /** Default 100. */
  limit?: number;
}

export type QueueStats = Record<JobState, number>;

/** What JobQueue needs of a database handle (store/db.ts DatabaseHandle fits). */
export interface QueueDatabase {
  kysely: Kysely<Database>;
  dialect: 'sqlite' | 'postgres';
}


type JobRow = Selectable<JobsTable>;


const MAX_ERROR_CHARS = 8000;

/** The delay before retrying after `attempt` failed attempts (1-based): base·2^(attempt-1), capped, less jitter. */
export function backoffDelay(attempt: number, backoff: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(Math.max(attempt - 1, 0), 52);
  const raw = Math.min(backoff.capMs, backoff.baseMs * 2 ** exp);
  const jitter = Math.min(Math.max(backoff.jitter, 0), 1);
  return Math.max(0, Math.round(raw * (1 - jitter * random())));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function toMs(value: Date | number, what: string): number {
  const ms = value instanceof Date ? value.getTime() : value;
  // Years 0000..9999 keep the ISO text 24 characters long, so text order is time order.
  if (!Number.isFinite(ms) || ms < -62167219200000 || ms > 253402300799999) {
    throw new LadingError('BAD_INPUT', `${what} is not a valid time: ${String(value)}`);
  }
  return ms;
}

function parseJson(text: string | null, what: string): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new LadingError('INTERNAL', `stored job ${what} is not JSON: ${describeError(e)}`, { cause: e });
  }
}

function toJob<P>(row: JobRow): Job<P> {
  return {
    id: Number(row.id),
    kind: row.kind,
    key: row.key,
    payload: parseJson(row.payload, 'payload') as P,
    state: row.state as JobState,
    priority: Number(row.priority),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    runAt: new Date(row.run_at),
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until === null ? null : new Date(row.lease_until),
    lastError: row.last_error,
    result: parseJson(row.result, 'result'),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function requireInt(value: number, what: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new LadingError('BAD_INPUT', `${what} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

function requireName(value: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) throw new LadingError('BAD_INPUT', `${what} must be a non-empty string of at most 200 characters`);
  return value;
}

function serialize(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new LadingError('BAD_INPUT', `job ${what} cannot be stored as JSON: ${describeError(e)}`, { cause: e });
  }
  return text ?? 'null';
}

/** A lease-holder's error text, bounded. */
function errorText(error: unknown): string {
  const text = describeError(error) || (error instanceof Error ? error.name : 'error');
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}

export class JobQueue {
  readonly dialect: 'sqlite' | 'postgres';
  private readonly db: Kysely<Database>;
  private readonly clock: () => number;
  private readonly backoff: BackoffOptions;
  private readonly defaultMaxAttempts: number;
  private readonly reapIntervalMs: number;
  private readonly random: () => number;
  private lastReap = Number.NEGATIVE_INFINITY;

  constructor(database: QueueDatabase, options: JobQueueOptions = {}) {
    this.db = database.kysely;
    this.dialect = database.dialect;
    this.clock = options.clock ?? Date.now;
    this.backoff = { baseMs: 1000, capMs: 3_600_000, jitter: 0, ...options.backoff };
    requireInt(this.backoff.baseMs, 'backoff.baseMs', 0);
    requireInt(this.backoff.capMs, 'backoff.capMs', 0);
    this.defaultMaxAttempts = requireInt(options.defaultMaxAttempts ?? 5, 'defaultMaxAttempts', 1);
    this.reapIntervalMs = requireInt(options.reapIntervalMs ?? 1000, 'reapIntervalMs', 0);
    this.random = options.random ?? Math.random;
  }

  /** The queue's clock, for callers that schedule relative to it. */
  now(): number {
    return this.clock();
  }

  /**
   * Add a job. With a key, while a job of the same kind and key is queued or running, that job is
   * returned instead and nothing is added (its payload and options are left as they were).
   */
  async enqueue<P>(kind: string, payload: P, options: EnqueueOptions = {}): Promise<Job<P>> {
    requireName(kind, 'job kind');
    const key = options.key;
    if (key !== undefined) requireName(key, 'job key');
    const now = this.clock();
    const row = {
      kind,
      key: key ?? null,
      payload: serialize(payload, 'payload'),
      state: 'queued',
      priority: requireInt(options.priority ?? 0, 'priority', Number.MIN_SAFE_INTEGER),
      attempts: 0,
      max_attempts: requireInt(options.maxAttempts ?? this.defaultMaxAttempts, 'maxAttempts', 1),
      run_at: iso(options.runAt === undefined ? now : toMs(options.runAt, 'runAt')),
      created_at: iso(now),
      updated_at: iso(now),
    };
    if (Math.abs(row.priority) > 2 ** 31 - 1) throw new LadingError('BAD_INPUT', `priority must fit in 32 bits, got ${row.priority}`);
    if (row.max_attempts > 2 ** 31 - 1) throw new LadingError('BAD_INPUT', `maxAttempts must fit in 32 bits, got ${row.max_attempts}`);
    if (key === undefined) {
      const inserted = await this.db.insertInto('jobs').values(row).returningAll().executeTakeFirstOrThrow();
      return toJob<P>(inserted);
    }
    // Insert unless an unfinished job holds the key; then return that one. It may finish between
    // the two statements, freeing the key: then try again.
    for (let i = 0; i < 5; i++) {
      const inserted = await this.db
        .insertInto('jobs')
        .values(row)
        .onConflict((oc) => oc.columns(['kind', 'key']).where(sql<boolean>`state in ('queued', 'running')`).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return toJob<P>(inserted);
      const existing = await this.db
        .selectFrom('jobs')
        .selectAll()
        .where('kind', '=', kind)
        .where('key', '=', key)
        .where('state', 'in', UNFINISHED_STATES)
        .executeTakeFirst();
      if (existing) return toJob<P>(existing);
    }
    throw new LadingError('INTERNAL', `could not enqueue ${kind} job with key ${key}: the key kept changing hands`);
  }

  /**
   * Take the next due job of one of these kinds (highest priority, then earliest runAt, then
   * oldest) and hold it for leaseMs; undefined when none is due.
   */
  async claim(workerId: string, kinds: readonly string[], leaseMs: number): Promise<Job | undefined> {
    requireName(workerId, 'worker id');
    requireInt(leaseMs, 'leaseMs', 1);
    if (kinds.length === 0) return undefined;
    for (const k of kinds) requireName(k, 'job kind');
    const now = this.clock();
    if (now - this.lastReap >= this.reapIntervalMs) {
      this.lastReap = now;
      await this.reapExpired();
    }
    const nowText = iso(now);
    const lock = this.dialect === 'postgres' ? sql`for update skip locked` : sql``;
    const result = await sql<JobRow>`
      update jobs set
        state = 'running',
        attempts = attempts + 1,
        lease_owner = ${workerId},
        lease_until = ${iso(now + leaseMs)},
        updated_at = ${nowText}
      where id = (
        select id from jobs
        where state = 'queued' and run_at <= ${nowText} and kind in (${sql.join(kinds.map((k) => sql`${k}`))})
        order by priority desc, run_at, id
        limit 1
        ${lock}
      )
      returning *`.execute(this.db);
    const row = result.rows[0];
    return row ? toJob(row) : undefined;
  }

  /**
   * Put running jobs whose lease has expired back in the queue (their next claim counts an
   * attempt), or fail them when that was their last attempt. Returns how many were changed.
   */
  async reapExpired(): Promise<number> {
    const nowText = iso(this.clock());
    const r = await this.db
      .updateTable('jobs')
      .set((eb) => ({
        state: eb.case().when('attempts', '>=', eb.ref('max_attempts')).then('failed').else('queued').end(),
        last_error: sql<string>`'lease of ' || coalesce(lease_owner, '?') || ' expired at ' || coalesce(lease_until, '?') || ' (attempt ' || cast(attempts as text) || ')'`,
        lease_owner: null,
        lease_until: null,
        updated_at: nowText,
      }))
      .where('state', '=', 'running')
      .where('lease_until', '<', nowText)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /**
   * Take back, at once, the running jobs whose lease owner `isDead` says is gone (a crashed
   * predecessor on this host: queue/owners.ts), as reapExpired does for expired leases: queued
   * again (the crashed attempt counts), or failed after their last attempt. Returns how many.
   */
  async reclaimOrphans(isDead: (owner: string) => boolean): Promise<number> {
    const running = await this.db.selectFrom('jobs').select(['id', 'lease_owner', 'attempts']).where('state', '=', 'running').execute();
    let n = 0;
    for (const job of running) {
      if (job.lease_owner === null || !isDead(job.lease_owner)) continue;
      const r = await this.db
        .updateTable('jobs')
        .set((eb) => ({
          state: eb.case().when('attempts', '>=', eb.ref('max_attempts')).then('failed').else('queued').end(),
          last_error: `worker ${job.lease_owner} died (attempt ${Number(job.attempts)})`,
          lease_owner: null,
          lease_until: null,
          updated_at: iso(this.clock()),
        }))
        .where('id', '=', job.id)
        .where('state', '=', 'running')
        .where('lease_owner', '=', job.lease_owner)
        .where('attempts', '=', job.attempts)
        .executeTakeFirst();
      n += Number(r.numUpdatedRows);
    }
    return n;
  }

  /** Extend the lease to now + leaseMs, if this worker still holds it; false when it was lost. */
  async heartbeat(job: Job, leaseMs: number): Promise<boolean> {
    requireInt(leaseMs, 'leaseMs', 1);
    const now = this.clock();
    const until = iso(now + leaseMs);
    const ok = await this.updateHeld(job, { lease_until: until, updated_at: iso(now) });
    if (ok) job.leaseUntil = new Date(until);
    return ok;
  }

  /** Finish the job with an optional JSON result; false when the lease was lost (nothing changed). */
  async complete(job: Job, result?: unknown): Promise<boolean> {
    const stored = result === undefined ? null : serialize(result, 'result');
    const now = iso(this.clock());
    const ok = await this.updateHeld(job, { state: 'done', result: stored, lease_until: null, updated_at: now });
    if (ok) {
      job.state = 'done';
      job.result = result;
      job.leaseUntil = null;
    }
    return ok;
  }

  /**
   * Record a failed attempt. With retry (the default) and attempts left, the job is queued
   * again after the backoff delay; otherwise it is `failed`. The error is kept as last_error.
   * Returns the job's new state, or undefined when the lease was lost (nothing changed).
   */
  async fail(job: Job, error: unknown, options: FailOptions = {}): Promise<'queued' | 'failed' | undefined> {
    const now = this.clock();
    const retry = (options.retry ?? true) && job.attempts < job.maxAttempts;
    const delay = options.delayMs !== undefined ? requireInt(options.delayMs, 'delayMs', 0) : backoffDelay(job.attempts, this.backoff, this.random);
    const state = retry ? 'queued' : 'failed';
    const lastError = errorText(error);
    const ok = await this.updateHeld(job, {
      state,
      last_error: lastError,
      lease_until: null,
      updated_at: iso(now),
      ...(retry ? { run_at: iso(now + delay) } : {}),
    });
    if (!ok) return undefined;
    job.state = state;
    job.lastError = lastError;
    job.leaseUntil = null;
    if (retry) job.runAt = new Date(now + delay);
    return state;
  }

  /** Give a held job back without using up its attempt (a worker shutting down). False when the lease was lost. */
  async release(job: Job): Promise<boolean> {
    const ok = await this.updateHeld(job, {
      state: 'queued',
      attempts: job.attempts - 1,
      lease_owner: null,
      lease_until: null,
      updated_at: iso(this.clock()),
    });
    if (ok) {
      job.state = 'queued';
      job.attempts -= 1;
      job.leaseOwner = null;
      job.leaseUntil = null;
    }
    return ok;
  }

  async get(id: number): Promise<Job | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toJob(row) : undefined;
  }

  /** Newest first. */
  async list(options: ListOptions = {}): Promise<Job[]> {
    let q = this.db.selectFrom('jobs').selectAll();
    if (options.state !== undefined) q = q.where('state', '=', options.state);
    if (options.kind !== undefined) q = q.where('kind', '=', options.kind);
    const rows = await q.orderBy('id', 'desc').limit(requireInt(options.limit ?? 100, 'limit', 0)).execute();
    return rows.map((r) => toJob(r));
  }

  /** How many jobs are in each state. */
  async stats(): Promise<QueueStats> {
    const rows = await this.db.selectFrom('jobs').select((eb) => ['state', eb.fn.countAll().as('n')]).groupBy('state').execute();
    const stats: QueueStats = { queued: 0, running: 0, done: 0, failed: 0 };
    for (const r of rows) {
      if ((JOB_STATES as readonly string[]).includes(r.state)) stats[r.state as JobState] = Number(r.n);
    }
    return stats;
  }

  /** The unfinished (queued or running) jobs of a kind that have a key: key, state and lease end (ISO). */
  async unfinished(kind: string): Promise<{ key: string; state: JobState; leaseUntil: string | null }[]> {
    const rows = await this.db.selectFrom('jobs').select(['key', 'state', 'lease_until'])
      .where('kind', '=', kind).where('state', 'in', UNFINISHED_STATES).execute();
    return rows.filter((r) => r.key !== null).map((r) => ({ key: r.key!, state: r.state as JobState, leaseUntil: r.lease_until }));
  }

  /** The newest job of (kind, key), whatever its state. */
  async latest(kind: string, key: string): Promise<Job | undefined> {
    const row = await this.db.selectFrom('jobs').selectAll().where('kind', '=', kind).where('key', '=', key).orderBy('id', 'desc').limit(1).executeTakeFirst();
    return row ? toJob(row) : undefined;
  }

  /** When the longest-waiting queued job that is due at `now` (ISO) became due, ISO; undefined when none waits. */
  async oldestDue(now: string): Promise<string | undefined> {
    const r = await this.db.selectFrom('jobs').select((eb) => eb.fn.min('run_at').as('oldest'))
      .where('state', '=', 'queued').where('run_at', '<=', now).executeTakeFirst();
    return r?.oldest ? String(r.oldest) : undefined;
  }

  /**
   * A condition for another table's conditional statement (one statement, so concurrent callers
   * agree): no job of (kind, key) is in one of `states`, counting a running one only while its
   * lease lasts until at least `leaseFrom` (ISO) when that is given.
   */
  noJob(kind: string, key: string, states: readonly JobState[], leaseFrom?: string) {
    let q = this.db.selectFrom('jobs').select('id').where('kind', '=', kind).where('key', '=', key).where('state', 'in', states);
    if (leaseFrom !== undefined) q = q.where('lease_until', '>=', leaseFrom);
    const jobs = q;
    return <TB extends keyof Database>(eb: ExpressionBuilder<Database, TB>): Expression<SqlBool> => eb.not(eb.exists(jobs));
  }

  /** Delete finished (done and failed) jobs last changed before this time; returns how many. */
  async purge(olderThan: Date | number): Promise<number> {
    const r = await this.db
      .deleteFrom('jobs')
      .where('state', 'in', ['done', 'failed'])
      .where('updated_at', '<', iso(toMs(olderThan, 'olderThan')))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Change the row only while this claim (owner and attempt) still holds it. */
  private async updateHeld(job: Job, values: Partial<Omit<JobRow, 'id'>>): Promise<boolean> {
    if (job.leaseOwner === null) return false;
    const r = await this.db
      .updateTable('jobs')
      .set(values)
      .where('id', '=', job.id)
      .where('state', '=', 'running')
      .where('lease_owner', '=', job.leaseOwner)
      .where('attempts', '=', job.attempts)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
