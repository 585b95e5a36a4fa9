/**
 * Queries across an account's images and the vulnerability data (Anchore's /query):
 * images by package, images by vulnerability, and vulnerability records. Answers are Anchore's
 * paginated envelopes: {page, next_page (only when there is one), returned_count, total_count, <items>}.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Cvss, Severity } from '../../feeds/model.js';
import { ANCHORE_TYPE } from '../../sbom/ecosystems.js';
import type { PackageType } from '../../sbom/model.js';
import type { CatalogImage } from '../../store/catalog.js';
import { type VulnerabilityRecord } from '../../services/packages.js';
import { describeRange } from '../../vulns/match.js';
import { parseSeverity } from '../../vulns/scan.js';
import { ApiError } from '../errors.js';
import { parseInput } from '../validate.js';
import type { ApiDeps } from '../app.js';
import { accountOf } from '../context.js';
import { cvssDoc, isoZ } from '../views.js';
import { anchoreGroup, namespaceOfGroup } from '../../feeds/groups.js';

const text = z.string().min(1);
const paging = {
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
};
const bool = z.enum(['true', 'false', 'True', 'False', '1', '0']).transform((v) => v === 'true' || v === 'True' || v === '1');
/** A list parameter: repeated, or comma-separated. */
const list = z.union([text, z.array(text)]).transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean));

const byPackageQuery = z.object({ name: text, package_type: text.optional(), version: text.optional(), ...paging });
const byVulnerabilityQuery = z.object({
  vulnerability_id: text, namespace: text.optional(), affected_package: text.optional(), severity: text.optional(),
  vendor_only: bool.default(true), ...paging,
});
const vulnerabilitiesQuery = z.object({
  id: list, affected_package: text.optional(), affected_package_version: text.optional(), namespace: list.optional(), ...paging,
});

/** Anchore's make_response_paginated_envelope: without a limit, everything on page 1. */
function paginated<T>(key: string, items: T[], page: number, limit: number | undefined): Record<string, unknown> {
  const start = limit ? (page - 1) * limit : 0;
  const shown = limit ? items.slice(start, start + limit) : items;
  const more = limit !== undefined && start + limit < items.length;
  return {
    page: String(limit ? page : 1),
    ...(more ? { next_page: String(page + 1) } : {}),
    returned_count: shown.length,
    total_count: items.length,
    [key]: shown,
  };
}

/** Lading package types named by a package_type parameter (Lading's or Anchore's name, any case). */
function packageTypes(name: string): PackageType[] {
  const want = name.toLowerCase();
  const types = (Object.keys(ANCHORE_TYPE) as PackageType[]).filter((t) => t === want || ANCHORE_TYPE[t].toLowerCase() === want);
  if (!types.length) throw new ApiError(400, `unknown package_type ${JSON.stringify(name)}: expected one of ${[...new Set(Object.values(ANCHORE_TYPE))].join(', ')}`);
  return types;
}

/** Anchore's ImageReference. */
function imageReference(img: CatalogImage): Record<string, unknown> {
  return {
    imageDigest: img.imageDigest,
    imageId: img.imageId ?? null,
    analyzed_at: isoZ(img.analyzedAt),
    tag_history: img.tags.map((t) => ({ registry: t.registry, repo: t.repo, tag: t.tag, fulltag: t.fulltag, tag_detected_at: isoZ(t.createdAt) })),
  };
}

function cvssData(list: Cvss[], id: string): Record<string, unknown>[] {
  return list.length ? [cvssDoc(list, id)] : [];
}

/** Anchore's StandaloneVulnerability. */
function vulnerabilityView(r: VulnerabilityRecord): Record<string, unknown> {
  const { record, related } = r;
  const nvd = [record, ...related].filter((v) => v.source === 'nvd');
  const cveId = [record.id, ...record.aliases].find((a) => a.startsWith('CVE-'));
  const severity: Severity = r.affected.find((a) => a.severity)?.severity ?? record.severity ?? related.find((v) => v.severity)?.severity ?? 'Unknown';
  return {
    id: r.id,
    namespace: anchoreGroup(r.namespace),
    severity,
    link: record.references[0] ?? (cveId ? `https://nvd.nist.gov/vuln/detail/${cveId}` : null),
    affected_packages: r.affected.map((a) => {
      const parts = [
        ...a.ranges.map(describeRange),
        ...a.versions.map((v) => `= ${v}`),
        ...(a.ranges.length || a.versions.length || a.state !== 'fixed' ? [] : a.fixedVersions.map((f) => `< ${f}`)),
      ];
      const version = parts.filter((p) => p !== 'all versions').join(' || ') || '*';
      return { name: a.name, version, type: a.scheme, will_not_fix: a.state === 'wont-fix' };
    }),
    description: record.description ?? record.summary ?? related.find((v) => v.description)?.description ?? null,
    references: record.references.map((url) => ({ source: record.source, url })),
    nvd_data: nvd.flatMap((v) => cvssData(v.cvss, cveId ?? v.id)),
    vendor_data: record.source === 'nvd' ? [] : cvssData(record.cvss, record.id),
  };
}

export function queryRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const queries = deps.packages;

  app.get('/query/images/by_package', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const q = parseInput(byPackageQuery, req.query, 'query');
    const found = await queries.imagesByPackage(account, {
      name: q.name,
      ...(q.package_type !== undefined ? { types: packageTypes(q.package_type) } : {}),
      ...(q.version !== undefined ? { version: q.version } : {}),
    });
    const images = found.map((f) => ({
      image: imageReference(f.image),
      packages: f.packages.map((p) => ({ name: p.name, version: p.version, type: ANCHORE_TYPE[p.type] ?? p.type })),
    }));
    return paginated('images', images, q.page, q.limit);
  });

  app.get('/query/images/by_vulnerability', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const q = parseInput(byVulnerabilityQuery, req.query, 'query');
    const severity = q.severity === undefined ? undefined : parseSeverity(q.severity);
    if (q.severity !== undefined && !severity) throw new ApiError(400, `invalid query: severity: ${JSON.stringify(q.severity)} is not one of Unknown, Negligible, Low, Medium, High, Critical`);
    const found = await queries.imagesByVulnerability(account, {
      vulnerabilityId: q.vulnerability_id,
      vendorOnly: q.vendor_only,
      ...(q.namespace !== undefined ? { namespace: namespaceOfGroup(q.namespace) } : {}),
      ...(q.affected_package !== undefined ? { affectedPackage: q.affected_package } : {}),
      ...(severity !== undefined ? { severity } : {}),
    });
    const images = found.map((f) => ({
      image: imageReference(f.image),
      vulnerable_packages: f.packages.map((p) => ({ ...p, namespace: anchoreGroup(p.namespace), type: ANCHORE_TYPE[p.type] ?? p.type })),
    }));
    return paginated('images', images, q.page, q.limit);
  });

  app.get('/query/vulnerabilities', async (req) => {
    await accountOf(req, deps, 'read');
    const q = parseInput(vulnerabilitiesQuery, req.query, 'query');
    if (q.affected_package_version !== undefined && q.affected_package === undefined) {
      throw new ApiError(400, 'invalid query: affected_package_version needs affected_package');
    }
    if (!q.id.length) throw new ApiError(400, 'invalid query: id: at least one vulnerability id is required');
    const records = await queries.vulnerabilities({
      ids: q.id,
      ...(q.namespace?.length ? { namespaces: q.namespace.map(namespaceOfGroup) } : {}),
      ...(q.affected_package !== undefined ? { affectedPackage: q.affected_package } : {}),
      ...(q.affected_package_version !== undefined ? { affectedPackageVersion: q.affected_package_version } : {}),
    });
    return paginated('vulnerabilities', records.map(vulnerabilityView), q.page, q.limit);
  });
}
