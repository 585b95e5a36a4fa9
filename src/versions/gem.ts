/**
 * RubyGems versions, ordered as Gem::Version does: `-` reads as `.pre.` (`1.0-1` = `1.0.pre.1`),
 * the version is cut into segments of digits and of letters (`1.0.a10` and `1.0a10` both give
 * 1, 0, "a", 10), trailing zero segments are dropped both before and after the first letter
 * segment (`1.0` = `1`, `1.a.0` = `1.a`), then segments compare in turn, a missing one being 0:
 * numbers by value (any length), letters as byte strings, and a letter segment before a number
 * (`1.0.a` < `1.0`, `1.0.b1` < `1.0`). A version with a letter is a pre-release.
 *
 * `valid`: Gem::Version's pattern (`1.2.3`, `1.2.3.pre1`, `1.0-rc.1`; surrounding whitespace allowed).
 * Fallback for anything else (never throws): the same segment reading of whatever digits and letters
 * the string has (`garbage` reads as one letter segment, a pre-release of 0).
 *
 * `satisfies`: Gem::Requirement — `=`, `!=`, `>`, `<`, `>=`, `<=`, `~>` joined by commas (AND);
 * no operator means `=`. `~> 1.2.3` is `>= 1.2.3, < 1.3`, `~> 1.2` is `>= 1.2, < 2`, comparing the
 * release of a pre-release version (as RubyGems does). `||` between requirement lists is accepted as
 * an extension (any of them).
 */
import { compareDigits, compareStrings } from './constraint.js';
import type { VersionScheme } from './types.js';

type Seg = { num: true; v: string } | { num: false; v: string };

const PATTERN = /^\s*[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$/;

export function validGem(v: string): boolean {
  return PATTERN.test(v);
}

function normalise(v: string): string {
  return v.trim().replace(/-/g, '.pre.');
}

/** Gem::Version#segments of the normalised string. */
function segments(v: string): Seg[] {
  const out: Seg[] = [];
  for (const m of normalise(v).matchAll(/[0-9]+|[a-z]+/gi)) {
    const s = m[0];
    out.push(/^[0-9]/.test(s) ? { num: true, v: s.replace(/^0+(?=.)/, '') } : { num: false, v: s });
  }
  return out;
}

function isZero(s: Seg): boolean {
  return s.num && s.v === '0';
}

function dropTrailingZeros(segs: Seg[]): Seg[] {
  let n = segs.length;
  while (n > 0 && isZero(segs[n - 1]!)) n--;
  return segs.slice(0, n);
}

/** Gem::Version#canonical_segments. */
function canonical(segs: Seg[]): Seg[] {
  const firstString = segs.findIndex((s) => !s.num);
  if (firstString < 0) return dropTrailingZeros(segs);
  return [...dropTrailingZeros(segs.slice(0, firstString)), ...dropTrailingZeros(segs.slice(firstString))];
}

const ZERO: Seg = { num: true, v: '0' };

function compareSegs(a: Seg[], b: Seg[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const l = a[i] ?? ZERO;
    const r = b[i] ?? ZERO;
    if (l.num && r.num) {
      const c = compareDigits(l.v, r.v);
      if (c !== 0) return c;
    } else if (!l.num && !r.num) {
      const c = compareStrings(l.v, r.v);
      if (c !== 0) return c;
    } else {
      return l.num ? 1 : -1;
    }
  }
  return 0;
}

export function compareGem(a: string, b: string): number {
  if (a === b || normalise(a) === normalise(b)) return 0;
  return compareSegs(canonical(segments(a)), canonical(segments(b)));
}

function isPrerelease(v: string): boolean {
  return /[a-zA-Z]/.test(normalise(v));
}

/** Gem::Version#release: the segments before the first letter segment. */
function release(v: string): Seg[] {
  const segs = segments(v);
  if (!isPrerelease(v)) return segs;
  const firstString = segs.findIndex((s) => !s.num);
  return firstString < 0 ? segs : segs.slice(0, firstString);
}

/** Gem::Version#bump: drop letter segments and the last number, then increment the new last. */
function bump(v: string): Seg[] {
  const segs = release(v).slice();
  if (segs.length > 1) segs.pop();
  const last = segs[segs.length - 1];
  if (!last) return [{ num: true, v: '1' }];
  segs[segs.length - 1] = { num: true, v: (BigInt(last.v) + 1n).toString() };
  return segs;
}

const REQUIREMENT = /^\s*(=|!=|>=|<=|>|<|~>)?\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)\s*$/;

function satisfiesOne(version: string, op: string, req: string): boolean {
  const c = compareGem(version, req);
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '>':
      return c > 0;
    case '<':
      return c < 0;
    case '>=':
      return c >= 0;
    case '<=':
      return c <= 0;
    case '~>':
      return c >= 0 && compareSegs(canonical(release(version)), canonical(bump(req))) < 0;
    default:
      return false;
  }
}

export function satisfiesGem(version: string, requirement: string): boolean {
  const text = requirement.trim();
  if (text === '') return true;
  return text.split('||').some((alt) => {
    const parts = alt.split(',');
    const parsed = parts.map((p) => REQUIREMENT.exec(p));
    if (parsed.some((m) => m === null)) return false;
    return parsed.every((m) => satisfiesOne(version, m![1] ?? '=', m![2]!));
  });
}

export const gem: VersionScheme = {
  id: 'gem',
  compare: compareGem,
  valid: validGem,
  satisfies: satisfiesGem,
};
