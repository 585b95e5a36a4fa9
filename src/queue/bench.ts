/**
 * Queue throughput: jobs claimed and completed per second by 1 and by 3 worker processes
 * (testdata/worker.ts, each claiming then completing one job at a time), on a SQLite file and on
 * a throwaway PostgreSQL. Figures, not pass/fail.
 *
 *   npx tsx src/queue/bench.ts [jobs=2000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { postgresAvailable, postgresSkipReason, startPostgres } from '../testkit/postgres.js';
import { JobQueue } from './queue.js';
import { drainWithProcesses } from './testing.js';

async function bench(label: string, url: string, jobs: number): Promise<void> {
  const handle = await openDatabase(url);
  try {
    await migrateToLatest(handle.kysely);
    const queue = new JobQueue(handle);
    for (const processes of [1, 3]) {
      const kind = `bench${processes}`;
      const t = performance.now();
      for (let i = 0; i < jobs; i++) await queue.enqueue(kind, { i });
      const enqueueMs = performance.now() - t;
      const r = await drainWithProcesses(url, processes, kind, jobs, `b${processes}-`);
      const done = [...r.byWorker.values()].reduce((n, d) => n + d.length, 0);
      if (done !== jobs) throw new Error(`${done} of ${jobs} jobs done`);
      const share = [...r.byWorker.values()].map((d) => d.length).join('/');
      console.log(
        `${label.padEnd(10)} ${String(processes)} process${processes > 1 ? 'es' : '  '}  ${jobs} jobs  ` +
          `claim+complete ${r.jobsPerSecond.toFixed(0).padStart(6)} jobs/s  (${r.ms.toFixed(0)} ms, split ${share})  ` +
          `enqueue ${((jobs / enqueueMs) * 1000).toFixed(0)} jobs/s`,
      );
    }
  } finally {
    await handle.close();
  }
}

const jobs = Number(process.argv[2] ?? 2000);
const dir = await mkdtemp(join(tmpdir(), 'lading-queue-bench-'));
try {
  await bench('SQLite', join(dir, 'jobs.db'), jobs);
  if (postgresAvailable()) {
    const server = await startPostgres();
    try {
      await bench('PostgreSQL', await server.createDatabase(), jobs);
    } finally {
      await server.stop();
    }
  } else {
    console.log(postgresSkipReason);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
