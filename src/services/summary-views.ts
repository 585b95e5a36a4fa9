/**
 * The per-image views of the web UI and the summary API, as functions of a stored SBOM and its
 * scan: layers with their instructions, packages and vulnerabilities with the layer that brought
 * them, and the comparison of two images.
 */
import type { Severity } from '../feeds/model.js';
import type { Package, PackageType, Sbom } from '../sbom/model.js';
import { PACKAGE_SCHEME } from '../sbom/ecosystems.js';
import { getScheme } from '../versions/index.js';
import { bestCvss } from '../vulns/match.js';
import { severityRank, type Match } from '../vulns/model.js';
import type { CatalogImage } from '../store/catalog.js';
import type { ImageSummariesTable } from '../store/schema.js';
import type { VulnReports } from './reports.js';
import { countedMatches } from './summary-counts.js';

export interface LayerView {
  index: number;
  digest: string;
  size: number;
  instruction: string | null;
  created: string | null;
  package_count: number;
}

/** A history entry's created_by as a Dockerfile line: `#(nop)` prefixes dropped, shell commands as RUN. */
export function cleanInstruction(createdBy: string): string {
  const s = createdBy.trim().replace(/\s+# buildkit$/, '');
  const nop = /^\/bin\/sh -c #\(nop\)\s+/.exec(s);
  if (nop) return s.slice(nop[0].length).trim();
  if (s.startsWith('/bin/sh -c ')) return `RUN ${s.slice('/bin/sh -c '.length).trim()}`;
  return s;
}

/** The layers with the history entry that made each (where history and layers line up, as Docker lists them). */
export function layersOf(sbom: Sbom): LayerView[] {
  const { history, layers } = sbom.source;
  const made = history.filter((h) => !h.emptyLayer);
  const aligned = made.length === layers.length;
  const counts = new Map<number, number>();
  for (const p of sbom.packages) {
    const l = p.locations[0]?.layer;
    if (l !== undefined) counts.set(l, (counts.get(l) ?? 0) + 1);
  }
  return layers.map((l, i) => {
    const h = aligned ? made[i] : undefined;
    const createdBy = h?.createdBy ?? l.createdBy;
    return {
      index: l.index, digest: l.digest, size: l.uncompressedSize ?? l.size,
      instruction: createdBy ? cleanInstruction(createdBy) : null, created: h?.created ?? null, package_count: counts.get(l.index) ?? 0,
    };
  });
}

interface LayerRef { layer_index: number | null; layer_digest: string | null; instruction: string | null }

function layerRef(layers: Map<number, LayerView>, p: { locations: Package['locations'] }): LayerRef {
  const index = p.locations[0]?.layer;
  const layer = index !== undefined ? layers.get(index) : undefined;
  return { layer_index: index ?? null, layer_digest: layer?.digest ?? null, instruction: layer?.instruction ?? null };
}

export interface PackageView extends LayerRef {
  name: string;
  version: string;
  type: PackageType;
  purl: string;
  licenses: string[];
  locations: string[];
}

export function packageViews(sbom: Sbom): PackageView[] {
  const layers = new Map(layersOf(sbom).map((l) => [l.index, l]));
  return sbom.packages.map((p) => ({
    name: p.name, version: p.version, type: p.type, purl: p.purl, licenses: p.licenses,
    ...layerRef(layers, p), locations: p.locations.map((l) => l.path),
  }));
}

export interface VulnerabilityView {
  id: string;
  severity: Severity;
  cvss: { score: number; vector: string; version: string } | null;
  fix_state: string;
  fixed_versions: string[];
  package_name: string;
  package_version: string;
  package_type: PackageType;
  package_path: string | null;
  layer_index: number | null;
  instruction: string | null;
  kev: boolean;
  epss: { score: number; percentile: number } | null;
  url: string;
  namespace: string;
}

/** The CVSS shown: the newest version, then the highest score. */
/** The CVSS shown: the one the matcher rates by (vulns/match.ts bestCvss), so the score agrees with the severity. */
function cvssView(m: Match): VulnerabilityView['cvss'] {
  const c = bestCvss(m.vulnerability.cvss);
  return c ? { score: c.baseScore, vector: c.vector, version: c.version } : null;
}

export function vulnerabilityViews(sbom: Sbom, matches: readonly Match[]): VulnerabilityView[] {
  const layers = new Map(layersOf(sbom).map((l) => [l.index, l]));
  return matches.map((m) => {
    const v = m.vulnerability;
    const cve = [v.id, ...v.aliases].find((a) => a.startsWith('CVE-'));
    const { layer_index, instruction } = layerRef(layers, m.package);
    return {
      id: v.id, severity: v.severity, cvss: cvssView(m), fix_state: v.fixState, fixed_versions: v.fixedVersions,
      package_name: m.package.name, package_version: m.package.version, package_type: m.package.type, package_path: m.package.locations[0]?.path ?? null,
      layer_index, instruction, kev: v.kev !== undefined, epss: v.epss ? { score: v.epss.score, percentile: v.epss.percentile } : null,
      url: v.references[0] ?? (cve ? `https://nvd.nist.gov/vuln/detail/${cve}` : ''), namespace: m.match.namespace,
    };
  });
}

// ==================================================================== comparison

export function compareVersions(type: PackageType, a: string, b: string): number {
  try {
    return Math.sign(getScheme(PACKAGE_SCHEME[type]).compare(a, b));
  } catch {
    return a < b ? -1 : a > b ? 1 : 0;
  }
}

export interface PackageChange { name: string; type: PackageType; from: string; to: string }
export interface FindingRef { id: string; severity: Severity; package_name: string; package_version: string; fixed_versions: string[] }
export interface Comparison {
  packages: { added: { name: string; type: PackageType; version: string }[]; removed: { name: string; type: PackageType; version: string }[]; upgraded: PackageChange[]; downgraded: PackageChange[] };
  vulnerabilities: { introduced: FindingRef[]; fixed: FindingRef[] };
}

/** Each (type, name) with its highest version. */
function packageIndex(sbom: Sbom): Map<string, { name: string; type: PackageType; version: string }> {
  const out = new Map<string, { name: string; type: PackageType; version: string }>();
  for (const p of sbom.packages) {
    const key = `${p.type}\0${p.name}`;
    const had = out.get(key);
    if (!had || compareVersions(p.type, p.version, had.version) > 0) out.set(key, { name: p.name, type: p.type, version: p.version });
  }
  return out;
}

function findingIndex(matches: readonly Match[]): Map<string, FindingRef> {
  const out = new Map<string, FindingRef>();
  for (const m of countedMatches(matches)) {
    out.set(`${m.vulnerability.id}\0${m.package.name}`, {
      id: m.vulnerability.id, severity: m.vulnerability.severity, package_name: m.package.name, package_version: m.package.version, fixed_versions: m.vulnerability.fixedVersions,
    });
  }
  return out;
}

const byName = <T extends { name: string; type: string }>(a: T, b: T) => a.name.localeCompare(b.name) || a.type.localeCompare(b.type);
const byFinding = (a: FindingRef, b: FindingRef) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id) || a.package_name.localeCompare(b.package_name);

/** What changed from base to target: packages by (type, name), findings by (id, package name). */
export function compareImages(base: { sbom: Sbom; matches: readonly Match[] }, target: { sbom: Sbom; matches: readonly Match[] }): Comparison {
  const before = packageIndex(base.sbom);
  const after = packageIndex(target.sbom);
  const packages: Comparison['packages'] = { added: [], removed: [], upgraded: [], downgraded: [] };
  for (const [key, p] of after) {
    const old = before.get(key);
    if (!old) packages.added.push(p);
    else {
      const c = compareVersions(p.type, old.version, p.version);
      if (c < 0) packages.upgraded.push({ name: p.name, type: p.type, from: old.version, to: p.version });
      else if (c > 0) packages.downgraded.push({ name: p.name, type: p.type, from: old.version, to: p.version });
    }
  }
  for (const [key, p] of before) if (!after.has(key)) packages.removed.push(p);
  for (const list of Object.values(packages)) list.sort(byName);
  const was = findingIndex(base.matches);
  const now = findingIndex(target.matches);
  return {
    packages,
    vulnerabilities: {
      introduced: [...now].filter(([k]) => !was.has(k)).map(([, f]) => f).sort(byFinding),
      fixed: [...was].filter(([k]) => !now.has(k)).map(([, f]) => f).sort(byFinding),
    },
  };
}

/** The image's scan through the shared report cache (undefined without vulnerability data). */
export async function scanOf(reports: VulnReports, image: CatalogImage, sbom: Sbom): Promise<Match[]> {
  const scan = await reports.scan({ account: image.account, imageDigest: image.imageDigest, ...(image.analyzedAt ? { analyzedAt: image.analyzedAt } : {}) }, async () => sbom);
  return scan?.matches ?? [];
}

/** What a summary row says of an SBOM: package count, distro and platform. */
export function describeSbom(sbom: Sbom): Pick<ImageSummariesTable, 'package_count' | 'distro' | 'platform'> {
  const p = sbom.source.platform;
  const d = sbom.distro;
  return {
    package_count: sbom.packages.length,
    distro: d ? [d.id, d.versionId].filter(Boolean).join(' ') : null,
    platform: [p.os, p.architecture, p.variant].filter(Boolean).join('/'),
  };
}
