/**
 * The queue shared by real processes: three worker processes drain 200 jobs (each done exactly
 * once), and a worker SIGKILLed mid-job loses it to another worker once its lease expires.
 * On SQLite (one file, WAL) and on a real PostgreSQL.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type DatabaseHandle } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { postgresAvailable, postgresSkipReason, startPostgres, type RunningPostgres } from '../testkit/postgres.js';
import { JobQueue } from './queue.js';
import { runWorker } from './worker.js';
import { drainWithProcesses, spawnWorker } from './testing.js';

const JOBS = 200;

function multiProcessSuite(name: string, location: () => string) {
  describe(name, () => {
    let handle: DatabaseHandle;
    let queue: JobQueue;
    before(async () => {
      handle = await openDatabase(location());
      await migrateToLatest(handle.kysely);
      queue = new JobQueue(handle);
    });
    after(async () => handle?.close());

    for (const processes of [1, 3]) {
      test(`${processes} worker process${processes > 1 ? 'es' : ''} drain ${JOBS} jobs: every job done exactly once`, async (t) => {
        const kind = `drain${processes}`;
        const ids = new Set<number>();
        for (let i = 0; i < JOBS; i++) ids.add((await queue.enqueue(kind, { i })).id);
        const { byWorker, ms, jobsPerSecond } = await drainWithProcesses(location(), processes, kind, JOBS, `p${processes}-`);

        const all = [...byWorker.values()].flat();
        assert.equal(all.length, JOBS, 'as many completions as jobs: none done twice');
        assert.equal(new Set(all).size, JOBS);
        assert.deepEqual(new Set(all), ids);
        const owner = new Map<number, string>();
        for (const [w, done] of byWorker) for (const id of done) owner.set(id, w);
        const jobs = await queue.list({ kind, limit: 1000 });
        assert.equal(jobs.length, JOBS);
        for (const j of jobs) {
          assert.equal(j.state, 'done', `job ${j.id}`);
          assert.equal(j.attempts, 1, `job ${j.id} claimed once`);
          assert.equal(j.leaseOwner, owner.get(j.id), `job ${j.id}: the database and the worker agree who did it`);
          assert.deepEqual(j.result, { worker: owner.get(j.id) });
        }
        const share = [...byWorker].map(([w, d]) => `${w}: ${d.length}`).join(', ');
        if (processes > 1) assert.ok([...byWorker.values()].filter((d) => d.length > 0).length >= 2, `the work was shared (${share})`);
        t.diagnostic(`${name}, ${processes} process(es): ${JOBS} jobs claimed+completed in ${ms.toFixed(0)} ms = ${jobsPerSecond.toFixed(0)} jobs/s (${share})`);
      });
    }

    test('a worker SIGKILLed mid-job: its job is taken again after the lease expires, attempts = 2', async (t) => {
      const leaseMs = 1000;
      const job = await queue.enqueue('doomed', { image: 'sha256:dd' });
      const victim = spawnWorker({ url: location(), workerId: 'victim', mode: 'hang', leaseMs, kind: 'doomed' });
      t.after(() => victim.kill());
      await victim.message((m) => m.ready === true);
      victim.go();
      const claimed = await victim.message<{ claimed: number; attempts: number }>((m) => typeof m.claimed === 'number');
      assert.deepEqual(claimed, { claimed: job.id, attempts: 1 });

      // alive, its heartbeats keep the lease well past leaseMs
      const end = Date.now() + 1.6 * leaseMs;
      while (Date.now() < end) {
        assert.equal(await queue.claim('rescuer', ['doomed'], leaseMs), undefined, 'held while the victim lives');
        await new Promise((r) => setTimeout(r, 50));
      }
      const held = (await queue.get(job.id))!;
      assert.equal(held.leaseOwner, 'victim');
      assert.ok(held.leaseUntil!.getTime() > held.createdAt.getTime() + 1.5 * leaseMs, 'the lease was extended');

      victim.kill();
      assert.equal(await victim.exited, 'SIGKILL');
      const leaseEnd = (await queue.get(job.id))!.leaseUntil!.getTime();

      const ac = new AbortController();
      t.after(() => ac.abort());
      let rescuedAt = 0;
      const rescuer = runWorker(new JobQueue(handle, { reapIntervalMs: 100 }), {
        workerId: 'rescuer',
        leaseMs,
        pollMs: 50,
        signal: ac.signal,
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        handlers: {
          doomed: async (j) => {
            rescuedAt = Date.now();
            return { rescued: (j.payload as { image: string }).image };
          },
        },
      });
      const deadline = Date.now() + 10_000;
      while ((await queue.get(job.id))?.state !== 'done') {
        assert.ok(Date.now() < deadline, 'the job was taken again within 10 s');
        await new Promise((r) => setTimeout(r, 25));
      }
      ac.abort();
      assert.equal((await rescuer).completed, 1);
      const done = (await queue.get(job.id))!;
      assert.equal(done.attempts, 2);
      assert.equal(done.leaseOwner, 'rescuer');
      assert.deepEqual(done.result, { rescued: 'sha256:dd' });
      assert.match(done.lastError ?? '', /lease of victim expired/);
      assert.ok(rescuedAt >= leaseEnd, 'not taken before the lease ended');
      t.diagnostic(`${name}: taken again ${rescuedAt - leaseEnd} ms after the lease ended`);
    });
  });
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-queue-mp-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

multiProcessSuite('SQLite', () => join(dir, 'jobs.db'));

describe('PostgreSQL', { skip: postgresAvailable() ? false : postgresSkipReason }, () => {
  let server: RunningPostgres | undefined;
  let url = '';
  before(async () => {
    server = await startPostgres();
    url = await server.createDatabase();
  });
  after(async () => server?.stop());
  multiProcessSuite('PostgreSQL', () => url);
});
