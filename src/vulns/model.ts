/** A scan's result: which vulnerabilities affect which packages, and why. */
import type { Cvss, FixState, Severity } from '../feeds/model.js';
import type { Location, PackageType } from '../sbom/model.js';

export interface MatchedVulnerability {
  id: string;
  aliases: string[];
  /** The severity shown: the vendor's for distro packages, else the best available. */
  severity: Severity;
  /** Where `severity` came from (`debian`, `nvd`, `ghsa`...). */
  severitySource: string;
  cvss: Cvss[];
  fixState: FixState;
  fixedVersions: string[];
  description?: string;
  references: string[];
  /** CISA KEV: known exploited. */
  kev?: { dateAdded: string; dueDate?: string; ransomware?: string };
  epss?: { score: number; percentile: number; date: string };
  /** Source records merged into this one (feed:id). */
  sources: string[];
}

export interface MatchedPackage {
  name: string;
  version: string;
  type: PackageType;
  purl: string;
  locations: Location[];
  sourceName?: string;
  sourceVersion?: string;
}

export interface MatchDetails {
  /** `distro` (vendor feed), `language` (ecosystem feed). */
  kind: 'distro' | 'language';
  namespace: string;
  /** The name that matched, and whether it was the binary or the source package. */
  name: string;
  nameKind: 'source' | 'binary';
  /** The version compared (the source version for a source-name match). */
  version: string;
  /** The constraint that matched, in readable form (`< 1.2.3`, `>= 1.0, < 1.2`, `all versions`). */
  constraint: string;
  /** Which feed record matched (`debian:CVE-2023-1234`). */
  record: string;
}

export interface Match {
  vulnerability: MatchedVulnerability;
  package: MatchedPackage;
  match: MatchDetails;
  /** The package came unchanged from the image's base (vulns/inherited.ts); absent: not known to (false). */
  inheritedFromBase?: boolean;
}

export interface Suppressed extends Match {
  /** Why it is not reported: `vex:not_affected (component_not_present)`, `ignore: <reason>`. */
  reason: string;
}

export interface ScanResult {
  schema: 'lading-scan/1';
  createdAt: string;
  source: { imageId?: string; manifestDigest?: string; tags: string[]; input: string };
  distro?: { id: string; versionId?: string };
  matches: Match[];
  suppressed: Suppressed[];
  /** Namespaces the database had no data for (e.g. an unsupported or end-of-life release). */
  warnings: string[];
  db: { built?: string; sources: { source: string; lastSync?: string }[] };
}

export { SEVERITY_ORDER, severityRank } from '../feeds/model.js';

const SEVERITY_NAMES: Record<string, Severity> = {
  critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', negligible: 'Negligible', unknown: 'Unknown',
};

/** `high` / `High` / `HIGH` → `High`; undefined when it is not a severity. */
export function parseSeverity(text: string): Severity | undefined {
  return SEVERITY_NAMES[text.toLowerCase()];
}
