/**
 * Images: add (resolves the tag's digest with the registry, records the image `not_analyzed`
 * and queues its analysis), list, get, delete (one, or several with ?imageDigests=); vulnerabilities
 * and policy check computed at request time from the stored SBOM (every check is stored: history);
 * content by type, metadata (manifest, history, Dockerfile; base64), the native SBOM, artifacts
 * (retrieved files, content and secret search), tag summaries. Routes that name an image by
 * digest also exist under /images/by_id/{imageId} where Anchore had them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { openSource } from '../../image/sources/index.js';
import { RegistrySource } from '../../image/sources/registry.js';
import { parsePlatform } from '../../image/platform.js';
import type { Platform, ResolvedImage } from '../../image/types.js';
import { isDigest, parseReference } from '../../image/reference.js';
import { anchoreTag, parseTag } from '../../policy/index.js';
import { writeNative } from '../../sbom/formats/native.js';
import { writers } from '../../sbom/formats/index.js';
import type { Sbom } from '../../sbom/model.js';
import type { ScanResult } from '../../vulns/model.js';
import { ANALYSIS_STATUSES, type CatalogImage } from '../../store/catalog.js';
import { addTaggedImage } from '../../services/add-image.js';
import { addImportedImage, importSourceSchema } from './imports.js';
import { adviseCheck, baseAdviceOf, checkImage } from '../../services/check.js';
import { scanSbom } from '../../vulns/scan.js';
import type { PolicyStore } from '../../store/policies.js';
import type { VulnReports } from '../../services/reports.js';
import { withRegistryAccess, type RegistryStore } from '../../services/registries.js';
import type { SubscriptionStore } from '../../store/subscriptions.js';
import { LadingError, describeError } from '../../errors.js';
import { ApiError } from '../errors.js';
import { parseInput } from '../validate.js';
import type { ApiDeps } from '../app.js';
import { accountOf } from '../context.js';
import {
  CONTENT_TYPES, METADATA_TYPES, VULN_TYPES, anchoreImage, checkResponseOf, contentItems, metadataText, retrievedFileItems, searchItems, secretRegex, tagSummary, vulnItems,
  type ContentType, type MetadataType, type VulnType,
} from '../views.js';

const sourceSchema = z.strictObject({
  tag: z.strictObject({ pullstring: z.string().min(1), dockerfile: z.string().optional() }).optional(),
  digest: z.strictObject({ pullstring: z.string().min(1), tag: z.string().min(1), creation_timestamp_override: z.string().optional(), dockerfile: z.string().optional() }).optional(),
  import: importSourceSchema.optional(),
});

const addSchema = z.object({
  tag: z.string().min(1).optional(),
  digest: z.string().min(1).optional(),
  dockerfile: z.string().optional(),
  created_at: z.string().optional(),
  image_type: z.literal('docker').optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
  source: sourceSchema.optional(),
});

function boolQuery(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 'True';
}

function decodeDockerfile(b64: string | undefined): string | undefined {
  if (b64 === undefined) return undefined;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  if (!text.trim()) throw new ApiError(400, 'dockerfile: expected base64-encoded Dockerfile text');
  return text;
}

interface AddRequest {
  /** What is pulled to resolve the image: a tag or repo@digest. */
  pull: string;
  /** The tag recorded: registry/repo:tag. */
  tag: { registry: string; repo: string; tag: string };
  dockerfile?: string;
}

/** Normalise the legacy top-level form and `source` into one request (mixing both is refused). */
function addRequest(body: z.infer<typeof addSchema>): AddRequest {
  const legacy = body.tag !== undefined || body.digest !== undefined;
  if (legacy && body.source) throw new ApiError(400, 'give either tag/digest or source, not both');
  let tagText: string | undefined;
  let digest: string | undefined;
  let dockerfileB64 = body.dockerfile;
  if (body.source) {
    const s = body.source;
    if ((s.tag ? 1 : 0) + (s.digest ? 1 : 0) !== 1) throw new ApiError(400, 'source: exactly one of tag or digest is required (archive sources are not supported)');
    if (s.tag) {
      tagText = s.tag.pullstring;
      dockerfileB64 = s.tag.dockerfile ?? dockerfileB64;
    } else if (s.digest) {
      tagText = s.digest.tag;
      digest = s.digest.pullstring;
      dockerfileB64 = s.digest.dockerfile ?? dockerfileB64;
    }
  } else {
    tagText = body.tag;
    digest = body.digest;
  }
  if (!tagText) throw new ApiError(400, digest ? 'a tag is required with a digest' : 'a tag (or source) is required');
  const ref = parseReference(tagText);
  if (ref.digest) throw new ApiError(400, `tag "${tagText}" must name a tag, not a digest (use the digest field)`);
  const t = parseTag(anchoreTag(`${ref.registry}/${ref.repository}:${ref.tag ?? 'latest'}`));
  const tag = { registry: t.registry, repo: t.repo, tag: t.tag ?? 'latest' };
  let pull = `${ref.registry}/${ref.repository}:${tag.tag}`;
  if (digest !== undefined) {
    const d = digest.includes('@') ? digest.slice(digest.lastIndexOf('@') + 1) : digest;
    if (!isDigest(d)) throw new ApiError(400, `digest "${digest}" is not a digest (expected sha256:<64 hex digits>)`);
    pull = `${ref.registry}/${ref.repository}@${d}`;
  }
  const dockerfile = decodeDockerfile(dockerfileB64);
  return { pull, tag, ...(dockerfile !== undefined ? { dockerfile } : {}) };
}

/** Anchore's image_status values; `all` lists every one. */
const IMAGE_STATUSES = ['active', 'inactive', 'disabled'] as const;

function imageStatusFilter(v: string | undefined): { imageStatus?: string } {
  if (v === 'all') return {};
  if (v !== undefined && !(IMAGE_STATUSES as readonly string[]).includes(v)) throw new ApiError(400, `image_status: expected one of ${IMAGE_STATUSES.join(', ')}, all`);
  return { imageStatus: v ?? 'active' };
}

/** The stores and lookups every image route uses. */
interface ImageContext {
  deps: ApiDeps;
  policies: PolicyStore;
  registries: RegistryStore;
  subscriptions: SubscriptionStore;
  /** The image a request names: by digest, or (the /images/by_id/ routes) by image id in the account. */
  digestOf(req: FastifyRequest, account: string): Promise<string>;
  mustGet(account: string, imageDigest: string): Promise<CatalogImage>;
  mustAnalyzed(account: string, imageDigest: string): Promise<CatalogImage>;
  sbomOf(img: CatalogImage): Promise<Sbom>;
  mustSbom(account: string, imageDigest: string): Promise<Sbom>;
  /** The image's scan (cached until it is re-analyzed or the data changes); undefined without vulnerability data. */
  scan(img: CatalogImage, sbom?: Sbom): Promise<ScanResult | undefined>;
}

export function imageRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { policies, registries, subscriptions, reports } = deps;
  const ctx = imageContext({ deps, policies, registries, subscriptions }, reports);
  addImageRoute(app, ctx);
  listImageRoutes(app, ctx);
  deleteImageRoutes(app, ctx);
  vulnRoutes(app, ctx);
  checkRoutes(app, ctx);
  contentRoutes(app, ctx);
  sbomRoutes(app, ctx);
  artifactRoutes(app, ctx);
}

function imageContext(stores: Pick<ImageContext, 'deps' | 'policies' | 'registries' | 'subscriptions'>, reports: VulnReports): ImageContext {
  const { deps } = stores;
  const mustGet = async (account: string, imageDigest: string): Promise<CatalogImage> => {
    const img = await deps.catalog.getImage(account, imageDigest);
    if (!img) throw new ApiError(404, `image ${imageDigest} not found`);
    return img;
  };
  const mustAnalyzed = async (account: string, imageDigest: string): Promise<CatalogImage> => {
    const img = await mustGet(account, imageDigest);
    if (img.analysisStatus !== 'analyzed') throw new ApiError(404, `image ${imageDigest} is not analyzed (analysis_status ${img.analysisStatus})`);
    return img;
  };
  const sbomOf = async (img: CatalogImage): Promise<Sbom> => {
    const sbom = await deps.catalog.getSbom(img.account, img.imageDigest);
    if (!sbom) throw new ApiError(404, `image ${img.imageDigest} has no stored analysis`);
    return sbom;
  };
  return {
    ...stores,
    digestOf: async (req, account) => {
      const p = req.params as { imageDigest?: string; imageId?: string };
      if (p.imageId === undefined) {
        if (!isDigest(p.imageDigest ?? '')) throw new ApiError(400, `imageDigest ${p.imageDigest}: expected sha256:<64 hex digits>`);
        return p.imageDigest!;
      }
      if (!/^[0-9a-f]{64}$/.test(p.imageId)) throw new ApiError(400, `imageId ${p.imageId}: expected 64 lower-case hex digits`);
      const img = await deps.catalog.getImageByImageId(account, p.imageId);
      if (!img) throw new ApiError(404, `no image with imageId ${p.imageId}`);
      return img.imageDigest;
    },
    mustGet,
    mustAnalyzed,
    sbomOf,
    mustSbom: async (account, imageDigest) => sbomOf(await mustAnalyzed(account, imageDigest)),
    scan: (img, sbom) =>
      reports.scan({ account: img.account, imageDigest: img.imageDigest, ...(img.analyzedAt ? { analyzedAt: img.analyzedAt } : {}) }, async () => sbom ?? sbomOf(img)),
  };
}

/** A route at /images/{imageDigest}/... and at /images/by_id/{imageId}/... */
function getByDigestOrId(app: FastifyInstance, path: string, handler: (req: FastifyRequest) => Promise<unknown>): void {
  app.get(`/images/:imageDigest${path}`, handler);
  app.get(`/images/by_id/:imageId${path}`, handler);
}

/** POST /images: an SBOM import, or a registry image (one platform, or every platform of an index). */
function addImageRoute(app: FastifyInstance, ctx: ImageContext): void {
  const { deps, subscriptions } = ctx;
  app.post('/images', async (req) => {
    const account = await accountOf(req, deps, 'write');
    const q = req.query as Record<string, unknown>;
    const body = parseInput(addSchema, req.body, 'request body');
    if (body.source?.import) {
      // An SBOM import: the analysis comes from the uploaded content, nothing is pulled.
      if (body.tag || body.digest || body.dockerfile || body.source.tag || body.source.digest) throw new ApiError(400, 'source.import: give no tag, digest or dockerfile beside an import');
      const imported = await addImportedImage(deps, account, body.source.import, { force: boolQuery(q.force), ...(body.annotations ? { annotations: body.annotations } : {}) });
      for (const t of imported.tags) await subscriptions.subscribeTag(account, t.fulltag, { autosubscribe: boolQuery(q.autosubscribe) });
      return [anchoreImage(imported)];
    }
    const r = addRequest(body);
    const resolved = await resolveImages(ctx, account, r, q);
    const fulltag = `${r.tag.registry}/${r.tag.repo}:${r.tag.tag}`;
    const added: CatalogImage[] = [];
    for (const img of resolved) {
      const imageDigest = img.manifestDigest;
      if (!imageDigest) throw new ApiError(400, `image ${r.pull} has no manifest digest`);
      const { image } = await addTaggedImage(
        deps, account, r.tag,
        { imageDigest, imageId: img.configDigest.replace(/^sha256:/, ''), ...(img.indexDigest ? { parentDigest: img.indexDigest } : {}) },
        { ...(body.annotations ? { annotations: body.annotations } : {}), ...(r.dockerfile !== undefined ? { dockerfile: r.dockerfile } : {}), force: boolQuery(q.force) },
      );
      added.push(image);
    }
    // Anchore's four tag subscriptions: analysis_update active, tag_update active with autosubscribe.
    await subscriptions.subscribeTag(account, fulltag, { autosubscribe: boolQuery(q.autosubscribe) });
    return added.map((img) => anchoreImage(img));
  });
}

/**
 * The images an add request names, resolved with the registry. Lading's multi-arch extension:
 * ?platform=os/arch[/variant] picks one platform of an index, ?all_platforms=true adds every
 * platform's image (one record each, the index as parent).
 */
async function resolveImages(ctx: ImageContext, account: string, r: AddRequest, q: Record<string, unknown>): Promise<ResolvedImage[]> {
  const access = await ctx.registries.registryCredentialsFor(account, parseReference(r.pull));
  const source = await openSource(`registry:${r.pull}`, withRegistryAccess({ credentialLookup: false, ...ctx.deps.sourceOptions }, access));
  const fetchError = (e: unknown): unknown => {
    const hint = e instanceof LadingError && e.code === 'UNAUTHORIZED' && !access ? `; account ${account} has no registry credentials for ${r.tag.registry}/${r.tag.repo} (add them with POST /registries)` : '';
    if (e instanceof LadingError) return new ApiError(e.code === 'NOT_FOUND' ? 404 : e.code === 'DESTINATION_DENIED' ? 403 : 400, `cannot fetch image ${r.pull} from the registry: ${e.message}${hint}`, { error_code: e.code });
    return e;
  };
  const platforms: (Platform | undefined)[] = [];
  const resolved: ResolvedImage[] = [];
  try {
    if (boolQuery(q.all_platforms)) {
      if (!(source instanceof RegistrySource)) throw new ApiError(400, 'all_platforms needs a registry image');
      platforms.push(...await source.platforms().catch((e: unknown) => { throw fetchError(e); }));
    } else if (typeof q.platform === 'string' && q.platform) {
      try {
        platforms.push(parsePlatform(q.platform));
      } catch (e) {
        throw new ApiError(400, `platform: ${describeError(e)}`);
      }
    }
    if (!platforms.length) platforms.push(undefined);
    for (const platform of platforms) {
      resolved.push(await source.resolve(platform ? { platform } : {}).catch((e) => { throw fetchError(e); }));
    }
  } finally {
    await source.close();
  }
  return resolved;
}

/** GET /images, /summaries/imagetags, /images/{imageDigest} (and by_id). */
function listImageRoutes(app: FastifyInstance, { deps, digestOf, mustGet }: ImageContext): void {
  app.get('/images', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const q = req.query as Record<string, string | undefined>;
    const status = q.analysis_status;
    if (status !== undefined && status !== 'all' && !(ANALYSIS_STATUSES as readonly string[]).includes(status)) {
      throw new ApiError(400, `analysis_status: expected one of ${ANALYSIS_STATUSES.join(', ')}`);
    }
    const fulltag = q.fulltag ?? q.tag;
    const images = await deps.catalog.listImages(account, {
      ...(fulltag ? { fulltag: anchoreTag(formatFull(fulltag)), latestOnly: !boolQuery(q.history) } : {}),
      ...(status && status !== 'all' ? { analysisStatus: status } : {}),
      ...imageStatusFilter(q.image_status),
    });
    return images.map((img) => anchoreImage(img));
  });

  app.get('/summaries/imagetags', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const images = await deps.catalog.listImages(account, imageStatusFilter((req.query as Record<string, string | undefined>).image_status));
    return images.flatMap((img) => img.tags.map((t) => tagSummary(img, t)));
  });

  getByDigestOrId(app, '', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const img = await mustGet(account, await digestOf(req, account));
    const base = await deps.bases.get(account, img.imageDigest);
    return [anchoreImage(img, base ? { digest: base.digest, tag: base.tag ?? null, shared_layers: base.sharedLayers } : null)];
  });
}

/** DELETE one image (by digest or id) or several (?imageDigests=). */
function deleteImageRoutes(app: FastifyInstance, { deps, digestOf, subscriptions }: ImageContext): void {
  /** Delete one image: Anchore's DeleteImageResponse; ApiError 404 or 409 when it is refused. */
  const deleteOne = async (account: string, imageDigest: string, force: boolean) => {
    const img = await deps.catalog.getImage(account, imageDigest);
    if (!img) throw new ApiError(404, `image ${imageDigest} not found`);
    if (img.analysisStatus === 'analyzing' && !force) {
      throw new ApiError(409, `image ${imageDigest} is being analyzed: delete it with force=true, or later`);
    }
    await deps.catalog.deleteImage(account, imageDigest);
    // Anchore refused (409) while a tag had active subscriptions; Lading removes the subscriptions
    // of the tags that now name no image of the account.
    for (const t of img.tags) {
      if (!(await deps.catalog.listImages(account, { fulltag: t.fulltag })).length) await subscriptions.removeTagSubscriptions(account, t.fulltag);
    }
    return { digest: imageDigest, status: 'deleting', detail: null };
  };
  const deleteHandler = async (req: FastifyRequest) => {
    const account = await accountOf(req, deps, 'write');
    return deleteOne(account, await digestOf(req, account), boolQuery((req.query as Record<string, unknown>).force));
  };
  app.delete('/images/:imageDigest', deleteHandler);
  app.delete('/images/by_id/:imageId', deleteHandler);

  app.delete('/images', async (req) => {
    const account = await accountOf(req, deps, 'write');
    const q = req.query as Record<string, unknown>;
    const raw = Array.isArray(q.imageDigests) ? q.imageDigests.join(',') : typeof q.imageDigests === 'string' ? q.imageDigests : '';
    const digests = [...new Set(raw.split(',').map((d) => d.trim()).filter(Boolean))];
    if (!digests.length) throw new ApiError(400, 'imageDigests: required (comma-separated image digests)');
    const bad = digests.find((d) => !isDigest(d));
    if (bad) throw new ApiError(400, `imageDigests: "${bad}" is not a digest (expected sha256:<64 hex digits>)`);
    const results = [];
    for (const digest of digests) {
      try {
        results.push(await deleteOne(account, digest, boolQuery(q.force)));
      } catch (e) {
        if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 409)) throw e;
        results.push({ digest, status: e.status === 404 ? 'not_found' : 'delete_failed', detail: e.message });
      }
    }
    return results;
  });
}

/** GET .../vuln (the types) and .../vuln/{vtype} (computed from the stored SBOM). */
function vulnRoutes(app: FastifyInstance, { deps, digestOf, mustGet, mustAnalyzed, scan }: ImageContext): void {
  getByDigestOrId(app, '/vuln', async (req) => {
    const account = await accountOf(req, deps, 'read');
    await mustGet(account, await digestOf(req, account));
    return [...VULN_TYPES];
  });
  getByDigestOrId(app, '/vuln/:vtype', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const imageDigest = await digestOf(req, account);
    const vtype = ((req.params as { vtype?: string }).vtype ?? 'all') as VulnType;
    if (!VULN_TYPES.includes(vtype)) throw new ApiError(404, `no vulnerability type ${vtype}: expected one of ${VULN_TYPES.join(', ')}`);
    const img = await mustAnalyzed(account, imageDigest);
    const q = req.query as Record<string, unknown>;
    const vendorOnly = q.vendor_only === undefined ? true : boolQuery(q.vendor_only);
    const result = await scan(img);
    return { imageDigest, vulnerability_type: vtype, vulnerabilities: result ? vulnItems(result.matches, vtype, vendorOnly) : [] };
  });
}

/** GET .../check: evaluate now and store it (not with interactive=true); history=true lists every stored evaluation, newest first. */
function checkRoutes(app: FastifyInstance, { deps, policies, digestOf, mustAnalyzed, sbomOf, scan }: ImageContext): void {
  getByDigestOrId(app, '/check', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const imageDigest = await digestOf(req, account);
    const q = req.query as Record<string, string | undefined>;
    if (!q.tag) throw new ApiError(400, 'tag: required (the registry/repo:tag the policy mappings are matched against)');
    const img = await mustAnalyzed(account, imageDigest);
    const sbom = await sbomOf(img);
    const tag = anchoreTag(formatFull(q.tag));
    const policyId = q.policyId || undefined;
    const input = { imageDigest, tag, sbom, scan: await scan(img, sbom), ...(policyId !== undefined ? { policyId } : {}) };
    const current = await checkImage(policies, account, { ...input, save: !boolQuery(q.interactive) });
    const evals = boolQuery(q.history) ? await policies.listEvaluations(account, imageDigest, tag, policyId) : [current];
    const body = checkResponseOf(imageDigest, tag, evals, boolQuery(q.detail));
    if (!boolQuery(q.advise)) return body;
    // A Lading extension: the current evaluation's entry also carries `advice` (Anchore's shape otherwise unchanged).
    const base = baseAdviceOf(await deps.bases.withNewerDigests(account, imageDigest));
    const advice = await adviseCheck(policies, account, input, (changed) => scanSbom(changed, deps.vulndb, { input: imageDigest }), base);
    const entry = body[0]?.[imageDigest]?.[tag]?.[Math.max(0, evals.findIndex((e) => e.evalId === current.evalId))];
    if (entry) (entry as Record<string, unknown>).advice = advice;
    return body;
  });
}

/** GET .../content and .../metadata: the types, and one type's items (metadata base64, Anchore's form). */
function contentRoutes(app: FastifyInstance, { deps, digestOf, mustGet, mustSbom }: ImageContext): void {
  /** A metadata document, base64 (Anchore's form); 404 when it was not stored. */
  const metadataOf = async (account: string, imageDigest: string, mtype: MetadataType): Promise<string> => {
    const sbom = await mustSbom(account, imageDigest);
    const text = metadataText(sbom, mtype, mtype === 'manifest' ? await deps.catalog.getManifest(account, imageDigest) : undefined);
    if (text === undefined) throw new ApiError(404, `image ${imageDigest} has no stored ${mtype} (analyzed before Lading kept it: add the image again with force=true)`);
    return Buffer.from(text, 'utf8').toString('base64');
  };

  getByDigestOrId(app, '/content', async (req) => {
    const account = await accountOf(req, deps, 'read');
    await mustGet(account, await digestOf(req, account));
    return [...CONTENT_TYPES];
  });
  getByDigestOrId(app, '/content/:ctype', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const imageDigest = await digestOf(req, account);
    const ctype = (req.params as { ctype: string }).ctype;
    if ((METADATA_TYPES as readonly string[]).includes(ctype)) {
      return { imageDigest, content_type: ctype, content: await metadataOf(account, imageDigest, ctype as MetadataType) };
    }
    if (!(CONTENT_TYPES as readonly string[]).includes(ctype)) throw new ApiError(400, `content type ${ctype} is not available: expected one of ${CONTENT_TYPES.join(', ')}`);
    const sbom = await mustSbom(account, imageDigest);
    return { imageDigest, content_type: ctype, content: contentItems(sbom, ctype as ContentType) };
  });

  app.get('/images/:imageDigest/metadata', async (req) => {
    const account = await accountOf(req, deps, 'read');
    await mustGet(account, await digestOf(req, account));
    return [...METADATA_TYPES];
  });

  app.get('/images/:imageDigest/metadata/:mtype', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const imageDigest = await digestOf(req, account);
    const mtype = (req.params as { mtype: string }).mtype;
    if (!(METADATA_TYPES as readonly string[]).includes(mtype)) throw new ApiError(400, `metadata type ${mtype} is not available: expected one of ${METADATA_TYPES.join(', ')}`);
    return { imageDigest, metadata_type: mtype, metadata: await metadataOf(account, imageDigest, mtype as MetadataType) };
  });
}

/** GET .../sboms/native and the standard formats (a download named after the repository and digest). */
function sbomRoutes(app: FastifyInstance, { deps, digestOf, mustAnalyzed, mustSbom, sbomOf }: ImageContext): void {
  app.get('/images/:imageDigest/sboms/native', async (req, reply) => {
    const account = await accountOf(req, deps, 'read');
    const sbom = await mustSbom(account, await digestOf(req, account));
    return reply.type('application/json').send(writeNative(sbom));
  });
  for (const format of ['cyclonedx-json', 'spdx-json'] as const) {
    app.get(`/images/:imageDigest/sboms/${format}`, async (req, reply) => {
      const account = await accountOf(req, deps, 'read');
      const img = await mustAnalyzed(account, await digestOf(req, account));
      const sbom = await sbomOf(img);
      const writer = writers[format];
      const repo = (img.tags[0]?.repo ?? 'image').replace(/[^A-Za-z0-9._-]+/g, '-');
      const filename = `${repo}-${img.imageDigest.replace(/^sha256:/, '').slice(0, 12)}${writer.fileExtension}`;
      return reply.type(writer.mediaType).header('content-disposition', `attachment; filename="${filename}"`).send(writer.write(sbom));
    });
  }
}

/** GET .../artifacts: retrieved files, content search and secret search results. */
function artifactRoutes(app: FastifyInstance, { deps, digestOf, mustSbom }: ImageContext): void {
  app.get('/images/:imageDigest/artifacts/retrieved_files', async (req) => {
    const account = await accountOf(req, deps, 'read');
    return retrievedFileItems(await mustSbom(account, await digestOf(req, account)));
  });
  app.get('/images/:imageDigest/artifacts/file_content_search', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const rules = deps.config.analysis.content_rules;
    const regexOf = (name: string) => rules.find((r) => r.startsWith(`${name}=`))?.slice(name.length + 1) ?? name;
    return searchItems((await mustSbom(account, await digestOf(req, account))).contentMatches, regexOf);
  });
  app.get('/images/:imageDigest/artifacts/secret_search', async (req) => {
    const account = await accountOf(req, deps, 'read');
    return searchItems((await mustSbom(account, await digestOf(req, account))).secrets, secretRegex);
  });
}

/** A tag as a user typed it, normalised: `nginx` → `docker.io/library/nginx:latest`. */
function formatFull(tag: string): string {
  try {
    const r = parseReference(tag);
    return `${r.registry}/${r.repository}:${r.tag ?? 'latest'}`;
  } catch (e) {
    if (e instanceof LadingError) throw new ApiError(400, e.message);
    throw e;
  }
}
