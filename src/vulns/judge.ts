/**
 * Version judgement: whether one Affected record affects an installed version, under the OSV
 * range semantics every feed is normalised to, and which fix versions would help.
 */
import type { Affected, AffectedRange, FixState } from '../feeds/model.js';
import type { VersionScheme } from '../versions/types.js';

/** A readable constraint for a range: `>= 1.0, < 1.2`, `<= 2.3`, `all versions`. */
export function describeRange(r: AffectedRange): string {
  const parts: string[] = [];
  if (r.introduced && r.introduced !== '0') parts.push(`>= ${r.introduced}`);
  if (r.fixed) parts.push(`< ${r.fixed}`);
  if (r.lastAffected) parts.push(`<= ${r.lastAffected}`);
  return parts.length ? parts.join(', ') : 'all versions';
}

/** OSV semantics: introduced inclusive (`0` = from the start), fixed exclusive, last_affected inclusive. */
export function inRange(scheme: VersionScheme, version: string, r: AffectedRange): boolean {
  if (r.introduced && r.introduced !== '0' && scheme.compare(version, r.introduced) < 0) return false;
  if (r.fixed && scheme.compare(version, r.fixed) >= 0) return false;
  if (r.lastAffected && scheme.compare(version, r.lastAffected) > 0) return false;
  return true;
}

export interface Verdict {
  constraint: string;
  fixState: FixState;
  fixedVersions: string[];
}

/** How many distinct strings a list holds (fix lists are short: no Set for one or two). */
function distinctCount(xs: readonly string[]): number {
  if (xs.length < 2) return xs.length;
  return new Set(xs).size;
}

/** Fix versions later than the installed one (what upgrading to would fix), once each, in scheme order. */
function laterFixes(scheme: VersionScheme, version: string, fixes: readonly string[]): string[] {
  const later: string[] = [];
  for (const f of fixes) if (!later.includes(f) && scheme.compare(version, f) < 0) later.push(f);
  return later.length > 1 ? later.sort((a, b) => scheme.compare(a, b)) : later;
}

/** The first listed version equal to `version` (same string, or the same version in the scheme). */
function listedVersion(scheme: VersionScheme, version: string, versions: readonly string[]): string | undefined {
  for (const v of versions) if (v === version || scheme.compare(v, version) === 0) return v;
  return undefined;
}

/**
 * Whether one Affected record affects `version`, and how. undefined = not affected (or unknown).
 * - `not-affected`, `unknown`: never a match.
 * - no ranges, no versions: every version is affected, except a `fixed` record that names fix
 *   versions (distro feeds): affected below all of them.
 * - otherwise: affected iff inside a range or listed in versions[].
 */
export function judge(scheme: VersionScheme, version: string, a: Affected): Verdict | undefined {
  if (a.state === 'not-affected' || a.state === 'unknown') return undefined;
  const open = a.state === 'not-fixed' || a.state === 'wont-fix';
  if (a.ranges.length === 0 && a.versions.length === 0) {
    if (!open && a.fixedVersions.length > 0) {
      // Below every fix version (with several, below the first: a later one is another line's).
      const fixes = laterFixes(scheme, version, a.fixedVersions);
      if (fixes.length !== distinctCount(a.fixedVersions)) return undefined;
      return { constraint: `< ${fixes[0]}`, fixState: 'fixed', fixedVersions: fixes };
    }
    return { constraint: 'all versions', fixState: a.state, fixedVersions: open ? [] : laterFixes(scheme, version, a.fixedVersions) };
  }
  let range: AffectedRange | undefined;
  for (const r of a.ranges) {
    if (inRange(scheme, version, r)) {
      range = r;
      break;
    }
  }
  const listed = range ? undefined : listedVersion(scheme, version, a.versions);
  if (!range && listed === undefined) return undefined;
  const constraint = range ? describeRange(range) : `= ${listed}`;
  if (open) return { constraint, fixState: a.state, fixedVersions: [] };
  const fixes = laterFixes(scheme, version, range?.fixed ? [range.fixed] : a.fixedVersions);
  return { constraint, fixState: fixes.length ? 'fixed' : 'not-fixed', fixedVersions: fixes };
}
