import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { JobQueue } from '../queue/queue.js';
import { FINISHED_JOB_RETENTION_MS, jobPurgeCycle } from './job-purge.js';

test('job_purge deletes finished jobs older than the retention and keeps newer and unfinished ones', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lading-job-purge-'));
  const db = await openDatabase(`sqlite://${join(dir, 'db.sqlite')}`);
  try {
    await migrateToLatest(db.kysely);
    let now = Date.parse('2026-01-01T00:00:00Z');
    const queue = new JobQueue(db, { clock: () => now });
    const finish = async (kind: string, fail = false) => {
      await queue.enqueue(kind, {});
      const job = (await queue.claim('w', [kind], 60_000))!;
      if (fail) await queue.fail(job, new Error('broken'), { retry: false });
      else await queue.complete(job);
    };
    await finish('analyze');
    await finish('evaluate', true);
    now += FINISHED_JOB_RETENTION_MS + 1000;
    await finish('evaluate');
    await queue.enqueue('analyze', { waiting: true });
    const cycle = jobPurgeCycle(queue, { clock: () => now });
    assert.equal(cycle.name, 'job_purge');
    assert.equal(await cycle.run(new AbortController().signal), '2 finished jobs older than 7 days deleted');
    const left = await queue.list({ limit: 10 });
    assert.deepEqual(left.map((j) => [j.kind, j.state]).sort(), [['analyze', 'queued'], ['evaluate', 'done']]);
    assert.equal(await cycle.run(new AbortController().signal), '0 finished jobs older than 7 days deleted');
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
});
