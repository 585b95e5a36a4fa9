/**
 * Service figures for `npm run bench` (figures, not pass/fail), each run on a fresh database:
 *
 * - analysis throughput: a batch of distinct Debian-like images in a loopback registry, added over
 *   HTTP to one API process, analysed by 1 and then by 2 worker processes (`lading serve --role
 *   api|worker`); images analysed per minute, from the first add to the last image analyzed.
 * - API latency: GET /v1/images/{digest}/vuln/all at a fixed rate (open loop: requests are sent on
 *   schedule whether or not earlier ones have answered, and latency counts from the scheduled
 *   time), with a seeded vulnerability database, on loopback.
 *
 * On PostgreSQL when its server binaries are installed (a throwaway server), else on SQLite.
 *   node build/bench/service.js [images=30] [rate=200] [seconds=10]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { openVulnDb } from '../store/db.js';
import { buildImage } from '../testkit/images.js';
import { freePort, pushImage, registryAvailable, registrySkipReason, startRegistry } from '../testkit/registry.js';
import { postgresAvailable, startPostgres, type RunningPostgres } from '../testkit/postgres.js';
import type { TarEntry } from '../testkit/tar.js';
import { affected, vuln } from '../vulns/testing.js';

const ADMIN_PASSWORD = 'bench-admin-password';
const AUTH = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
const PACKAGES = 200;
const SOURCES = 100;
/** Source packages with advisories in the seeded database; the images use the first SOURCES. */
const ADVISED_SOURCES = 2500;

// Run from dist (node) or from src (tsx): start the CLI the same way.
const fromSource = import.meta.url.endsWith('.ts');
const cliMain = fileURLToPath(new URL(fromSource ? '../cli/main.ts' : '../../dist/bin/lading.js', import.meta.url));

function dpkgStatus(): string {
  const paras: string[] = [];
  for (let i = 0; i < PACKAGES; i++) {
    paras.push(`Package: pkg${i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.${i}-1\nSource: src${i % SOURCES} (1.${i}-1)\n`);
  }
  return paras.join('\n');
}

/** About 6 MB uncompressed in 4 layers, files half text and half random, distinct per image. */
function benchImage(n: number) {
  const files = (layer: number, count: number, size: number): TarEntry[] => Array.from({ length: count }, (_, f) => ({
    type: 'file' as const,
    path: `usr/share/app${n}/l${layer}/d${f % 20}/f${f}.dat`,
    content: f % 2 ? randomBytes(size) : Buffer.from(`image ${n} layer ${layer} file ${f} `.repeat(Math.ceil(size / 30)).slice(0, size)),
  }));
  return buildImage({
    layers: [
      { entries: [
        { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
        { type: 'file', path: 'var/lib/dpkg/status', content: dpkgStatus() },
        ...files(0, 200, 8_000),
      ] },
      { entries: files(1, 200, 10_000) },
      { entries: files(2, 100, 20_000) },
      { entries: files(3, 20, 50_000) },
    ],
  });
}

/** Two advisories per source package, fixed in 9.0-1: every image package is affected by two. */
async function seedVulnDb(dbUrl: string): Promise<number> {
  const db = await openVulnDb(dbUrl);
  try {
    const vulnerabilities = [];
    const affecteds = [];
    for (let s = 0; s < ADVISED_SOURCES; s++) {
      for (const k of [0, 1]) {
        const id = `CVE-2024-${String(10000 + s * 2 + k)}`;
        vulnerabilities.push(vuln({ id, source: 'debian', references: [`https://security-tracker.debian.org/tracker/${id}`] }));
        affecteds.push(affected({ vulnId: id, name: `src${s}`, fixedVersions: ['9.0-1'], severity: k ? 'Medium' : 'High' }));
      }
    }
    await db.apply('debian', { full: true, batches: [{ vulnerabilities, affected: affecteds }] }, { kind: 'sync' });
    return vulnerabilities.length;
  } finally {
    await db.close();
  }
}

interface ServeProcess { proc: ChildProcess; exited: Promise<unknown> }

async function serve(args: string[], dataDir: string): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), cliMain, 'serve', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // The bench's registry is on this machine: loopback destinations are refused unless allowed.
    env: { ...process.env, LADING_CONFIG: '', LADING_DATA_DIR: dataDir, LADING_ADMIN_PASSWORD: ADMIN_PASSWORD, LADING_OUTBOUND__ALLOW_LOOPBACK: 'true' },
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  let err = '';
  await new Promise<void>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/API listening on|worker running/.test(err)) resolve();
    });
    void exited.then((code) => reject(new Error(`lading serve ${args.join(' ')} exited (${String(code)}):\n${err}`)));
  });
  return { proc, exited };
}

/** SIGTERM, then SIGKILL for a process still busy (say, with requests the load loop gave up on) after 10 s. */
async function stopAll(procs: ServeProcess[]): Promise<void> {
  for (const p of procs) p.proc.kill('SIGTERM');
  const timer = setTimeout(() => procs.forEach((p) => p.proc.kill('SIGKILL')), 10_000);
  await Promise.all(procs.map((p) => p.exited));
  clearTimeout(timer);
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: AUTH, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const parsed = await r.json();
  if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

/** A request not answered this long after its scheduled time is given up (and counted as a timeout). */
const TIMEOUT_MS = 10_000;

interface LoadResult { sent: number; ok: number; errors: number; timeouts: number; sendSeconds: number; latencies: number[] }

/** Open loop: request i is sent at start + i/rate, whatever happened to the others. */
async function fixedRate(base: string, path: string, rate: number, seconds: number): Promise<LoadResult> {
  const pool = new Pool(base, { connections: 1024, pipelining: 1 });
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  let timeouts = 0;
  const one = async (due: number) => {
    try {
      const r = await pool.request({ method: 'GET', path, headers: { authorization: AUTH }, signal: AbortSignal.timeout(TIMEOUT_MS) });
      await r.body.arrayBuffer();
      if (r.statusCode === 200) ok++;
      else errors++;
      latencies.push(performance.now() - due);
    } catch (e) {
      if ((e as Error).name === 'AbortError' || (e as Error).name === 'TimeoutError') timeouts++;
      else errors++;
      latencies.push(Infinity);
    }
  };
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inflight.push(one(due));
  }
  const sendSeconds = (performance.now() - start) / 1000;
  await Promise.all(inflight);
  await pool.destroy();
  return { sent: total, ok, errors, timeouts, sendSeconds, latencies };
}

/** p50, p90, p99 and max over every request sent; a timed-out one counts as longer than TIMEOUT_MS. */
function latencyLine(r: LoadResult): string {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const fmt = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : `>${TIMEOUT_MS} ms`);
  const at = (p: number) => fmt(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!);
  return `p50 ${at(50)}  p90 ${at(90)}  p99 ${at(99)}  max ${at(100)}`;
}

function loadLines(rate: number, seconds: number, r: LoadResult): string[] {
  return [
    `  open loop at ${rate} req/s for ${seconds} s: ${r.sent} sent in ${r.sendSeconds.toFixed(2)} s, ${r.ok} ok, ${r.errors} errors, ${r.timeouts} unanswered after ${TIMEOUT_MS / 1000} s`,
    `    latency ${latencyLine(r)}`,
  ];
}

interface Database { label: string; next(): Promise<string> }

async function databases(work: string): Promise<{ db: Database; pg?: RunningPostgres }> {
  if (postgresAvailable()) {
    const pg = await startPostgres();
    return { db: { label: 'PostgreSQL (throwaway local server, fsync off)', next: () => pg.createDatabase() }, pg };
  }
  let n = 0;
  return { db: { label: 'SQLite (WAL file)', next: async () => join(work, `bench-${++n}.db`) } };
}

export async function serviceFigures(imageCount = 30, rate = 200, seconds = 10): Promise<string[]> {
  if (!registryAvailable()) return [`(service figures skipped: ${registrySkipReason})`];
  const work = await mkdtemp(join(tmpdir(), 'lading-bench-svc-'));
  const registry = await startRegistry();
  const { db, pg } = await databases(work);
  const out: string[] = [];
  const procs: ServeProcess[] = [];
  try {
    const tags: string[] = [];
    let compressed = 0;
    let uncompressed = 0;
    for (let i = 0; i < imageCount; i++) {
      const img = benchImage(i);
      await pushImage(registry.host, `bench/svc${i}`, 'v1', img);
      tags.push(`${registry.host}/bench/svc${i}:v1`);
      compressed += img.layers.reduce((s, l) => s + l.desc.size, 0);
      uncompressed += img.layers.reduce((s, l) => s + l.tar.length, 0);
    }
    out.push(`Service on ${db.label}; one API process and N worker processes (lading serve --role api|worker --workers 1); ${availableParallelism()} CPUs`);
    out.push(`Analysis throughput: ${imageCount} distinct images from a loopback registry (4 layers, ${PACKAGES} dpkg packages, ${(uncompressed / imageCount / 1e6).toFixed(1)} MB uncompressed / ${(compressed / imageCount / 1e6).toFixed(1)} MB gzip each)`);

    let latencyBase = '';
    let digest = '';
    let vulnCount = 0;
    for (const workers of [1, 2]) {
      const dbUrl = await db.next();
      vulnCount = await seedVulnDb(dbUrl);
      const port = await freePort();
      procs.push(await serve(['--role', 'api', '--db', dbUrl, '--port', String(port)], join(work, `api-${workers}`)));
      for (let w = 0; w < workers; w++) procs.push(await serve(['--role', 'worker', '--db', dbUrl, '--workers', '1'], join(work, `w-${workers}-${w}`)));
      const base = `http://127.0.0.1:${port}`;
      await api(base, 'GET', '/v1/images'); // the admin's password verified once (cached after)
      const t0 = performance.now();
      for (const tag of tags) digest = (await api(base, 'POST', '/v1/images', { tag }))[0].imageDigest;
      const addMs = performance.now() - t0;
      for (;;) {
        const images = await api(base, 'GET', '/v1/images') as { analysis_status: string; analysis_error?: string }[];
        const failed = images.find((x) => x.analysis_status === 'analysis_failed');
        if (failed) throw new Error(`an analysis failed: ${failed.analysis_error}`);
        if (images.filter((x) => x.analysis_status === 'analyzed').length === imageCount) break;
        await sleep(50);
      }
      const ms = performance.now() - t0;
      out.push(`  ${workers} worker process${workers > 1 ? 'es' : ''}: ${imageCount} images in ${(ms / 1000).toFixed(2)} s = ${((imageCount * 60_000) / ms).toFixed(0)} images/min (adding them over HTTP took ${addMs.toFixed(0)} ms of that)`);
      if (workers === 2) {
        latencyBase = base;
        break;
      }
      await stopAll(procs.splice(0));
    }

    const path = `/v1/images/${digest}/vuln/all`;
    const sample = await api(latencyBase, 'GET', path) as { vulnerabilities: unknown[] };
    out.push(`API latency: GET /v1/images/{digest}/vuln/all (basic auth, loopback); vulnerability DB seeded with ${vulnCount} advisories, the image matches ${sample.vulnerabilities.length} (${(JSON.stringify(sample).length / 1024).toFixed(0)} KiB per answer)`);
    // one request at a time: the cost of one answer with nothing else running
    const alone: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await api(latencyBase, 'GET', path);
      alone.push(performance.now() - t);
    }
    alone.sort((a, b) => a - b);
    const serviceMs = alone[10]!;
    out.push(`  one at a time (20 requests): p50 ${serviceMs.toFixed(1)} ms, min ${alone[0]!.toFixed(1)} ms`);
    // the API answers on one thread: about 1000/serviceMs req/s at most; half that is a load it should carry
    const sustainable = Math.max(1, Math.floor(500 / serviceMs));
    if (sustainable < rate) out.push(...loadLines(sustainable, seconds, await fixedRate(latencyBase, path, sustainable, seconds)));
    out.push(...loadLines(rate, seconds, await fixedRate(latencyBase, path, rate, seconds)));
  } finally {
    await stopAll(procs);
    await registry.stop();
    await pg?.stop();
    await rm(work, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [images, rate, seconds] = process.argv.slice(2).map(Number);
  serviceFigures(images || undefined, rate || undefined, seconds || undefined).then(
    (lines) => console.log(lines.join('\n')),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
