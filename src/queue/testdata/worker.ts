/**
 * A worker process for the multi-process queue tests and the queue benchmark
 * (run as `node --import tsx src/queue/testdata/worker.ts '<json>'`). JSON: {url, workerId, mode,
 * leaseMs, kind}. It opens the (already migrated) database, prints {"ready":true} and waits for a
 * line on stdin, then:
 * - mode "drain": claims and completes jobs (result {worker}) until none is due, then prints
 *   {"done":[ids…],"ms":…} and exits;
 * - mode "hang": runs runWorker with a handler that prints {"claimed":id} and never finishes
 *   (the test SIGKILLs it; heartbeats keep the lease meanwhile).
 */
import { createInterface } from 'node:readline';
import { openDatabase } from '../../store/db.js';
import { JobQueue } from '../queue.js';
import { runWorker } from '../worker.js';

interface Args {
  url: string;
  workerId: string;
  mode: 'drain' | 'hang';
  leaseMs: number;
  kind: string;
}

function say(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as Args;
  const handle = await openDatabase(args.url, { poolMax: 2 });
  const queue = new JobQueue(handle);
  const lines = createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve) => lines.once('line', () => resolve()));
  say({ ready: true });
  await go;
  lines.close();
  if (args.mode === 'drain') {
    const done: number[] = [];
    const start = performance.now();
    for (;;) {
      const job = await queue.claim(args.workerId, [args.kind], args.leaseMs);
      if (!job) break;
      if (!(await queue.complete(job, { worker: args.workerId }))) throw new Error(`lost the lease on job ${job.id}`);
      done.push(job.id);
    }
    say({ done, ms: performance.now() - start });
    await handle.close();
    return;
  }
  await runWorker(queue, {
    workerId: args.workerId,
    leaseMs: args.leaseMs,
    pollMs: 20,
    handlers: {
      [args.kind]: async (job) => {
        say({ claimed: job.id, attempts: job.attempts });
        await new Promise(() => {}); // until killed
      },
    },
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`worker failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
