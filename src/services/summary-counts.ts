/** Severity counts of an image's findings, as the image list, the dashboard and the summary rows hold them. */
import type { Severity } from '../feeds/model.js';
import type { Match } from '../vulns/model.js';

export type SeverityCounts = Record<Severity, number>;
export interface VulnCounts extends SeverityCounts {
  total: number;
  fixable: number;
  kev: number;
}

export const zeroCounts = (): VulnCounts => ({ Critical: 0, High: 0, Medium: 0, Low: 0, Negligible: 0, Unknown: 0, total: 0, fixable: 0, kev: 0 });

/** The findings that count: every match but those the vendor will not fix (vuln/all's default). */
export function countedMatches(matches: readonly Match[]): Match[] {
  return matches.filter((m) => m.vulnerability.fixState !== 'wont-fix');
}

export const isFixable = (m: Match) => m.vulnerability.fixedVersions.length > 0;

export function countMatches(matches: readonly Match[]): VulnCounts {
  const c = zeroCounts();
  for (const m of countedMatches(matches)) {
    c[m.vulnerability.severity]++;
    c.total++;
    if (isFixable(m)) c.fixable++;
    if (m.vulnerability.kev) c.kev++;
  }
  return c;
}
