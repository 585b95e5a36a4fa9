/**
 * Analysis archives as files: `POST /import/images` (Anchore's import_image_archive: a multipart
 * form with the tar.gz as `archive_file`, or the tar.gz itself as the body) restores an image with
 * its analysis, answering AnchoreImageList; `GET /archives/images/{imageDigest}/export` (Lading's)
 * downloads an archived analysis as that tar.gz. The format is services/archive-file.ts's.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ImageConflictError, importArchiveFile } from '../../services/archive-import.js';
import { writeAnalysisArchive } from '../../services/archive-file.js';
import { ApiError } from '../errors.js';
import { parseInput } from '../validate.js';
import type { ApiDeps } from '../app.js';
import { accountOf } from '../context.js';
import { anchoreImage } from '../views.js';
import { formField } from '../multipart.js';

/** The largest archive upload. */
export const MAX_ARCHIVE_UPLOAD_BYTES = 100 * 1024 * 1024;

const imageParams = z.object({ imageDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected an image digest (sha256:<64 hex>)') });

/** The archive bytes of an upload: the multipart form's archive_file, or the body itself. */
function archiveOf(contentType: string | undefined, body: Buffer): Buffer {
  if (/^multipart\/form-data/i.test(contentType ?? '')) {
    const file = formField(contentType!, body, 'archive_file');
    if (!file) throw new ApiError(400, 'invalid request: the multipart form has no archive_file field (the analysis archive tar.gz)');
    return file;
  }
  return body;
}

export function archiveFileRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/archives/images/:imageDigest/export', async (req, reply) => {
    const account = await accountOf(req, deps, 'read');
    const { imageDigest } = parseInput(imageParams, req.params, 'path');
    const image = await deps.archive.getArchived(account, imageDigest);
    const stored = image ? await deps.archive.getArchivedDocument(account, imageDigest) : undefined;
    if (!image || !stored) throw new ApiError(404, `no archived analysis of ${imageDigest}`);
    const file = writeAnalysisArchive(account, image, stored.sbom, stored.manifest);
    return reply.type('application/gzip').header('content-disposition', `attachment; filename="${imageDigest.replace(':', '-')}.tar.gz"`).send(file);
  });

  void app.register(async (uploads) => {
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_ARCHIVE_UPLOAD_BYTES }, (_req, body, done) => done(null, body));
    uploads.post('/import/images', { bodyLimit: MAX_ARCHIVE_UPLOAD_BYTES }, async (req) => {
      const account = await accountOf(req, deps, 'write');
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      try {
        return [anchoreImage(await importArchiveFile(deps.catalog, account, archiveOf(req.headers['content-type'], body)))];
      } catch (e) {
        if (e instanceof ImageConflictError) throw new ApiError(409, e.message);
        throw e;
      }
    });
  });
}
