/**
 * The analysis reconciler: Lading's form of Anchore's analyzer_queue cycle, run by every worker
 * process (role worker or all). The queue already hands a killed worker's job to another worker
 * once its lease expires; this covers what the queue cannot know, the image records:
 *
 * - a `not_analyzed` image with no unfinished analyze job (its job was lost: never queued, purged)
 *   gets one;
 * - an `analyzing` image whose job is no longer running (lease expired, job finished without the
 *   image being marked, or no job at all) goes back to `not_analyzed` and its job is queued;
 *   if its last job failed for good (every attempt used, say each one killed the worker), the image
 *   is `analysis_failed` with that job's error instead, so a poisonous image is not retried forever.
 *
 * Safe with any number of reconcilers at once: status changes are conditional single statements
 * (`... where analysis_status = 'analyzing' and not exists (a running job holding its lease)`)
 * and the analyze job's dedupe key keeps one unfinished job per image. Images of accounts being
 * deleted are left alone; `analysis_failed` images stay as they are (adding them again retries).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../errors.js';
import { UNFINISHED_STATES, type JobQueue } from '../queue/queue.js';
import { stderrLogger, type WorkerLogger } from '../queue/worker.js';
import { ANALYZE_JOB, analysisJobKey, enqueueAnalysis } from './analyzer.js';
import type { AccountStore } from '../store/accounts.js';
import type { CatalogStore } from '../store/catalog.js';

/** How often a worker process reconciles, by default (Anchore's analyzer_queue cycle is 1 to 5 s). */
export const RECONCILE_INTERVAL_MS = 5000;


/** What one pass did; each entry is an analyze job key, `account/imageDigest`. */
export interface ReconcileOutcome {
  /** `not_analyzed` images without an unfinished job, queued. */
  enqueued: string[];
  /** `analyzing` images whose job was not running, reset to `not_analyzed` and queued. */
  reset: string[];
  /** `analyzing` images whose last job failed for good, marked `analysis_failed`. */
  failed: string[];
}

export interface ReconcileOptions {
  /** Attempts of the jobs it queues (config analysis.max_attempts); default the queue's. */
  maxAttempts?: number;
}

/** The stores a pass reads and corrects (the composition root's). */
export interface ReconcileStores {
  catalog: CatalogStore;
  accounts: AccountStore;
}

/** One reconciliation pass over every account's unfinished images. */
export async function reconcileAnalyses(stores: ReconcileStores, queue: JobQueue, options: ReconcileOptions = {}): Promise<ReconcileOutcome> {
  const out: ReconcileOutcome = { enqueued: [], reset: [], failed: [] };
  const deleting = (await stores.accounts.listAccounts({ state: 'deleting' })).map((a) => a.name);
  const images = await stores.catalog.unfinishedAnalyses(deleting);
  if (images.length === 0) return out;

  const unfinished = new Map((await queue.unfinished(ANALYZE_JOB)).map((j) => [j.key, j]));
  const now = new Date(queue.now()).toISOString();
  const maxAttempts = options.maxAttempts;

  for (const img of images) {
    const { account, imageDigest, fulltag } = img;
    if (!fulltag) continue; // nothing to pull it by (addImage always records a tag)
    const key = analysisJobKey(account, imageDigest);
    const job = unfinished.get(key);
    const enqueue = () => enqueueAnalysis(queue, { account, imageDigest, fulltag }, maxAttempts);

    if (img.status === 'not_analyzed') {
      if (job) continue;
      await enqueue();
      out.enqueued.push(key);
      continue;
    }

    // analyzing: fine while a worker holds the job's lease
    if (job?.state === 'running' && job.leaseUntil !== null && job.leaseUntil >= now) continue;

    if (!job) {
      const last = await queue.latest(ANALYZE_JOB, key);
      if (last?.state === 'failed') {
        const reason = `analysis job ${last.id} failed after ${last.attempts} attempt(s): ${last.lastError ?? 'no error recorded'}`;
        if (await stores.catalog.leaveAnalyzing(account, imageDigest, 'analysis_failed', reason, now, queue.noJob(ANALYZE_JOB, key, UNFINISHED_STATES))) {
          out.failed.push(key);
        }
        continue;
      }
    }

    if (!(await stores.catalog.leaveAnalyzing(account, imageDigest, 'not_analyzed', null, now, queue.noJob(ANALYZE_JOB, key, ['running'], now)))) continue;
    // an unfinished job (queued, or running on an expired lease the queue will reap) is kept
    await enqueue();
    out.reset.push(key);
  }
  return out;
}

export interface ReconcilerOptions extends ReconcileOptions {
  /** Stops the loop. */
  signal: AbortSignal;
  /** Default RECONCILE_INTERVAL_MS. */
  intervalMs?: number;
  /** Default: warnings and errors to stderr. */
  logger?: WorkerLogger;
}

/** Reconcile now and then every intervalMs until the signal aborts; never throws. */
export async function runReconciler(stores: ReconcileStores, queue: JobQueue, options: ReconcilerOptions): Promise<void> {
  const { signal } = options;
  const log = options.logger ?? stderrLogger;
  const intervalMs = options.intervalMs ?? RECONCILE_INTERVAL_MS;
  const report = (keys: string[], msg: string) => {
    if (keys.length) log.warn({ count: keys.length, images: keys.slice(0, 10) }, msg);
  };
  while (!signal.aborted) {
    try {
      const r = await reconcileAnalyses(stores, queue, options);
      report(r.enqueued, 'queued analysis of not_analyzed images that had no job');
      report(r.reset, 'reset images left analyzing by a job that is no longer running; queued again');
      report(r.failed, 'marked images analysis_failed: their analysis job failed for good');
    } catch (e) {
      log.error({ error: describeError(e) }, 'reconciling analyses failed; trying again next cycle');
    }
    await sleep(intervalMs, undefined, { signal }).catch(() => {});
  }
}
