/**
 * Semantic Versioning 2.0.0 (npm, crates.io and the other semver ecosystems), through the `semver`
 * package in loose mode (`v1.2.3`, `=1.2.3`, `1.2.3beta` accepted).
 *
 * `compare` is exact SemVer precedence (semver.compare): major, minor, patch numerically; a
 * pre-release sorts before its release; pre-release identifiers compare numerically when both are
 * digits, else in ASCII order, numeric before alphanumeric, more identifiers after fewer; build
 * metadata is ignored. Vulnerability ranges (OSV `introduced`/`fixed`) should be evaluated with
 * `compare`, which orders pre-releases properly, not with npm range semantics.
 *
 * Fallback for what `semver` cannot parse (never throws), e.g. `1.2`, `1.2.3.4`, numbers beyond
 * 2^53: a semver-like reading. Leading `v`/`=` and whitespace are dropped; the leading run of
 * dot-separated numbers is the core (missing parts are 0, numbers of any length compare exactly,
 * parts after the third break ties after the patch); the rest, up to a `+`, is the pre-release
 * (a leading `-` dropped), ordered by the SemVer rules; after `+` is build metadata, ignored.
 * For valid versions this reading gives the same order as semver.compare.
 *
 * `valid`: `semver` parses it in loose mode.
 * `satisfies`: npm range syntax (`^1.2.3`, `~1.2`, `1.x`, `>=1.0.0 <2.0.0`, `1.0.0 - 2.0.0`, `||`),
 * with npm's defaults: loose, and a pre-release version only satisfies a comparator on the same
 * major.minor.patch that has a pre-release itself (`includePrerelease: false`). Commas between
 * comparators (`>= 1.0.0, < 2.0.0`, as GHSA writes them) are read as spaces. A version `semver`
 * cannot parse is coerced (`1.2` → `1.2.0`); one it cannot coerce satisfies nothing.
 */
import semverLib from 'semver';
import { compareDigits, compareStrings } from './constraint.js';
import type { VersionScheme } from './types.js';

const LOOSE = { loose: true } as const;

interface Loose {
  core: string[];
  pre: string[];
}

/** The fallback reading (see the module comment). */
export function parseSemverLike(v: string): Loose {
  let s = v.trim().replace(/^[=v\s]+/i, '');
  const plus = s.indexOf('+');
  if (plus >= 0) s = s.slice(0, plus);
  const m = /^\d+(?:\.\d+)*/.exec(s);
  const core = m ? m[0].split('.') : [];
  let rest = m ? s.slice(m[0].length) : s;
  if (rest.startsWith('-')) rest = rest.slice(1);
  return { core, pre: rest === '' ? [] : rest.split('.') };
}

const DIGITS = /^\d+$/;

/** SemVer pre-release identifier order (what node-semver's compareIdentifiers does, any length). */
export function compareIdentifiers(a: string, b: string): number {
  const an = DIGITS.test(a);
  const bn = DIGITS.test(b);
  if (an && bn) return compareDigits(a, b);
  if (an) return -1;
  if (bn) return 1;
  return compareStrings(a, b);
}

/** Pre-release lists: none sorts after any; then identifier by identifier; more after fewer. */
export function comparePrerelease(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 0 : a.length === 0 ? 1 : -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareIdentifiers(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareLoose(a: Loose, b: Loose): number {
  const n = Math.max(a.core.length, b.core.length, 3);
  for (let i = 0; i < n; i++) {
    const c = compareDigits(a.core[i] ?? '0', b.core[i] ?? '0');
    if (c !== 0) return c;
  }
  return comparePrerelease(a.pre, b.pre);
}

function parseStrictish(v: string): semverLib.SemVer | null {
  try {
    return semverLib.parse(v.trim(), LOOSE);
  } catch {
    return null;
  }
}

export function compareSemver(a: string, b: string): number {
  if (a === b) return 0;
  const pa = parseStrictish(a);
  const pb = parseStrictish(b);
  if (pa && pb) return semverLib.compare(pa, pb);
  return compareLoose(parseSemverLike(a), parseSemverLike(b));
}

export function validSemver(v: string): boolean {
  return parseStrictish(v) !== null;
}

/** npm range semantics with explicit options (the vectors exercise `loose` and `includePrerelease`). */
export function satisfiesNpm(version: string, range: string, options: semverLib.RangeOptions | boolean = { loose: true }): boolean {
  try {
    const opts: semverLib.RangeOptions = typeof options === 'object' ? options : options ? { loose: true } : {};
    const v = semverLib.parse(version.trim(), opts) ?? semverLib.coerce(version, { includePrerelease: true });
    if (!v) return false;
    return semverLib.satisfies(v, range.replace(/\s*,\s*/g, ' '), opts);
  } catch {
    return false;
  }
}

export const semver: VersionScheme = {
  id: 'semver',
  compare: compareSemver,
  valid: validSemver,
  satisfies: (version, range) => satisfiesNpm(version, range, { loose: true, includePrerelease: false }),
};
