/**
 * A worker loop over a JobQueue: claims due jobs of its kinds (up to `concurrency` at once),
 * runs their handlers with automatic heartbeats (every leaseMs/3), records the outcome, and on
 * abort stops claiming, lets running handlers finish within a grace period (their signals are
 * aborted at once, so cooperative handlers stop early) and gives back whatever is still running.
 *
 * It never throws because of a job: a handler's error fails the attempt (retried with backoff
 * until maxAttempts; a PermanentJobError fails the job at once), and a database error is logged
 * and the loop backs off and carries on. A job whose outcome cannot be recorded is run again
 * after its lease expires.
 */
import { LadingError, describeError } from '../errors.js';
import type { Job, JobQueue } from './queue.js';

export interface WorkerLogger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

export interface HandlerContext {
  /** Aborted when the worker stops or the job's lease is lost: stop early, the outcome is not recorded as a failure. */
  signal: AbortSignal;
  /** Extend the lease now (also done automatically); false when the lease was lost. */
  heartbeat: () => Promise<boolean>;
  workerId: string;
}

export type JobHandler = (job: Job<any>, context: HandlerContext) => Promise<unknown>;

export interface WorkerOptions {
  /** Unique per running worker (for example host:pid:n); it is the lease owner. */
  workerId: string;
  /** Kinds to claim; default every kind in handlers. Each needs a handler. */
  kinds?: readonly string[];
  handlers: Record<string, JobHandler>;
  /** Default 30 s. */
  leaseMs?: number;
  /** Heartbeat period; default leaseMs / 3. */
  heartbeatMs?: number;
  /** Sleep when no job is due. Default 1 s. */
  pollMs?: number;
  /** Jobs run at once. Default 1. */
  concurrency?: number;
  /** Abort to stop. Without it the worker runs until the process ends. */
  signal?: AbortSignal;
  /** After abort, how long running handlers may take to finish before their jobs are released. Default 10 s. */
  shutdownGraceMs?: number;
  /** Default: warnings and errors to stderr. */
  logger?: WorkerLogger;
}

export interface WorkerStats {
  claimed: number;
  completed: number;
  /** Failed attempts queued again. */
  retried: number;
  /** Jobs failed for good. */
  failed: number;
  /** Given back on shutdown. */
  released: number;
  /** Leases lost while running (the job was taken again elsewhere, or the outcome could not be recorded). */
  lost: number;
}

/** Throw this from a handler to fail the job without retrying it. */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

export const stderrLogger: WorkerLogger = {
  debug() {},
  info() {},
  warn(fields, msg) {
    process.stderr.write(`lading worker: ${msg} ${JSON.stringify(fields)}\n`);
  },
  error(fields, msg) {
    process.stderr.write(`lading worker: ${msg} ${JSON.stringify(fields)}\n`);
  },
};

interface Running {
  done: Promise<void>;
  abandon(): Promise<void>;
}

function positiveInt(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new LadingError('BAD_INPUT', `${what} must be a positive integer, got ${String(value)}`);
  return value;
}

/** Runs until `signal` aborts and every job is finished or released; resolves with what it did. */
export async function runWorker(queue: JobQueue, options: WorkerOptions): Promise<WorkerStats> {
  const { workerId, handlers } = options;
  const kinds = [...(options.kinds ?? Object.keys(handlers))];
  const leaseMs = positiveInt(options.leaseMs ?? 30_000, 'leaseMs');
  const heartbeatMs = positiveInt(options.heartbeatMs ?? Math.max(1, Math.floor(leaseMs / 3)), 'heartbeatMs');
  const pollMs = positiveInt(options.pollMs ?? 1000, 'pollMs');
  const concurrency = positiveInt(options.concurrency ?? 1, 'concurrency');
  const graceMs = Math.max(0, options.shutdownGraceMs ?? 10_000);
  const log = options.logger ?? stderrLogger;
  const stop = options.signal ?? new AbortController().signal;
  if (!workerId) throw new LadingError('BAD_INPUT', 'workerId is required');
  if (kinds.length === 0) throw new LadingError('BAD_INPUT', 'a worker needs at least one job kind');
  for (const k of kinds) {
    if (typeof handlers[k] !== 'function') throw new LadingError('BAD_INPUT', `no handler for job kind "${k}"`);
  }

  const stats: WorkerStats = { claimed: 0, completed: 0, retried: 0, failed: 0, released: 0, lost: 0 };
  const active = new Map<number, Running>();

  // One wake-up for the loop's waits: a job settling, or abort.
  let wake: () => void = () => {};
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wake = () => {};
        resolve();
      };
      const timer = setTimeout(done, ms);
      wake = done;
    });
  const onAbort = () => wake();
  stop.addEventListener('abort', onAbort, { once: true });

  const startJob = (job: Job): Running => {
    const ac = new AbortController();
    const handler = handlers[job.kind];
    let finished = false;
    let abandoned = false;
    let lost = false;
    let lastBeat = queue.now();
    let beating: Promise<boolean> | undefined;
    const fields = { workerId, jobId: job.id, kind: job.kind, attempt: job.attempts };

    const onStop = () => ac.abort(new LadingError('INTERNAL', `worker ${workerId} is stopping`));
    if (stop.aborted) onStop();
    else stop.addEventListener('abort', onStop, { once: true });

    const loseLease = (why: string) => {
      if (lost || finished || abandoned) return;
      lost = true;
      stats.lost++;
      log.warn({ ...fields, why }, 'lease lost; the job may run elsewhere, this attempt is abandoned');
      ac.abort(new LadingError('INTERNAL', `lease on job ${job.id} lost: ${why}`));
    };

    const heartbeat = (): Promise<boolean> => {
      if (lost || abandoned) return Promise.resolve(false);
      if (finished) return Promise.resolve(true);
      if (beating) return beating;
      const p = queue.heartbeat(job, leaseMs).then(
        (ok) => {
          if (ok) lastBeat = queue.now();
          else loseLease('another claim holds it, or it was reaped after expiring');
          return ok || finished;
        },
        (e: unknown) => {
          log.warn({ ...fields, error: describeError(e) }, 'heartbeat failed');
          if (queue.now() - lastBeat >= leaseMs) {
            loseLease(`no heartbeat recorded for ${leaseMs} ms`);
            return false;
          }
          return true;
        },
      );
      const current: Promise<boolean> = p.finally(() => {
        if (beating === current) beating = undefined;
      });
      beating = current;
      return current;
    };
    const timer = setInterval(() => void heartbeat(), heartbeatMs);

    const settle = () => {
      finished = true;
      clearInterval(timer);
      stop.removeEventListener('abort', onStop);
    };

    const record = async (outcome: { ok: true; result: unknown } | { ok: false; error: unknown }): Promise<void> => {
      if (abandoned) {
        log.warn(fields, 'handler finished after its job was released; outcome discarded');
        return;
      }
      if (lost) {
        log.warn({ ...fields, ...(outcome.ok ? {} : { error: describeError(outcome.error) }) }, 'handler finished after losing its lease; outcome discarded');
        return;
      }
      try {
        if (outcome.ok) {
          let ok: boolean;
          try {
            ok = await queue.complete(job, outcome.result);
          } catch (e) {
            if (!(e instanceof LadingError && e.code === 'BAD_INPUT')) throw e;
            // the result cannot be stored: that is this job's failure, not the database's
            const state = await queue.fail(job, e, { retry: false });
            if (state) stats.failed++;
            log.error({ ...fields, error: describeError(e) }, 'job result rejected');
            return;
          }
          if (ok) {
            stats.completed++;
            log.debug(fields, 'job done');
          } else {
            stats.lost++;
            log.warn(fields, 'lease lost before completion; result discarded');
          }
          return;
        }
        const error = outcome.error;
        if (stop.aborted && !(error instanceof PermanentJobError)) {
          // most likely the handler honouring the stop signal: give the attempt back
          if (await queue.release(job)) stats.released++;
          log.info({ ...fields, error: describeError(error) }, 'handler stopped; job released');
          return;
        }
        const state = await queue.fail(job, error, { retry: !(error instanceof PermanentJobError) });
        if (state === 'queued') {
          stats.retried++;
          log.warn({ ...fields, error: describeError(error) }, 'job attempt failed; will retry');
        } else if (state === 'failed') {
          stats.failed++;
          log.error({ ...fields, error: describeError(error) }, 'job failed');
        } else {
          stats.lost++;
          log.warn({ ...fields, error: describeError(error) }, 'lease lost before the failure was recorded');
        }
      } catch (e) {
        log.error({ ...fields, error: describeError(e) }, 'could not record the job outcome; it will run again once its lease expires');
      }
    };

    const done = (async () => {
      let outcome: { ok: true; result: unknown } | { ok: false; error: unknown };
      try {
        if (!handler) throw new PermanentJobError(`no handler for job kind "${job.kind}"`);
        outcome = { ok: true, result: await handler(job, { signal: ac.signal, heartbeat, workerId }) };
      } catch (error) {
        outcome = { ok: false, error };
      }
      settle();
      await record(outcome);
    })().finally(() => {
      active.delete(job.id);
      wake();
    });

    const abandon = async (): Promise<void> => {
      if (finished || abandoned) return;
      abandoned = true;
      clearInterval(timer);
      stop.removeEventListener('abort', onStop);
      try {
        if (await queue.release(job)) stats.released++;
        log.warn(fields, 'handler still running after the shutdown grace period; job released');
      } catch (e) {
        log.error({ ...fields, error: describeError(e) }, 'could not release the job; it will run again once its lease expires');
      }
    };
    return { done, abandon };
  };

  log.info({ workerId, kinds, concurrency, leaseMs }, 'worker started');
  let dbFailures = 0;
  while (!stop.aborted) {
    if (active.size >= concurrency) {
      await pause(pollMs);
      continue;
    }
    let job: Job | undefined;
    try {
      job = await queue.claim(workerId, kinds, leaseMs);
      dbFailures = 0;
    } catch (e) {
      dbFailures++;
      const delay = Math.min(pollMs * 2 ** Math.min(dbFailures - 1, 10), 30_000);
      log.error({ workerId, error: describeError(e), retryInMs: delay }, 'claiming failed');
      await pause(delay);
      continue;
    }
    if (!job) {
      await pause(pollMs);
      continue;
    }
    stats.claimed++;
    if (stop.aborted) {
      try {
        if (await queue.release(job)) stats.released++;
      } catch (e) {
        log.error({ workerId, jobId: job.id, error: describeError(e) }, 'could not release the job; it will run again once its lease expires');
      }
      break;
    }
    log.debug({ workerId, jobId: job.id, kind: job.kind, attempt: job.attempts }, 'job claimed');
    active.set(job.id, startJob(job));
  }
  stop.removeEventListener('abort', onAbort);

  if (active.size > 0) {
    log.info({ workerId, running: active.size, graceMs }, 'worker stopping; waiting for running jobs');
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...active.values()].map((r) => r.done)),
      new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(graceTimer);
    await Promise.all([...active.values()].map((r) => r.abandon()));
  }
  log.info({ workerId, ...stats }, 'worker stopped');
  return stats;
}
