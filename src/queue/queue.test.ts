import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type DatabaseHandle } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { isLadingError } from '../errors.js';
import { postgresAvailable, postgresSkipReason, startPostgres, type RunningPostgres } from '../testkit/postgres.js';
import { JobQueue, backoffDelay, type JobQueueOptions } from './queue.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

/** A clock that moves only when told. */
function fakeClock() {
  let now = T0;
  return { now: () => now, advance: (ms: number) => (now += ms), set: (ms: number) => (now = ms) };
}


function queueSuite(name: string, open: () => Promise<DatabaseHandle>) {
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

    test('reclaimOrphans: the jobs of dead owners go back at once (failed after the last attempt); live owners and their leases are untouched', async () => {
      const clock = fakeClock();
      const q = await fresh({ clock: clock.now });
      const a = await q.enqueue('analyze', { n: 1 });
      const b = await q.enqueue('analyze', { n: 2 }, { maxAttempts: 1 });
      const c = await q.enqueue('analyze', { n: 3 });
      const ja = await q.claim('dead-1', ['analyze'], 3_600_000);
      const jb = await q.claim('dead-2', ['analyze'], 3_600_000);
      const jc = await q.claim('alive', ['analyze'], 3_600_000);
      assert.deepEqual([ja?.id, jb?.id, jc?.id], [a.id, b.id, c.id]);
      assert.equal(await q.reapExpired(), 0, 'no lease has expired');
      assert.equal(await q.reclaimOrphans((owner) => owner.startsWith('dead-')), 2);
      const after = await Promise.all([a.id, b.id, c.id].map(async (id) => q.get(id)));
      assert.deepEqual(after.map((j) => [j?.state, j?.leaseOwner]), [['queued', null], ['failed', null], ['running', 'alive']]);
      assert.match(after[0]!.lastError!, /worker dead-1 died \(attempt 1\)/);
      // the old holder cannot record an outcome any more; the job runs again at once
      assert.equal(await q.complete(ja!, 'late'), false);
      const again = await q.claim('new', ['analyze'], 60_000);
      assert.equal(again?.id, a.id);
      assert.equal(again?.attempts, 2);
    });

    test('enqueue, claim, complete', async () => {
      const clock = fakeClock();
      const q = await fresh({ clock: clock.now });
      const a = await q.enqueue('analyze', { digest: 'sha256:aa', tags: ['x'] });
      assert.equal(a.state, 'queued');
      assert.equal(a.attempts, 0);
      assert.equal(a.maxAttempts, 5);
      assert.equal(a.priority, 0);
      assert.equal(a.key, null);
      assert.deepEqual(a.payload, { digest: 'sha256:aa', tags: ['x'] });
      assert.equal(a.runAt.getTime(), T0);
      assert.equal(typeof a.id, 'number');
      assert.deepEqual(await q.stats(), { queued: 1, running: 0, done: 0, failed: 0 });

      assert.equal(await q.claim('w1', ['other'], 1000), undefined, 'only the kinds asked for');
      assert.equal(await q.claim('w1', [], 1000), undefined);
      const j = await q.claim('w1', ['analyze', 'other'], 1000);
      assert.ok(j);
      assert.equal(j.id, a.id);
      assert.equal(j.state, 'running');
      assert.equal(j.attempts, 1);
      assert.equal(j.leaseOwner, 'w1');
      assert.equal(j.leaseUntil?.getTime(), T0 + 1000);
      assert.deepEqual(j.payload, a.payload);
      assert.equal(await q.claim('w2', ['analyze'], 1000), undefined, 'a running job is not claimed twice');
      assert.deepEqual(await q.stats(), { queued: 0, running: 1, done: 0, failed: 0 });

      clock.advance(10);
      assert.equal(await q.complete(j, { packages: 3 }), true);
      assert.equal(await q.complete(j, { packages: 4 }), false, 'completing twice changes nothing');
      const d = await q.get(a.id);
      assert.equal(d?.state, 'done');
      assert.deepEqual(d?.result, { packages: 3 });
      assert.equal(d?.leaseOwner, 'w1', 'the last owner is kept');
      assert.equal(d?.leaseUntil, null);
      assert.equal(d?.updatedAt.getTime(), T0 + 10);
      assert.equal(d?.createdAt.getTime(), T0);
      assert.deepEqual(await q.stats(), { queued: 0, running: 0, done: 1, failed: 0 });

      // no result → undefined; odd payloads survive
      await q.enqueue('k', null);
      await q.enqueue('k', 'text');
      const n1 = await q.claim('w1', ['k'], 1000);
      const n2 = await q.claim('w1', ['k'], 1000);
      assert.equal(n1?.payload, null);
      assert.equal(n2?.payload, 'text');
      assert.ok(await q.complete(n1!));
      assert.equal((await q.get(n1!.id))?.result, undefined);
      assert.equal(await q.get(999_999), undefined);
    });

    test('dedupe keys: one unfinished job per kind and key', async () => {
      const q = await fresh();
      const a = await q.enqueue('analyze', { n: 1 }, { key: 'sha256:aa' });
      const b = await q.enqueue('analyze', { n: 2 }, { key: 'sha256:aa', priority: 9 });
      assert.equal(b.id, a.id);
      assert.deepEqual(b.payload, { n: 1 }, 'the existing job is returned as it was');
      assert.equal(b.priority, 0);
      const other = await q.enqueue('notify', { n: 3 }, { key: 'sha256:aa' });
      assert.notEqual(other.id, a.id, 'keys are per kind');
      const noKey = await q.enqueue('analyze', { n: 4 });
      assert.notEqual(noKey.id, a.id);

      // still deduped while running
      const running = await q.claim('w', ['analyze'], 1000);
      assert.equal(running?.id, a.id);
      assert.equal((await q.enqueue('analyze', {}, { key: 'sha256:aa' })).id, a.id);
      assert.equal((await q.enqueue('analyze', {}, { key: 'sha256:aa' })).state, 'running');
      // finished: the key is free again, and the finished job keeps it
      assert.ok(await q.complete(running!));
      const c = await q.enqueue('analyze', { n: 5 }, { key: 'sha256:aa' });
      assert.notEqual(c.id, a.id);
      assert.equal((await q.get(a.id))?.key, 'sha256:aa');

      // concurrent enqueues of one key make one job
      const many = await Promise.all(Array.from({ length: 10 }, (_, i) => q.enqueue('scan', { i }, { key: 'same' })));
      assert.equal(new Set(many.map((j) => j.id)).size, 1);
      assert.equal((await q.list({ kind: 'scan' })).length, 1);
    });

    test('priorities (higher first), then runAt, then order of arrival; future jobs wait', async () => {
      const clock = fakeClock();
      const q = await fresh({ clock: clock.now });
      const low = await q.enqueue('k', 'low', { priority: -5 });
      const first = await q.enqueue('k', 'first');
      const second = await q.enqueue('k', 'second');
      const high = await q.enqueue('k', 'high', { priority: 10 });
      const later = await q.enqueue('k', 'later', { priority: 100, runAt: T0 + 5000 });
      const early = await q.enqueue('k', 'early', { runAt: new Date(T0 - 5000) });
      const order: string[] = [];
      for (;;) {
        const j = await q.claim('w', ['k'], 60_000);
        if (!j) break;
        order.push(j.payload as string);
      }
      assert.deepEqual(order, ['high', 'early', 'first', 'second', 'low']);
      assert.equal((await q.get(later.id))?.state, 'queued');
      clock.advance(4999);
      assert.equal(await q.claim('w', ['k'], 60_000), undefined);
      clock.advance(1);
      assert.equal((await q.claim('w', ['k'], 60_000))?.id, later.id);
      assert.ok(low && first && second && high && early);
    });

    test('an expired lease: the job is claimed again with attempts + 1; the old holder can no longer touch it', async () => {
      const clock = fakeClock();
      const q = await fresh({ clock: clock.now, reapIntervalMs: 0 });
      const { id } = await q.enqueue('k', {});
      const j1 = await q.claim('w1', ['k'], 1000);
      assert.equal(j1?.attempts, 1);
      clock.advance(1000);
      assert.equal(await q.claim('w2', ['k'], 1000), undefined, 'not before the lease ends');
      clock.advance(1);
      const j2 = await q.claim('w2', ['k'], 1000);
      assert.equal(j2?.id, id);
      assert.equal(j2?.attempts, 2);
      assert.equal(j2?.leaseOwner, 'w2');
      assert.match(j2?.lastError ?? '', /lease of w1 expired/);
      assert.equal(await q.heartbeat(j1!, 1000), false);
      assert.equal(await q.complete(j1!, 'stale'), false);
      assert.equal(await q.fail(j1!, new Error('stale')), undefined);
      assert.equal(await q.release(j1!), false);
      assert.ok(await q.complete(j2!, 'fresh'));
      assert.equal((await q.get(id))?.result, 'fresh');

      // the same worker claiming its own expired job again: the first claim is still dead
      const { id: id2 } = await q.enqueue('k', {});
      const a1 = await q.claim('w1', ['k'], 1000);
      clock.advance(1001);
      const a2 = await q.claim('w1', ['k'], 1000);
      assert.equal(a2?.id, id2);
      assert.equal(a2?.attempts, 2);
      assert.equal(await q.complete(a1!), false);
      assert.equal(await q.heartbeat(a1!, 1000), false);
      assert.ok(await q.complete(a2!));

      // an expired lease on the last attempt fails the job, with the reason kept
      const { id: id3 } = await q.enqueue('k', {}, { maxAttempts: 1 });
      await q.claim('w1', ['k'], 1000);
      clock.advance(1001);
      assert.equal(await q.claim('w2', ['k'], 1000), undefined);
      const dead = await q.get(id3);
      assert.equal(dead?.state, 'failed');
      assert.equal(dead?.attempts, 1);
      assert.match(dead?.lastError ?? '', /lease of w1 expired at .* \(attempt 1\)/);
    });

    test('reaping runs at most every reapIntervalMs, by the clock', async () => {
      const clock = fakeClock();
      const q = await fresh({ clock: clock.now, reapIntervalMs: 5000 });
      await q.enqueue('k', {});
      assert.ok(await q.claim('w1', ['k'], 1000)); // reaps now (first claim)
      clock.advance(2000);
      assert.equal(await q.claim('w2', ['k'], 1000), undefined, 'expired, but not reaped yet');
      assert.equal(await q.reapExpired(), 1);
      assert.equal((await q.claim('w2', ['k'], 1000))?.attempts, 2);
    });

    test('heartbeat keeps the lease; after losing it, heartbeat says so', async () => {
      const clock = fakeClock();
      const q = await fresh({ clock: clock.now, reapIntervalMs: 0 });
      const { id } = await q.enqueue('k', {});
      const j = await q.claim('w1', ['k'], 1000);
      for (let i = 0; i < 5; i++) {
        clock.advance(800);
        assert.equal(await q.heartbeat(j!, 1000), true);
        assert.equal(await q.claim('w2', ['k'], 1000), undefined, `beat ${i}: still held`);
      }
      assert.equal(j?.leaseUntil?.getTime(), T0 + 5 * 800 + 1000);
      clock.advance(1001);
      const stolen = await q.claim('w2', ['k'], 1000);
      assert.equal(stolen?.id, id);
      assert.equal(await q.heartbeat(j!, 1000), false);
      assert.equal(await q.heartbeat(stolen!, 1000), true);
      // a heartbeat after the lease ran out but before anyone reaped it still holds
      clock.advance(1500);
      assert.equal(await q.heartbeat(stolen!, 1000), true);
      assert.equal(await q.claim('w3', ['k'], 1000), undefined);
    });

    test('fail: exponential backoff up to the cap, then failed after maxAttempts with the last error', async () => {
      const clock = fakeClock();
      const q = await fresh({ clock: clock.now, backoff: { baseMs: 1000, capMs: 5000 } });
      const { id } = await q.enqueue('k', {}, { maxAttempts: 5 });
      const delays: number[] = [];
      for (let attempt = 1; attempt <= 5; attempt++) {
        // not before its runAt
        const due = (await q.get(id))!.runAt.getTime();
        if (due > clock.now()) {
          clock.set(due - 1);
          assert.equal(await q.claim('w', ['k'], 1000), undefined, `attempt ${attempt} waits for its backoff`);
          clock.set(due);
        }
        const j = await q.claim('w', ['k'], 1000);
        assert.equal(j?.attempts, attempt);
        const state = await q.fail(j!, new Error(`boom ${attempt}`));
        const after = (await q.get(id))!;
        if (attempt < 5) {
          assert.equal(state, 'queued');
          assert.equal(after.state, 'queued');
          delays.push(after.runAt.getTime() - clock.now());
        } else {
          assert.equal(state, 'failed');
          assert.equal(after.state, 'failed');
        }
        assert.equal(after.lastError, `boom ${attempt}`);
        assert.equal(after.leaseUntil, null);
      }
      assert.deepEqual(delays, [1000, 2000, 4000, 5000]);
      assert.equal(await q.claim('w', ['k'], 1000), undefined);
      assert.deepEqual(await q.stats(), { queued: 0, running: 0, done: 0, failed: 1 });

      // retry: false fails at once; delayMs overrides the backoff; strings are errors too
      const { id: once } = await q.enqueue('k', {});
      assert.equal(await q.fail((await q.claim('w', ['k'], 1000))!, 'bad input', { retry: false }), 'failed');
      assert.equal((await q.get(once))?.lastError, 'bad input');
      const { id: custom } = await q.enqueue('k', {});
      assert.equal(await q.fail((await q.claim('w', ['k'], 1000))!, new Error('x'), { delayMs: 42 }), 'queued');
      assert.equal((await q.get(custom))?.runAt.getTime(), clock.now() + 42);
      // a very long error is cut
      const { id: long } = await q.enqueue('k', {}, { maxAttempts: 1 });
      await q.fail((await q.claim('w', ['k'], 1000))!, new Error('e'.repeat(20_000)));
      assert.ok(((await q.get(long))?.lastError ?? '').length <= 8001);
    });

    test('backoff: doubling, capped, with optional jitter', () => {
      const b = { baseMs: 500, capMs: 60_000, jitter: 0 };
      assert.deepEqual([1, 2, 3, 4, 8, 20, 100].map((a) => backoffDelay(a, b)), [500, 1000, 2000, 4000, 60_000, 60_000, 60_000]);
      assert.equal(backoffDelay(3, { ...b, jitter: 0.5 }, () => 1), 1000);
      assert.equal(backoffDelay(3, { ...b, jitter: 0.5 }, () => 0), 2000);
    });

    test('release gives the attempt back; list, stats and purge', async () => {
      const clock = fakeClock();
      const q = await fresh({ clock: clock.now });
      const a = await q.enqueue('a', 1);
      await q.enqueue('b', 2);
      await q.enqueue('a', 3);
      const j = await q.claim('w', ['a'], 1000);
      assert.ok(await q.release(j!));
      const back = await q.get(a.id);
      assert.equal(back?.state, 'queued');
      assert.equal(back?.attempts, 0);
      assert.equal(back?.leaseOwner, null);
      assert.equal(await q.release(j!), false);

      const x = await q.claim('w', ['a'], 1000);
      assert.equal(x?.attempts, 1);
      assert.ok(await q.complete(x!));
      const y = await q.claim('w', ['a'], 1000);
      assert.ok(await q.fail(y!, 'no', { retry: false }));
      await q.claim('w', ['b'], 3_600_000);
      assert.deepEqual(await q.stats(), { queued: 0, running: 1, done: 1, failed: 1 });
      assert.deepEqual((await q.list()).map((j) => j.payload), [3, 2, 1], 'newest first');
      assert.deepEqual((await q.list({ state: 'done' })).map((j) => j.payload), [1]);
      assert.deepEqual((await q.list({ kind: 'a', limit: 1 })).map((j) => j.payload), [3]);
      assert.deepEqual((await q.list({ kind: 'b', state: 'running' })).map((j) => j.payload), [2]);

      clock.advance(60_000);
      await q.enqueue('c', 'recent');
      const r = await q.claim('w', ['c'], 1000);
      assert.ok(await q.complete(r!));
      assert.equal(await q.purge(T0 + 30_000), 2, 'only finished jobs older than the cutoff');
      assert.deepEqual((await q.list()).map((j) => [j.payload, j.state]), [['recent', 'done'], [2, 'running']]);
      assert.equal(await q.purge(new Date(T0 + 120_000)), 1);
      assert.deepEqual(await q.stats(), { queued: 0, running: 1, done: 0, failed: 0 });
    });

    test('bad input is refused with a clear error', async () => {
      const q = await fresh();
      const bad = (e: unknown) => isLadingError(e) && e.code === 'BAD_INPUT';
      await assert.rejects(q.enqueue('', {}), bad);
      await assert.rejects(q.enqueue('k', {}, { maxAttempts: 0 }), /maxAttempts must be an integer >= 1/);
      await assert.rejects(q.enqueue('k', {}, { priority: 1.5 }), bad);
      await assert.rejects(q.enqueue('k', {}, { runAt: Number.NaN }), /runAt is not a valid time/);
      await assert.rejects(q.enqueue('k', {}, { key: '' }), bad);
      await assert.rejects(q.enqueue('k', { n: 1n }), /cannot be stored as JSON/);
      await assert.rejects(q.claim('w', ['k'], 0), /leaseMs/);
      await assert.rejects(q.claim('', ['k'], 10), /worker id/);
      assert.deepEqual(await q.stats(), { queued: 0, running: 0, done: 0, failed: 0 });
      assert.throws(() => new JobQueue(handle, { defaultMaxAttempts: 0 }), bad);
    });
  });
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-queue-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

queueSuite('SQLite', () => openDatabase(join(dir, 'queue.db')));

describe('PostgreSQL', { skip: postgresAvailable() ? false : postgresSkipReason }, () => {
  let server: RunningPostgres | undefined;
  let url = '';
  before(async () => {
    server = await startPostgres();
    url = await server.createDatabase();
  });
  after(async () => server?.stop());
  queueSuite('PostgreSQL', () => openDatabase(url));
});
