/**
 * SBOM imports (Anchore's Imports group): operations (create, list, get, invalidate), content
 * uploads to an operation (packages = the SBOM in syft, CycloneDX or SPDX JSON; dockerfile;
 * manifest; parent_manifest; image_config), each answered with the sha256 it is stored under, and
 * the `source.import` form of POST /images (see images.ts), which turns them into an analyzed image.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CatalogImage } from '../../store/catalog.js';
import { importImage } from '../../services/imports.js';
import { IMPORT_CONTENT_TYPES, MAX_IMPORT_CONTENT_BYTES, type ImportOperation } from '../../store/imports.js';
import { ApiError } from '../errors.js';
import type { ApiDeps } from '../app.js';
import { accountOf } from '../context.js';
import { isoZ } from '../views.js';

const optionalText = z.string().min(1).nullish().transform((v) => v ?? undefined);
const imageDigest = z.string().regex(/^sha256:[a-f0-9]{64}$/, 'expected sha256:<64 hex digits>');

/** `source.import` of an image add (Anchore's ImageImportManifest). */
export const importSourceSchema = z.object({
  digest: imageDigest,
  tags: z.array(z.string().min(1)).min(1, 'at least one tag is required'),
  operation_uuid: z.string().min(1),
  local_image_id: optionalText,
  manifest_digest: optionalText,
  parent_digest: imageDigest.nullish().transform((v) => v ?? undefined),
  contents: z.object({
    packages: z.string().min(1),
    manifest: optionalText,
    parent_manifest: optionalText,
    image_config: optionalText,
    dockerfile: optionalText,
  }),
});

/** Record the image an import describes, with its analysis; the operation becomes complete. */
export async function addImportedImage(
  deps: ApiDeps, account: string, source: z.infer<typeof importSourceSchema>, options: { force: boolean; annotations?: Record<string, unknown> },
): Promise<CatalogImage> {
  const c = source.contents;
  return importImage(deps, account, {
    digest: source.digest,
    tags: source.tags,
    operationUuid: source.operation_uuid,
    ...(source.local_image_id ? { localImageId: source.local_image_id } : {}),
    ...(source.manifest_digest ? { manifestDigest: source.manifest_digest } : {}),
    ...(source.parent_digest ? { parentDigest: source.parent_digest } : {}),
    contents: {
      packages: c.packages,
      ...(c.manifest ? { manifest: c.manifest } : {}),
      ...(c.parent_manifest ? { parent_manifest: c.parent_manifest } : {}),
      ...(c.image_config ? { image_config: c.image_config } : {}),
      ...(c.dockerfile ? { dockerfile: c.dockerfile } : {}),
    },
  }, { force: options.force, ...(options.annotations ? { annotations: options.annotations } : {}) });
}

/** Anchore's ImageImportOperation. */
function operationView(op: ImportOperation): Record<string, unknown> {
  return { uuid: op.uuid, status: op.status, expires_at: isoZ(op.expiresAt), created_at: isoZ(op.createdAt), last_updated: isoZ(op.lastUpdated) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function operationId(req: FastifyRequest): string {
  const id = (req.params as { operation_id: string }).operation_id;
  if (!UUID.test(id)) throw new ApiError(400, `operation_id: "${id}" is not an import operation id (a UUID)`);
  return id.toLowerCase();
}

export function importsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { imports } = deps;

  const mustGet = async (account: string, id: string): Promise<ImportOperation> => {
    const op = await imports.get(account, id);
    if (!op) throw new ApiError(404, `no import operation ${id}`);
    return op;
  };

  app.post('/imports/images', async (req) => operationView(await imports.create(await accountOf(req, deps, 'write'))));

  app.get('/imports/images', async (req) => (await imports.list(await accountOf(req, deps, 'read'))).map(operationView));

  app.get('/imports/images/:operation_id', async (req) => operationView(await mustGet(await accountOf(req, deps, 'read'), operationId(req))));

  app.delete('/imports/images/:operation_id', async (req) => {
    const account = await accountOf(req, deps, 'write');
    const id = operationId(req);
    await mustGet(account, id);
    return operationView((await imports.invalidate(account, id))!);
  });

  // Uploads are stored as the bytes sent, whatever their content type (the digest is of those bytes).
  void app.register(async (uploads) => {
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_IMPORT_CONTENT_BYTES }, (_req, body, done) => done(null, body));
    uploads.addHook('onRequest', async (req) => {
      const length = Number(req.headers['content-length'] ?? 0);
      if (length > MAX_IMPORT_CONTENT_BYTES) {
        throw new ApiError(400, `the upload is ${length} bytes, over the limit of ${MAX_IMPORT_CONTENT_BYTES} (100 MiB)`);
      }
    });

    for (const type of IMPORT_CONTENT_TYPES) {
      uploads.get(`/imports/images/:operation_id/${type}`, async (req) => {
        const account = await accountOf(req, deps, 'read');
        return (await imports.listContent(account, operationId(req), type)).map((c) => c.digest);
      });
      uploads.post(`/imports/images/:operation_id/${type}`, { bodyLimit: MAX_IMPORT_CONTENT_BYTES }, async (req) => {
        const account = await accountOf(req, deps, 'write');
        const id = operationId(req);
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const mediaType = req.headers['content-type'];
        const stored = await imports.addContent(account, id, type, body, mediaType);
        return { digest: stored.digest, created_at: isoZ(stored.createdAt) };
      });
    }
  });
}
