/**
 * The service under test, on both databases: `describeService(name, options, body)` declares the
 * same suite twice, once on a temporary SQLite file and once on a throwaway PostgreSQL server
 * (skipped, with the reason, when either is unavailable). Each run starts `startService` with an
 * admin, a worker and a real local registry when asked; `body` gets a getter for the running
 * harness (valid inside tests and hooks) and registers tests with node:test.
 */
import { before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { ConfigInput, LadingConfig } from '../config/schema.js';
import { startService, type RunningService, type StartOptions } from '../services/server.js';
import { registryAvailable, registrySkipReason, startRegistry, type RunningServer } from './registry.js';
import { postgresAvailable, postgresSkipReason, startPostgres, type RunningPostgres } from './postgres.js';
import { openVulnDb } from '../store/db.js';
import { UNFINISHED_STATES, type JobQueue } from '../queue/queue.js';
import { EVALUATE_JOB } from '../services/auto-evaluate.js';
import { affected, vuln } from '../vulns/testing.js';

export const ADMIN_PASSWORD = 'admin-secret';
export const ADMIN = { user: 'admin', pass: ADMIN_PASSWORD } as const;
/** Cheap scrypt parameters so tests that log in often stay fast. */
export const FAST_HASH = { hashParams: { ln: 10, r: 8, p: 1 } };

/** Seed a database with one Debian 12 record: CVE-2024-0001 (High) in openssl, fixed in 3.0.15-1~deb12u1. */
export async function seedOpensslAdvisory(dbUrl: string): Promise<void> {
  const db = await openVulnDb(dbUrl);
  try {
    await db.apply('debian', {
      full: true,
      batches: [{
        vulnerabilities: [vuln({ id: 'CVE-2024-0001', source: 'debian', references: ['https://security-tracker.debian.org/tracker/CVE-2024-0001'] })],
        affected: [affected({ vulnId: 'CVE-2024-0001', name: 'openssl', fixedVersions: ['3.0.15-1~deb12u1'], severity: 'High' })],
      }],
    }, { kind: 'sync' });
  } finally {
    await db.close();
  }
}

export interface ApiResponse { status: number; body: any; headers: Headers; text: string }
export interface RequestOptions {
  user?: string;
  pass?: string;
  token?: string;
  /** JSON body (sent with content-type application/json), or a string/Buffer sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
}
export type ApiClient = (method: string, path: string, opts?: RequestOptions) => Promise<ApiResponse>;

/** A small fetch client for the v1 API: basic or bearer auth, JSON in and out. */
export function apiClient(base: string): ApiClient {
  return async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.user !== undefined) headers.authorization = `Basic ${Buffer.from(`${opts.user}:${opts.pass ?? ''}`).toString('base64')}`;
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | Buffer | undefined;
    if (typeof opts.body === 'string' || Buffer.isBuffer(opts.body)) body = opts.body;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const r = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch { /* not JSON */ }
    return { status: r.status, body: parsed, headers: r.headers, text };
  };
}

/** Anchore's error body with this status. */
export function assertErrorBody(r: ApiResponse, status: number, message?: RegExp): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.httpcode, status);
  assert.equal(typeof r.body.message, 'string');
  assert.ok(Array.isArray(r.body.detail?.error_codes), JSON.stringify(r.body));
  if (message) assert.match(r.body.message, message);
}

/** The services startTestService started in this process and not closed yet. */
const started = new Set<RunningService>();

/** Wait until no automatic evaluation (an `evaluate` job, services/auto-evaluate.ts) is queued or running. */
export async function evaluationsSettled(queue: JobQueue, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const unfinished = async () => (await Promise.all(UNFINISHED_STATES.map((state) => queue.list({ kind: EVALUATE_JOB, state, limit: 1 })))).flat().length;
  while (await unfinished()) {
    if (Date.now() > deadline) assert.fail(`evaluate jobs still unfinished after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/**
 * Poll GET /images/{digest} until analyzed (fails on analysis_failed or after timeoutMs), then
 * until the automatic evaluations of the test services are done, so the verdict is there.
 */
export async function waitAnalyzed(api: ApiClient, digest: string, auth: RequestOptions = ADMIN, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await api('GET', `/v1/images/${digest}`, auth);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const s = r.body[0].analysis_status;
    if (s === 'analyzed') {
      for (const svc of started) await evaluationsSettled(svc.queue, Math.max(1000, deadline - Date.now()));
      return r.body[0];
    }
    if (s === 'analysis_failed') assert.fail(`analysis failed: ${r.body[0].analysis_error}`);
    if (Date.now() > deadline) assert.fail(`still ${s} after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

export type Dialect = 'sqlite' | 'postgres';

export interface ServiceHarness {
  dialect: Dialect;
  dbUrl: string;
  /** The data directory (temporary). */
  dir: string;
  config: LadingConfig;
  svc: RunningService;
  api: ApiClient;
  /** The local registry (when options.registry). */
  registry?: RunningServer & { dir: string };
}

export interface ServiceOptions {
  /** Start a real local registry beside the service (the suite is skipped without one). */
  registry?: boolean;
  /** Config file values (merged over the test defaults). */
  config?: ConfigInput;
  /** Environment for loadConfig (LADING_* overrides). */
  env?: Record<string, string>;
  workers?: number;
  /** Anything else for startService. */
  start?: Partial<Omit<StartOptions, 'config'>>;
  /** Runs on the database URL before the service starts (say, to seed vulnerability data). */
  seed?: (dbUrl: string) => Promise<void>;
  /** Only these dialects (default both). */
  dialects?: Dialect[];
}

/** Start one service on a database URL in a data directory (the harness's building block). */
export async function startTestService(dbUrl: string, dir: string, options: Omit<ServiceOptions, 'registry' | 'seed' | 'dialects'> = {}): Promise<{ svc: RunningService; config: LadingConfig }> {
  const loaded = loadConfig({
    yaml: '',
    env: options.env ?? {},
    // No online feed sync unless a test asks for one (feed servers are local test servers).
    // Local registries, feed servers and webhook receivers live on 127.0.0.1: the test service may reach loopback.
    overrides: {
      data_dir: dir, db_url: dbUrl, admin: { password: ADMIN_PASSWORD }, ...options.config,
      feeds: { enabled: false, ...options.config?.feeds }, outbound: { allow_loopback: true, ...options.config?.outbound },
    } as ConfigInput,
  });
  const config = { ...loaded, listen: { ...loaded.listen, host: '127.0.0.1', port: 0 } } as LadingConfig;
  const svc = await startService({ config, workers: options.workers ?? 1, pollMs: 50, accountOptions: FAST_HASH, ...options.start });
  started.add(svc);
  const close = svc.close;
  svc.close = async () => {
    started.delete(svc);
    await close();
  };
  return { svc, config };
}

/**
 * Declare `body`'s tests on SQLite and on PostgreSQL. `h()` returns the running harness; call it
 * inside tests and hooks, not while declaring.
 */
export function describeService(name: string, options: ServiceOptions, body: (h: () => ServiceHarness) => void): void {
  for (const dialect of options.dialects ?? (['sqlite', 'postgres'] as const)) {
    const skip = options.registry && !registryAvailable() ? registrySkipReason
      : dialect === 'postgres' && !postgresAvailable() ? postgresSkipReason
        : false;
    describe(`${name} (${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'})`, { skip }, () => {
      let harness: ServiceHarness | undefined;
      let pg: RunningPostgres | undefined;
      let dir: string | undefined;
      let registry: (RunningServer & { dir: string }) | undefined;
      before(async () => {
        dir = await mkdtemp(join(tmpdir(), `lading-svc-${dialect}-`));
        let dbUrl = join(dir, 'lading.db');
        if (dialect === 'postgres') {
          pg = await startPostgres();
          dbUrl = await pg.createDatabase();
        }
        if (options.registry) registry = await startRegistry();
        await options.seed?.(dbUrl);
        const { svc, config } = await startTestService(dbUrl, dir, options);
        harness = { dialect, dbUrl, dir, config, svc, api: apiClient(svc.url!), ...(registry ? { registry } : {}) };
      });
      after(async () => {
        await harness?.svc.close();
        await registry?.stop();
        await pg?.stop();
        if (dir) await rm(dir, { recursive: true, force: true });
      });
      body(() => {
        if (!harness) throw new Error('the service harness is only available inside tests and hooks');
        return harness;
      });
    });
  }
}
