/**
 * The analyzer worker's job: `analyze` {account, imageDigest, fulltag}. Resolves the image by
 * digest from the tag's repository, analyzes it, stores the SBOM and marks the image analyzed, or
 * analysis_failed with the reason (a registry error's own message). A failed analysis fails the
 * job for good: adding the image again retries it.
 */
import { analyzeImage } from '../analyze/analyze.js';
import { describeError } from '../errors.js';
import { openSource, type SourceOptions } from '../image/sources/index.js';
import { parseReference, type ImageReference } from '../image/reference.js';
import type { Job, JobQueue } from '../queue/queue.js';
import { PermanentJobError, type HandlerContext, type JobHandler } from '../queue/worker.js';
import type { AnalyzeOptions } from '../analyze/analyze.js';
import type { Sbom } from '../sbom/model.js';
import type { CatalogImage, CatalogStore } from '../store/catalog.js';
import { recordAnalysisOutcome, type EventStore } from '../store/events.js';

export const ANALYZE_JOB = 'analyze';

export interface AnalyzePayload {
  account: string;
  imageDigest: string;
  fulltag: string;
}

export interface AnalyzerOptions {
  source?: SourceOptions;
  /** The source options of one account's pull (its registry credentials); without it, `source`. */
  sourceFor?: (account: string, reference: ImageReference) => Promise<SourceOptions>;
  analyze?: Omit<AnalyzeOptions, 'signal' | 'dockerfile'>;
  /** Where user.image.analysis.completed / .failed events are recorded (one per tag of the image). */
  events?: EventStore;
  /**
   * Told every outcome after it is stored (notifications, the re-match index, policy
   * re-evaluation). Its failures are reported to `onHookError` and never fail the analysis.
   */
  onOutcome?: (image: CatalogImage, outcome: AnalysisOutcome) => Promise<void>;
  onHookError?: (error: unknown) => void;
  /** Told how long each analysis took (from claim to stored outcome), right after the outcome is stored. */
  onFinished?: (status: AnalysisOutcome['status'], seconds: number) => void;
}

export type AnalysisOutcome = { status: 'analyzed'; sbom: Sbom } | { status: 'analysis_failed'; reason: string };

/** The dedupe key of an image's analyze job. */
export function analysisJobKey(account: string, imageDigest: string): string {
  return `${account}/${imageDigest}`;
}

/** Queue analysis of an image; one unfinished job per account and digest. */
export async function enqueueAnalysis(queue: JobQueue, payload: AnalyzePayload, maxAttempts?: number): Promise<Job<AnalyzePayload>> {
  return queue.enqueue(ANALYZE_JOB, payload, { key: analysisJobKey(payload.account, payload.imageDigest), ...(maxAttempts ? { maxAttempts } : {}) });
}

/** The pull string of an image by digest in the repository of its tag. */
export function digestReference(fulltag: string, imageDigest: string): string {
  const ref = parseReference(fulltag);
  return `${ref.registry}/${ref.repository}@${imageDigest}`;
}

export function analyzeHandler(catalog: CatalogStore, options: AnalyzerOptions = {}): JobHandler {
  const hook = async (image: CatalogImage, outcome: AnalysisOutcome) => {
    try {
      await options.onOutcome?.(image, outcome);
    } catch (e) {
      options.onHookError?.(e);
    }
  };
  return async (job: Job<AnalyzePayload>, ctx: HandlerContext) => {
    const { account, imageDigest, fulltag } = job.payload;
    const image = await catalog.getImage(account, imageDigest);
    if (!image) return { status: 'deleted' };
    const started = performance.now();
    const finished = (status: AnalysisOutcome['status']) => options.onFinished?.(status, (performance.now() - started) / 1000);
    await catalog.setStatus(account, imageDigest, 'analyzing');
    let sbom;
    let manifest: unknown;
    try {
      const pull = digestReference(fulltag, imageDigest);
      const sourceOptions = options.sourceFor ? await options.sourceFor(account, parseReference(pull)) : options.source ?? {};
      const source = await openSource(`registry:${pull}`, sourceOptions);
      try {
        const img = await source.resolve({ signal: ctx.signal });
        manifest = img.manifest;
        sbom = await analyzeImage(img, {
          fileDigests: true,
          ...options.analyze,
          signal: ctx.signal,
          ...(image.dockerfile !== undefined ? { dockerfile: image.dockerfile } : {}),
        });
      } finally {
        await source.close();
      }
    } catch (e) {
      if (ctx.signal.aborted) {
        // The worker is stopping: the job is given back and runs again; the image waits for it.
        await catalog.setStatus(account, imageDigest, 'not_analyzed');
        throw e;
      }
      const reason = describeError(e);
      await catalog.setStatus(account, imageDigest, 'analysis_failed', reason);
      finished('analysis_failed');
      const failed = (await catalog.getImage(account, imageDigest)) ?? image;
      if (options.events) await recordAnalysisOutcome(options.events, failed, { status: 'analysis_failed', reason }, fulltag);
      await hook(failed, { status: 'analysis_failed', reason });
      throw new PermanentJobError(`analysis of ${imageDigest} (${fulltag}) failed: ${reason}`, { cause: e });
    }
    // The tag the user added is the one the analysis reports.
    if (!sbom.source.tags.includes(fulltag)) sbom.source.tags = [fulltag, ...sbom.source.tags];
    const saved = await catalog.saveAnalysis(account, imageDigest, sbom, manifest);
    if (saved) finished('analyzed');
    const analyzed = saved ? await catalog.getImage(account, imageDigest) : undefined;
    if (analyzed && options.events) await recordAnalysisOutcome(options.events, analyzed, { status: 'analyzed' }, fulltag);
    if (analyzed) await hook(analyzed, { status: 'analyzed', sbom });
    return { status: saved ? 'analyzed' : 'deleted', packages: sbom.packages.length };
  };
}
