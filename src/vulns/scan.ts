/**
 * A scan: match an SBOM against the vulnerability data, then let VEX statements and ignore rules
 * suppress what they cover (VEX first: a supplier's word outranks a local rule). The result is
 * what every output format renders and what `--fail-on` judges.
 */
import type { Severity } from '../feeds/model.js';
import type { Sbom } from '../sbom/model.js';
import type { SchemeId, VersionScheme } from '../versions/types.js';
import { applyIgnoreRules, type IgnoreRule } from './ignore.js';
import type { VulnLookup } from './lookup.js';
import { matchSbom } from './match.js';
import { severityRank, type Match, type ScanResult } from './model.js';

export { parseSeverity } from './model.js';
import { applyVex, vexSubject, type VexDocument } from './vex.js';

export interface ScanOptions {
  /** What was scanned, as the user named it (an image reference or an SBOM file). */
  input: string;
  onlyFixed?: boolean;
  vex?: readonly VexDocument[];
  ignore?: readonly IgnoreRule[];
  /** The database's build time and sources, when the caller knows them. */
  db?: ScanResult['db'];
  /** For tests: the clock ignore-rule expiry is judged by, and the version schemes. */
  now?: Date;
  schemes?: (id: SchemeId) => VersionScheme | undefined;
}

/** Severity descending, then package name, version, type, then vulnerability id. */
export function compareMatches(a: Match, b: Match): number {
  return severityRank(b.vulnerability.severity) - severityRank(a.vulnerability.severity)
    || cmp(a.package.name, b.package.name)
    || cmp(a.package.version, b.package.version)
    || cmp(a.package.type, b.package.type)
    || cmp(a.package.purl, b.package.purl)
    || cmp(a.vulnerability.id, b.vulnerability.id);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export async function scanSbom(sbom: Sbom, lookup: VulnLookup, options: ScanOptions): Promise<ScanResult> {
  const now = options.now ?? new Date();
  const matched = await matchSbom(sbom, lookup, {
    ...(options.onlyFixed ? { onlyFixed: true } : {}),
    ...(options.schemes ? { schemes: options.schemes } : {}),
  });
  const vex = applyVex(matched.matches, options.vex ?? [], vexSubject(sbom.source, sbom.distro));
  const ignored = applyIgnoreRules(vex.matches, options.ignore ?? [], now);
  const s = sbom.source;
  return {
    schema: 'lading-scan/1',
    createdAt: now.toISOString(),
    source: {
      ...(s.imageId ? { imageId: s.imageId } : {}),
      ...(s.manifestDigest ? { manifestDigest: s.manifestDigest } : {}),
      tags: s.tags,
      input: options.input,
    },
    ...(sbom.distro ? { distro: { id: sbom.distro.id, ...(sbom.distro.versionId ? { versionId: sbom.distro.versionId } : {}) } } : {}),
    matches: ignored.matches.sort(compareMatches),
    suppressed: [...vex.suppressed, ...ignored.suppressed].sort(compareMatches),
    warnings: [...matched.warnings, ...ignored.warnings],
    db: options.db ?? (await dbInfo(lookup)) ?? { sources: [] },
  };
}

/** The reported (not suppressed) findings at or above `failOn`: what makes `--fail-on` exit 1. */
export function failingMatches(result: ScanResult, failOn: Severity): Match[] {
  const bar = severityRank(failOn);
  return result.matches.filter((m) => severityRank(m.vulnerability.severity) >= bar);
}

/** The database's sources and their last successful sync, when the lookup can tell (VulnDb.status()). */
export async function dbInfo(lookup: VulnLookup): Promise<ScanResult['db'] | undefined> {
  const status = (lookup as { status?: () => Promise<{ source: string; lastSuccess?: string; lastSync?: string; records?: number }[]> }).status;
  if (typeof status !== 'function') return undefined;
  try {
    const rows = await status.call(lookup);
    return { sources: rows.map((r) => ({ source: r.source, ...((r.lastSuccess ?? r.lastSync) ? { lastSync: r.lastSuccess ?? r.lastSync } : {}) })) };
  } catch {
    return undefined;
  }
}
