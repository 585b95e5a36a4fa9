/**
 * `lading serve` in one function: open and migrate the database, bootstrap the admin, then run
 * the API and/or analyzer workers in this process. Returns a handle whose close() stops the
 * workers (running analyses get the grace period), then the API, then the database.
 */
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app.js';
import type { LadingConfig } from '../config/schema.js';
import { VulnDb } from '../feeds/vulndb.js';
import type { SourceOptions } from '../image/sources/index.js';
import { JobQueue } from '../queue/queue.js';
import { runWorker, type WorkerStats } from '../queue/worker.js';
import { AccountStore, type AccountStoreOptions, type BootstrapResult } from '../store/accounts.js';
import { openDatabase, type DatabaseHandle } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { ANALYZE_JOB, analyzeHandler } from './analyzer.js';
import { CatalogStore } from './catalog.js';
import { EventStore } from './events.js';
import { RegistryStore, withRegistryAccess } from './registries.js';
import { runReconciler } from './reconcile.js';

export const SERVE_ROLES = ['all', 'api', 'worker'] as const;
export type ServeRole = (typeof SERVE_ROLES)[number];

export interface StartOptions {
  config: LadingConfig;
  role?: ServeRole;
  /** Analyzer workers in this process (role all/worker); default config analysis.workers. */
  workers?: number;
  /** Worker poll period; default 1 s. */
  pollMs?: number;
  /** Period of the analysis reconciler (role all/worker, services/reconcile.ts); default 5 s. */
  reconcileMs?: number;
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
  bootstrap: BootstrapResult;
  close(): Promise<void>;
}

export async function startService(options: StartOptions): Promise<RunningService> {
  const { config } = options;
  const role = options.role ?? 'all';
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
    const roles = role === 'all' ? ['api', 'worker'] : [role];
    const service: RunningService = { db, accounts, catalog, queue, bootstrap, close };

    if (role === 'all' || role === 'worker') {
      const ac = new AbortController();
      const n = Math.max(1, options.workers ?? config.analysis.workers);
      const registries = new RegistryStore(db.kysely, config);
      const handler = analyzeHandler(catalog, {
        source: sourceOptions,
        sourceFor: async (account, ref) => withRegistryAccess(sourceOptions, await registries.registryCredentialsFor(account, ref)),
        events: new EventStore(db.kysely, { source: { servicename: 'analyzer', hostid: hostId } }),
        analyze: {
          secrets: config.analysis.secrets,
          retrieveFiles: config.analysis.retrieve_files,
          contentRules: config.analysis.content_rules,
          limits: limitsOf(config),
          ...(config.analysis.scratch_dir ? { scratchDir: config.analysis.scratch_dir } : {}),
        },
      });
      const runs: Promise<WorkerStats>[] = [];
      for (let i = 0; i < n; i++) {
        runs.push(runWorker(queue, {
          workerId: `${hostId}:analyzer-${i}`,
          handlers: { [ANALYZE_JOB]: handler },
          leaseMs: Math.round(config.analysis.lease_seconds * 1000),
          pollMs: options.pollMs ?? 1000,
          signal: ac.signal,
        }));
      }
      const reconciling = runReconciler(db.kysely, queue, {
        signal: ac.signal,
        maxAttempts: config.analysis.max_attempts,
        ...(options.reconcileMs !== undefined ? { intervalMs: options.reconcileMs } : {}),
      });
      stops.push(async () => {
        ac.abort();
        await Promise.allSettled([...runs, reconciling]);
      });
    }

    if (role === 'all' || role === 'api') {
      const app = await buildApp({
        db,
        config,
        accounts, catalog, queue,
        vulndb: new VulnDb(db),
        sourceOptions,
        analysisMaxAttempts: config.analysis.max_attempts,
        service: { hostId, roles, dbLocation: db.location },
        ...(options.logger !== undefined ? { logger: options.logger } : {}),
      });
      await app.listen({ host: config.listen.host, port: config.listen.port });
      stops.push(async () => app.close());
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.listen.port;
      const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
      service.app = app;
      service.url = `http://${host}:${port}`;
    }
    return service;
  } catch (e) {
    await close();
    throw e;
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
