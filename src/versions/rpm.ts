/**
 * RPM package versions, `[epoch:]version[-release]`, ordered as rpm >= 4.15 does: epoch, version
 * and release each compared with `rpmvercmp`. The epoch is the run of digits before a `:` at the
 * start (missing or empty = 0; `a:1` has no epoch, the whole text is the version), the release is
 * split off at the LAST hyphen.
 *
 * rpmvercmp: the strings are cut into runs of ASCII digits and runs of ASCII letters; every other
 * character only separates. `~` sorts before anything, even the end of the string (`1.0~rc1` <
 * `1.0`); `^` sorts after the end but before anything else (`1.0` < `1.0^git1` < `1.0.1`).
 * A numeric run is newer than an alphabetic one; numeric runs compare by value (leading zeros
 * ignored, any length), alphabetic runs with strcmp; when one string runs out first, the one with
 * something left is newer.
 *
 * A missing release sorts before any release, even an empty one (`1` < `1-` < `1-0`), so `compare`
 * is a total order. `satisfies` follows rpm's dependency rule instead: a bound written without a
 * release (`>= 1.2`) compares epoch and version only, so `= 1.2` matches `1.2-3.el9`.
 *
 * Never throws; every string has a reading. `valid` accepts what rpmbuild accepts: an optional
 * numeric epoch, a non-empty version and (when a hyphen is present) a non-empty release made of
 * ASCII letters, digits and `._+~^`.
 */
import { compareDigits, makeSatisfies } from './constraint.js';
import type { VersionScheme } from './types.js';

export interface RpmVersion {
  /** Digits; `0` when absent. */
  epoch: string;
  version: string;
  /** Undefined when there is no hyphen. */
  release?: string;
}

export function parseRpm(v: string): RpmVersion {
  const s = v.trim();
  let i = 0;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  let epoch = '0';
  let rest = s;
  if (s.charCodeAt(i) === 58 /* : */) {
    if (i > 0) epoch = s.slice(0, i);
    rest = s.slice(i + 1);
  }
  const hyphen = rest.lastIndexOf('-');
  if (hyphen < 0) return { epoch, version: rest };
  return { epoch, version: rest.slice(0, hyphen), release: rest.slice(hyphen + 1) };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

const TILDE = 126;
const CARET = 94;

/** C strings end at a NUL; so do ours. */
function cString(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

/** rpm's rpmvercmp on one field: -1, 0 or 1. */
export function rpmvercmp(aIn: string, bIn: string): number {
  const a = cString(aIn);
  const b = cString(bIn);
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const ca = (k: number): number => (k < a.length ? a.charCodeAt(k) : 0);
  const cb = (k: number): number => (k < b.length ? b.charCodeAt(k) : 0);
  const isSep = (c: number): boolean => c !== 0 && !isDigit(c) && !isAlpha(c) && c !== TILDE && c !== CARET;
  while (i < a.length || j < b.length) {
    while (isSep(ca(i))) i++;
    while (isSep(cb(j))) j++;

    if (ca(i) === TILDE || cb(j) === TILDE) {
      if (ca(i) !== TILDE) return 1;
      if (cb(j) !== TILDE) return -1;
      i++;
      j++;
      continue;
    }
    if (ca(i) === CARET || cb(j) === CARET) {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (ca(i) !== CARET) return 1;
      if (cb(j) !== CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;

    const numeric = isDigit(ca(i));
    const test = numeric ? isDigit : isAlpha;
    let ie = i;
    while (ie < a.length && test(a.charCodeAt(ie))) ie++;
    let je = j;
    while (je < b.length && test(b.charCodeAt(je))) je++;
    // a's segment is never empty here; an empty b segment means the types differ
    if (je === j) return numeric ? 1 : -1;
    const sa = a.slice(i, ie);
    const sb = b.slice(j, je);
    const c = numeric ? compareDigits(sa, sb) : sa < sb ? -1 : sa > sb ? 1 : 0;
    if (c !== 0) return c;
    i = ie;
    j = je;
  }
  const aLeft = i < a.length;
  const bLeft = j < b.length;
  if (!aLeft && !bLeft) return 0;
  return aLeft ? 1 : -1;
}

function compareParsed(pa: RpmVersion, pb: RpmVersion, releaseOptionalOnB: boolean): number {
  const e = rpmvercmp(pa.epoch, pb.epoch);
  if (e !== 0) return e;
  const v = rpmvercmp(pa.version, pb.version);
  if (v !== 0) return v;
  if (pb.release === undefined && releaseOptionalOnB) return 0;
  if (pa.release === undefined || pb.release === undefined) {
    if (pa.release === pb.release) return 0;
    return pa.release === undefined ? -1 : 1;
  }
  return rpmvercmp(pa.release, pb.release);
}

export function compareRpm(a: string, b: string): number {
  if (a === b) return 0;
  return compareParsed(parseRpm(a), parseRpm(b), false);
}

/** rpm's dependency comparison: a bound without a release matches every release of its version. */
export function compareRpmToBound(version: string, bound: string): number {
  return compareParsed(parseRpm(version), parseRpm(bound), true);
}

const FIELD = /^[A-Za-z0-9._+~^]+$/;

export function validRpm(v: string): boolean {
  const s = v.trim();
  if (s === '' || s !== v) return false;
  const colon = s.indexOf(':');
  if (colon >= 0 && !/^\d+$/.test(s.slice(0, colon))) return false;
  const p = parseRpm(s);
  if (!FIELD.test(p.version)) return false;
  return p.release === undefined || FIELD.test(p.release);
}

export const rpm: VersionScheme = {
  id: 'rpm',
  compare: compareRpm,
  valid: validRpm,
  satisfies: makeSatisfies(compareRpmToBound),
};
