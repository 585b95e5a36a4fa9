/**
 * Scale-out, for real: one API process and two worker processes (`lading serve --role api|worker`,
 * real child processes) on one PostgreSQL, analysing a batch of distinct images from a real local
 * registry. A proxy in front of the registry slows every blob download a little, so an analysis
 * lasts long enough to kill a worker in the middle of one. One worker is SIGKILLed while it is
 * analysing; the other takes its job over (at once: on the same host it sees the pid is gone; on
 * another host, once the lease expires), and every image ends
 * analyzed exactly once. Then a replacement worker joins and an image left `analyzing` with no
 * job running is recovered by the two workers' reconcilers, with one new job between them.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type DatabaseHandle } from '../store/db.js';
import { JobQueue, type Job } from '../queue/queue.js';
import { buildImage, type BuiltImage } from '../testkit/images.js';
import { freePort, pushImage, registryAvailable, registrySkipReason, startProxy, startRegistry, type RunningServer } from '../testkit/registry.js';
import { postgresAvailable, postgresSkipReason, startPostgres, type RunningPostgres } from '../testkit/postgres.js';
import { ADMIN, ADMIN_PASSWORD, apiClient, type ApiClient } from '../testkit/service.js';
import type { TarEntry } from '../testkit/tar.js';
import { ANALYZE_JOB, analysisJobKey } from './analyzer.js';

const IMAGES = 8;
const BLOB_DELAY_MS = 300;
const LEASE_SECONDS = 10;
const root = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Debian-like image with its own package and three layers of its own files. */
function makeImage(i: number): BuiltImage {
  const filler = (layer: number): TarEntry[] => Array.from({ length: 40 }, (_, f) => ({
    type: 'file' as const,
    path: `opt/app${i}/layer${layer}/file${f}.txt`,
    content: `image ${i} layer ${layer} file ${f}\n`.repeat(200 + f * 10),
  }));
  return buildImage({
    layers: [
      { entries: [
        { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
        { type: 'file', path: 'var/lib/dpkg/status', content: `Package: app${i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.${i}-1\n` },
      ] },
      { entries: filler(1) },
      { entries: filler(2) },
      { entries: filler(3) },
    ],
  });
}

interface ServeProcess {
  role: string;
  proc: ChildProcess;
  pid: number;
  /** Resolves when the process says it is running. */
  ready: Promise<void>;
  exited: Promise<number | string>;
  stderr(): string;
}

function serve(role: 'api' | 'worker', dbUrl: string, dataDir: string, port?: number): ServeProcess {
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--role', role, '--db', dbUrl];
  if (port !== undefined) args.push('--port', String(port));
  if (role === 'worker') args.push('--workers', '1');
  const proc = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LADING_CONFIG: '', LADING_DATA_DIR: dataDir, LADING_ADMIN_PASSWORD: ADMIN_PASSWORD, LADING_ANALYSIS__LEASE_SECONDS: String(LEASE_SECONDS), LADING_OUTBOUND__ALLOW_LOOPBACK: 'true' },
  });
  let err = '';
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const ready = new Promise<void>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/API listening on|worker running/.test(err)) resolve();
    });
    void exited.then((c) => reject(new Error(`lading serve --role ${role} exited (${c}) before it was running:\n${err}`)));
  });
  return { role, proc, pid: proc.pid!, ready, exited, stderr: () => err };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

const skip = !postgresAvailable() ? postgresSkipReason : !registryAvailable() ? registrySkipReason : false;

describe('scale-out: an API process and two worker processes on PostgreSQL', { skip }, () => {
  let pg: RunningPostgres | undefined;
  let registry: (RunningServer & { dir: string }) | undefined;
  let proxy: RunningServer | undefined;
  let dir = '';
  let dbUrl = '';
  let handle: DatabaseHandle | undefined;
  let queue: JobQueue;
  let api: ApiClient;
  let apiProc: ServeProcess;
  let survivor: ServeProcess;
  const procs: ServeProcess[] = [];
  const images = Array.from({ length: IMAGES }, (_, i) => makeImage(i));
  const tagOf = (i: number) => `${proxy!.host}/scale/app${i}:v1`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lading-scale-'));
    pg = await startPostgres();
    dbUrl = await pg.createDatabase();
    registry = await startRegistry();
    for (const [i, img] of images.entries()) await pushImage(registry.host, `scale/app${i}`, 'v1', img);
    proxy = await startProxy(registry.host, async (req) => {
      if (req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '')) await sleep(BLOB_DELAY_MS);
      return false;
    });
  });
  after(async () => {
    for (const p of procs) p.proc.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await handle?.close();
    await proxy?.stop();
    await registry?.stop();
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const analyzeJobs = async (): Promise<Job[]> => queue.list({ kind: ANALYZE_JOB, limit: 1000 });
  const catalogRows = async () => handle!.kysely.selectFrom('catalog_images').select(['image_digest', 'analysis_status', 'analyzed_at']).execute();

  test('a worker SIGKILLed mid-analysis: the other takes its job over; every image analyzed exactly once', async (t) => {
    const port = await freePort();
    apiProc = serve('api', dbUrl, join(dir, 'api'), port);
    procs.push(apiProc);
    await apiProc.ready; // migrations and the admin done once, before the workers start
    const victim = serve('worker', dbUrl, join(dir, 'w1'));
    survivor = serve('worker', dbUrl, join(dir, 'w2'));
    procs.push(victim, survivor);
    await Promise.all([victim.ready, survivor.ready]);
    handle = await openDatabase(dbUrl);
    queue = new JobQueue(handle);
    api = apiClient(`http://127.0.0.1:${port}`);

    for (const [i, img] of images.entries()) {
      const r = await api('POST', '/v1/images', { ...ADMIN, body: { tag: tagOf(i) } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body[0].imageDigest, img.manifestDigest);
    }

    // the victim holds a job and its image says analyzing: kill it there
    const victimOwner = new RegExp(`:${victim.pid}:(?:[0-9a-f]{8}:)?analyzer-\\d+$`);
    const held = await until('the first worker to be analysing an image', 30_000, async () => {
      const job = (await analyzeJobs()).find((j) => j.state === 'running' && victimOwner.test(j.leaseOwner ?? ''));
      if (!job) return undefined;
      const row = (await catalogRows()).find((r) => analysisJobKey('admin', r.image_digest) === job.key);
      return row?.analysis_status === 'analyzing' ? job : undefined;
    });
    const killedAt = Date.now();
    victim.proc.kill('SIGKILL');
    assert.equal(await victim.exited, 'SIGKILL');
    const atKill = (await queue.get(held.id))!;
    assert.equal(atKill.state, 'running', 'the killed worker never finished its job');
    assert.equal(atKill.attempts, 1);
    t.diagnostic(`killed worker pid ${victim.pid} while it analysed ${held.key} (job ${held.id}); lease until ${atKill.leaseUntil!.toISOString()}`);

    await until('every image analyzed', 120_000, async () => {
      const r = await api('GET', '/v1/images', ADMIN);
      assert.equal(r.status, 200);
      const failed = r.body.filter((x: { analysis_status: string }) => x.analysis_status === 'analysis_failed');
      assert.deepEqual(failed, [], 'no analysis failed');
      return r.body.length === IMAGES && r.body.every((x: { analysis_status: string }) => x.analysis_status === 'analyzed');
    });
    const jobs = await until('every analyze job recorded done', 10_000, async () => {
      const js = await analyzeJobs();
      return js.every((j) => j.state === 'done') ? js : undefined;
    });

    // exactly once: one job per image, done once; one stored analysis per image
    const keys = images.map((img) => analysisJobKey('admin', img.manifestDigest));
    assert.deepEqual(jobs.map((j) => j.key).sort(), [...keys].sort(), 'one analyze job per image, no more');
    for (const j of jobs) assert.deepEqual(j.result, { status: 'analyzed', packages: 1 }, `job ${j.id}`);
    const stored = await handle.kysely.selectFrom('catalog_analyses').select(['image_digest', (eb) => eb.fn.countAll().as('n')]).groupBy('image_digest').execute();
    assert.deepEqual(stored.map((s) => [s.image_digest, Number(s.n)]).sort(), images.map((img) => [img.manifestDigest, 1]).sort());

    // the survivor took the killed worker's job over: the same host, so as soon as it saw the pid gone
    const survivorOwner = new RegExp(`:${survivor.pid}:(?:[0-9a-f]{8}:)?analyzer-\\d+$`);
    const taken = jobs.find((j) => j.id === held.id)!;
    assert.equal(taken.attempts, 2, 'claimed a second time');
    assert.match(taken.leaseOwner ?? '', survivorOwner);
    assert.match(taken.lastError ?? '', new RegExp(`^(?:worker [^ ]+:${victim.pid}:(?:[0-9a-f]{8}:)?analyzer-\\d+ died|lease of [^ ]+:${victim.pid}:(?:[0-9a-f]{8}:)?analyzer-\\d+ expired)`));
    for (const j of jobs) {
      assert.ok(survivorOwner.test(j.leaseOwner ?? '') || victimOwner.test(j.leaseOwner ?? ''), `job ${j.id} done by one of the two workers`);
      if (j.id !== held.id) assert.equal(j.attempts, 1, `job ${j.id} claimed once`);
    }
    const heldDigest = held.key!.slice('admin/'.length);
    const heldRow = (await catalogRows()).find((r) => r.image_digest === heldDigest)!;
    assert.ok(Date.parse(heldRow.analyzed_at!) >= killedAt, 'analysed again after the kill');
    const byVictim = jobs.filter((j) => victimOwner.test(j.leaseOwner ?? '')).length;
    t.diagnostic(`jobs done: ${byVictim} by the killed worker before it died, ${IMAGES - byVictim} by the survivor; analysed again ${Date.parse(heldRow.analyzed_at!) - killedAt} ms after the kill (analysis included; lease was until ${atKill.leaseUntil!.toISOString()})`);

    // each image's analysis is its own
    for (const [i, img] of images.entries()) {
      const os = await api('GET', `/v1/images/${img.manifestDigest}/content/os`, ADMIN);
      assert.equal(os.status, 200, JSON.stringify(os.body));
      assert.deepEqual(os.body.content.map((p: { package: string; version: string }) => [p.package, p.version]), [[`app${i}`, `1.${i}-1`]]);
    }
  });

  test('a replacement worker joins; an image left analyzing with no job running is recovered once by the two reconcilers', async () => {
    assert.ok(handle, 'runs after the first test');
    const replacement = serve('worker', dbUrl, join(dir, 'w3'));
    procs.push(replacement);
    await replacement.ready;
    const digest = images[0]!.manifestDigest;
    const key = analysisJobKey('admin', digest);
    await handle.kysely.updateTable('catalog_images').set({ analysis_status: 'analyzing' }).where('image_digest', '=', digest).execute();
    // reconcilers run every 5 s in each worker process
    await until('the stuck image analysed again', 30_000, async () => {
      const js = (await analyzeJobs()).filter((j) => j.key === key);
      const row = (await catalogRows()).find((r) => r.image_digest === digest)!;
      return js.length === 2 && js.every((j) => j.state === 'done') && row.analysis_status === 'analyzed';
    });
    await sleep(6000); // a further cycle of both reconcilers: nothing more to do
    const js = (await analyzeJobs()).filter((j) => j.key === key);
    assert.deepEqual(js.map((j) => j.state), ['done', 'done'], 'one new job, not one per reconciler');
    assert.equal((await analyzeJobs()).length, IMAGES + 1);
    assert.equal((await api('GET', `/v1/images/${digest}`, ADMIN)).body[0].analysis_status, 'analyzed');
    for (const p of [survivor, replacement, apiProc]) {
      p.proc.kill('SIGTERM');
      assert.equal(await p.exited, 0, `${p.role} pid ${p.pid} stopped cleanly on SIGTERM:\n${p.stderr()}`);
    }
  });
});
