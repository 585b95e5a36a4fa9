/**
 * Maven versions, ordered by the "Version Order Specification" of the Maven POM reference
 * (maven.apache.org/pom.html), the ordering osv.dev and OSV/GHSA Maven ranges are evaluated with:
 *
 * - the version is lower-cased and cut into tokens at `.` and `-`, each remembering its separator;
 *   a transition between digits and letters is a `-` (`1.0rc1` = `1.0-rc-1`); an empty token is `0`;
 * - `cr` = `rc`; `ga`, `final`, `release` = the empty qualifier; `a`, `b`, `m` directly followed
 *   by a digit are `alpha`, `beta`, `milestone`; numbers lose leading zeros (any length);
 * - trailing "null" tokens (`0`, the empty qualifier) are trimmed from the end, and again before
 *   each remaining hyphen from the end to the start: `1.0.0` = `1` = `1-ga`, `1.0.0-foo.0.0` = `1-foo`;
 * - the token lists compare position by position, the shorter padded with nulls of the other's
 *   separator (`0` after `.`, `` after `-`). With the same separator, numbers compare by value and
 *   beat qualifiers; a padding `0` facing a qualifier counts as the release qualifier ``
 *   (`1` < `1.sp`, `1.rc1` < `1`); qualifiers order `alpha` < `beta` < `milestone` < `rc` <
 *   `snapshot` < `` < `sp` < any other qualifier (those lexically). With different separators:
 *   `.qualifier` < `-qualifier` < `-number` < `.number`.
 *
 * Known divergence, deliberate: Maven's own ComparableVersion has changed over releases; its
 * 2014 test vectors (shared/vulndata maven-comparableversion-vectors.txt) also hold `1.0a` =
 * `1.0.a`, which the specification (and osv.dev, and the 14,752 osv-scalibr Maven vectors, e.g.
 * `6.1.12.rc5` < `6.1.12rc1`) contradict: here `1.a` < `1a` = `1-a`, and `1.0a` = `1-a` < `1.0.a`.
 *
 * Every string is a Maven version (ComparableVersion accepts anything), so `compare` needs no
 * fallback and never throws; `valid` only rejects the empty string and strings with whitespace or
 * control characters, which no repository serves.
 *
 * `satisfies`: Maven version ranges — `[1.0,2.0)`, `(,1.0]`, `[1.2]`, `[1.0,)`, several sets joined
 * by commas (`[1,2),[3,4)`: any of them); a plain (soft) version `1.0` matches that version only;
 * comparator lists (`>= 1.0, < 2.0`, as GHSA writes Maven ranges) are read with the shared syntax.
 */
import { compareDigits, compareStrings, isIntervalNotation, satisfiesConstraint, satisfiesIntervals } from './constraint.js';
import type { VersionScheme } from './types.js';

export interface MavenToken {
  sep: '.' | '-';
  value: string;
  numeric: boolean;
  /** A null added to pad the shorter version. */
  padding?: boolean;
}

const KEYWORDS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = { cr: 'rc', ga: '', final: '', release: '' };
const SHORT: Record<string, string> = { a: 'alpha', b: 'beta', m: 'milestone' };

function isNullToken(t: MavenToken): boolean {
  return t.value === '0' || t.value === '';
}

/** The trimmed token list of a version (see the module comment). */
export function mavenTokens(version: string): MavenToken[] {
  const out: MavenToken[] = [];
  const raw = version.trim().toLowerCase().split(/([.-])/);
  for (let i = 0; i < raw.length; i += 2) {
    const sep = (i === 0 ? '.' : raw[i - 1]) as '.' | '-';
    const pieces = raw[i]!.match(/\d+|\D+/g) ?? [''];
    pieces.forEach((piece, j) => {
      let value = piece === '' ? '0' : piece;
      const numeric = /^\d+$/.test(value);
      if (numeric) {
        value = value.replace(/^0+(?=.)/, '');
      } else {
        // a piece that is not the last of its token is followed by digits
        if (j < pieces.length - 1) value = SHORT[value] ?? value;
        value = ALIASES[value] ?? value;
      }
      out.push({ sep: j === 0 ? sep : '-', value, numeric });
    });
  }
  // trim trailing nulls, then again before each remaining hyphen, from the end to the start
  let i = out.length - 1;
  while (i > 0) {
    if (isNullToken(out[i]!)) {
      out.splice(i, 1);
      i--;
      continue;
    }
    while (i >= 0 && out[i]!.sep !== '-') i--;
    i--;
  }
  return out;
}

function keywordIndex(v: string): number {
  const i = KEYWORDS.indexOf(v);
  return i < 0 ? KEYWORDS.length : i;
}

/** `.qualifier` < `-qualifier` < `-number` < `.number` */
function separatorRank(t: MavenToken): number {
  return t.numeric ? (t.sep === '-' ? 2 : 3) : t.sep === '-' ? 1 : 0;
}

function compareTokens(a: MavenToken, b: MavenToken): number {
  if (a.sep !== b.sep) return Math.sign(separatorRank(a) - separatorRank(b));
  if (a.numeric && b.numeric) return compareDigits(a.value, b.value);
  if (a.numeric && !a.padding) return 1;
  if (b.numeric && !b.padding) return -1;
  // a padding 0 against a qualifier stands for the release (as Maven compares a qualifier with a
  // missing item): after alpha..snapshot, before sp and unknown qualifiers
  const x = keywordIndex(a.numeric ? '' : a.value);
  const y = keywordIndex(b.numeric ? '' : b.value);
  if (x === KEYWORDS.length && y === KEYWORDS.length) return compareStrings(a.value, b.value);
  return Math.sign(x - y);
}

/** The null that pads the shorter version, matching the other version's token. */
function padFor(t: MavenToken): MavenToken {
  return t.sep === '-' ? { sep: '-', value: '', numeric: false, padding: true } : { sep: '.', value: '0', numeric: true, padding: true };
}

export function compareMaven(a: string, b: string): number {
  if (a === b) return 0;
  const ta = mavenTokens(a);
  const tb = mavenTokens(b);
  const n = Math.max(ta.length, tb.length);
  for (let i = 0; i < n; i++) {
    const x = ta[i] ?? padFor(tb[i]!);
    const y = tb[i] ?? padFor(ta[i]!);
    if (x.sep === y.sep && x.value === y.value) continue;
    const c = compareTokens(x, y);
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  return 0;
}

export function validMaven(v: string): boolean {
  return v.trim() !== '' && !/[\s\x00-\x1f\x7f]/.test(v);
}

export function satisfiesMaven(version: string, range: string): boolean {
  const r = range.trim();
  if (isIntervalNotation(r)) return satisfiesIntervals(version, r, compareMaven);
  return satisfiesConstraint(version, r, compareMaven);
}

export const maven: VersionScheme = {
  id: 'maven',
  compare: compareMaven,
  valid: validMaven,
  satisfies: satisfiesMaven,
};
