/**
 * Restoring an image from an analysis archive file (Anchore's `POST /import/images`, its
 * RestoreArchivedImageTaskFromArchiveTarfile): the image is recorded under the archive's tags with
 * its annotations, and its archived analysis is stored as it was, so it is `analyzed` at once and
 * nothing pulls or analyses it again; its vulnerabilities are matched against today's data when the
 * analysis is stored, as for any analysis. The times the archive recorded are kept: the image's
 * created and analyzed times, each tag's, and the evaluation history with each evaluation's time
 * (Anchore's policy_eval records). An image the account already has is a conflict (409), as in
 * Anchore. The archive format is services/archive-file.ts's.
 */
import { LadingError } from '../errors.js';
import type { CatalogImage, CatalogStore } from '../store/catalog.js';
import type { LifecycleEvents } from '../store/lifecycle.js';
import type { PolicyStore } from '../store/policies.js';
import { readAnalysisArchive, type ReadArchive } from './archive-file.js';
import type { ArchiveSource } from './archive-tar.js';

export class ImageConflictError extends LadingError {
  constructor(message: string) {
    super('BAD_INPUT', message);
    this.name = 'ImageConflictError';
  }
}

/** Store a read archive as a live, analyzed image of the account, with its evaluation history. */
export async function restoreImage(catalog: CatalogStore, policies: PolicyStore, account: string, a: ReadArchive): Promise<CatalogImage> {
  if (await catalog.getImage(account, a.imageDigest)) {
    throw new ImageConflictError(`image ${a.imageDigest} already exists in account ${account}; delete it before importing its archive`);
  }
  const dockerfile = a.sbom.source.dockerfile?.mode === 'actual' ? a.sbom.source.dockerfile.text : undefined;
  // Matched and put in its object store before the transaction (store/lifecycle.ts), as imports do.
  const prepared = await catalog.lifecycle.prepare('analysisStored', { account, imageDigest: a.imageDigest, sbom: a.sbom });
  const document = await catalog.prepareDocument(account, a.imageDigest, a.sbom);
  // The bound catalog's clock reads the archive's times: each record is written at the time it had.
  let clock: Date | undefined;
  const now = () => clock ?? new Date();
  const at = (iso: string | undefined) => (iso ? new Date(iso) : undefined);
  const evaluated: LifecycleEvents['evaluationStored'][] = [];
  let used = false;
  try {
    const image = await catalog.transaction(async (c, trx) => {
      if (await c.getImage(account, a.imageDigest)) throw new ImageConflictError(`image ${a.imageDigest} was added meanwhile; no restore`);
      for (const [i, tag] of a.tags.entries()) {
        clock = at(tag.createdAt) ?? at(a.createdAt);
        if (i === 0) clock = at(a.createdAt) ?? clock;
        await c.recordImage(account, {
          imageDigest: a.imageDigest,
          ...(a.imageId ? { imageId: a.imageId } : {}),
          ...(a.parentDigest ? { parentDigest: a.parentDigest } : {}),
          tag: { registry: tag.registry, repo: tag.repo, tag: tag.tag },
          ...(i === 0 && Object.keys(a.annotations).length ? { annotations: a.annotations } : {}),
          ...(i === 0 && dockerfile !== undefined ? { dockerfile } : {}),
        });
        const fulltag = `${tag.registry}/${tag.repo}:${tag.tag}`;
        const times = { ...(tag.createdAt ? { created_at: tag.createdAt } : {}), ...(tag.lastUpdated ? { last_updated: tag.lastUpdated } : {}) };
        await c.setTagTimes(account, fulltag, a.imageDigest, times);
      }
      clock = at(a.analyzedAt);
      used = await c.saveAnalysis(account, a.imageDigest, a.sbom, a.manifest, prepared, document);
      clock = undefined;
      for (const e of a.evaluations) {
        const { event } = await policies.saveEvaluationIn(trx, account, {
          imageDigest: a.imageDigest, tag: e.tag, policyId: e.policyId, finalAction: e.finalAction,
          status: e.finalAction === 'stop' ? 'fail' : 'pass', doc: e.doc, createdAt: new Date(e.createdAt),
        });
        evaluated.push(event);
      }
      return (await c.getImage(account, a.imageDigest))!;
    }, { now });
    for (const event of evaluated) await policies.lifecycle.committed('evaluationStored', event);
    return image;
  } finally {
    if (!used) await catalog.releaseDocument(document);
  }
}

/** Read an archive file and restore its image (see restoreImage). */
export async function importArchiveFile(catalog: CatalogStore, policies: PolicyStore, account: string, src: ArchiveSource): Promise<CatalogImage> {
  return restoreImage(catalog, policies, account, await readAnalysisArchive(src));
}
