/**
 * `inherited_from_base` on every finding (issue 19): a match is inherited when its package is one of
 * the image's packages inherited from its base (sbom/base.ts inheritedPackages). Returns a copy:
 * cached scan results are shared and never changed.
 */
import { packageKey } from '../sbom/base.js';
import type { Match, ScanResult } from './model.js';

/** Every match (and suppressed match) marked inherited or not; no keys: none is. */
export function markInherited(result: ScanResult, inherited: ReadonlySet<string> | undefined): ScanResult {
  const mark = <T extends Match>(m: T): T => ({ ...m, inheritedFromBase: inherited?.has(packageKey(m.package)) ?? false });
  return { ...result, matches: result.matches.map(mark), suppressed: result.suppressed.map(mark) };
}

/** How many matches are inherited and how many are the image's own. */
export function inheritedCounts(matches: readonly Match[]): { inherited: number; own: number } {
  const inherited = matches.filter((m) => m.inheritedFromBase === true).length;
  return { inherited, own: matches.length - inherited };
}
