/**
 * Normalised vulnerability data: what every feed driver produces and the database stores.
 * One Vulnerability per (source, id); Affected records say which packages it affects, keyed by
 * (namespace, name) for lookup.
 */
import type { SchemeId } from '../versions/types.js';

export type Severity = 'Critical' | 'High' | 'Medium' | 'Low' | 'Negligible' | 'Unknown';

/** Every severity, least severe first: the one order reports, filters and merges use. */
export const SEVERITY_ORDER: readonly Severity[] = ['Unknown', 'Negligible', 'Low', 'Medium', 'High', 'Critical'];

/** A severity's place in SEVERITY_ORDER (Unknown 0 ... Critical 5; -1 for anything else). */
export function severityRank(s: Severity): number {
  return SEVERITY_ORDER.indexOf(s);
}

export interface Cvss {
  /** Who scored it: `nvd`, `redhat`, `ghsa`, `debian`... */
  source: string;
  /** `2.0`, `3.0`, `3.1`, `4.0` */
  version: string;
  vector: string;
  baseScore: number;
  type?: 'Primary' | 'Secondary';
}

export interface Vulnerability {
  /** `CVE-2023-1234`, `GHSA-xxxx-xxxx-xxxx`, `DSA-5000-1`, `RHSA-2024:1234`, `ALSA-...` */
  id: string;
  /** The feed it came from: a driver id such as `debian`, `osv`, `nvd`. */
  source: string;
  aliases: string[];
  summary?: string;
  description?: string;
  published?: string;
  modified?: string;
  /** The source's own rating, when it gives one for the whole vulnerability. */
  severity?: Severity;
  cvss: Cvss[];
  references: string[];
  /** Set when the source withdrew the record (OSV `withdrawn`). */
  withdrawn?: string;
}

/** One OSV-style range: events on the scheme's version line. */
export interface AffectedRange {
  /** First affected version; `0` means from the beginning. */
  introduced?: string;
  /** First fixed version (exclusive end). */
  fixed?: string;
  /** Last affected version (inclusive end). */
  lastAffected?: string;
}

/**
 * - `fixed`: affected before a fix version (ranges / fixedVersions say which)
 * - `not-fixed`: affected, no fix released yet (Debian "open", Red Hat "affected")
 * - `wont-fix`: affected, the vendor will not fix (Red Hat "Will not fix", Debian "no-dsa"/"ignored" with no fix)
 * - `not-affected`: the vendor says this package is not affected (Debian fixed_version "0", Alpine secfix "0")
 * - `unknown`: the vendor has not decided (Debian "undetermined"); skipped by the matcher
 */
export type FixState = 'fixed' | 'not-fixed' | 'wont-fix' | 'not-affected' | 'unknown';

export interface Affected {
  vulnId: string;
  source: string;
  /** `debian:12`, `ubuntu:22.04`, `alpine:3.19`, `rhel:9`, `rocky:9`, `npm`, `pypi`, `maven`, `go`, `gem`, `cargo`, `nuget`, `composer` */
  namespace: string;
  /** Normalised for the ecosystem (see vulns/namespace.ts normalizeName). */
  name: string;
  /** Whether `name` is a source package (distro feeds) or a binary / ecosystem package. */
  nameKind: 'source' | 'binary';
  scheme: SchemeId;
  /** OSV-style ranges; with no ranges and no versions, every version is affected (unless not-affected). */
  ranges: AffectedRange[];
  /** Explicitly affected versions (OSV `versions[]`). */
  versions: string[];
  state: FixState;
  fixedVersions: string[];
  /** The vendor's severity for this package in this release (Debian urgency, Red Hat impact...). */
  severity?: Severity;
  /** Red Hat modularity: `nodejs:18`; only packages built in that stream match. */
  moduleStream?: string;
}

export interface KevEntry {
  cve: string;
  vendorProject?: string;
  product?: string;
  vulnerabilityName?: string;
  dateAdded: string;
  dueDate?: string;
  knownRansomwareCampaignUse?: string;
  requiredAction?: string;
}

export interface EpssEntry {
  cve: string;
  score: number;
  percentile: number;
  date: string;
}

/**
 * What a driver yields, in batches; the store applies them. Enrichment-only sources (NVD) yield
 * Vulnerability records with no Affected ones; the matcher merges every source's record by id.
 */
export interface FeedBatch {
  vulnerabilities?: Vulnerability[];
  affected?: Affected[];
  kev?: KevEntry[];
  epss?: EpssEntry[];
}
