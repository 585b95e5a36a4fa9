/**
 * NuGet package versions: SemVer 2.0 with up to four numeric parts (`1.2.3.4`), ordered as
 * NuGet's VersionComparer does: the four parts numerically (missing = 0, leading zeros ignored,
 * any length: `1.0` = `1.0.0.0`, `1.01` = `1.1`), a release after its pre-releases, pre-release
 * labels compared case-insensitively by the SemVer rules (numeric labels by value and before
 * alphanumeric ones, more labels after fewer), build metadata (`+...`) ignored.
 *
 * `valid`: `N[.N[.N[.N]]][-label[.label]...][+meta]`. Fallback for anything else (never throws):
 * the semver-like reading of semver.ts (leading run of numbers, then the rest as pre-release labels).
 *
 * `satisfies`: NuGet's range notation — `[1.0,2.0)`, `(,1.0]`, `[1.0]`, `(1.0,)`, several sets
 * joined by commas (any of them), and a bare version `1.0` meaning NuGet's "minimum version,
 * inclusive" (`>= 1.0`). Comparator lists (`>= 1.0, < 2.0`, as GHSA writes NuGet ranges) are read
 * with the shared syntax.
 */
import { compareDigits, isIntervalNotation, satisfiesConstraint, satisfiesIntervals } from './constraint.js';
import { comparePrerelease, parseSemverLike } from './semver.js';
import type { VersionScheme } from './types.js';

const LABEL = '[0-9A-Za-z-]+';
const PATTERN = new RegExp(`^\\d+(?:\\.\\d+){0,3}(?:-${LABEL}(?:\\.${LABEL})*)?(?:\\+${LABEL}(?:\\.${LABEL})*)?$`);

export function validNuget(v: string): boolean {
  return PATTERN.test(v.trim());
}

export function compareNuget(a: string, b: string): number {
  if (a === b) return 0;
  const pa = parseSemverLike(a.trim());
  const pb = parseSemverLike(b.trim());
  const n = Math.max(pa.core.length, pb.core.length, 4);
  for (let i = 0; i < n; i++) {
    const c = compareDigits(pa.core[i] ?? '0', pb.core[i] ?? '0');
    if (c !== 0) return c;
  }
  return comparePrerelease(
    pa.pre.map((l) => l.toLowerCase()),
    pb.pre.map((l) => l.toLowerCase()),
  );
}

export function satisfiesNuget(version: string, range: string): boolean {
  const r = range.trim();
  if (isIntervalNotation(r)) return satisfiesIntervals(version, r, compareNuget);
  // a bare version is NuGet's minimum-version-inclusive range
  if (/^[^\s,<>=!|[\]()]+$/.test(r) && r !== '*') return compareNuget(version, r) >= 0;
  return satisfiesConstraint(version, r, compareNuget);
}

export const nuget: VersionScheme = {
  id: 'nuget',
  compare: compareNuget,
  valid: validNuget,
  satisfies: satisfiesNuget,
};
