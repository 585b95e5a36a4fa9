import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type DatabaseHandle } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { postgresAvailable, postgresSkipReason, startPostgres, type RunningPostgres } from '../testkit/postgres.js';
import { JobQueue, type JobQueueOptions } from './queue.js';
import { PermanentJobError, runWorker, type WorkerLogger } from './worker.js';

function memoryLogger() {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => void lines.push({ level, msg, fields });
  const logger: WorkerLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function workerSuite(name: string, open: () => Promise<DatabaseHandle>) {
  let handle: DatabaseHandle;
  const fresh = async (options: JobQueueOptions = {}) => {
    // every test starts from an empty table
    await handle.kysely.deleteFrom('jobs').execute();
    return new JobQueue(handle, options);
  };

  describe(name, () => {
    before(async () => {
      handle = await open();
      await migrateToLatest(handle.kysely);
    });
    after(async () => handle?.close());

    test('runWorker: runs jobs concurrently, retries a failing handler, fails a permanent error, logs', async (t) => {
      const q = await fresh({ backoff: { baseMs: 1, capMs: 5 } });
      for (let i = 0; i < 12; i++) await q.enqueue('ok', { i });
      const flaky = await q.enqueue('flaky', {}, { maxAttempts: 3 });
      const hopeless = await q.enqueue('hopeless', {}, { maxAttempts: 3 });
      const broken = await q.enqueue('flaky', { permanent: true });
      const { logger, lines } = memoryLogger();
      let inFlight = 0;
      let peak = 0;
      let flakyCalls = 0;
      const ac = new AbortController();
      t.after(() => ac.abort());
      const worker = runWorker(q, {
        workerId: 'w1',
        leaseMs: 5000,
        pollMs: 10,
        concurrency: 4,
        signal: ac.signal,
        logger,
        handlers: {
          ok: async (job) => {
            inFlight++;
            peak = Math.max(peak, inFlight);
            await sleep(20);
            inFlight--;
            return { doubled: (job.payload as { i: number }).i * 2 };
          },
          flaky: async (job) => {
            if ((job.payload as { permanent?: boolean }).permanent) throw new PermanentJobError('cannot ever work');
            flakyCalls++;
            if (job.attempts < 3) throw new Error(`flake ${job.attempts}`);
            return 'finally';
          },
          hopeless: async () => {
            throw new Error('always');
          },
        },
      });
      await until('every job finished', async () => {
        const s = await q.stats();
        return s.queued === 0 && s.running === 0;
      });
      ac.abort();
      const stats = await worker;
      assert.equal(peak, 4, 'concurrency is used and respected');
      assert.deepEqual(stats, { claimed: 12 + 3 + 3 + 1, completed: 13, retried: 4, failed: 2, released: 0, lost: 0 });
      assert.equal(flakyCalls, 3);
      const f = await q.get(flaky.id);
      assert.equal(f?.state, 'done');
      assert.equal(f?.result, 'finally');
      assert.equal(f?.lastError, 'flake 2');
      const h = await q.get(hopeless.id);
      assert.equal(h?.state, 'failed');
      assert.equal(h?.attempts, 3);
      assert.equal(h?.lastError, 'always');
      const b = await q.get(broken.id);
      assert.equal(b?.state, 'failed');
      assert.equal(b?.attempts, 1);
      assert.equal(b?.lastError, 'cannot ever work');
      for (const j of await q.list({ kind: 'ok' })) assert.deepEqual(j.result, { doubled: (j.payload as { i: number }).i * 2 });
      assert.ok(lines.some((l) => l.level === 'warn' && /will retry/.test(l.msg) && l.fields.jobId === flaky.id));
      assert.ok(lines.some((l) => l.level === 'error' && l.msg === 'job failed' && l.fields.jobId === hopeless.id));
      assert.ok(lines.some((l) => l.msg === 'worker stopped'));
      await assert.rejects(runWorker(q, { workerId: 'w', handlers: {}, kinds: ['x'] }), /no handler for job kind "x"/);
    });

    test('runWorker: automatic heartbeats keep a long job leased; a lost lease aborts the handler', async (t) => {
      const q = await fresh({ reapIntervalMs: 0 });
      const other = new JobQueue(handle, { reapIntervalMs: 0 });
      const long = await q.enqueue('long', {});
      const { logger, lines } = memoryLogger();
      const ac = new AbortController();
      t.after(() => ac.abort());
      let stolenSignal: AbortSignal | undefined;
      const worker = runWorker(q, {
        workerId: 'w1',
        leaseMs: 500,
        pollMs: 10,
        signal: ac.signal,
        logger,
        handlers: {
          long: async () => {
            const end = Date.now() + 1600; // more than three leases long
            while (Date.now() < end) {
              assert.equal(await other.claim('thief', ['long', 'steal'], 500), undefined, 'the lease is kept');
              await sleep(25);
            }
            return 'kept';
          },
          steal: async (_job, { signal, heartbeat }) => {
            stolenSignal = signal;
            assert.equal(await heartbeat(), true);
            await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
            throw signal.reason;
          },
        },
      });
      await until('the long job done', async () => (await q.get(long.id))?.state === 'done');
      const done = (await q.get(long.id))!;
      assert.equal(done.attempts, 1);
      assert.equal(done.result, 'kept');

      // take the job away behind the worker's back: its next heartbeat notices and aborts the handler
      const s = await q.enqueue('steal', {});
      await until('the steal job running', async () => (await q.get(s.id))?.state === 'running');
      await handle.kysely.updateTable('jobs').set({ lease_owner: 'thief' }).where('id', '=', s.id).execute();
      await until('the handler aborted', () => stolenSignal?.aborted === true);
      ac.abort();
      const stats = await worker;
      assert.equal(stats.lost, 1);
      assert.equal(stats.completed, 1);
      assert.equal((await q.get(s.id))?.state, 'running', 'the thief still holds it; nothing was recorded');
      assert.ok(lines.some((l) => l.level === 'warn' && /lease lost/.test(l.msg)));
    });

    test('runWorker: abort lets handlers finish or releases their jobs, within the grace period', async (t) => {
      const q = await fresh();
      const quick = await q.enqueue('quick', {});
      const polite = await q.enqueue('polite', {});
      const stubborn = await q.enqueue('stubborn', {});
      const started = new Set<string>();
      const ac = new AbortController();
      t.after(() => ac.abort());
      let stubbornDone = false;
      const { logger } = memoryLogger();
      const worker = runWorker(q, {
        workerId: 'w1',
        leaseMs: 10_000,
        pollMs: 10,
        concurrency: 3,
        shutdownGraceMs: 300,
        signal: ac.signal,
        logger,
        handlers: {
          // ignores the signal but finishes within the grace period
          quick: async () => {
            started.add('quick');
            await sleep(150);
            return 'finished';
          },
          // stops as soon as asked
          polite: async (_job, { signal }) => {
            started.add('polite');
            await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
            throw new Error('stopped early');
          },
          // ignores the signal and outlives the grace period
          stubborn: async () => {
            started.add('stubborn');
            await sleep(1500);
            stubbornDone = true;
            return 'too late';
          },
        },
      });
      await until('all three started', () => started.size === 3);
      const stopAt = Date.now();
      ac.abort();
      const stats = await worker;
      const took = Date.now() - stopAt;
      assert.ok(took >= 250 && took < 1200, `stopped after the grace period (${took} ms)`);
      assert.equal(stubbornDone, false);
      assert.deepEqual(stats, { claimed: 3, completed: 1, retried: 0, failed: 0, released: 2, lost: 0 });
      assert.equal((await q.get(quick.id))?.state, 'done');
      for (const id of [polite.id, stubborn.id]) {
        const j = await q.get(id);
        assert.equal(j?.state, 'queued');
        assert.equal(j?.attempts, 0, 'a released job keeps its attempts');
      }
      // the stubborn handler's late result is discarded
      await sleep(1300);
      assert.equal((await q.get(stubborn.id))?.state, 'queued');
      // a worker aborted before it starts returns at once
      const stopped = new AbortController();
      stopped.abort();
      assert.deepEqual(await runWorker(q, { workerId: 'w2', handlers: { quick: async () => 1 }, signal: stopped.signal, logger }), {
        claimed: 0, completed: 0, retried: 0, failed: 0, released: 0, lost: 0,
      });
    });
  });
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-worker-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

workerSuite('SQLite', () => openDatabase(join(dir, 'worker.db')));

describe('PostgreSQL', { skip: postgresAvailable() ? false : postgresSkipReason }, () => {
  let server: RunningPostgres | undefined;
  let url = '';
  before(async () => {
    server = await startPostgres();
    url = await server.createDatabase();
  });
  after(async () => server?.stop());
  workerSuite('PostgreSQL', () => openDatabase(url));
});
