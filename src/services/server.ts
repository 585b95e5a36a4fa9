/**
 * `lading serve` in one function: open and migrate the database, bootstrap the admin, then run
 * this process's roles: the API, analyzer workers (with the reconciler), the watchers, the feed
 * sync and re-match cycles, the notifier. `all` runs every one. Periodic work runs through
 * cycles (services/cycles.ts), so each runs once across all processes. Returns a handle whose
 * close() stops the roles (running analyses get the grace period), then the API, then the database.
 */
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app.js';
import { ROLES, type LadingConfig, type Role } from '../config/schema.js';
import { VulnDb } from '../feeds/vulndb.js';
import { DiskCache } from '../analyze/cache/store.js';
import type { SourceOptions } from '../image/sources/index.js';
import { JobQueue } from '../queue/queue.js';
import { runWorker } from '../queue/worker.js';
import { AccountStore, type AccountStoreOptions, type BootstrapResult } from '../store/accounts.js';
import { openDatabase, type DatabaseHandle } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { ANALYZE_JOB, analyzeHandler } from './analyzer.js';
import { CatalogStore } from './catalog.js';
import { EventStore, analysisUpdatePayload } from './events.js';
import { RegistryStore, withRegistryAccess } from './registries.js';
import { runReconciler } from './reconcile.js';
import { Announcer } from './announce.js';
import { CycleRunner, type CycleSpec } from './cycles.js';
import { feedSyncCycle, type ServiceEvent } from './feeds.js';
import { Notifier, startDeliveryCycle } from './notify.js';
import { PolicyStore } from './policies.js';
import { Rematcher, type ImageDiff } from './rematch.js';
import { SubscriptionStore } from './subscriptions.js';
import { afterAnalysis, watcherCycles, type WatchDeps } from './watch.js';
import { archiveCycle } from './archive.js';
import { ServiceRegistry } from './service-registry.js';
import { summariesFor } from './summaries.js';
import { VERSION } from '../version.js';
import { DRIVERS } from '../feeds/drivers/index.js';
import { ADMIN_ACCOUNT } from '../store/accounts.js';
import { describeError } from '../errors.js';
import { startAdmissionServer } from '../k8s/server.js';
import { ServiceMetrics } from './metrics.js';
import { buildProbeApp } from '../api/routes/metrics.js';

export const REMATCH_CYCLE = 'vulnerability_scan';

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
  const roles: Role[] = options.roles
    ? (options.roles.includes('all') ? [...ROLES] : ROLES.filter((r) => options.roles!.includes(r)))
    : config.roles;
  const role = roles.length === ROLES.length ? 'all' : roles.join(',');
  const db = await openDatabase(config.db_url);
  const stops: (() => Promise<unknown>)[] = [async () => db.close()];
  const close = async () => {
    while (stops.length) await stops.pop()!().catch(() => {});
  };
  try {
    await migrateToLatest(db.kysely);
    const accounts = new AccountStore(db.kysely, options.accountOptions);
    const bootstrap = await accounts.bootstrapAdmin(config);
    const catalog = new CatalogStore(db.kysely);
    const queue = new JobQueue(db, { backoff: { baseMs: 2000 } });
    const sourceOptions: SourceOptions = { credentialLookup: false, limits: limitsOf(config), ...options.sourceOptions };
    const hostId = `${hostname()}:${process.pid}`;
    const has = (r: Role) => roles.includes(r);
    const log = options.log ?? ((m: string) => process.stderr.write(`lading ${role}: ${m}\n`));
    const vulndb = new VulnDb(db);
    const summaries = summariesFor({ db, catalog, vulndb });
    const registries = new RegistryStore(db.kysely, config);
    const subscriptions = new SubscriptionStore(db.kysely);
    const policies = new PolicyStore(db.kysely);
    const events = new EventStore(db.kysely, { source: { servicename: role, hostid: hostId } });
    const notifier = new Notifier(db, config.webhooks, accounts);
    const announcer = new Announcer(subscriptions, events, notifier);
    const cycles = new CycleRunner(db.kysely, {
      owner: `${hostId}:${role}`,
      ...(options.cyclePollMs !== undefined ? { pollMs: options.cyclePollMs } : {}),
      onError: (name, error) => log(`cycle ${name} failed: ${error}`),
    });
    const services = new ServiceRegistry(db.kysely, config.cycle_timers.heartbeat * 1000);
    // Only where something serves them: the API port, or metrics.port.
    const metrics = config.metrics.enabled && (has('api') || config.metrics.port !== undefined) ? new ServiceMetrics({ db, queue, vulndb }) : undefined;
    const service: RunningService = { db, accounts, catalog, queue, bootstrap, cycles, close, ...(metrics ? { metrics } : {}) };
    const watchDeps: WatchDeps = {
      config, catalog, queue, subscriptions, policies, vulndb, registries, announcer, events, sourceOptions,
      analysisMaxAttempts: config.analysis.max_attempts,
      onImageChange: (account, imageDigest) => summaries.refresh(account, imageDigest),
    };
    const rematcher = new Rematcher(db.kysely, vulndb, {
      onDiff: async (d) => {
        await summaries.refresh(d.account, d.imageDigest);
        await announceVulnDiff(d, catalog, announcer);
      },
    });
    const rematchCycle: CycleSpec = {
      name: REMATCH_CYCLE,
      intervalMs: config.cycle_timers.vulnerability_scan * 1000,
      async run(signal) {
        const indexed = await rematcher.backfill();
        const r = await rematcher.rematch(signal);
        // Summaries: rows missing or older than their analysis, then the dashboard trend point of this run.
        const summarized = await summaries.backfill({ limit: 500 });
        await summaries.snapshotTrend();
        return `${r.changes} changes, ${r.keys < 0 ? 'everything' : `${r.keys} keys`}, ${r.images} images re-matched, ${r.changed} changed${indexed ? `, ${indexed} indexed` : ''}${summarized ? `, ${summarized} summarized` : ''}`;
      },
    };
    const emit = async (e: ServiceEvent) => {
      await events.add(ADMIN_ACCOUNT, { type: e.type, level: e.level, message: e.message, resource: e.resource, details: e.details });
    };
    const feedSync = config.feeds.enabled
      ? feedSyncCycle({ vulndb, config, drivers: DRIVERS, emit, warn: () => {} }, config.feeds.sync_interval_seconds * 1000, async () => cycles.trigger(REMATCH_CYCLE))
      : undefined;
    const ac = new AbortController();
    stops.push(async () => ac.abort());

    if (has('worker')) {
      const n = Math.max(1, options.workers ?? config.analysis.workers);
      const handler = analyzeHandler(catalog, {
        source: sourceOptions,
        sourceFor: async (account, ref) => withRegistryAccess(sourceOptions, await registries.registryCredentialsFor(account, ref)),
        events: new EventStore(db.kysely, { source: { servicename: 'analyzer', hostid: hostId } }),
        onOutcome: async (image, outcome) => {
          if (outcome.status === 'analyzed') await rematcher.indexImage(image.account, image.imageDigest, outcome.sbom);
          await summaries.refresh(image.account, image.imageDigest);
          if (outcome.status === 'analyzed') await summaries.snapshotFirst(image.account);
          for (const t of image.tags) {
            await announcer.announce({
              account: image.account, type: 'analysis_update', key: t.fulltag,
              payload: analysisUpdatePayload(image, outcome.status),
            });
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
      const runs: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) {
        runs.push(runWorker(queue, {
          workerId: `${hostId}:analyzer-${i}`,
          handlers: { [ANALYZE_JOB]: handler },
          leaseMs: Math.round(config.analysis.lease_seconds * 1000),
          pollMs: options.pollMs ?? 1000,
          signal: ac.signal,
        }));
      }
      runs.push(runReconciler(db.kysely, queue, {
        signal: ac.signal,
        maxAttempts: config.analysis.max_attempts,
        intervalMs: options.reconcileMs ?? config.cycle_timers.analyzer_queue * 1000,
      }));
      stops.push(async () => {
        ac.abort();
        await Promise.allSettled(runs);
      });
    }

    const periodic: CycleSpec[] = [];
    if (has('feeds')) periodic.push(...(feedSync ? [feedSync] : []), rematchCycle);
    if (has('watcher')) periodic.push(...watcherCycles(watchDeps), archiveCycle(db.kysely, config.cycle_timers.archive_tasks * 1000));
    if (periodic.length) {
      const loop = cycles.loop(periodic, ac.signal);
      stops.push(async () => {
        ac.abort();
        await loop;
      });
    }
    if (has('notifier')) {
      const delivery = startDeliveryCycle(notifier, config.cycle_timers.notifications, (e) => log(`webhook delivery: ${describeError(e)}`));
      stops.push(async () => delivery.stop());
    }

    if (has('api')) {
      const app = await buildApp({
        db,
        config,
        accounts, catalog, queue,
        vulndb,
        sourceOptions,
        cycles,
        services,
        ...(feedSync ? { feedSync } : {}),
        analysisMaxAttempts: config.analysis.max_attempts,
        service: { hostId, roles, dbLocation: db.location },
        ...(options.logger !== undefined ? { logger: options.logger } : {}),
        ...(metrics ? { metrics } : {}),
      });
      await app.listen({ host: config.listen.host, port: config.listen.port });
      stops.push(async () => app.close());
      service.app = app;
      service.url = listenUrl(app, config.listen.host);
      if (config.admission.enabled) {
        const admission = await startAdmissionServer({ config, db: db.kysely, catalog, queue, vulndb, sourceOptions, log });
        stops.push(async () => admission.close());
        service.admissionUrl = admission.url;
      }
    } else if (config.metrics.port !== undefined) {
      // No API here: Kubernetes still probes and Prometheus still scrapes this process.
      const probe = await buildProbeApp({ db, config, accounts, ...(metrics ? { metrics } : {}) });
      await probe.listen({ host: config.listen.host, port: config.metrics.port });
      stops.push(async () => probe.close());
      service.probeUrl = listenUrl(probe, config.listen.host);
    }
    // Every process records its roles and keeps a heartbeat, so /system shows them all.
    await services.register(hostId, roles, VERSION, service.url ? `${service.url}/v1` : undefined);
    const beat = setInterval(() => void services.heartbeat(hostId).catch(() => {}), config.cycle_timers.heartbeat * 1000);
    beat.unref();
    stops.splice(1, 0, async () => {
      clearInterval(beat);
      await services.stopped(hostId);
    });
    return service;
  } catch (e) {
    await close();
    throw e;
  }
}

/** http://host:port a listening app answers on. */
function listenUrl(app: FastifyInstance, listenHost: string): string {
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return `http://${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${port}`;
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

/** A re-match changed an image's findings: a vuln_update event and notification per tag. */
async function announceVulnDiff(d: ImageDiff, catalog: CatalogStore, announcer: Announcer): Promise<void> {
  const image = await catalog.getImage(d.account, d.imageDigest);
  if (!image) return;
  for (const t of image.tags) {
    await announcer.announce({
      account: d.account, type: 'vuln_update', key: t.fulltag,
      event: { type: 'user.checks.tag.vulnerabilities.update' },
      payload: { imageDigest: d.imageDigest, diff_vulnerability_result: d.diff, annotations: image.annotations },
    });
  }
}
