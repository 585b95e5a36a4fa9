/**
 * Periodic cycles that run once across every process (feed sync, watchers, notifications,
 * re-evaluation): each cycle is a row in `service_cycles` (store/migrations/0011-cycles.ts, read and written through store/cycles.ts). A
 * process runs a cycle only after claiming it with one conditional UPDATE (due, and no live lease),
 * renews the lease while it runs, then records the outcome and the next due time. A process that
 * dies mid-run leaves a lease that expires, and another process takes the cycle over. Due times
 * live in the database, so a restart neither skips nor repeats a cycle; each is derived again from
 * the last run and the current interval, so a changed interval applies after a restart.
 */
import type { Kysely } from 'kysely';
import { describeError } from '../errors.js';
import type { Database, ServiceCyclesTable } from '../store/schema.js';
import { CycleRows } from '../store/cycles.js';

export interface CycleSpec {
  name: string;
  /** Time between the end of one run and the start of the next. */
  intervalMs: number;
  /** The work; a string it returns is kept as the run's summary. */
  run(signal: AbortSignal): Promise<string | void>;
}

export interface CycleState {
  name: string;
  leaseOwner?: string;
  leaseUntil?: string;
  nextDue: string;
  runs: number;
  lastStarted?: string;
  lastFinished?: string;
  lastOwner?: string;
  lastStatus?: 'ok' | 'failed';
  lastError?: string;
  lastSummary?: string;
  lastDurationMs?: number;
}

export interface RunOutcome {
  status: 'ok' | 'failed';
  summary?: string;
  error?: string;
  durationMs: number;
}


export interface CycleRunnerOptions {
  /** Who this process is (host:pid:role), recorded with every claim. */
  owner: string;
  /** How long a claim holds without renewal; renewed every third of it. Default 60 s. */
  leaseMs?: number;
  /** How often an idle runner looks for due cycles; default 1 s (or the shortest interval if less). */
  pollMs?: number;
  now?: () => number;
  /** Told about every failed run. */
  onError?: (name: string, error: string) => void;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class CycleRunner {
  private readonly rows: CycleRows;
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly now: () => number;

  constructor(db: Kysely<Database>, private readonly options: CycleRunnerOptions) {
    this.rows = new CycleRows(db);
    this.owner = options.owner;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Create the cycle's row if it has none (due now). Otherwise its due time is derived again from
   * its last run and this process's interval: a changed interval (config, then a restart) takes
   * effect at once, not after the run the old one scheduled. A cycle made due by trigger (its due
   * time is its last run's end, or earlier) stays due.
   */
  private async ensure(spec: Pick<CycleSpec, 'name' | 'intervalMs'>): Promise<void> {
    const { name } = spec;
    const row = await this.rows.get(name);
    if (!row) {
      await this.rows.create(name, iso(this.now()));
      return;
    }
    if (row.lease_owner !== null || row.last_finished === null || Date.parse(row.next_due) <= Date.parse(row.last_finished)) return;
    const due = iso(Date.parse(row.last_finished) + spec.intervalMs);
    if (due === row.next_due) return;
    await this.rows.moveDue(name, row.next_due, due);
  }

  /** Claim a cycle: when due (or `force`) and no live lease holds it. True if this process got it. */
  private async claim(name: string, force: boolean): Promise<boolean> {
    const now = iso(this.now());
    return this.rows.claim(name, this.owner, now, iso(this.now() + this.leaseMs), force);
  }

  /** Extend the lease; false when it was lost (another process took the cycle after it expired). */
  private async renew(name: string): Promise<boolean> {
    return this.rows.renew(name, this.owner, iso(this.now() + this.leaseMs));
  }

  private async finish(spec: CycleSpec, outcome: RunOutcome): Promise<void> {
    const now = this.now();
    await this.rows.finish(spec.name, this.owner, {
      next_due: iso(now + spec.intervalMs), last_finished: iso(now), last_status: outcome.status, last_error: outcome.error ?? null,
      last_summary: outcome.summary ?? null, last_duration_ms: outcome.durationMs,
    });
  }

  /**
   * Run a claimed cycle, renewing its lease, and record the outcome. A lost lease (another process
   * took the cycle after it expired) aborts the run's signal, as a worker abandons a job whose lease
   * it lost: the run is reported failed and its outcome is not recorded over the new owner's.
   */
  private async execute(spec: CycleSpec, signal: AbortSignal): Promise<RunOutcome> {
    const t0 = Date.now();
    const run = new AbortController();
    const stop = () => run.abort(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) stop();
    let lost = false;
    const renewal = setInterval(() => void this.renew(spec.name).then((held) => {
      if (held || lost) return;
      lost = true;
      run.abort(new Error('lease lost'));
    }).catch(() => {}), Math.max(100, Math.floor(this.leaseMs / 3)));
    let outcome: RunOutcome;
    try {
      const summary = await spec.run(run.signal);
      outcome = { status: 'ok', ...(typeof summary === 'string' ? { summary } : {}), durationMs: Date.now() - t0 };
    } catch (e) {
      outcome = { status: 'failed', error: describeError(e), durationMs: Date.now() - t0 };
    } finally {
      clearInterval(renewal);
      signal.removeEventListener('abort', stop);
    }
    if (lost) outcome = { status: 'failed', error: `lease lost: another process took cycle ${spec.name}; this run was aborted`, durationMs: outcome.durationMs };
    if (outcome.status === 'failed') this.options.onError?.(spec.name, outcome.error!);
    await this.finish(spec, outcome);
    return outcome;
  }

  /** Run a cycle now if no other process is running it; undefined when it is held elsewhere. */
  async runNow(spec: CycleSpec, signal: AbortSignal = new AbortController().signal): Promise<RunOutcome | undefined> {
    await this.ensure(spec);
    if (!(await this.claim(spec.name, true))) return undefined;
    return this.execute(spec, signal);
  }

  /** Run one pass: every due cycle this process can claim. Returns the names it ran. */
  async tick(specs: readonly CycleSpec[], signal: AbortSignal): Promise<string[]> {
    const ran: string[] = [];
    for (const spec of specs) {
      if (signal.aborted) break;
      await this.ensure(spec);
      if (await this.claim(spec.name, false)) {
        await this.execute(spec, signal);
        ran.push(spec.name);
      }
    }
    return ran;
  }

  /** Loop until `signal` aborts, running due cycles. */
  async loop(specs: readonly CycleSpec[], signal: AbortSignal): Promise<void> {
    if (!specs.length) return;
    const poll = this.options.pollMs ?? Math.min(1000, ...specs.map((s) => s.intervalMs));
    while (!signal.aborted) {
      try {
        await this.tick(specs, signal);
      } catch (e) {
        // A database hiccup: try again next poll.
        this.options.onError?.('cycles', describeError(e));
      }
      await sleep(poll, signal);
    }
  }

  /** Every cycle's state (for /system). */
  async states(): Promise<CycleState[]> {
    const rows = await this.rows.all();
    return rows.map(toState);
  }

  /** Make a cycle due now (the next poll of any process runs it): due at its last run's end, or now if it never ran. */
  async trigger(name: string): Promise<void> {
    await this.ensure({ name, intervalMs: 0 });
    const row = await this.rows.get(name);
    const last = row?.last_finished ? Date.parse(row.last_finished) : Number.NaN;
    await this.rows.setDue(name, iso(Number.isNaN(last) ? this.now() : Math.min(last, this.now())));
  }
}

function toState(r: ServiceCyclesTable): CycleState {
  const opt = <K extends string, V>(k: K, v: V | null): { [P in K]?: V } => (v === null ? {} : { [k]: v }) as { [P in K]?: V };
  return {
    name: r.name, nextDue: r.next_due, runs: Number(r.runs),
    ...opt('leaseOwner', r.lease_owner), ...opt('leaseUntil', r.lease_until), ...opt('lastStarted', r.last_started),
    ...opt('lastFinished', r.last_finished), ...opt('lastOwner', r.last_owner),
    ...opt('lastStatus', r.last_status as 'ok' | 'failed' | null), ...opt('lastError', r.last_error), ...opt('lastSummary', r.last_summary),
    ...opt('lastDurationMs', r.last_duration_ms === null ? null : Number(r.last_duration_ms)),
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
