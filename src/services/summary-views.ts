/**
 * The per-image views of the web UI and the summary API, as functions of a stored SBOM and its
 * scan: layers with their instructions, packages and vulnerabilities with the layer that brought
 * them. The comparison of two images is vulns/diff.ts.
 */
import type { Severity } from '../feeds/model.js';
import type { Package, PackageType, Sbom } from '../sbom/model.js';
import { bestCvss } from '../vulns/match.js';
import type { Match } from '../vulns/model.js';
import type { CatalogImage } from '../store/catalog.js';
import type { ImageSummariesTable } from '../store/schema.js';
import { layersOf, type LayerView } from '../sbom/layers.js';
import type { VulnReports } from './reports.js';

export { cleanInstruction, layersOf, type LayerView } from '../sbom/layers.js';

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
