/**
 * The analysis archive (Anchore's /archives): transition rules (GET/POST /archives/rules, GET and
 * DELETE /archives/rules/{ruleId}; system_global rules only by admins, seen by everyone), archived
 * analyses (GET/POST /archives/images, GET and DELETE /archives/images/{digest}) and the summary
 * (GET /archives). An archived analysis is exported as a file and restored from one by
 * archive-files.ts; POST /images with source.archive is not offered.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authorize } from '../../store/authorize.js';
import { TRANSITIONS, type ArchiveRule, type ArchivedImage, type Selector } from '../../store/archive.js';
import { ApiError } from '../errors.js';
import { parseInput } from '../validate.js';
import type { ApiDeps } from '../app.js';
import { accountOf, userOf } from '../context.js';
import { isoZ } from '../views.js';
import { boolParam } from './subscriptions.js';

const DIGEST = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected an image digest (sha256:<64 hex>)');
const selectorField = z.string().min(1).max(512).optional().default('*');
const selectorSchema = z.object({ registry: selectorField, repository: selectorField, tag: selectorField }).strict();
const ruleBody = z.object({
  selector: selectorSchema.optional(),
  analysis_age_days: z.number().int().min(-1),
  tag_versions_newer: z.number().int().min(-1),
  transition: z.enum(TRANSITIONS),
  system_global: z.boolean().optional(),
  max_images_per_account: z.number().int().min(1).nullable().optional(),
  exclude: z.object({ selector: selectorSchema.optional(), expiration_days: z.number().int().min(-1).optional() }).nullable().optional(),
  rule_id: z.string().optional(),
  created_at: z.string().optional(),
  last_updated: z.string().optional(),
});
const ruleParams = z.object({ ruleId: z.string().regex(/^[0-9a-f]{32}$/, 'expected a rule id (32 hex digits)') });
const imageParams = z.object({ imageDigest: DIGEST });
const rulesQuery = z.object({ system_global: boolParam.optional() });
const deleteQuery = z.object({ force: boolParam.optional() });
const archiveBody = z.array(DIGEST).min(1).max(100);

const ANY: Selector = { registry: '*', repository: '*', tag: '*' };

function ruleView(r: ArchiveRule): Record<string, unknown> {
  return {
    rule_id: r.ruleId,
    selector: r.selector,
    analysis_age_days: r.analysisAgeDays,
    tag_versions_newer: r.tagVersionsNewer,
    transition: r.transition,
    system_global: r.systemGlobal,
    max_images_per_account: r.maxImagesPerAccount ?? null,
    exclude: r.exclude ? { selector: r.exclude.selector, expiration_days: r.exclude.expirationDays } : null,
    created_at: isoZ(r.createdAt),
    last_updated: isoZ(r.lastUpdated),
  };
}

function archivedView(a: ArchivedImage): Record<string, unknown> {
  return {
    imageDigest: a.imageDigest,
    parentDigest: a.parentDigest ?? null,
    annotations: a.annotations,
    status: a.status,
    image_detail: a.tags.map((t) => ({ pullstring: t.fulltag, registry: t.registry, repository: t.repo, tag: t.tag, detected_at: isoZ(t.createdAt) })),
    archive_size_bytes: a.sizeBytes,
    analyzed_at: isoZ(a.analyzedAt),
    created_at: isoZ(a.archivedAt),
    last_updated: isoZ(a.lastUpdated),
  };
}

export function archivesRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const store = deps.archive;
  const isAdmin = (req: FastifyRequest) => authorize(userOf(req), 'admin').allowed;

  const mustGetRule = async (req: FastifyRequest): Promise<{ account: string; rule: ArchiveRule }> => {
    const account = await accountOf(req, deps);
    const { ruleId } = parseInput(ruleParams, req.params, 'path');
    const rule = await store.getRule(account, ruleId);
    if (!rule) throw new ApiError(404, `no archive rule ${ruleId}`);
    return { account, rule };
  };
  const mustGetImage = async (req: FastifyRequest): Promise<{ account: string; image: ArchivedImage }> => {
    const account = await accountOf(req, deps);
    const { imageDigest } = parseInput(imageParams, req.params, 'path');
    const image = await store.getArchived(account, imageDigest);
    if (!image) throw new ApiError(404, `no archived analysis of ${imageDigest}`);
    return { account, image };
  };

  app.get('/archives', async (req) => {
    const s = await store.summary(await accountOf(req, deps, 'read'));
    return {
      images: { total_image_count: s.images, total_tag_count: s.tags, total_data_bytes: s.bytes, last_updated: isoZ(s.imagesUpdated) },
      rules: { count: s.rules, last_updated: isoZ(s.rulesUpdated) },
    };
  });

  app.get('/archives/rules', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const q = parseInput(rulesQuery, req.query, 'query');
    return (await store.listRules(account, q.system_global !== undefined ? { systemGlobal: q.system_global } : {})).map(ruleView);
  });

  app.post('/archives/rules', async (req) => {
    const account = await accountOf(req, deps, 'write');
    const b = parseInput(ruleBody, req.body, 'body');
    const global = b.system_global === true;
    if (global && !isAdmin(req)) throw new ApiError(403, 'only admins may create system_global rules');
    if (b.max_images_per_account != null && !global) throw new ApiError(400, 'invalid body: max_images_per_account: only system_global rules may set it');
    const rule = await store.addRule(account, {
      selector: b.selector ?? ANY,
      analysisAgeDays: b.analysis_age_days,
      tagVersionsNewer: b.tag_versions_newer,
      transition: b.transition,
      systemGlobal: global,
      ...(b.max_images_per_account != null ? { maxImagesPerAccount: b.max_images_per_account } : {}),
      ...(b.exclude ? { exclude: { selector: b.exclude.selector ?? ANY, expirationDays: b.exclude.expiration_days ?? -1 } } : {}),
    });
    return ruleView(rule);
  });

  app.get('/archives/rules/:ruleId', async (req) => ruleView((await mustGetRule(req)).rule));

  app.delete('/archives/rules/:ruleId', async (req, reply) => {
    const { account, rule } = await mustGetRule(req);
    if (rule.systemGlobal ? !isAdmin(req) : rule.account !== account) throw new ApiError(403, `only admins may delete the system_global rule ${rule.ruleId}`);
    await store.deleteRule(rule.ruleId);
    return reply.code(200).send();
  });

  app.get('/archives/images', async (req) => (await store.listArchived(await accountOf(req, deps, 'read'))).map(archivedView));

  app.post('/archives/images', async (req) => {
    const account = await accountOf(req, deps, 'write');
    const digests = parseInput(archiveBody, req.body, 'body');
    const out: Record<string, unknown>[] = [];
    for (const d of new Set(digests)) {
      const r = await store.archiveImage(account, d);
      out.push({ digest: r.digest, status: r.status, detail: r.status === 'error' ? r.detail : 'archived' });
    }
    return out;
  });

  app.get('/archives/images/:imageDigest', async (req) => archivedView((await mustGetImage(req)).image));

  app.delete('/archives/images/:imageDigest', async (req, reply) => {
    parseInput(deleteQuery, req.query, 'query');
    const { account, image } = await mustGetImage(req);
    await store.deleteArchived(account, image.imageDigest);
    return reply.code(200).send();
  });
}
