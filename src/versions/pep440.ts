/**
 * Python package versions (PEP 440), through @renovatebot/pep440: epoch `N!`, release segment
 * (trailing zeros ignored: `1.0` = `1.0.0`), pre-releases `a`/`b`/`rc` (with the spellings `alpha`,
 * `beta`, `c`, `pre`, `preview`, any separator: `1.0.0a1` = `1.0.0-alpha1` = `1.0.0.alpha.1`),
 * post-releases (`.post1`, `-1`, `rev`, `r`), dev releases (`.dev1`, before the pre-releases of
 * the same release) and local versions (`+ubuntu1`, after the public version). Case and surrounding
 * whitespace are ignored, a leading `v` is allowed. Epochs and release numbers of any length
 * compare exactly.
 *
 * Fallback (never throws): a string that is not PEP 440 is read the way setuptools' LegacyVersion
 * did (digit runs zero-padded, words prefixed, `pre`/`preview`/`rc` → `c`, `dev` → `@`, trailing
 * zeros dropped) and sorts before every PEP 440 version, as pip's old ordering had it; two legacy
 * versions compare by that key.
 *
 * `valid`: PEP 440 parses it.
 * `satisfies`: PEP 440 specifiers, comma = AND (`>=1.0,<2.0`, `~=1.4.2`, `==1.*`, `!=1.3.*`,
 * `===1.0`, `<=`, `>`...), with the exclusive-comparison rules of PEP 440 (`<2.0` does not admit
 * `2.0rc1`, `>1.0` does not admit `1.0.post1`). Unlike pip's default, pre-releases are admitted
 * (a scanner asks whether an installed pre-release is inside a range). Specifier text the library
 * cannot read (space-separated `>=1.0 <2.0`, `||` alternatives) and legacy versions go through the
 * shared comparator-list syntax with `compare`. An empty specifier matches everything; anything
 * unreadable matches nothing.
 */
import pep440lib from '@renovatebot/pep440';
import { compareDigits, compareStrings, satisfiesConstraint } from './constraint.js';
import type { VersionScheme } from './types.js';

function isPep440(v: string): boolean {
  return pep440lib.valid(v) !== null;
}

const LEGACY_SPLIT = /(\d+|[a-z]+|\.|-)/;
const LEGACY_REPLACE: Record<string, string> = { pre: 'c', preview: 'c', '-': 'final-', rc: 'c', dev: '@' };

/** setuptools' LegacyVersion key (packaging < 22): a list of zero-padded or `*`-prefixed parts. */
export function legacyKey(v: string): string[] {
  const parts: string[] = [];
  const pieces = v.toLowerCase().split(LEGACY_SPLIT);
  pieces.push('*final');
  for (const raw of pieces) {
    let part: string;
    if (raw === '*final') {
      part = raw;
    } else {
      const p = LEGACY_REPLACE[raw] ?? raw;
      if (p === '' || p === '.') continue;
      part = /^[0-9]/.test(p) ? p.padStart(8, '0') : `*${p}`;
    }
    if (part.startsWith('*')) {
      if (part < '*final') {
        while (parts.length > 0 && parts[parts.length - 1] === '*final-') parts.pop();
      }
      while (parts.length > 0 && parts[parts.length - 1] === '00000000') parts.pop();
    }
    parts.push(part);
  }
  return parts;
}

function compareKeys(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareStrings(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

const EPOCH_RELEASE = /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)/i;

/** What comparing needs of one (trimmed) version string: whether PEP 440 reads it, and its epoch and release numbers. */
interface Reading {
  valid: boolean;
  epoch: string;
  /** undefined when the string does not start with a release segment. */
  release: string[] | undefined;
}

/** Readings of the strings compared lately (a matcher run compares one version with many bounds, and the bounds with each other). */
const readings = new Map<string, Reading>();
const MAX_READINGS = 20_000;

function reading(v: string): Reading {
  let r = readings.get(v);
  if (r === undefined) {
    const m = EPOCH_RELEASE.exec(v);
    r = { valid: isPep440(v), epoch: m?.[1] ?? '0', release: m ? m[2]!.split('.') : undefined };
    if (readings.size >= MAX_READINGS) readings.clear();
    readings.set(v, r);
  }
  return r;
}

function compareEpochRelease(a: Reading, b: Reading): number {
  const ra = a.release;
  const rb = b.release;
  if (!ra || !rb) return 0;
  const e = compareDigits(a.epoch, b.epoch);
  if (e !== 0) return e;
  for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
    const c = compareDigits(ra[i] ?? '0', rb[i] ?? '0');
    if (c !== 0) return c;
  }
  return 0;
}

export function comparePep440(a: string, b: string): number {
  if (a === b) return 0;
  const ta = a.trim();
  const tb = b.trim();
  const ra = reading(ta);
  const rb = reading(tb);
  const va = ra.valid;
  const vb = rb.valid;
  if (va && vb) {
    try {
      // epoch and release first, exactly (the library reads numbers as doubles), then the rest
      const r = compareEpochRelease(ra, rb);
      if (r !== 0) return r;
      const c = pep440lib.compare(ta, tb);
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    } catch {
      // not expected for valid versions; fall through to the legacy reading
    }
  }
  if (va !== vb) return va ? 1 : -1;
  return compareKeys(legacyKey(ta), legacyKey(tb));
}

export function satisfiesPep440(version: string, specifier: string): boolean {
  const v = version.trim();
  const spec = specifier.trim();
  if (spec === '') return true;
  if (isPep440(v) && pep440lib.validRange(spec)) {
    try {
      return pep440lib.satisfies(v, spec, { prereleases: true });
    } catch {
      return false;
    }
  }
  return satisfiesConstraint(v, spec, comparePep440);
}

export const pep440: VersionScheme = {
  id: 'pep440',
  compare: comparePep440,
  valid: (v) => isPep440(v.trim()),
  satisfies: satisfiesPep440,
};
