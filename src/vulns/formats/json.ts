/**
 * `json`: the scan result as JSON. Top level: schema, createdAt, source, distro, `matches`,
 * `suppressed`, warnings, db. Each match is `{vulnerability, package, match}` (suppressed ones add
 * `reason`), with the fix as `vulnerability.fix: {state, versions}` as grype writes it, and
 * `inherited_from_base` (Anchore Enterprise's name): the package came unchanged from the base image.
 */
import type { Match, ScanResult, Suppressed } from '../model.js';

export const jsonMediaType = 'application/vnd.lading.scan+json';

export function matchJson(m: Match): Record<string, unknown> {
  const v = m.vulnerability;
  return {
    vulnerability: {
      id: v.id,
      severity: v.severity,
      severitySource: v.severitySource,
      fix: { state: v.fixState, versions: v.fixedVersions },
      aliases: v.aliases,
      cvss: v.cvss,
      ...(v.kev ? { kev: v.kev } : {}),
      ...(v.epss ? { epss: v.epss } : {}),
      ...(v.description !== undefined ? { description: v.description } : {}),
      references: v.references,
      sources: v.sources,
    },
    package: m.package,
    match: m.match,
    inherited_from_base: m.inheritedFromBase === true,
  };
}

export function scanJson(result: ScanResult): Record<string, unknown> {
  return {
    schema: result.schema,
    createdAt: result.createdAt,
    source: result.source,
    ...(result.distro ? { distro: result.distro } : {}),
    matches: result.matches.map(matchJson),
    suppressed: result.suppressed.map((s: Suppressed) => ({ ...matchJson(s), reason: s.reason })),
    warnings: result.warnings,
    db: result.db,
  };
}

export function writeScanJson(result: ScanResult): string {
  return `${JSON.stringify(scanJson(result), null, 2)}\n`;
}
