/**
 * Go module versions: semantic versions with a leading `v`, ordered as golang.org/x/mod/semver
 * does. `v1.2.3`, the shorthands `v1` (= v1.0.0) and `v1.2` (= v1.2.0), pre-releases, and build
 * metadata, which is ignored — so `v2.0.0+incompatible` = `v2.0.0`. Pseudo-versions
 * (`v0.0.0-20210101000000-abcdef123456`, `v1.2.4-0.20210101000000-abcdef123456`,
 * `v1.2.3-pre.0.20210101000000-abcdef123456`) order by their pre-release like any other version,
 * which is exactly how Go orders them. Numbers of any length compare exactly.
 *
 * Accepted spellings, all normalised to the above:
 * - with or without the `v` (OSV's Go records write `1.2.3` and `0`);
 * - Go toolchain / standard library versions: `go1.21.5` = `1.21.5`, `go1.21` = `1.21.0`,
 *   `go1.22rc1` = `1.22.0-rc.1`, `go1.19beta2` = `1.19.0-beta.2` (the mapping Go's vulnerability
 *   database uses for `stdlib` and `toolchain`).
 *
 * Fallback (never throws): a string that is none of these sorts before every valid version;
 * invalid strings order among themselves by the semver-like reading of semver.ts, then as text.
 * (Go itself treats all invalid versions as equal.)
 *
 * `satisfies`: the shared comparator list (`>= 1.2.0, < 1.3.0`), as Go has no range syntax.
 */
import { compareDigits, compareStrings, makeSatisfies } from './constraint.js';
import { comparePrerelease, parseSemverLike } from './semver.js';
import type { VersionScheme } from './types.js';

export interface GoVersion {
  major: string;
  minor: string;
  patch: string;
  prerelease: string[];
  build: string;
}

const NUM = '(0|[1-9]\\d*)';
const SEMVER = new RegExp(`^v${NUM}(?:\\.${NUM}(?:\\.${NUM}(?:-([0-9A-Za-z.-]+))?(?:\\+([0-9A-Za-z.-]+))?)?)?$`);
const TOOLCHAIN = /^(?:go)?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(rc|beta|alpha)(\d+))?$/;
const IDENT = /^[0-9A-Za-z-]+$/;

/** The canonical `vX.Y.Z[-pre][+build]` spelling, or undefined when the string is not a Go version. */
export function canonicalGo(v: string): string | undefined {
  const s = v.trim();
  const p = parseGo(s);
  if (!p) return undefined;
  return `v${p.major}.${p.minor}.${p.patch}${p.prerelease.length ? `-${p.prerelease.join('.')}` : ''}${p.build ? `+${p.build}` : ''}`;
}

export function parseGo(v: string): GoVersion | undefined {
  const s = v.trim();
  if (s.startsWith('go') || !s.startsWith('v')) {
    const t = TOOLCHAIN.exec(s);
    if (t && (s.startsWith('go') || t[4] !== undefined)) {
      if (!/^(0|[1-9]\d*)$/.test(t[1]!) || (t[2] !== undefined && !/^(0|[1-9]\d*)$/.test(t[2]))) return undefined;
      return {
        major: t[1]!,
        minor: t[2] ?? '0',
        patch: t[3] ?? '0',
        prerelease: t[4] ? [t[4], String(BigInt(t[5]!))] : [],
        build: '',
      };
    }
    if (s.startsWith('go')) return undefined;
  }
  const m = SEMVER.exec(s.startsWith('v') ? s : `v${s}`);
  if (!m) return undefined;
  const pre = m[4] === undefined ? [] : m[4].split('.');
  for (const id of pre) {
    if (!IDENT.test(id)) return undefined;
    if (/^\d+$/.test(id) && id.length > 1 && id.startsWith('0')) return undefined;
  }
  if (m[5] !== undefined && !m[5].split('.').every((id) => IDENT.test(id))) return undefined;
  return { major: m[1]!, minor: m[2] ?? '0', patch: m[3] ?? '0', prerelease: pre, build: m[5] ?? '' };
}

function compareParsed(a: GoVersion, b: GoVersion): number {
  return (
    compareDigits(a.major, b.major) ||
    compareDigits(a.minor, b.minor) ||
    compareDigits(a.patch, b.patch) ||
    comparePrerelease(a.prerelease, b.prerelease)
  );
}

export function compareGo(a: string, b: string): number {
  if (a === b) return 0;
  const pa = parseGo(a);
  const pb = parseGo(b);
  if (pa && pb) return compareParsed(pa, pb);
  if (pa) return 1;
  if (pb) return -1;
  const la = parseSemverLike(a);
  const lb = parseSemverLike(b);
  const n = Math.max(la.core.length, lb.core.length, 3);
  for (let i = 0; i < n; i++) {
    const c = compareDigits(la.core[i] ?? '0', lb.core[i] ?? '0');
    if (c !== 0) return c;
  }
  return comparePrerelease(la.pre, lb.pre) || compareStrings(a, b);
}

export const go: VersionScheme = {
  id: 'go',
  compare: compareGo,
  valid: (v) => parseGo(v) !== undefined,
  satisfies: makeSatisfies(compareGo),
};
