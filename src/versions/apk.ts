/**
 * Alpine (apk-tools) package versions, as in apk-package(5):
 *
 *   number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}
 *
 * compared part by part:
 * 1. the numbers: the first numerically; later ones numerically too, unless either starts with `0`,
 *    in which case they compare as strings (apk's "fractional" reading: `1.02` < `1.1`);
 *    a missing number is 0;
 * 2. the letter: none < `a` < ... < `z`;
 * 3. the suffixes, in turn: `_alpha` < `_beta` < `_pre` < `_rc` < (none) < `_cvs` < `_svn` <
 *    `_git` < `_hg` < `_p`, then by their number (missing = 0);
 * 4. the revision `-rN` (missing or empty = 0); the commit hash `~hash` is ignored;
 * 5. text left over after all that (not in the grammar) sorts before no leftover.
 *
 * Numbers of any length compare exactly. Fallback for strings outside the grammar (never throws):
 * they compare by the parts that could be read before the unreadable tail (steps 1-5); a version
 * whose tail is neither a revision nor nothing is "invalid", and two invalid versions that tie on
 * those parts compare as plain strings (`6.6.2p1` < `6.6.2p2`, `a` < `b`). This is the behaviour
 * osv-scalibr's Alpine vectors (partly from apk-tools' own test data) pin down; they also make some
 * garbage strings equal to each other (`1-ruff2` = `1--ruff1`), so among strings outside the grammar
 * the order is deterministic but not always transitive.
 *
 * `valid`: the whole string matches the grammar. `satisfies`: the shared comparator list.
 */
import { compareDigits, compareStrings, makeSatisfies } from './constraint.js';
import type { VersionScheme } from './types.js';

const SUFFIX_WEIGHT: Record<string, number> = {
  alpha: 0,
  beta: 1,
  pre: 2,
  rc: 3,
  // (no suffix): 4
  cvs: 5,
  svn: 6,
  git: 7,
  hg: 8,
  p: 9,
};
const NO_SUFFIX = { weight: 4, number: '0' };

export interface ApkVersion {
  numbers: string[];
  letter: string;
  suffixes: { weight: number; number: string }[];
  hash: string;
  revision: string;
  /** Whatever followed the parts above. */
  rest: string;
  /** The tail was neither a revision nor empty. */
  invalid: boolean;
}

const NUMBERS = /^\d+(?:\.\d+)*\.?/;
const LETTER = /^[a-z]/;
const SUFFIX = /^_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d*)/;
const HASH = /^~[0-9a-f]+/;
const REVISION = /^-r(\d*)/;

export function parseApk(v: string): ApkVersion {
  let s = v;
  const out: ApkVersion = { numbers: [], letter: '', suffixes: [], hash: '', revision: '0', rest: '', invalid: false };
  const n = NUMBERS.exec(s);
  if (n) {
    out.numbers = n[0].split('.').filter((x) => x !== '');
    s = s.slice(n[0].length);
  }
  const l = LETTER.exec(s);
  if (l) {
    out.letter = l[0];
    s = s.slice(1);
  }
  for (let m = SUFFIX.exec(s); m; m = SUFFIX.exec(s)) {
    out.suffixes.push({ weight: SUFFIX_WEIGHT[m[1]!]!, number: m[2] || '0' });
    s = s.slice(m[0].length);
  }
  const h = HASH.exec(s);
  if (h) {
    out.hash = h[0].slice(1);
    s = s.slice(h[0].length);
  }
  if (s !== '') {
    const r = REVISION.exec(s);
    if (r) {
      out.revision = r[1] || '0';
      s = s.slice(r[0].length);
    } else {
      out.invalid = true;
    }
  }
  out.rest = s;
  return out;
}

function compareNumber(a: string, b: string, index: number): number {
  if (index > 0 && (a.startsWith('0') || b.startsWith('0'))) return compareStrings(a, b);
  return compareDigits(a, b);
}

function compareParsed(a: ApkVersion, b: ApkVersion): number {
  const n = Math.max(a.numbers.length, b.numbers.length);
  for (let i = 0; i < n; i++) {
    const c = compareNumber(a.numbers[i] ?? '0', b.numbers[i] ?? '0', i);
    if (c !== 0) return c;
  }
  if (a.letter !== b.letter) {
    if (a.letter === '') return -1;
    if (b.letter === '') return 1;
    return compareStrings(a.letter, b.letter);
  }
  const s = Math.max(a.suffixes.length, b.suffixes.length);
  for (let i = 0; i < s; i++) {
    const x = a.suffixes[i] ?? NO_SUFFIX;
    const y = b.suffixes[i] ?? NO_SUFFIX;
    if (x.weight !== y.weight) return x.weight < y.weight ? -1 : 1;
    const c = compareDigits(x.number, y.number);
    if (c !== 0) return c;
  }
  const r = compareDigits(a.revision, b.revision);
  if (r !== 0) return r;
  if ((a.rest === '') !== (b.rest === '')) return a.rest === '' ? 1 : -1;
  return 0;
}

export function compareApk(a: string, b: string): number {
  if (a === b) return 0;
  const pa = parseApk(a);
  const pb = parseApk(b);
  const c = compareParsed(pa, pb);
  if (c !== 0 || !(pa.invalid && pb.invalid)) return c;
  return compareStrings(a, b);
}

export function validApk(v: string): boolean {
  const p = parseApk(v);
  return p.numbers.length > 0 && !p.invalid && p.rest === '' && NUMBERS.exec(v)?.[0].endsWith('.') === false;
}

export const apk: VersionScheme = {
  id: 'apk',
  compare: compareApk,
  valid: validApk,
  satisfies: makeSatisfies(compareApk),
};
