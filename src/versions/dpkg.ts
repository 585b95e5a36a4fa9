/**
 * Debian package versions, `[epoch:]upstream_version[-debian_revision]`, ordered exactly as dpkg
 * does (deb-version(7); dpkg's `verrevcmp`): epochs compare numerically (missing = 0), then the
 * upstream versions, then the revisions (missing = empty, which equals `0`). Within each part,
 * non-digit runs compare character by character with `~` before everything (even the end of the
 * string), letters before non-letters, and digit runs compare numerically (any length).
 * The revision is split off at the LAST hyphen, the epoch at the first colon.
 *
 * Fallback for strings dpkg rejects (never throws): the same comparison on a lenient parse. If the
 * text before the first colon is not all digits, there is no epoch (epoch 0, the colon stays in the
 * upstream part); surrounding whitespace is ignored; non-ASCII characters compare as their UTF-8
 * bytes, as dpkg compares bytes (they sort after letters and before ASCII punctuation).
 *
 * `valid` accepts what dpkg parses without error or warning: epoch digits, upstream starting with a
 * digit and made of `[A-Za-z0-9.+~:-]`, revision of `[A-Za-z0-9.+~]`, neither empty.
 *
 * `satisfies` takes the shared comparator list (`>= 1.0-1, << 2.0`; `<<`/`>>` are strict).
 */
import { compareDigits, makeSatisfies } from './constraint.js';
import type { VersionScheme } from './types.js';

export interface DpkgVersion {
  /** Digits; `0` when absent. */
  epoch: string;
  upstream: string;
  /** Empty when absent. */
  revision: string;
}

/** Lenient parse (never throws); see the module comment for how odd input is read. */
export function parseDpkg(v: string): DpkgVersion {
  let s = v.trim();
  let epoch = '0';
  const colon = s.indexOf(':');
  if (colon > 0 && /^\d+$/.test(s.slice(0, colon))) {
    epoch = s.slice(0, colon);
    s = s.slice(colon + 1);
  }
  const hyphen = s.lastIndexOf('-');
  if (hyphen >= 0) return { epoch, upstream: s.slice(0, hyphen), revision: s.slice(hyphen + 1) };
  return { epoch, upstream: s, revision: '' };
}

/** Why dpkg would reject or warn about this version; undefined when it is a clean Debian version. */
export function dpkgProblem(v: string): string | undefined {
  if (v.trim() === '') return 'version string is empty';
  if (/\s/.test(v.trim())) return 'version string has embedded spaces';
  const s = v.trim();
  const colon = s.indexOf(':');
  let rest = s;
  if (colon >= 0) {
    const e = s.slice(0, colon);
    if (!/^\d/.test(e)) return 'epoch in version is empty';
    if (!/^\d+$/.test(e)) return 'epoch in version is not number';
    if (compareDigits(e, '2147483647') > 0) return 'epoch in version is too big';
    rest = s.slice(colon + 1);
    if (rest === '') return 'nothing after colon in version number';
  }
  const hyphen = rest.lastIndexOf('-');
  const upstream = hyphen >= 0 ? rest.slice(0, hyphen) : rest;
  const revision = hyphen >= 0 ? rest.slice(hyphen + 1) : '';
  if (hyphen >= 0 && revision === '') return 'revision number is empty';
  if (upstream === '') return 'version number is empty';
  if (!/^[0-9]/.test(upstream)) return 'version number does not start with digit';
  if (!/^[A-Za-z0-9.+~:-]*$/.test(upstream)) return 'invalid character in version number';
  if (!/^[A-Za-z0-9.+~]*$/.test(revision)) return 'invalid character in revision number';
  return undefined;
}

/** dpkg's character weight: digits (and the end) 0, `~` -1, letters their code, others after letters. */
function order(c: number): number {
  if (c >= 48 && c <= 57) return 0;
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return c;
  if (c === 126) return -1;
  if (c > 127) return c; // a high byte: dpkg's signed char + 256
  if (c) return c + 256;
  return 0;
}

const NON_ASCII = /[^\x00-\x7f]/;

function toBytes(s: string): string {
  return NON_ASCII.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** dpkg's verrevcmp on one part (upstream or revision): negative, zero or positive. */
export function verrevcmp(aIn: string, bIn: string): number {
  // C strings end at a NUL; so do ours
  const a = toBytes(aIn.split('\0')[0]!);
  const b = toBytes(bIn.split('\0')[0]!);
  let i = 0;
  let j = 0;
  // past the end reads as 0, like C's terminating NUL
  const ca = (k: number): number => (k < a.length ? a.charCodeAt(k) : 0);
  const cb = (k: number): number => (k < b.length ? b.charCodeAt(k) : 0);
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(ca(i))) || (j < b.length && !isDigit(cb(j)))) {
      const ac = order(ca(i));
      const bc = order(cb(j));
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (ca(i) === 48) i++;
    while (cb(j) === 48) j++;
    while (isDigit(ca(i)) && isDigit(cb(j))) {
      if (!firstDiff) firstDiff = ca(i) - cb(j);
      i++;
      j++;
    }
    if (isDigit(ca(i))) return 1;
    if (isDigit(cb(j))) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

function clamp(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

export function compareDpkg(a: string, b: string): number {
  if (a === b) return 0;
  const pa = parseDpkg(a);
  const pb = parseDpkg(b);
  const e = compareDigits(pa.epoch, pb.epoch);
  if (e !== 0) return e;
  const u = verrevcmp(pa.upstream, pb.upstream);
  if (u !== 0) return clamp(u);
  return clamp(verrevcmp(pa.revision, pb.revision));
}

export const dpkg: VersionScheme = {
  id: 'dpkg',
  compare: compareDpkg,
  valid: (v) => dpkgProblem(v) === undefined,
  satisfies: makeSatisfies(compareDpkg),
};
