/**
 * Tests: run the queued automatic evaluations (evaluate jobs) in this process, as the worker
 * role's evaluator would, so a test on a composeRoot service sees the verdicts without a worker.
 */
import { JobQueue, type QueueDatabase } from '../queue/queue.js';
import type { HandlerContext } from '../queue/worker.js';
import { EVALUATE_JOB, evaluateHandler, type AutoEvaluateDeps } from './auto-evaluate.js';

const context: HandlerContext = { signal: new AbortController().signal, heartbeat: async () => true, workerId: 'test-evaluator' };

/** Claim and run every due evaluate job; the number run. */
export async function runQueuedEvaluations(db: QueueDatabase, deps: AutoEvaluateDeps): Promise<number> {
  const queue = new JobQueue(db);
  const handler = evaluateHandler(deps);
  let ran = 0;
  for (let job = await queue.claim(context.workerId, [EVALUATE_JOB], 60_000); job; job = await queue.claim(context.workerId, [EVALUATE_JOB], 60_000)) {
    await queue.complete(job, await handler(job, context));
    ran++;
  }
  return ran;
}
