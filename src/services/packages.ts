/**
 * The queries across an account's images built on the package index (store/package-index.ts):
 * - which images hold a package (by name, optionally type and version);
 * - which images a vulnerability affects: the vulnerability's affected package names (from the
 *   vulnerability database) narrow the candidates through the index, then the real matcher runs
 *   over each candidate's stored SBOM so version semantics are the scanner's own;
 * - the vulnerability records themselves, per namespace, with their affected packages.
 * The index is written with each stored analysis and removed with the image (services/root.ts).
 */
import type { Kysely } from 'kysely';
import type { Affected, Vulnerability } from '../feeds/model.js';
import type { VulnDb } from '../feeds/vulndb.js';
import type { PackageType } from '../sbom/model.js';
import { getScheme } from '../versions/index.js';
import { judge } from '../vulns/match.js';
import type { Match } from '../vulns/model.js';
import { lookupKeys } from '../vulns/namespace.js';
import { scanSbom } from '../vulns/scan.js';
import type { CatalogImage, CatalogStore } from '../store/catalog.js';
import type { Database } from '../store/schema.js';
import { PackageIndex } from '../store/package-index.js';


/** One package of one image, as the index holds it. */
export interface IndexedPackage {
  imageDigest: string;
  name: string;
  version: string;
  type: PackageType;
  purl: string;
  path?: string;
}

export { indexImagePackages, removeImagePackages } from '../store/package-index.js';

/** Images with the packages that made them match. */
export interface ImagePackages<P> {
  image: CatalogImage;
  packages: P[];
}

/** A package a vulnerability affects in one image. */
export interface VulnerablePackage {
  name: string;
  version: string;
  type: PackageType;
  namespace: string;
  severity: string;
}

export interface ImagesByVulnerabilityQuery {
  vulnerabilityId: string;
  namespace?: string;
  affectedPackage?: string;
  severity?: string;
  /** Leave out what the vendor will not fix (Anchore's default). */
  vendorOnly?: boolean;
}

/** A vulnerability as one namespace's data describes it, with the packages it affects there. */
export interface VulnerabilityRecord {
  id: string;
  namespace: string;
  /** The record the entry comes from (its source's), plus every source's record of the same vulnerability. */
  record: Vulnerability;
  related: Vulnerability[];
  affected: Affected[];
}

export interface VulnerabilitiesQuery {
  ids: string[];
  namespaces?: string[];
  affectedPackage?: string;
  /** Only affected records that affect this version of affectedPackage. */
  affectedPackageVersion?: string;
}

export class PackageQueries {
  private readonly index: PackageIndex;

  /** `index`: the package index's store (the composition root's); default one over `db`. */
  constructor(db: Kysely<Database>, private readonly catalog: CatalogStore, private readonly vulndb: VulnDb, index?: PackageIndex) {
    this.index = index ?? new PackageIndex(db);
  }

  /** The account's images holding a package of this name (and type, version), by image digest. */
  async imagesByPackage(account: string, q: { name: string; types?: readonly string[]; version?: string }): Promise<ImagePackages<IndexedPackage>[]> {
    const rows = await this.index.rows(account, q);
    const byImage = new Map<string, IndexedPackage[]>();
    for (const r of rows) {
      const list = byImage.get(r.image_digest) ?? [];
      if (!list.some((p) => p.version === r.version && p.type === r.type)) {
        list.push({ imageDigest: r.image_digest, name: r.name, version: r.version, type: r.type as PackageType, purl: r.purl, ...(r.path !== null ? { path: r.path } : {}) });
      }
      byImage.set(r.image_digest, list);
    }
    return this.withImages(account, byImage);
  }

  /** The account's images a vulnerability affects, confirmed by the matcher, by image digest. */
  async imagesByVulnerability(account: string, q: ImagesByVulnerabilityQuery): Promise<ImagePackages<VulnerablePackage>[]> {
    const records = await this.vulndb.vulnerabilities([q.vulnerabilityId]);
    let affected = await this.affectedOf(records);
    if (q.namespace !== undefined) affected = affected.filter((a) => a.namespace === q.namespace);
    const names = new Set(affected.map((a) => a.name));
    const digests = await this.imagesWithNames(account, [...names]);
    const byImage = new Map<string, VulnerablePackage[]>();
    for (const digest of digests) {
      const sbom = await this.catalog.getSbom(account, digest);
      if (!sbom) continue;
      const packages = sbom.packages.filter((p) => p.name === q.affectedPackage || q.affectedPackage === undefined)
        .filter((p) => lookupKeys(p, sbom.distro).some((k) => names.has(k.name)));
      if (!packages.length) continue;
      const result = await scanSbom({ ...sbom, packages }, this.vulndb, { input: digest, db: { sources: [] } });
      const found: VulnerablePackage[] = [];
      for (const m of result.matches.filter((x) => this.wanted(x, q))) {
        if (found.some((p) => p.name === m.package.name && p.version === m.package.version && p.type === m.package.type && p.namespace === m.match.namespace)) continue;
        found.push({ name: m.package.name, version: m.package.version, type: m.package.type, namespace: m.match.namespace, severity: m.vulnerability.severity });
      }
      if (found.length) byImage.set(digest, found);
    }
    return this.withImages(account, byImage);
  }

  private wanted(m: Match, q: ImagesByVulnerabilityQuery): boolean {
    const v = m.vulnerability;
    if (v.id !== q.vulnerabilityId && !v.aliases.includes(q.vulnerabilityId)) return false;
    if (q.namespace !== undefined && m.match.namespace !== q.namespace) return false;
    if (q.severity !== undefined && v.severity.toLowerCase() !== q.severity.toLowerCase()) return false;
    return !(q.vendorOnly && v.fixState === 'wont-fix');
  }

  /** Vulnerability records by id (or alias), one per (record, namespace), ordered by id then namespace. */
  async vulnerabilities(q: VulnerabilitiesQuery): Promise<VulnerabilityRecord[]> {
    const records = await this.vulndb.vulnerabilities(q.ids);
    const affected = await this.affectedOf(records);
    const out: VulnerabilityRecord[] = [];
    for (const record of records) {
      const related = records.filter((r) => r !== record && (r.id === record.id || r.aliases.includes(record.id) || record.aliases.includes(r.id)));
      const own = affected.filter((a) => a.source === record.source && a.vulnId === record.id);
      const namespaces = own.length ? [...new Set(own.map((a) => a.namespace))] : [record.source];
      for (const namespace of namespaces) {
        if (q.namespaces && !q.namespaces.includes(namespace)) continue;
        const list = own.filter((a) => a.namespace === namespace)
          .filter((a) => q.affectedPackage === undefined || a.name === q.affectedPackage)
          .filter((a) => q.affectedPackageVersion === undefined || affects(a, q.affectedPackageVersion));
        if (q.affectedPackage !== undefined && !list.length) continue;
        out.push({ id: record.id, namespace, record, related, affected: list });
      }
    }
    return out.sort((a, b) => cmp(a.id, b.id) || cmp(a.namespace, b.namespace));
  }

  /** The affected records of these vulnerability records (every namespace). */
  private async affectedOf(records: readonly Vulnerability[]): Promise<Affected[]> {
    const out: Affected[] = [];
    for (const r of records) {
      out.push(...(await this.vulndb.affectedOf(r.source, r.id)));
    }
    return out;
  }

  /** Digests of the account's images holding a package by one of these names (own or lookup name). */
  private async imagesWithNames(account: string, names: string[]): Promise<string[]> {
    return this.index.imagesWithNames(account, names);
  }

  /** Attach the catalog records (images deleted meanwhile drop out), in digest order. */
  private async withImages<P>(account: string, byImage: Map<string, P[]>): Promise<ImagePackages<P>[]> {
    const out: ImagePackages<P>[] = [];
    for (const digest of [...byImage.keys()].sort()) {
      const image = await this.catalog.getImage(account, digest);
      if (image) out.push({ image, packages: byImage.get(digest)! });
    }
    return out;
  }
}

function affects(a: Affected, version: string): boolean {
  return judge(getScheme(a.scheme), version, a) !== undefined;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
