/**
 * Summaries for the web UI (services/summaries.ts): the image list with filters, sorts and pages,
 * the dashboard, one image's detail, its packages and vulnerabilities (from the stored SBOM and
 * the cached vulnerability report), and the comparison of two images. Every answer is scoped to
 * the account the request acts in.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isDigest } from '../../image/reference.js';
import { PACKAGE_TYPES } from '../../sbom/ecosystems.js';
import type { Sbom } from '../../sbom/model.js';
import { ANALYSIS_STATUSES, type CatalogImage } from '../../store/catalog.js';
import { SEVERITIES, SORTS, type ImageSummary } from '../../services/summaries.js';
import { countedMatches } from '../../services/summary-counts.js';
import {
  layersOf, packageViews, scanOf, vulnerabilityViews, type VulnerabilityView,
} from '../../services/summary-views.js';
import { diffImages } from '../../vulns/diff.js';
import { severityRank } from '../../vulns/model.js';
import { ApiError } from '../errors.js';
import { parseInput } from '../validate.js';
import type { ApiDeps } from '../app.js';
import { accountOf } from '../context.js';
import { isoZ } from '../views.js';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const int = (min: number, max: number) => z.string().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().int().min(min).max(max));
const text = z.string().min(1);
const pageOf = (maxLimit: number) => ({ page: int(1, 1_000_000).optional(), limit: int(1, maxLimit).optional() });

const listQuery = z.object({
  q: text.optional(),
  registry: text.optional(),
  repository: text.optional(),
  analysis_status: z.enum(ANALYSIS_STATUSES).optional(),
  verdict: z.enum(['pass', 'warn', 'fail', 'none']).optional(),
  severity: z.enum(SEVERITIES).optional(),
  fixable: bool.optional(),
  package: text.optional(),
  vulnerability: text.optional(),
  sort: z.enum(SORTS).optional(),
  order: z.enum(['asc', 'desc']).optional(),
  ...pageOf(500),
});

const packagesQuery = z.object({
  q: text.optional(),
  type: z.enum(PACKAGE_TYPES).optional(),
  sort: z.enum(['name', 'type', 'layer']).optional(),
  ...pageOf(1000),
});

const vulnerabilitiesQuery = z.object({
  q: text.optional(),
  severity: z.enum(SEVERITIES).optional(),
  fixable: bool.optional(),
  kev: bool.optional(),
  /** As GET /images/{digest}/vuln: without findings the vendor will not fix (default true). */
  vendor_only: bool.optional(),
  sort: z.enum(['severity', 'cvss', 'epss', 'package', 'id']).optional(),
  ...pageOf(1000),
});

const digest = z.string().refine(isDigest, 'expected sha256:<64 hex digits>');
const compareQuery = z.object({ base: digest, target: digest });
const digestParams = z.object({ imageDigest: digest });

/** The summary with the API's timestamps. */
export function summaryView(s: ImageSummary): Record<string, unknown> {
  return { ...s, evaluated_at: isoZ(s.evaluated_at ?? undefined), created_at: isoZ(s.created_at), analyzed_at: isoZ(s.analyzed_at ?? undefined), last_updated: isoZ(s.last_updated) };
}

function pageOfItems<T>(items: T[], page = 1, limit = 100): { total: number; page: number; limit: number; items: T[] } {
  return { total: items.length, page, limit, items: items.slice((page - 1) * limit, page * limit) };
}

const VULN_SORTS: Record<string, (a: VulnerabilityView, b: VulnerabilityView) => number> = {
  severity: (a, b) => severityRank(b.severity) - severityRank(a.severity) || (b.cvss?.score ?? -1) - (a.cvss?.score ?? -1),
  cvss: (a, b) => (b.cvss?.score ?? -1) - (a.cvss?.score ?? -1),
  epss: (a, b) => (b.epss?.score ?? -1) - (a.epss?.score ?? -1),
  package: (a, b) => a.package_name.localeCompare(b.package_name) || a.package_version.localeCompare(b.package_version),
  id: (a, b) => a.id.localeCompare(b.id),
};

async function mustImage(deps: ApiDeps, account: string, imageDigest: string): Promise<CatalogImage> {
  const img = await deps.catalog.getImage(account, imageDigest);
  if (!img) throw new ApiError(404, `image ${imageDigest} not found`);
  return img;
}

async function mustSbom(deps: ApiDeps, img: CatalogImage): Promise<Sbom> {
  const sbom = img.analysisStatus === 'analyzed' ? await deps.catalog.getSbom(img.account, img.imageDigest) : undefined;
  if (!sbom) throw new ApiError(404, `image ${img.imageDigest} is not analyzed (analysis_status ${img.analysisStatus})`);
  return sbom;
}

async function mustSummary(deps: ApiDeps, account: string, imageDigest: string): Promise<ImageSummary> {
  const s = await deps.summaries.get(account, imageDigest);
  if (!s) throw new ApiError(404, `image ${imageDigest} not found`);
  return s;
}

/** The image list's query as the summary store's list options (only what was given). */
function listOptions(q: z.infer<typeof listQuery>): Parameters<ApiDeps['summaries']['list']>[1] {
  return {
    ...(q.q !== undefined ? { q: q.q } : {}),
    ...(q.registry !== undefined ? { registry: q.registry } : {}),
    ...(q.repository !== undefined ? { repository: q.repository } : {}),
    ...(q.analysis_status !== undefined ? { analysisStatus: q.analysis_status } : {}),
    ...(q.verdict !== undefined ? { verdict: q.verdict } : {}),
    ...(q.severity !== undefined ? { severity: q.severity } : {}),
    ...(q.fixable !== undefined ? { fixable: q.fixable } : {}),
    ...(q.package !== undefined ? { package: q.package } : {}),
    ...(q.vulnerability !== undefined ? { vulnerability: q.vulnerability } : {}),
    ...(q.sort !== undefined ? { sort: q.sort } : {}),
    ...(q.order !== undefined ? { order: q.order } : {}),
    ...(q.page !== undefined ? { page: q.page } : {}),
    ...(q.limit !== undefined ? { limit: q.limit } : {}),
  };
}

/** The dashboard: counts, worst images, feed ages, the trend, recent events and failed deliveries. */
async function dashboard(deps: ApiDeps, account: string) {
  const store = deps.summaries;
  const overview = await store.overview(account);
  const now = Date.now();
  // The records stored now, as /system/feeds counts them (not the size of the last sync or import).
  const states = new Map((await deps.vulndb.status(new Date(now))).map((s) => [s.source, s]));
  const names = [...new Set([...(deps.config.feeds.enabled ? deps.config.feeds.sources : []), ...states.keys()])].sort();
  const feeds = names.map((name) => {
    const s = states.get(name);
    return {
      name,
      last_sync: isoZ(s?.lastSuccess),
      age_seconds: s?.ageSeconds ?? null,
      record_count: s?.records ?? 0,
      status: s?.status ?? 'never',
    };
  });
  return {
    images: overview.images,
    vulnerabilities: overview.vulnerabilities,
    verdicts: overview.verdicts,
    worst_images: overview.worst_images.map(summaryView),
    feeds,
    trend: (await store.trend(account)).map((p) => ({ ...p, at: isoZ(p.at) })),
    recent_events: (await store.recentEvents(account)).map((e) => ({ ...e, timestamp: isoZ(e.timestamp) })),
    failed_deliveries: (await store.failedDeliveries(account)).map((d) => ({ ...d, last_attempt_at: isoZ(d.last_attempt_at) })),
  };
}

/** One image's page: its summary, base, layers, verdicts and vulnerability changes. */
async function imageDetail(deps: ApiDeps, account: string, imageDigest: string) {
  const store = deps.summaries;
  const summary = await mustSummary(deps, account, imageDigest);
  const img = await mustImage(deps, account, imageDigest);
  const sbom = img.analysisStatus === 'analyzed' ? await deps.catalog.getSbom(account, imageDigest) : undefined;
  const base = await deps.bases.get(account, imageDigest);
  return {
    summary: summaryView(summary),
    base_image: base ? { digest: base.digest, tag: base.tag ?? null, shared_layers: base.sharedLayers } : null,
    layers: sbom ? layersOf(sbom).map((l) => ({ ...l, created: isoZ(l.created ?? undefined) })) : [],
    verdicts: (await store.verdicts(account, imageDigest)).map((v) => ({ ...v, evaluated_at: isoZ(v.evaluated_at) })),
    vuln_changes: (await store.vulnChanges(account, imageDigest)).map((c) => ({ ...c, at: isoZ(c.at) })),
  };
}

export function summariesRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const store = deps.summaries;

  app.get('/summaries/images', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const q = parseInput(listQuery, req.query, 'query');
    const r = await store.list(account, listOptions(q));
    return { ...r, items: r.items.map(summaryView) };
  });

  app.get('/summaries/dashboard', async (req) => {
    const account = await accountOf(req, deps, 'read');
    return dashboard(deps, account);
  });

  app.get('/summaries/images/:imageDigest', async (req) => imageDetail(deps, await accountOf(req, deps, 'read'), parseInput(digestParams, req.params, 'path').imageDigest));

  app.get('/summaries/images/:imageDigest/packages', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const { imageDigest } = parseInput(digestParams, req.params, 'path');
    const q = parseInput(packagesQuery, req.query, 'query');
    const sbom = await mustSbom(deps, await mustImage(deps, account, imageDigest));
    const needle = q.q?.toLowerCase();
    const sort = q.sort ?? 'name';
    const items = packageViews(sbom)
      .filter((p) => (needle === undefined || p.name.toLowerCase().includes(needle)) && (q.type === undefined || p.type === q.type))
      .sort((a, b) => (sort === 'type' ? a.type.localeCompare(b.type) : 0)
        || (sort === 'layer' ? (a.layer_index ?? Infinity) - (b.layer_index ?? Infinity) : 0)
        || a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
    return pageOfItems(items, q.page, q.limit ?? 100);
  });

  app.get('/summaries/images/:imageDigest/vulnerabilities', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const { imageDigest } = parseInput(digestParams, req.params, 'path');
    const q = parseInput(vulnerabilitiesQuery, req.query, 'query');
    const img = await mustImage(deps, account, imageDigest);
    const sbom = await mustSbom(deps, img);
    const all = await scanOf(deps.reports, img, sbom);
    const matches = q.vendor_only === false ? all : countedMatches(all);
    const needle = q.q?.toLowerCase();
    const items = vulnerabilityViews(sbom, matches).filter((v) => {
      if (needle !== undefined && !v.id.toLowerCase().includes(needle) && !v.package_name.toLowerCase().includes(needle)) return false;
      if (q.severity !== undefined && severityRank(v.severity) < severityRank(q.severity)) return false;
      if (q.fixable !== undefined && (v.fixed_versions.length > 0) !== q.fixable) return false;
      if (q.kev !== undefined && v.kev !== q.kev) return false;
      return true;
    });
    const sort = VULN_SORTS[q.sort ?? 'severity']!;
    items.sort((a, b) => sort(a, b) || a.id.localeCompare(b.id) || a.package_name.localeCompare(b.package_name));
    return pageOfItems(items, q.page, q.limit ?? 100);
  });

  app.get('/summaries/compare', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const q = parseInput(compareQuery, req.query, 'query');
    const side = async (imageDigest: string) => {
      const img = await mustImage(deps, account, imageDigest);
      const sbom = await mustSbom(deps, img);
      const summary = await mustSummary(deps, account, imageDigest);
      return { summary, sbom, matches: await scanOf(deps.reports, img, sbom), verdict: summary.verdict };
    };
    const base = await side(q.base);
    const target = await side(q.target);
    // The same comparison as `lading diff` (vulns/diff.ts); vulnerabilities are [] without data, never null here.
    const diff = diffImages(base, target);
    return {
      base: summaryView(base.summary),
      target: summaryView(target.summary),
      ...diff,
      vulnerabilities: diff.vulnerabilities ?? { introduced: [], fixed: [] },
    };
  });
}
