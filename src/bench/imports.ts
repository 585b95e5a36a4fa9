/**
 * SBOM import figures for `npm run bench` (figures, not pass/fail): images imported per second
 * through the API (Anchore's flow: POST /v1/imports/images, upload the CycloneDX SBOM as
 * `packages`, POST /v1/images with source.import) by several concurrent clients against one
 * `lading serve --role api` process, on SQLite and, when its server binaries are installed, on a
 * throwaway PostgreSQL; and what each imported image adds to the database (and to the object
 * store directory with object_store.driver dir), total and by table.
 *
 * Each image is a CycloneDX document of a Debian 12 image as Lading writes it (PACKAGES dpkg
 * packages with licenses, CPEs and dpkg metadata, about 1.8 KiB per package), distinct per image.
 *   node build/bench/imports.js [images=200] [clients=1,4,8] [api processes on PostgreSQL=1, e.g. 1,2]
 * Each line gives the CPU ms per image of the API processes (and of the PostgreSQL server), from
 * /proc. LADING_BENCH_IMPORTS_SETUPS=default runs only the default setup; LADING_BENCH_CPU_PROF=DIR
 * makes each API process write a CPU profile there (read it with a .cpuprofile aggregator).
 *
 * Where an API process's CPU went (profiles of 200 images, 4 clients, late 2026): no single cost
 * dominates. About 47 statements per image (3 of them the per-request login-state read of the
 * Basic-auth cache, which keeps a password change effective at once in every process); kysely's
 * query building about 5 ms per image; reading the CycloneDX upload (JSON.parse, purls) about
 * 4 ms; gzip of the upload and zstd plus JSON of the stored document about 1.5 ms each; GC about
 * 3 ms. The automatic evaluation left the request (an `evaluate` job) without a measurable change
 * in CPU per image; socket writes to PostgreSQL (writev) take the largest wall share under load.
 * Since: 45 statements per image (the add no longer reads the operation first, its completion
 * checks it; a new image's row is inserted at once), and the login read, the import statements and
 * getImage's reads are compiled once (store/compiled.ts): the profiles' kysely samples under them
 * (about 2.9 ms per image under load) are gone.
 * Then 37 statements per image on PostgreSQL, counted with log_statement=all (SQLite: one more, its
 * completion stays two statements): an
 * image whose row the storing transaction inserted gets no deletes of earlier rows (finding rows,
 * package index, summary pairs, layer chains), no read of an earlier document or evaluation, and
 * on PostgreSQL the operation's completion empties its uploads in the same statement. What is
 * left: 3 login reads (one per request), 3 reads of the meta table (feed settings and the data's
 * version: the matcher's check that another process did not change the data), the image read twice in the
 * transaction (summary row and answer), the tag-subscription insert and update after commit; no
 * grouping of several requests' rows into one transaction yet (the several-fold cut).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { writers } from '../sbom/formats/index.js';
import type { Package } from '../sbom/model.js';
import { freePort } from '../testkit/registry.js';
import { postgresAvailable, startPostgres, type RunningPostgres } from '../testkit/postgres.js';
import { deb, sbomOf } from '../vulns/testing.js';
import { postmasterPid, processCpuMs, serverCpuMs } from './proc-cpu.js';

const ADMIN_PASSWORD = 'bench-admin-password';
const AUTH = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
const PACKAGES = 120;
const LICENSES = ['GPL-2.0-or-later', 'LGPL-2.1-or-later', 'BSD-3-Clause', 'MIT', 'public-domain'];

const fromSource = import.meta.url.endsWith('.ts');
const cliMain = fileURLToPath(new URL(`../cli/main.${fromSource ? 'ts' : 'js'}`, import.meta.url));

/** The image digest of image n. */
export function benchDigest(n: number): string {
  return `sha256:${createHash('sha256').update(`bench-import-${n}`).digest('hex')}`;
}

/** The CycloneDX document of image n: PACKAGES Debian packages, one of them at a version of its own. */
export function importDocument(n: number): string {
  const packages: Package[] = [];
  for (let i = 0; i < PACKAGES; i++) {
    const version = i === 0 ? `1.${n}-1` : `${1 + (i % 7)}.${i}.${i % 3}-${1 + (i % 4)}+deb12u${i % 5}`;
    const p = deb(`libbench${i}`, version, `bench-src${i % 60}`);
    packages.push({
      ...p,
      licenses: LICENSES.slice(i % 3, (i % 3) + 2 + (i % 3)),
      cpes: [`cpe:2.3:a:libbench${i}:libbench${i}:${version.replace(/([+:])/g, '\\$1')}:*:*:*:*:*:*:*`],
      locations: [{ path: '/var/lib/dpkg/status', layer: 1, layerDiffId: `sha256:${'b'.repeat(64)}` }],
      metadata: { installedSize: 100 + i * 7, maintainer: `Debian bench${i % 20} team <bench${i % 20}@packages.debian.org>`, multiArch: i % 2 ? 'same' : 'foreign' },
    });
  }
  return writers['cyclonedx-json'].write(sbomOf(packages, undefined, benchDigest(n)));
}

interface ServeProcess { proc: ChildProcess; exited: Promise<unknown>; base: string }

/** LADING_BENCH_CPU_PROF=DIR: each API process writes a V8 CPU profile there (node --cpu-prof) when it stops. */
function nodeArgs(): string[] {
  const dir = process.env.LADING_BENCH_CPU_PROF;
  return [...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []), ...(fromSource ? ['--import', 'tsx'] : [])];
}

async function serveApi(dbUrl: string, dataDir: string, port: number, env: Record<string, string>): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [...nodeArgs(), cliMain, 'serve', '--role', 'api', '--db', dbUrl, '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LADING_CONFIG: '', LADING_DATA_DIR: dataDir, LADING_ADMIN_PASSWORD: ADMIN_PASSWORD, LADING_FEEDS__ENABLED: 'false', ...env },
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  let err = '';
  await new Promise<void>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/API listening on/.test(err)) resolve();
    });
    void exited.then((code) => reject(new Error(`lading serve exited (${String(code)}):\n${err}`)));
  });
  return { proc, exited, base: `http://127.0.0.1:${port}` };
}

async function stop(p: ServeProcess): Promise<void> {
  p.proc.kill('SIGTERM');
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), 10_000);
  await p.exited;
  clearTimeout(timer);
}

async function call(base: string, method: string, path: string, body?: string, contentType = 'application/json'): Promise<any> {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: AUTH, ...(body !== undefined ? { 'content-type': contentType } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
  const parsed = await r.json();
  if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

/** One image through the import flow: open an operation, upload the SBOM, add the image. */
async function importOne(base: string, n: number, doc: string): Promise<void> {
  const op = (await call(base, 'POST', '/v1/imports/images')).uuid as string;
  const packages = (await call(base, 'POST', `/v1/imports/images/${op}/packages`, doc, 'application/vnd.cyclonedx+json')).digest as string;
  const added = await call(base, 'POST', '/v1/images', JSON.stringify({ source: { import: {
    digest: benchDigest(n), tags: [`bench.example/imports/app${n % 50}:v${n}`], operation_uuid: op, contents: { packages },
  } } }));
  if (added[0]?.analysis_status !== 'analyzed') throw new Error(`image ${n} was not stored as analyzed: ${JSON.stringify(added).slice(0, 300)}`);
}

/** `clients` loops taking the next image until `count` are imported (client c talks to bases[c % bases.length]); seconds from first to last. */
async function importAll(bases: string[], first: number, count: number, clients: number, docs: string[]): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const base = bases[c % bases.length]!;
    for (let i = next++; i < count; i = next++) await importOne(base, first + i, docs[i % docs.length]!);
  }));
  return (performance.now() - t0) / 1000;
}

type Sizes = Map<string, number>;

/** Bytes per table (with its indexes): SQLite's dbstat, PostgreSQL's pg_total_relation_size. */
async function tableSizes(dbUrl: string): Promise<Sizes> {
  if (dbUrl.startsWith('postgres')) {
    const client = new pg.Client({ connectionString: dbUrl });
    await client.connect();
    try {
      const r = await client.query<{ name: string; bytes: string }>(
        `select c.relname as name, pg_total_relation_size(c.oid) as bytes from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r' and n.nspname = 'public'`);
      return new Map(r.rows.map((x) => [x.name, Number(x.bytes)]));
    } finally {
      await client.end();
    }
  }
  const db = new BetterSqlite3(dbUrl, { readonly: true });
  try {
    const indexes = db.prepare(`select name, tbl_name from sqlite_master where type = 'index'`).all() as { name: string; tbl_name: string }[];
    const owner = new Map(indexes.map((i) => [i.name, i.tbl_name]));
    const rows = db.prepare('select name, sum(pgsize) as bytes from dbstat group by name').all() as { name: string; bytes: number }[];
    const sizes: Sizes = new Map();
    for (const r of rows) {
      const table = owner.get(r.name) ?? r.name;
      sizes.set(table, (sizes.get(table) ?? 0) + r.bytes);
    }
    return sizes;
  } finally {
    db.close();
  }
}

async function dirBytes(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (!e.isFile()) continue;
    bytes += (await stat(join(e.parentPath, e.name))).size;
    files++;
  }
  return { bytes, files };
}

/** The growth per image, total and for the tables that grew most. */
function growthLine(before: Sizes, after: Sizes, images: number): string {
  const grew = [...after].map(([t, b]) => [t, (b - (before.get(t) ?? 0)) / images] as const).filter(([, b]) => b > 0).sort((a, b) => b[1] - a[1]);
  const total = grew.reduce((n, [, b]) => n + b, 0);
  const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  return `database +${kib(total)}/image (${grew.slice(0, 5).map(([t, b]) => `${t} ${kib(b)}`).join(', ')})`;
}

interface Setup { label: string; env: Record<string, string> }

const SETUPS: Setup[] = [
  { label: 'object_store db, gzip (as before)', env: { LADING_OBJECT_STORE__COMPRESSION: 'gzip' } },
  { label: 'object_store db, zstd (default)', env: {} },
  { label: 'object_store dir, zstd', env: { LADING_OBJECT_STORE__DRIVER: 'dir' } },
  { label: 'object_store db, zstd, analysis.auto_evaluate false', env: { LADING_ANALYSIS__AUTO_EVALUATE: 'false' } },
];

interface Run { dbUrl: string; dir: string; images: number; clients: number; setup: Setup; apis: number; pgPort?: number }

const perImageMs = (ms: number | undefined, images: number) => (ms === undefined ? 'n/a' : (ms / images).toFixed(1));

/** CPU ms of the API processes and of the PostgreSQL server (undefined where /proc is not there). */
function cpuNow(svcs: ServeProcess[], pgPid: number | undefined): { api: number | undefined; db: number | undefined } {
  const each = svcs.map((s) => processCpuMs(s.proc.pid!));
  return { api: each.some((x) => x === undefined) ? undefined : each.reduce<number>((a, b) => a + b!, 0), db: pgPid === undefined ? undefined : serverCpuMs(pgPid) };
}

/** One or more API processes on a fresh database: a warm-up image each, then the timed imports; one line of figures. */
async function runOne(r: Run, docs: string[]): Promise<string> {
  const svcs: ServeProcess[] = [];
  try {
    // One after the other: each migrates (a no-op after the first) and bootstraps the admin.
    for (let i = 0; i < r.apis; i++) svcs.push(await serveApi(r.dbUrl, r.dir, await freePort(), r.setup.env));
    const bases = svcs.map((s) => s.base);
    // The admin's password verified once per process, tables warm.
    for (const [i, base] of bases.entries()) await importOne(base, 1_000_000 + i, docs[0]!);
    const before = await tableSizes(r.dbUrl);
    const objectsBefore = await dirBytes(join(r.dir, 'objects'));
    const pgPid = r.pgPort === undefined ? undefined : postmasterPid(r.pgPort);
    const cpu0 = cpuNow(svcs, pgPid);
    const seconds = await importAll(bases, 0, r.images, r.clients, docs);
    const cpu1 = cpuNow(svcs, pgPid);
    for (const s of svcs) await stop(s);
    const after = await tableSizes(r.dbUrl);
    const objects = await dirBytes(join(r.dir, 'objects'));
    const perImage = (objects.bytes - objectsBefore.bytes) / r.images;
    const dirPart = objects.files > objectsBefore.files ? `; objects dir +${(perImage / 1024).toFixed(1)} KiB/image` : '';
    const diff = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : b - a);
    const cpu = `CPU/image: API ${perImageMs(diff(cpu0.api, cpu1.api), r.images)} ms${r.pgPort === undefined ? '' : `, PostgreSQL ${perImageMs(diff(cpu0.db, cpu1.db), r.images)} ms`}`;
    const who = `${r.apis > 1 ? `${r.apis} API processes, ` : ''}${r.clients} client${r.clients > 1 ? 's' : ''}`;
    return `  ${r.setup.label}, ${who}: ${r.images} images in ${seconds.toFixed(2)} s = ${(r.images / seconds).toFixed(0)} images/s; ${cpu}; ${growthLine(before, after, r.images)}${dirPart}`;
  } finally {
    for (const s of svcs) if (s.proc.exitCode === null) await stop(s);
  }
}

interface Dialect { label: string; next(work: string, n: number): Promise<string>; pg?: RunningPostgres }

async function dialects(): Promise<Dialect[]> {
  const list: Dialect[] = [{ label: 'SQLite (WAL file)', next: async (work, n) => join(work, `imports-${n}.db`) }];
  if (postgresAvailable()) {
    const server = await startPostgres();
    list.push({ label: 'PostgreSQL (throwaway local server, fsync off)', next: () => server.createDatabase(), pg: server });
  } else list.push({ label: 'PostgreSQL', next: () => Promise.reject(new Error('not installed')) });
  return list;
}

export interface ImportFigureOptions {
  /** API process counts to run the default setup with on PostgreSQL (`--role api` scales out there); default [1]. */
  apis?: number[];
  /** false: only the default setup (no gzip, dir and auto_evaluate false runs). Default true. */
  allSetups?: boolean;
}

export async function importFigures(images = 200, clientCounts = [1, 4, 8], options: ImportFigureOptions = {}): Promise<string[]> {
  const work = await mkdtemp(join(tmpdir(), 'lading-bench-imports-'));
  const docs = Array.from({ length: Math.min(images, 50) }, (_, i) => importDocument(i));
  const out = [`SBOM imports through the API: lading serve --role api processes, N concurrent clients (3 requests per image), ${availableParallelism()} CPUs, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    `  each image a CycloneDX document of ${PACKAGES} Debian packages, ${(Buffer.byteLength(docs[0]!) / 1024).toFixed(0)} KiB`];
  const list = await dialects();
  let n = 0;
  const run = async (d: Dialect, clients: number, setup: Setup, apis = 1) => {
    const dir = join(work, `svc-${++n}`);
    out.push(await runOne({ dbUrl: await d.next(work, n), dir, images, clients, setup, apis, ...(d.pg ? { pgPort: d.pg.port } : {}) }, docs));
  };
  try {
    for (const d of list) {
      out.push(`${d.label}:`);
      if (d.label === 'PostgreSQL') {
        out.push('  (skipped: PostgreSQL server binaries not installed)');
        continue;
      }
      for (const apis of d.pg ? options.apis ?? [1] : [1]) {
        for (const clients of clientCounts) await run(d, clients, SETUPS[1]!, apis);
      }
      if (options.allSetups === false) continue;
      for (const setup of [SETUPS[0]!, SETUPS[2]!, SETUPS[3]!]) await run(d, clientCounts.at(-1)!, setup);
    }
  } finally {
    for (const d of list) await d.pg?.stop();
    await rm(work, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const images = Number(process.argv[2]) || undefined;
  const list = (arg: string | undefined) => (arg ? arg.split(',').map(Number).filter((x) => Number.isInteger(x) && x > 0) : undefined);
  const apis = list(process.argv[4]);
  importFigures(images, list(process.argv[3]), { ...(apis ? { apis } : {}), allSetups: process.env.LADING_BENCH_IMPORTS_SETUPS !== 'default' }).then(
    (lines) => console.log(lines.join('\n')),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
