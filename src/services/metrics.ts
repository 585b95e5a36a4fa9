/**
 * Prometheus metrics of one service process, in a registry of its own (never prom-client's
 * global one: tests run several services in one process), and the readiness check.
 *
 * - Cluster-wide values are read from the database when scraped (collect callbacks): images by
 *   analysis status, queue jobs by state and the oldest waiting job, feed age per source, webhook
 *   deliveries by type and outcome. One scrape runs one snapshot (its queries in parallel, under a
 *   timeout); when it fails, those metrics are left out and lading_database_up is 0.
 * - Process-local values are observed as they happen: HTTP requests (by route template), analysis
 *   durations (in the process that ran them), Node.js process metrics, the build.
 */
import { sql } from 'kysely';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobQueue, QueueStats } from '../queue/queue.js';
import type { VulnDb } from '../feeds/vulndb.js';
import type { DatabaseHandle } from '../store/db.js';
import { knownSchemas, latestSchema } from '../store/migrate.js';
import { ANALYSIS_STATUSES, type CatalogStore } from '../store/catalog.js';
import type { Notifier } from './notify.js';
import { describeError } from '../errors.js';
import { VERSION } from '../version.js';

/** The route label of a request that matched no route. */
export const UNMATCHED_ROUTE = '<unmatched>';

/** How a webhook POST ended: a 2xx answer, another HTTP status, or no answer (network, bad URL). */
export const DELIVERY_OUTCOMES = ['success', 'http_error', 'error'] as const;

export interface MetricsSources {
  catalog: CatalogStore;
  queue: JobQueue;
  vulndb: VulnDb;
  notifier: Notifier;
}

export interface MetricsOptions {
  /** Longest a scrape waits for the database; default 5 s. */
  dbTimeoutMs?: number;
  /** ms since the epoch; default Date.now. */
  clock?: () => number;
}

interface Snapshot {
  images: Map<string, number>;
  queue: QueueStats;
  oldestWaitSeconds: number;
  feeds: { source: string; lastSuccess: number }[];
  deliveries: { type: string; outcome: string; n: number }[];
}

/** `promise`, or a rejection naming `what` once `ms` have passed. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route'>;
  private readonly analysisDuration: Histogram<'outcome'>;
  private readonly dbTimeoutMs: number;
  private readonly clock: () => number;
  /** The snapshot of the scrape under way, shared by every collect callback of that scrape. */
  private pending: Promise<Snapshot | undefined> | undefined;

  constructor(private readonly sources: MetricsSources, options: MetricsOptions = {}) {
    this.dbTimeoutMs = options.dbTimeoutMs ?? 5000;
    this.clock = options.clock ?? Date.now;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: 'lading_build_info', help: 'Always 1; the version of this process', labelNames: ['version'], registers }).set({ version: VERSION }, 1);

    this.httpRequests = new Counter({ name: 'lading_http_requests_total', help: 'HTTP requests answered by this process, by route template and status', labelNames: ['method', 'route', 'status'], registers });
    this.httpDuration = new Histogram({ name: 'lading_http_request_duration_seconds', help: 'Time to answer an HTTP request, by route template', labelNames: ['method', 'route'], registers });
    this.analysisDuration = new Histogram({
      name: 'lading_analysis_duration_seconds',
      help: 'Time from starting an image analysis to storing its outcome, in this process',
      labelNames: ['outcome'],
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });

    // Cluster-wide, from the database at scrape time.
    const snapshot = () => this.snapshot();
    new Gauge({
      name: 'lading_database_up', help: '1 when this scrape\'s database queries succeeded, else 0 (and the database-derived metrics are left out)', registers,
      async collect() {
        this.set((await snapshot()) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'lading_images', help: 'Images in the catalog (every account), by analysis status', labelNames: ['analysis_status'], registers,
      async collect() {
        this.reset();
        const s = await snapshot();
        if (s) for (const status of ANALYSIS_STATUSES) this.set({ analysis_status: status }, s.images.get(status) ?? 0);
      },
    });
    new Gauge({
      name: 'lading_queue_jobs', help: 'Jobs in the durable queue, by state', labelNames: ['state'], registers,
      async collect() {
        this.reset();
        const s = await snapshot();
        if (s) for (const [state, n] of Object.entries(s.queue)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'lading_queue_oldest_job_age_seconds', help: 'How long the oldest queued job that is due has waited to be claimed (0 when none waits)', registers,
      async collect() {
        this.reset();
        const s = await snapshot();
        if (s) this.set(s.oldestWaitSeconds);
      },
    });
    new Gauge({
      name: 'lading_feed_last_sync_timestamp_seconds', help: 'When the last successful sync or import of a vulnerability source started (Unix time)', labelNames: ['source'], registers,
      async collect() {
        this.reset();
        const s = await snapshot();
        for (const f of s?.feeds ?? []) this.set({ source: f.source }, f.lastSuccess / 1000);
      },
    });
    const clock = this.clock;
    new Gauge({
      name: 'lading_feed_age_seconds', help: 'Seconds since the last successful sync or import of a vulnerability source started', labelNames: ['source'], registers,
      async collect() {
        this.reset();
        const s = await snapshot();
        for (const f of s?.feeds ?? []) this.set({ source: f.source }, Math.max(0, (clock() - f.lastSuccess) / 1000));
      },
    });
    new Counter({
      name: 'lading_webhook_deliveries_total', help: 'Webhook POSTs in the delivery log (every process), by notification type and outcome', labelNames: ['type', 'outcome'], registers,
      async collect() {
        this.reset();
        const s = await snapshot();
        for (const d of s?.deliveries ?? []) this.inc({ type: d.type, outcome: d.outcome }, d.n);
      },
    });
  }

  /** One answered HTTP request; `route` is the route template (UNMATCHED_ROUTE when none matched). */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
    this.httpDuration.observe({ method, route }, seconds);
  }

  /** One finished analysis: its outcome (analyzed, analysis_failed) and how long it took. */
  observeAnalysis(outcome: string, seconds: number): void {
    this.analysisDuration.observe({ outcome }, seconds);
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  private snapshot(): Promise<Snapshot | undefined> {
    if (!this.pending) {
      this.pending = withTimeout(this.query(), this.dbTimeoutMs, 'the database')
        .catch(() => undefined)
        .finally(() => {
          this.pending = undefined;
        });
    }
    return this.pending;
  }

  /** The database-derived values: small grouped counts over indexed columns, and sync_state. */
  private async query(): Promise<Snapshot> {
    const now = new Date(this.clock()).toISOString();
    const [images, queue, oldest, states, deliveries] = await Promise.all([
      this.sources.catalog.countByStatus(),
      this.sources.queue.stats(),
      this.sources.queue.oldestDue(now),
      this.sources.vulndb.syncStates(),
      this.sources.notifier.deliveryOutcomes(),
    ]);
    const oldestAt = oldest ? Date.parse(oldest) : undefined;
    return {
      images,
      queue,
      oldestWaitSeconds: oldestAt === undefined ? 0 : Math.max(0, (this.clock() - oldestAt) / 1000),
      feeds: states.filter((s) => s.lastSuccess).map((s) => ({ source: s.source, lastSuccess: Date.parse(s.lastSuccess!) })),
      deliveries,
    };
  }
}

export type Readiness = { ready: true; schemaVersion: string } | { ready: false; reason: string };

/**
 * Whether this process can serve: the database answers `SELECT 1` and has every migration this
 * build knows applied, within timeoutMs (a hung database is "not ready", not a hung probe).
 */
export async function readiness(db: DatabaseHandle, timeoutMs = 2000): Promise<Readiness> {
  const check = async (): Promise<Readiness> => {
    const kysely = db.kysely;
    try {
      await sql`select 1`.execute(kysely);
    } catch (e) {
      return { ready: false, reason: `database unavailable: ${describeError(e)}` };
    }
    let applied: Set<string>;
    try {
      const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(kysely);
      applied = new Set(rows.map((r) => String(r.name)));
    } catch (e) {
      return { ready: false, reason: `database schema unreadable: ${describeError(e)}` };
    }
    const missing = knownSchemas().filter((m) => !applied.has(m));
    if (missing.length) return { ready: false, reason: `database schema not migrated: ${missing.length} migration(s) pending, first ${missing[0]}` };
    return { ready: true, schemaVersion: latestSchema() };
  };
  try {
    return await withTimeout(check(), timeoutMs, 'the database');
  } catch (e) {
    return { ready: false, reason: describeError(e) };
  }
}
