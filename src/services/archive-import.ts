/**
 * Restoring an image from an analysis archive file (Anchore's `POST /import/images`, its
 * RestoreArchivedImageTaskFromArchiveTarfile): the image is recorded under the archive's tags with
 * its annotations, and its archived analysis is stored as it was, so it is `analyzed` at once and
 * nothing pulls or analyses it again; its vulnerabilities are matched against today's data when the
 * analysis is stored, as for any analysis. An image the account already has is a conflict (409),
 * as in Anchore. The archive format is services/archive-file.ts's.
 */
import { LadingError } from '../errors.js';
import type { CatalogImage, CatalogStore } from '../store/catalog.js';
import { readAnalysisArchive, type ReadArchive } from './archive-file.js';

export class ImageConflictError extends LadingError {
  constructor(message: string) {
    super('BAD_INPUT', message);
    this.name = 'ImageConflictError';
  }
}

/** Store a read archive as a live, analyzed image of the account. */
export async function restoreImage(catalog: CatalogStore, account: string, a: ReadArchive): Promise<CatalogImage> {
  if (await catalog.getImage(account, a.imageDigest)) {
    throw new ImageConflictError(`image ${a.imageDigest} already exists in account ${account}; delete it before importing its archive`);
  }
  const dockerfile = a.sbom.source.dockerfile?.mode === 'actual' ? a.sbom.source.dockerfile.text : undefined;
  // Matched and put in its object store before the transaction (store/lifecycle.ts), as imports do.
  const prepared = await catalog.lifecycle.prepare('analysisStored', { account, imageDigest: a.imageDigest, sbom: a.sbom });
  const document = await catalog.prepareDocument(account, a.imageDigest, a.sbom);
  let used = false;
  try {
    return await catalog.transaction(async (c) => {
      if (await c.getImage(account, a.imageDigest)) throw new ImageConflictError(`image ${a.imageDigest} was added meanwhile; no restore`);
      for (const [i, tag] of a.tags.entries()) {
        await c.recordImage(account, {
          imageDigest: a.imageDigest,
          ...(a.imageId ? { imageId: a.imageId } : {}),
          ...(a.parentDigest ? { parentDigest: a.parentDigest } : {}),
          tag,
          ...(i === 0 && Object.keys(a.annotations).length ? { annotations: a.annotations } : {}),
          ...(i === 0 && dockerfile !== undefined ? { dockerfile } : {}),
        });
      }
      used = await c.saveAnalysis(account, a.imageDigest, a.sbom, a.manifest, prepared, document);
      return (await c.getImage(account, a.imageDigest))!;
    });
  } finally {
    if (!used) await catalog.releaseDocument(document);
  }
}

/** Read an archive file and restore its image (see restoreImage). */
export async function importArchiveFile(catalog: CatalogStore, account: string, bytes: Buffer): Promise<CatalogImage> {
  return restoreImage(catalog, account, await readAnalysisArchive(bytes));
}
