/**
 * Analysis archives as files: `POST /import/images` (Anchore's import_image_archive: a multipart
 * form with the tar.gz as `archive_file`, or the tar.gz itself as the body) restores an image with
 * its analysis, answering AnchoreImageList; `GET /archives/images/{imageDigest}/export` (Lading's)
 * downloads an archived analysis as that tar.gz. The upload is spooled to a temporary file (never
 * held in memory) and the archive streamed from it (its form field by its byte range); the file is
 * removed when the request ends. The format is services/archive-file.ts's.
 */
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ImageConflictError, importArchiveFile } from '../../services/archive-import.js';
import { writeAnalysisArchive } from '../../services/archive-file.js';
import { fileSource, type ArchiveSource } from '../../services/archive-tar.js';
import { ApiError } from '../errors.js';
import { parseInput } from '../validate.js';
import type { ApiDeps } from '../app.js';
import { accountOf } from '../context.js';
import { anchoreImage } from '../views.js';
import { formFieldRange, spoolUpload, type Spooled } from '../multipart.js';

/** The largest archive upload. */
export const MAX_ARCHIVE_UPLOAD_BYTES = 100 * 1024 * 1024;

const imageParams = z.object({ imageDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected an image digest (sha256:<64 hex>)') });

/** The archive of a spooled upload: the multipart form's archive_file, or the body itself. */
async function archiveOf(contentType: string | undefined, body: Spooled): Promise<ArchiveSource> {
  if (/^multipart\/form-data/i.test(contentType ?? '')) {
    const range = await formFieldRange(contentType!, body.path, 'archive_file');
    if (!range) throw new ApiError(400, 'invalid request: the multipart form has no archive_file field (the analysis archive tar.gz)');
    return fileSource(body.path, range.start, range.end);
  }
  return fileSource(body.path, 0, body.size);
}

export function archiveFileRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/archives/images/:imageDigest/export', async (req, reply) => {
    const account = await accountOf(req, deps, 'read');
    const { imageDigest } = parseInput(imageParams, req.params, 'path');
    const image = await deps.archive.getArchived(account, imageDigest);
    const stored = image ? await deps.archive.getArchivedDocument(account, imageDigest) : undefined;
    if (!image || !stored) throw new ApiError(404, `no archived analysis of ${imageDigest}`);
    const file = writeAnalysisArchive(account, image, stored.sbom, stored.manifest, stored.evaluations);
    return reply.type('application/gzip').header('content-disposition', `attachment; filename="${imageDigest.replace(':', '-')}.tar.gz"`).send(file);
  });

  void app.register(async (uploads) => {
    uploads.removeAllContentTypeParsers();
    // The body stays a stream: the handler spools it to disk once the caller is authorized.
    uploads.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    uploads.post('/import/images', async (req) => {
      const account = await accountOf(req, deps, 'write');
      const body = await spoolUpload(req.body as Readable, MAX_ARCHIVE_UPLOAD_BYTES);
      try {
        return [anchoreImage(await importArchiveFile(deps.catalog, deps.policies, account, await archiveOf(req.headers['content-type'], body)))];
      } catch (e) {
        if (e instanceof ImageConflictError) throw new ApiError(409, e.message);
        throw e;
      } finally {
        await body.remove();
      }
    });
  });
}
