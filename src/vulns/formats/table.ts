/**
 * `table`: one row per finding, most severe first (then by package), with EPSS and KEV columns;
 * then a summary line with the count per severity and a line with the number suppressed.
 */
import { textTable as table } from '../../util/text-table.js';
import type { Match, ScanResult } from '../model.js';
import { SEVERITY_ORDER } from '../model.js';
import { compareMatches } from '../scan.js';

export const tableMediaType = 'text/plain; charset=utf-8';

export function fixedIn(m: Match): string {
  const v = m.vulnerability;
  if (v.fixState === 'fixed') return v.fixedVersions.join(', ');
  if (v.fixState === 'wont-fix') return "(won't fix)";
  return '';
}

export function epssText(m: Match): string {
  const e = m.vulnerability.epss;
  if (!e) return '';
  const pct = Math.round(e.percentile * 100);
  return `${(e.score * 100).toFixed(1)}% (${pct}${ordinal(pct)})`;
}

function ordinal(n: number): string {
  if (n % 100 >= 11 && n % 100 <= 13) return 'th';
  return ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
}

export function severitySummary(matches: readonly Match[]): string {
  const counts = new Map<string, number>();
  for (const m of matches) counts.set(m.vulnerability.severity, (counts.get(m.vulnerability.severity) ?? 0) + 1);
  const fixable = matches.filter((m) => m.vulnerability.fixState === 'fixed').length;
  const parts = [...SEVERITY_ORDER].reverse().map((s) => `${counts.get(s) ?? 0} ${s.toLowerCase()}`);
  return `${matches.length} vulnerabilit${matches.length === 1 ? 'y' : 'ies'} (${fixable} fixable): ${parts.join(', ')}`;
}

const HEAD = ['NAME', 'INSTALLED', 'FIXED-IN', 'TYPE', 'VULNERABILITY', 'SEVERITY', 'EPSS', 'KEV'];

export function writeScanTable(result: ScanResult, options: { quiet?: boolean } = {}): string {
  const rows = [...result.matches].sort(compareMatches).map((m) => [
    m.package.name,
    m.package.version,
    fixedIn(m),
    m.package.type,
    m.vulnerability.id,
    m.vulnerability.severity,
    epssText(m),
    m.vulnerability.kev ? 'KEV' : '',
  ]);
  if (options.quiet) return rows.length ? table(HEAD, rows).split('\n').slice(1).join('\n') : '';
  let out = rows.length
    ? table(HEAD, rows)
    : 'No vulnerabilities found\n';
  out += `\n${severitySummary(result.matches)}\n`;
  out += `suppressed: ${result.suppressed.length}\n`;
  return out;
}
