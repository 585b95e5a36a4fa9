/**
 * The job_purge cycle: finished jobs (done and failed) are kept a week for `lading system` and
 * the API's job views, then deleted, so the jobs table does not grow by one row per analysis and
 * per automatic evaluation for ever. Unfinished jobs are never touched.
 */
import type { JobQueue } from '../queue/queue.js';
import type { CycleSpec } from './cycles.js';

export const FINISHED_JOB_RETENTION_MS = 7 * 86_400_000;
const HOUR_MS = 3_600_000;

export function jobPurgeCycle(queue: JobQueue, options: { intervalMs?: number; retentionMs?: number; clock?: () => number } = {}): CycleSpec {
  const retentionMs = options.retentionMs ?? FINISHED_JOB_RETENTION_MS;
  const clock = options.clock ?? Date.now;
  return {
    name: 'job_purge',
    intervalMs: options.intervalMs ?? HOUR_MS,
    run: async () => `${await queue.purge(clock() - retentionMs)} finished jobs older than ${Math.round(retentionMs / 86_400_000)} days deleted`,
  };
}
