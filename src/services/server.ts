/**
 * `lading serve`: open and migrate the database, build the process's stores once (services/root.ts),
 * bootstrap the admin, then run this process's roles, each started by its own function below: the API, analyzer workers (with the reconciler), the watchers, the feed
 * sync and re-match cycles, the notifier. `all` runs every one. Periodic work runs through
 * cycles (services/cycles.ts), so each runs once across all processes. Returns a handle whose
 * close() stops the roles (running analyses get the grace period), then the API, then the database.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app.js';
import { ROLES, type LadingConfig, type Role } from '../config/schema.js';
import { DiskCache } from '../analyze/cache/store.js';
import type { SourceOptions } from '../image/sources/index.js';
import type { JobQueue } from '../queue/queue.js';
import { runWorker } from '../queue/worker.js';
import { isDeadLocalOwner, workerOwnerId } from '../queue/owners.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AccountStore, AccountStoreOptions, BootstrapResult } from '../store/accounts.js';
import { openDatabase, parseDatabaseUrl, restrictSqliteFiles, type DatabaseHandle } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { ANALYZE_JOB, analyzeHandler } from './analyzer.js';
import { EVALUATE_JOB, evaluateHandler } from './auto-evaluate.js';
import type { CatalogStore } from '../store/catalog.js';
import { analysisUpdatePayload } from '../store/events.js';
import { withRegistryAccess } from './registries.js';
import { runReconciler } from './reconcile.js';
import { CycleRunner, type CycleSpec } from './cycles.js';
import { feedSyncCycle, type ServiceEvent } from './feeds.js';
import { startDeliveryCycle } from './notify.js';
import { composeRoot, type ServiceRoot } from './root.js';
import { afterAnalysis, watcherCycles, type WatchDeps } from './watch.js';
import { archiveCycle } from './archive.js';
import { jobPurgeCycle } from './job-purge.js';
import { indexMissingImages, rematchFindings } from './freshness.js';
import { VERSION } from '../version.js';
import { DRIVERS } from '../feeds/drivers/index.js';
import { ADMIN_ACCOUNT } from '../store/accounts.js';
import { describeError } from '../errors.js';
import { startAdmissionServer } from '../k8s/server.js';
import { ServiceMetrics } from './metrics.js';
import { buildProbeApp } from '../api/routes/metrics.js';
import type { Server as TlsServer } from 'node:tls';
import { readTls, reloadTls } from '../util/tls.js';

export const REMATCH_CYCLE = 'vulnerability_scan';
/** The cycle that notices vulnerability data changed by another process, and how often it looks. */
export const DATA_WATCH_CYCLE = 'vulnerability_changes';
const DATA_WATCH_MS = 3000;
/** How often the API's TLS files are checked for a new certificate (SIGHUP reloads at once). */
const CERT_CHECK_MS = 60_000;

/** `--role` values: a role of config ROLES, or `all`. */
export const SERVE_ROLES = ['all', ...ROLES] as const;
export type ServeRole = (typeof SERVE_ROLES)[number];

export interface StartOptions {
  config: LadingConfig;
  /** The roles this process runs; default config.roles (`all` is every one). */
  roles?: readonly ServeRole[];
  /** Analyzer workers in this process (role all/worker); default config analysis.workers. */
  workers?: number;
  /** Worker poll period; default 1 s. */
  pollMs?: number;
  /** Period of the analysis reconciler (role all/worker); default config cycle_timers.analyzer_queue. */
  reconcileMs?: number;
  /** Poll period of the cycle runner; default 1 s. */
  cyclePollMs?: number;
  /** Where background errors go; default stderr. */
  log?: (message: string) => void;
  sourceOptions?: SourceOptions;
  accountOptions?: AccountStoreOptions;
  /** Fastify logging; default off. */
  logger?: boolean | Record<string, unknown>;
}

export interface RunningService {
  db: DatabaseHandle;
  /** Every store and service object of this process (services/root.ts). */
  root: ServiceRoot;
  accounts: AccountStore;
  catalog: CatalogStore;
  queue: JobQueue;
  app?: FastifyInstance;
  /** http://host:port of the API (role all/api). */
  url?: string;
  /** https://host:port of the admission webhook (role api with admission.enabled). */
  admissionUrl?: string;
  /** This process's metrics; absent when metrics.enabled is false or nothing serves them (no api role, no metrics.port). */
  metrics?: ServiceMetrics;
  /** http://host:port of the probe listener (/health, /ready, /metrics) of a process without the api role, when metrics.port is set. */
  probeUrl?: string;
  bootstrap: BootstrapResult;
  cycles: CycleRunner;
  close(): Promise<void>;
}

export async function startService(options: StartOptions): Promise<RunningService> {
  const { config } = options;
  const roles = rolesOf(options);
  const role = roles.length === ROLES.length ? 'all' : roles.join(',');
  const log = options.log ?? ((m: string) => process.stderr.write(`lading ${role}: ${m}\n`));
  privateDataFiles(config.data_dir, config.db_url, log);
  const db = await openDatabase(config.db_url);
  const stops: (() => Promise<unknown>)[] = [async () => db.close()];
  const close = async () => {
    while (stops.length) await stops.pop()!().catch(() => {});
  };
  try {
    await migrateToLatest(db.kysely);
    const hostId = `${hostname()}:${process.pid}`;
    const root = composeRoot(db, {
      config, role, hostId,
      ...(options.accountOptions ? { accountOptions: options.accountOptions } : {}),
      onError: (event, e) => log(`after ${event}: ${describeError(e)}`),
    });
    // Closed after the roles and the API (stops run last to first), before the database.
    stops.push(async () => root.documents.close());
    const bootstrap = await root.accounts.bootstrapAdmin(config);
    const has = (r: Role) => roles.includes(r);
    const p: ProcessParts = {
      root, options, hostId, log, has, stops,
      sourceOptions: { credentialLookup: false, limits: limitsOf(config), guard: root.outbound, ...options.sourceOptions },
      cycles: new CycleRunner(db.kysely, {
        owner: `${hostId}:${role}`,
        ...(options.cyclePollMs !== undefined ? { pollMs: options.cyclePollMs } : {}),
        onError: (name, error) => log(`cycle ${name} failed: ${error}`),
      }),
      // Only where something serves them: the API port, or metrics.port.
      metrics: config.metrics.enabled && (has('api') || config.metrics.port !== undefined) ? new ServiceMetrics({ catalog: root.catalog, queue: root.queue, vulndb: root.vulndb, notifier: root.notifier }) : undefined,
      ...abortOnStop(stops),
    };
    root.lifecycle.afterCommit('vulnDataChanged', async () => p.cycles.trigger(REMATCH_CYCLE));
    const service: RunningService = {
      db, root, accounts: root.accounts, catalog: root.catalog, queue: root.queue, bootstrap, cycles: p.cycles, close, ...(p.metrics ? { metrics: p.metrics } : {}),
    };
    const watchDeps = watchDepsOf(p);
    const feedSync = config.feeds.enabled ? feedSyncOf(p) : undefined;
    if (has('worker')) startWorkers(p, watchDeps);
    startCycles(p, watchDeps, feedSync);
    if (has('notifier')) {
      const delivery = startDeliveryCycle(root.notifier, config.cycle_timers.notifications, (e) => log(`webhook delivery: ${describeError(e)}`));
      stops.push(async () => delivery.stop());
    }
    if (has('api')) Object.assign(service, await startApi(p, roles, feedSync));
    else if (config.metrics.port !== undefined) service.probeUrl = await startProbe(p);
    await registerProcess(p, roles, service.url);
    return service;
  } catch (e) {
    await close();
    throw e;
  }
}

/** What the parts of one process share. */
interface ProcessParts {
  root: ServiceRoot;
  options: StartOptions;
  hostId: string;
  log: (message: string) => void;
  has: (role: Role) => boolean;
  /** Run last to first by close(). */
  stops: (() => Promise<unknown>)[];
  sourceOptions: SourceOptions;
  cycles: CycleRunner;
  metrics: ServiceMetrics | undefined;
  /** Aborted when the service stops (abort(): now). */
  signal: AbortSignal;
  abort: () => void;
}

function rolesOf(options: StartOptions): Role[] {
  if (!options.roles) return options.config.roles;
  return options.roles.includes('all') ? [...ROLES] : ROLES.filter((r) => options.roles!.includes(r));
}

function abortOnStop(stops: (() => Promise<unknown>)[]): { signal: AbortSignal; abort: () => void } {
  const ac = new AbortController();
  stops.push(async () => ac.abort());
  return { signal: ac.signal, abort: () => ac.abort() };
}

function watchDepsOf({ root, sourceOptions }: ProcessParts): WatchDeps {
  const { config, catalog, queue, subscriptions, policies, reports, registries, announcer, events } = root;
  return { config, catalog, queue, subscriptions, policies, reports, registries, announcer, events, sourceOptions, analysisMaxAttempts: config.analysis.max_attempts };
}

/** The feed sync cycle: a sync that changed data is a vulnDataChanged event. */
function feedSyncOf({ root }: ProcessParts): CycleSpec {
  const { config, vulndb, events, lifecycle } = root;
  const emit = async (e: ServiceEvent) => {
    await events.add(ADMIN_ACCOUNT, { type: e.type, level: e.level, message: e.message, resource: e.resource, details: e.details });
  };
  return feedSyncCycle({ vulndb, config, drivers: DRIVERS, emit, warn: () => {}, guard: root.outbound }, config.feeds.sync_interval_seconds * 1000,
    async () => lifecycle.committed('vulnDataChanged', { source: 'feeds' }));
}

/** The re-match cycle: images not indexed yet, changed vulnerability data re-matched and its outbox delivered (services/freshness.ts), then missing summaries and the trend point. */
function rematchCycleOf({ root }: ProcessParts): CycleSpec {
  const { summaries, config } = root;
  return {
    name: REMATCH_CYCLE,
    intervalMs: config.cycle_timers.vulnerability_scan * 1000,
    async run(signal) {
      const indexed = await indexMissingImages(root, { signal });
      const r = await rematchFindings(root, { signal });
      // Summaries: rows missing or older than their analysis, then the dashboard trend point of this run.
      const summarized = await summaries.backfill({ limit: 500 });
      await summaries.snapshotTrend();
      return `${r.changes} changes, ${r.tuples} package variants re-matched, ${r.changedTuples} changed, ${r.images} images' counts moved, ${r.notified} notified, `
        + `${r.evaluations} evaluations re-done (${r.flipped} flipped)${r.skipped ? `, ${r.skipped} images' re-evaluations skipped (${r.skipReasons.join('; ')})` : ''}`
        + `${indexed ? `, ${indexed} indexed` : ''}${summarized ? `, ${summarized} summarized` : ''}`;
    },
  };
}

/**
 * Every few seconds: vulnerability data changed by any process (a `lading db import` too), or an
 * outbox left undelivered by a process that died, makes the re-match cycle due now.
 */
function dataWatchCycleOf({ root, cycles }: ProcessParts): CycleSpec {
  return {
    name: DATA_WATCH_CYCLE,
    intervalMs: DATA_WATCH_MS,
    async run() {
      if (!(await root.findings.behind()) && !(await root.changes.pending())) return;
      await cycles.trigger(REMATCH_CYCLE);
      return 're-match due';
    },
  };
}

/** Analyzer workers, the evaluator of stored analyses and the reconciler (role worker). */
function startWorkers(p: ProcessParts, watchDeps: WatchDeps): void {
  const { root, options, log, metrics, signal, sourceOptions } = p;
  const { config, catalog, queue, registries, announcer } = root;
  const handler = analyzeHandler(catalog, {
    source: sourceOptions,
    sourceFor: async (account, ref) => withRegistryAccess(sourceOptions, await registries.registryCredentialsFor(account, ref)),
    events: root.analyzerEvents,
    // The package index, the summary row and the re-match index follow the catalog's lifecycle events.
    onOutcome: async (image, outcome) => {
      for (const t of image.tags) {
        await announcer.announce({ account: image.account, type: 'analysis_update', key: t.fulltag, payload: analysisUpdatePayload(image, outcome.status) });
      }
      if (outcome.status === 'analyzed') await afterAnalysis(watchDeps, image.account, image.imageDigest);
    },
    onHookError: (e) => log(`after analysis: ${describeError(e)}`),
    ...(metrics ? { onFinished: (status, seconds) => metrics.observeAnalysis(status, seconds) } : {}),
    analyze: {
      secrets: config.analysis.secrets,
      retrieveFiles: config.analysis.retrieve_files,
      contentRules: config.analysis.content_rules,
      limits: limitsOf(config),
      ...(config.analysis.scratch_dir ? { scratchDir: config.analysis.scratch_dir } : {}),
      ...(config.analysis.cache.enabled ? { cache: new DiskCache(config.analysis.cache.dir ?? `${config.data_dir}/cache`, config.analysis.cache.max_bytes) } : {}),
    },
  });
  const runs: Promise<unknown>[] = [reclaimDeadWorkers(p)];
  for (let i = 0; i < Math.max(1, options.workers ?? config.analysis.workers); i++) {
    runs.push(runWorker(queue, {
      workerId: workerOwnerId(`analyzer-${i}`),
      handlers: { [ANALYZE_JOB]: handler },
      leaseMs: Math.round(config.analysis.lease_seconds * 1000),
      pollMs: options.pollMs ?? 1000,
      signal,
    }));
  }
  // The automatic evaluations (services/auto-evaluate.ts), apart from the analyses so a long pull never holds them up.
  runs.push(runWorker(queue, {
    workerId: workerOwnerId('evaluator'),
    handlers: { [EVALUATE_JOB]: evaluateHandler(root.evaluation) },
    pollMs: options.pollMs ?? 1000,
    signal,
  }));
  runs.push(runReconciler({ catalog: root.catalog, accounts: root.accounts }, queue, {
    signal,
    maxAttempts: config.analysis.max_attempts,
    intervalMs: options.reconcileMs ?? config.cycle_timers.analyzer_queue * 1000,
  }));
  p.stops.push(async () => {
    p.abort();
    await Promise.allSettled(runs);
  });
}

/**
 * A worker process takes back the jobs of dead workers on its host at once, instead of waiting
 * for their leases: at start (its crashed predecessor's), then every reconcile period (a sibling
 * process killed meanwhile). Runs until the service stops.
 */
async function reclaimDeadWorkers({ root, options, log, signal }: ProcessParts): Promise<void> {
  const periodMs = options.reconcileMs ?? root.config.cycle_timers.analyzer_queue * 1000;
  while (!signal.aborted) {
    try {
      const n = await root.queue.reclaimOrphans((owner) => isDeadLocalOwner(owner));
      if (n) log(`took back ${n} job${n === 1 ? '' : 's'} of dead workers on this host`);
    } catch (e) {
      if (!signal.aborted) log(`taking back dead workers' jobs: ${describeError(e)}`);
    }
    await sleep(periodMs, undefined, { signal }).catch(() => {});
  }
}

/** The periodic cycles of roles feeds and watcher. */
function startCycles(p: ProcessParts, watchDeps: WatchDeps, feedSync: CycleSpec | undefined): void {
  const { root, has, cycles, signal } = p;
  const periodic: CycleSpec[] = [];
  if (has('feeds')) periodic.push(...(feedSync ? [feedSync] : []), rematchCycleOf(p), dataWatchCycleOf(p));
  if (has('watcher')) periodic.push(...watcherCycles(watchDeps), archiveCycle(root.archive, root.config.cycle_timers.archive_tasks * 1000), jobPurgeCycle(root.queue));
  if (!periodic.length) return;
  const loop = cycles.loop(periodic, signal);
  p.stops.push(async () => {
    p.abort();
    await loop;
  });
}

/** The API (and the admission webhook when enabled): its URLs and app. */
async function startApi(p: ProcessParts, roles: Role[], feedSync: CycleSpec | undefined): Promise<Pick<RunningService, 'app' | 'url' | 'admissionUrl'>> {
  const { root, options, hostId, log, metrics, sourceOptions, cycles } = p;
  const { config, db } = root;
  const { tls_cert_file: certFile, tls_key_file: keyFile } = config.listen;
  const tlsFiles = certFile && keyFile ? { certFile, keyFile, certKey: 'listen.tls_cert_file', keyKey: 'listen.tls_key_file' } : undefined;
  const app = await buildApp({
    ...root,
    sourceOptions,
    cycles,
    ...(feedSync ? { feedSync } : {}),
    analysisMaxAttempts: config.analysis.max_attempts,
    service: { hostId, roles, dbLocation: db.location },
    log,
    onServerError: (id, request, e) => log(`request ${id} (${request}) failed: ${e instanceof Error && e.stack ? e.stack : describeError(e)}`),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    ...(metrics ? { metrics } : {}),
    ...(tlsFiles ? { https: readTls(tlsFiles, 'listen') } : {}),
  });
  await app.listen({ host: config.listen.host, port: config.listen.port });
  p.stops.push(async () => app.close());
  if (tlsFiles) {
    const reloader = reloadTls(app.server as unknown as TlsServer, tlsFiles, 'listen', { log, intervalMs: CERT_CHECK_MS });
    p.stops.push(async () => reloader.stop());
  }
  const url = listenUrl(app, config.listen.host, tlsFiles ? 'https' : 'http');
  if (!config.admission.enabled) return { app, url };
  const admission = await startAdmissionServer({ ...root, sourceOptions, log });
  p.stops.push(async () => admission.close());
  return { app, url, admissionUrl: admission.url };
}

/** No API here: Kubernetes still probes and Prometheus still scrapes this process (metrics.port). */
async function startProbe({ root, metrics, stops }: ProcessParts): Promise<string> {
  const { db, config, accounts } = root;
  const probe = await buildProbeApp({ db, config, accounts, ...(metrics ? { metrics } : {}) });
  await probe.listen({ host: config.listen.host, port: config.metrics.port! });
  stops.push(async () => probe.close());
  return listenUrl(probe, config.listen.host);
}

/** Every process records its roles and keeps a heartbeat, so /system shows them all. */
async function registerProcess({ root, hostId, stops }: ProcessParts, roles: Role[], url: string | undefined): Promise<void> {
  const { services, config } = root;
  await services.register(hostId, roles, VERSION, url ? `${url}/v1` : undefined);
  const beat = setInterval(() => void services.heartbeat(hostId).catch(() => {}), config.cycle_timers.heartbeat * 1000);
  beat.unref();
  stops.splice(1, 0, async () => {
    clearInterval(beat);
    await services.stopped(hostId);
  });
}

/** http(s)://host:port a listening app answers on. */
function listenUrl(app: FastifyInstance, listenHost: string, scheme: 'http' | 'https' = 'http'): string {
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return `${scheme}://${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${port}`;
}

/**
 * The data directory (database, keys, caches) is the service user's only: created or tightened to
 * 0700; the SQLite database and its WAL files to 0600. What cannot be changed is logged, not fatal
 * (a volume that refuses chmod).
 */
function privateDataFiles(dir: string, dbUrl: string, log: (m: string) => void): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if ((statSync(dir).mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
  } catch (e) {
    log(`warning: cannot make the data directory ${dir} private (mode 0700): ${describeError(e)}`);
  }
  const parsed = parseDatabaseUrl(dbUrl);
  if (parsed.dialect !== 'sqlite' || parsed.path === ':memory:') return;
  try {
    for (const f of restrictSqliteFiles(parsed.path)) log(`${f} was readable by others: now mode 0600`);
  } catch (e) {
    log(`warning: ${describeError(e)}`);
  }
}

function limitsOf(config: LadingConfig): SourceOptions['limits'] {
  const l = config.analysis.limits;
  return {
    maxManifestBytes: l.max_manifest_bytes,
    maxConfigBytes: l.max_config_bytes,
    maxUncompressedBytes: l.max_uncompressed_bytes,
    maxEntries: l.max_entries,
    maxHeaderBytes: l.max_header_bytes,
    maxPathBytes: l.max_path_bytes,
    maxCapturedBytes: l.max_captured_bytes,
    inMemoryCaptureBytes: l.in_memory_capture_bytes,
    maxLayers: l.max_layers,
    maxCompressionRatio: l.max_compression_ratio,
    ratioCheckAfterBytes: l.ratio_check_after_bytes,
  };
}
