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

function positiveInt(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new LadingError('BAD_INPUT', `${what} must be a positive integer, got ${String(value)}`);
  return value;
}

/** WorkerOptions with defaults applied and checked. */
interface WorkerSettings {
  workerId: string;
  handlers: Record<string, JobHandler>;
  kinds: string[];
  leaseMs: number;
  heartbeatMs: number;
  pollMs: number;
  concurrency: number;
  graceMs: number;
  log: WorkerLogger;
  stop: AbortSignal;
}

function workerSettings(options: WorkerOptions): WorkerSettings {
  const { workerId, handlers } = options;
  const kinds = [...(options.kinds ?? Object.keys(handlers))];
  const leaseMs = positiveInt(options.leaseMs ?? 30_000, 'leaseMs');
  const settings: WorkerSettings = {
    workerId,
    handlers,
    kinds,
    leaseMs,
    heartbeatMs: positiveInt(options.heartbeatMs ?? Math.max(1, Math.floor(leaseMs / 3)), 'heartbeatMs'),
    pollMs: positiveInt(options.pollMs ?? 1000, 'pollMs'),
    concurrency: positiveInt(options.concurrency ?? 1, 'concurrency'),
    graceMs: Math.max(0, options.shutdownGraceMs ?? 10_000),
    log: options.logger ?? stderrLogger,
    stop: options.signal ?? new AbortController().signal,
  };
  if (!workerId) throw new LadingError('BAD_INPUT', 'workerId is required');
  if (kinds.length === 0) throw new LadingError('BAD_INPUT', 'a worker needs at least one job kind');
  for (const k of kinds) {
    if (typeof handlers[k] !== 'function') throw new LadingError('BAD_INPUT', `no handler for job kind "${k}"`);
  }
  return settings;
}

type Outcome = { ok: true; result: unknown } | { ok: false; error: unknown };

/**
 * One claimed job while its handler runs: the heartbeat timer, the abort signal handed to the
 * handler (stop or lost lease), and recording the outcome, or giving the job back on shutdown.
 */
class RunningJob {
  /** Settles once the outcome is recorded (or discarded). */
  readonly done: Promise<void>;
  private readonly ac = new AbortController();
  private readonly fields: Record<string, unknown>;
  private readonly timer: NodeJS.Timeout;
  private finished = false;
  private abandoned = false;
  private lost = false;
  private lastBeat: number;
  private beating: Promise<boolean> | undefined;

  constructor(
    private readonly queue: JobQueue,
    private readonly job: Job,
    private readonly s: WorkerSettings,
    private readonly stats: WorkerStats,
    onSettled: () => void,
  ) {
    this.lastBeat = queue.now();
    this.fields = { workerId: s.workerId, jobId: job.id, kind: job.kind, attempt: job.attempts };
    if (s.stop.aborted) this.onStop();
    else s.stop.addEventListener('abort', this.onStop, { once: true });
    this.timer = setInterval(() => void this.heartbeat(), s.heartbeatMs);
    this.done = this.run().finally(onSettled);
  }

  private readonly onStop = (): void => this.ac.abort(new LadingError('INTERNAL', `worker ${this.s.workerId} is stopping`));

  private async run(): Promise<void> {
    const handler = this.s.handlers[this.job.kind];
    let outcome: Outcome;
    try {
      if (!handler) throw new PermanentJobError(`no handler for job kind "${this.job.kind}"`);
      outcome = { ok: true, result: await handler(this.job, { signal: this.ac.signal, heartbeat: this.heartbeat, workerId: this.s.workerId }) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    this.finished = true;
    clearInterval(this.timer);
    this.s.stop.removeEventListener('abort', this.onStop);
    await this.record(outcome);
  }

  private loseLease(why: string): void {
    if (this.lost || this.finished || this.abandoned) return;
    this.lost = true;
    this.stats.lost++;
    this.s.log.warn({ ...this.fields, why }, 'lease lost; the job may run elsewhere, this attempt is abandoned');
    this.ac.abort(new LadingError('INTERNAL', `lease on job ${this.job.id} lost: ${why}`));
  }

  /** Extend the lease (one request at a time); false once the lease is lost. */
  readonly heartbeat = (): Promise<boolean> => {
    if (this.lost || this.abandoned) return Promise.resolve(false);
    if (this.finished) return Promise.resolve(true);
    if (this.beating) return this.beating;
    const { leaseMs } = this.s;
    const p = this.queue.heartbeat(this.job, leaseMs).then(
      (ok) => {
        if (ok) this.lastBeat = this.queue.now();
        else this.loseLease('another claim holds it, or it was reaped after expiring');
        return ok || this.finished;
      },
      (e: unknown) => {
        this.s.log.warn({ ...this.fields, error: describeError(e) }, 'heartbeat failed');
        if (this.queue.now() - this.lastBeat >= leaseMs) {
          this.loseLease(`no heartbeat recorded for ${leaseMs} ms`);
          return false;
        }
        return true;
      },
    );
    const current: Promise<boolean> = p.finally(() => {
      if (this.beating === current) this.beating = undefined;
    });
    this.beating = current;
    return current;
  };

  private async record(outcome: Outcome): Promise<void> {
    const { log } = this.s;
    if (this.abandoned) {
      log.warn(this.fields, 'handler finished after its job was released; outcome discarded');
      return;
    }
    if (this.lost) {
      log.warn({ ...this.fields, ...(outcome.ok ? {} : { error: describeError(outcome.error) }) }, 'handler finished after losing its lease; outcome discarded');
      return;
    }
    try {
      if (outcome.ok) await this.recordSuccess(outcome.result);
      else await this.recordFailure(outcome.error);
    } catch (e) {
      log.error({ ...this.fields, error: describeError(e) }, 'could not record the job outcome; it will run again once its lease expires');
    }
  }

  private async recordSuccess(result: unknown): Promise<void> {
    const { log } = this.s;
    let ok: boolean;
    try {
      ok = await this.queue.complete(this.job, result);
    } catch (e) {
      if (!(e instanceof LadingError && e.code === 'BAD_INPUT')) throw e;
      // the result cannot be stored: that is this job's failure, not the database's
      const state = await this.queue.fail(this.job, e, { retry: false });
      if (state) this.stats.failed++;
      log.error({ ...this.fields, error: describeError(e) }, 'job result rejected');
      return;
    }
    if (ok) {
      this.stats.completed++;
      log.debug(this.fields, 'job done');
    } else {
      this.stats.lost++;
      log.warn(this.fields, 'lease lost before completion; result discarded');
    }
  }

  private async recordFailure(error: unknown): Promise<void> {
    const { log } = this.s;
    const fields = { ...this.fields, error: describeError(error) };
    if (this.s.stop.aborted && !(error instanceof PermanentJobError)) {
      // most likely the handler honouring the stop signal: give the attempt back
      if (await this.queue.release(this.job)) this.stats.released++;
      log.info(fields, 'handler stopped; job released');
      return;
    }
    const state = await this.queue.fail(this.job, error, { retry: !(error instanceof PermanentJobError) });
    if (state === 'queued') {
      this.stats.retried++;
      log.warn(fields, 'job attempt failed; will retry');
    } else if (state === 'failed') {
      this.stats.failed++;
      log.error(fields, 'job failed');
    } else {
      this.stats.lost++;
      log.warn(fields, 'lease lost before the failure was recorded');
    }
  }

  /** Give the job back (shutdown grace period over); a late outcome is then discarded. */
  async abandon(): Promise<void> {
    if (this.finished || this.abandoned) return;
    this.abandoned = true;
    clearInterval(this.timer);
    this.s.stop.removeEventListener('abort', this.onStop);
    try {
      if (await this.queue.release(this.job)) this.stats.released++;
      this.s.log.warn(this.fields, 'handler still running after the shutdown grace period; job released');
    } catch (e) {
      this.s.log.error({ ...this.fields, error: describeError(e) }, 'could not release the job; it will run again once its lease expires');
    }
  }
}

/** The claim loop's sleep: ends early when woken (a job settled, or abort). */
class Pause {
  private wakeUp: () => void = () => {};

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = () => {};
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  readonly wake = (): void => this.wakeUp();
}

/** Runs until `signal` aborts and every job is finished or released; resolves with what it did. */
export async function runWorker(queue: JobQueue, options: WorkerOptions): Promise<WorkerStats> {
  const s = workerSettings(options);
  const stats: WorkerStats = { claimed: 0, completed: 0, retried: 0, failed: 0, released: 0, lost: 0 };
  const active = new Map<number, RunningJob>();
  const pause = new Pause();
  s.stop.addEventListener('abort', pause.wake, { once: true });
  s.log.info({ workerId: s.workerId, kinds: s.kinds, concurrency: s.concurrency, leaseMs: s.leaseMs }, 'worker started');
  await claimLoop(queue, s, stats, active, pause);
  s.stop.removeEventListener('abort', pause.wake);
  await finishRunning(s, active);
  s.log.info({ workerId: s.workerId, ...stats }, 'worker stopped');
  return stats;
}

/** Claim and start jobs until abort, at most `concurrency` at once; database errors back off. */
async function claimLoop(queue: JobQueue, s: WorkerSettings, stats: WorkerStats, active: Map<number, RunningJob>, pause: Pause): Promise<void> {
  const { workerId, log, stop } = s;
  let dbFailures = 0;
  while (!stop.aborted) {
    if (active.size >= s.concurrency) {
      await pause.sleep(s.pollMs);
      continue;
    }
    let job: Job | undefined;
    try {
      job = await queue.claim(workerId, s.kinds, s.leaseMs);
      dbFailures = 0;
    } catch (e) {
      dbFailures++;
      const delay = Math.min(s.pollMs * 2 ** Math.min(dbFailures - 1, 10), 30_000);
      log.error({ workerId, error: describeError(e), retryInMs: delay }, 'claiming failed');
      await pause.sleep(delay);
      continue;
    }
    if (!job) {
      await pause.sleep(s.pollMs);
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
    const id = job.id;
    active.set(id, new RunningJob(queue, job, s, stats, () => {
      active.delete(id);
      pause.wake();
    }));
  }
}

/** After abort: let running handlers finish within the grace period, then give back the rest. */
async function finishRunning(s: WorkerSettings, active: Map<number, RunningJob>): Promise<void> {
  if (active.size === 0) return;
  s.log.info({ workerId: s.workerId, running: active.size, graceMs: s.graceMs }, 'worker stopping; waiting for running jobs');
  let graceTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled([...active.values()].map((r) => r.done)),
    new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, s.graceMs))),
  ]);
  clearTimeout(graceTimer);
  await Promise.all([...active.values()].map((r) => r.abandon()));
}
