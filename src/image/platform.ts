/** Platform strings (`os/arch[/variant]`) and choosing one manifest from an index. */
import { LadingError } from '../errors.js';
import type { Descriptor, Platform } from './types.js';

export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i686: '386', i386: '386' };

export function parsePlatform(text: string): Platform {
  const parts = text.trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-zA-Z0-9._-]+$/.test(p))) {
    throw new LadingError('BAD_INPUT', `invalid platform "${text}": expected os/arch[/variant], e.g. linux/arm64/v8`);
  }
  const [os, arch, variant] = parts as [string, string, string | undefined];
  return normalizePlatform({ os: os.toLowerCase(), architecture: arch.toLowerCase(), ...(variant ? { variant: variant.toLowerCase() } : {}) });
}

/** Canonical form: arch aliases resolved, arm64's default variant v8 dropped, arm's default v7 kept explicit. */
export function normalizePlatform(p: Platform): Platform {
  const architecture = ARCH_ALIASES[p.architecture] ?? p.architecture;
  let variant = p.variant || undefined;
  if (architecture === 'arm64' && variant === 'v8') variant = undefined;
  if (architecture === 'arm' && !variant) variant = 'v7';
  return { os: p.os, architecture, ...(variant ? { variant } : {}) };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

export function platformMatches(want: Platform, have: Platform): boolean {
  const a = normalizePlatform(want);
  const b = normalizePlatform(have);
  if (a.os !== b.os || a.architecture !== b.architecture) return false;
  // A request without a variant takes any variant; a request with one needs that one.
  return !a.variant || a.variant === b.variant || (a.architecture === 'arm' && !want.variant);
}

/** Pick the manifest for `want` from an index's entries; an absent platform lists what there is. */
export function choosePlatform(entries: Descriptor[], want: Platform, what: string): Descriptor {
  const candidates = entries.filter((d) => d.platform && platformMatches(want, d.platform));
  // Prefer an exact variant match, then the first listed (as docker does).
  const exact = candidates.find((d) => formatPlatform(normalizePlatform(d.platform!)) === formatPlatform(normalizePlatform(want)));
  const chosen = exact ?? candidates[0];
  if (chosen) return chosen;
  const available = entries
    .filter((d) => d.platform && d.platform.architecture !== 'unknown')
    .map((d) => formatPlatform(d.platform!));
  throw new LadingError(
    'PLATFORM_NOT_FOUND',
    `${what} has no image for platform ${formatPlatform(want)}; available: ${available.length ? [...new Set(available)].join(', ') : 'none'}`,
  );
}
