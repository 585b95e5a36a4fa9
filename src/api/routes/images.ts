/**
 * Images: add (resolves the tag's digest with the registry, records the image `not_analyzed`
 * and queues its analysis), list, get, delete; vulnerabilities and policy check computed at request
 * time from the stored SBOM; content by type.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { openSource } from '../../image/sources/index.js';
import { isDigest, parseReference } from '../../image/reference.js';
import { anchoreTag, checkResponse, describeProblem, evaluateBundle, loadBundle, parseTag } from '../../policy/index.js';
import { scanSbom } from '../../vulns/scan.js';
import type { Sbom } from '../../sbom/model.js';
import type { ScanResult } from '../../vulns/model.js';
import { ANALYSIS_STATUSES, type CatalogImage } from '../../services/catalog.js';
import { enqueueAnalysis } from '../../services/analyzer.js';
import { LadingError } from '../../errors.js';
import { ApiError } from '../errors.js';
import { accountOf, type ApiDeps } from '../app.js';
import { CONTENT_TYPES, VULN_TYPES, anchoreImage, contentItems, vulnItems, type ContentType, type VulnType } from '../views.js';

const sourceSchema = z.strictObject({
  tag: z.strictObject({ pullstring: z.string().min(1), dockerfile: z.string().optional() }).optional(),
  digest: z.strictObject({ pullstring: z.string().min(1), tag: z.string().min(1), creation_timestamp_override: z.string().optional(), dockerfile: z.string().optional() }).optional(),
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

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ApiError(400, `invalid request body: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  return r.data;
}

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
    if ((s.tag ? 1 : 0) + (s.digest ? 1 : 0) !== 1) throw new ApiError(400, 'source: exactly one of tag or digest is required (archive and import sources are not supported)');
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

const digestParam = (req: FastifyRequest) => (req.params as { imageDigest: string }).imageDigest;

export function imageRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const mustGet = async (account: string, imageDigest: string): Promise<CatalogImage> => {
    const img = await deps.catalog.getImage(account, imageDigest);
    if (!img) throw new ApiError(404, `image ${imageDigest} not found`);
    return img;
  };

  const mustSbom = async (account: string, imageDigest: string): Promise<Sbom> => {
    const img = await mustGet(account, imageDigest);
    if (img.analysisStatus !== 'analyzed') throw new ApiError(404, `image ${imageDigest} is not analyzed (analysis_status ${img.analysisStatus})`);
    const sbom = await deps.catalog.getSbom(account, imageDigest);
    if (!sbom) throw new ApiError(404, `image ${imageDigest} has no stored analysis`);
    return sbom;
  };

  /** The scan against the vulnerability database; undefined when it holds no data. */
  const scan = async (sbom: Sbom, input: string): Promise<ScanResult | undefined> => {
    const status = await deps.vulndb.status();
    if (!status.some((s) => s.records > 0)) return undefined;
    return scanSbom(sbom, deps.vulndb, { input });
  };

  app.post('/images', async (req) => {
    const account = await accountOf(req, deps, 'write');
    const q = req.query as Record<string, unknown>;
    const body = parseBody(addSchema, req.body);
    const r = addRequest(body);
    const source = await openSource(`registry:${r.pull}`, { credentialLookup: false, ...deps.sourceOptions });
    let resolved;
    try {
      resolved = await source.resolve({});
    } catch (e) {
      if (e instanceof LadingError) throw new ApiError(e.code === 'NOT_FOUND' ? 404 : 400, `cannot fetch image ${r.pull} from the registry: ${e.message}`, { error_code: e.code });
      throw e;
    } finally {
      await source.close();
    }
    const imageDigest = resolved.manifestDigest;
    if (!imageDigest) throw new ApiError(400, `image ${r.pull} has no manifest digest`);
    const { image, needsAnalysis } = await deps.catalog.addImage(account, {
      imageDigest,
      imageId: resolved.configDigest.replace(/^sha256:/, ''),
      ...(resolved.indexDigest ? { parentDigest: resolved.indexDigest } : {}),
      tag: r.tag,
      ...(body.annotations ? { annotations: body.annotations } : {}),
      ...(r.dockerfile !== undefined ? { dockerfile: r.dockerfile } : {}),
      force: boolQuery(q.force),
    });
    if (needsAnalysis) {
      await enqueueAnalysis(deps.queue, { account, imageDigest, fulltag: `${r.tag.registry}/${r.tag.repo}:${r.tag.tag}` }, deps.analysisMaxAttempts);
    }
    return [anchoreImage(image)];
  });

  app.get('/images', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const q = req.query as Record<string, string | undefined>;
    const status = q.analysis_status;
    if (status !== undefined && status !== 'all' && !(ANALYSIS_STATUSES as readonly string[]).includes(status)) {
      throw new ApiError(400, `analysis_status: expected one of ${ANALYSIS_STATUSES.join(', ')}`);
    }
    const fulltag = q.fulltag ?? q.tag;
    const images = await deps.catalog.listImages(account, {
      ...(fulltag ? { fulltag: anchoreTag(formatFull(fulltag)) } : {}),
      ...(status && status !== 'all' ? { analysisStatus: status } : {}),
    });
    return images.map(anchoreImage);
  });

  app.get('/images/:imageDigest', async (req) => {
    const account = await accountOf(req, deps, 'read');
    return [anchoreImage(await mustGet(account, digestParam(req)))];
  });

  app.delete('/images/:imageDigest', async (req, reply) => {
    const account = await accountOf(req, deps, 'write');
    const imageDigest = digestParam(req);
    const img = await deps.catalog.getImage(account, imageDigest);
    if (!img) throw new ApiError(404, `image ${imageDigest} not found`);
    if (img.analysisStatus === 'analyzing' && !boolQuery((req.query as Record<string, unknown>).force)) {
      throw new ApiError(409, `image ${imageDigest} is being analyzed: delete it with force=true, or later`);
    }
    await deps.catalog.deleteImage(account, imageDigest);
    return reply.send({ digest: imageDigest, status: 'deleting', detail: null });
  });

  const vulnHandler = async (req: FastifyRequest) => {
    const account = await accountOf(req, deps, 'read');
    const imageDigest = digestParam(req);
    const vtype = ((req.params as { vtype?: string }).vtype ?? 'all') as VulnType;
    if (!VULN_TYPES.includes(vtype)) throw new ApiError(404, `no vulnerability type ${vtype}: expected one of ${VULN_TYPES.join(', ')}`);
    const sbom = await mustSbom(account, imageDigest);
    const q = req.query as Record<string, unknown>;
    const vendorOnly = q.vendor_only === undefined ? true : boolQuery(q.vendor_only);
    const result = await scan(sbom, imageDigest);
    return { imageDigest, vulnerability_type: vtype, vulnerabilities: result ? vulnItems(result.matches, vtype, vendorOnly) : [] };
  };
  app.get('/images/:imageDigest/vuln', async (req) => {
    await accountOf(req, deps, 'read');
    return [...VULN_TYPES];
  });
  app.get('/images/:imageDigest/vuln/:vtype', vulnHandler);

  app.get('/images/:imageDigest/check', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const imageDigest = digestParam(req);
    const q = req.query as Record<string, string | undefined>;
    if (!q.tag) throw new ApiError(400, 'tag: required (the registry/repo:tag the policy mappings are matched against)');
    const sbom = await mustSbom(account, imageDigest);
    const record = await deps.catalog.getBundle(account, q.policyId || undefined);
    if (!record) throw new ApiError(404, q.policyId ? `no policy bundle ${q.policyId}` : 'no active policy bundle');
    const bundle = loadBundle(record.bundle);
    const fatal = bundle.problems.filter((p) => p.fatal);
    if (fatal.length) throw new ApiError(400, `policy bundle ${record.policyId}: ${fatal.map(describeProblem).join('; ')}`);
    const tag = anchoreTag(formatFull(q.tag));
    const evaluation = evaluateBundle(bundle, { sbom, scan: await scan(sbom, tag) }, { tag });
    return checkResponse(evaluation, { detail: boolQuery(q.detail), userId: account });
  });

  app.get('/images/:imageDigest/content', async (req) => {
    const account = await accountOf(req, deps, 'read');
    await mustGet(account, digestParam(req));
    return [...CONTENT_TYPES];
  });

  app.get('/images/:imageDigest/content/:ctype', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const imageDigest = digestParam(req);
    const ctype = (req.params as { ctype: string }).ctype as ContentType;
    if (!CONTENT_TYPES.includes(ctype)) throw new ApiError(400, `content type ${ctype} is not available: expected one of ${CONTENT_TYPES.join(', ')}`);
    const sbom = await mustSbom(account, imageDigest);
    return { imageDigest, content_type: ctype, content: contentItems(sbom, ctype) };
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
