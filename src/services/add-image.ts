/**
 * A tag resolved to an image becomes a catalog record, and its analysis is queued when it needs
 * one: the step that `POST /images`, the tag watcher and the admission webhook share once they
 * have resolved the tag in its registry (each resolves in its own way).
 */
import type { JobQueue } from '../queue/queue.js';
import { enqueueAnalysis } from './analyzer.js';
import type { CatalogImage, CatalogStore } from '../store/catalog.js';

export interface AddImageDeps {
  catalog: CatalogStore;
  queue: JobQueue;
  analysisMaxAttempts?: number;
}

/** What resolving a tag gave: the platform image's manifest digest, its config id, the index it came from. */
export interface ResolvedTag {
  imageDigest: string;
  imageId: string;
  parentDigest?: string;
}

export interface AddTaggedOptions {
  annotations?: Record<string, unknown>;
  dockerfile?: string;
  /** Analyze again even when an analysis is stored. */
  force?: boolean;
}

export async function addTaggedImage(
  deps: AddImageDeps, account: string, tag: { registry: string; repo: string; tag: string }, r: ResolvedTag, options: AddTaggedOptions = {},
): Promise<{ image: CatalogImage; needsAnalysis: boolean }> {
  const added = await deps.catalog.addImage(account, {
    imageDigest: r.imageDigest,
    imageId: r.imageId,
    ...(r.parentDigest ? { parentDigest: r.parentDigest } : {}),
    tag,
    ...(options.annotations && Object.keys(options.annotations).length ? { annotations: options.annotations } : {}),
    ...(options.dockerfile !== undefined ? { dockerfile: options.dockerfile } : {}),
    ...(options.force ? { force: true } : {}),
  });
  if (added.needsAnalysis) {
    const fulltag = `${tag.registry}/${tag.repo}:${tag.tag}`;
    await enqueueAnalysis(deps.queue, { account, imageDigest: r.imageDigest, fulltag }, deps.analysisMaxAttempts);
  }
  return added;
}
