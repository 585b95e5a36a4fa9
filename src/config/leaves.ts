/**
 * The leaves of the configuration schema: each sets one message for every way its value can be
 * wrong, and records how an environment value is turned into it (load.ts asks schema.ts, which
 * asks leafKind).
 */
import { z } from 'zod';

/** How an environment value is turned into a typed one (load.ts asks this of the schema). */
export type LeafKind = 'string' | 'number' | 'boolean' | 'duration' | 'size' | 'list' | 'mapping';

const kinds = new WeakMap<z.ZodType, LeafKind>();

/** The kind a leaf was made with, if it is one. */
export function leafKind(schema: z.ZodType): LeafKind | undefined {
  return kinds.get(schema);
}

export function tagged<T extends z.ZodType>(schema: T, kind: LeafKind): T {
  kinds.set(schema, kind);
  return schema;
}

// ---------------------------------------------------------------------------------------------
// Leaf helpers: each sets one message for every way its value can be wrong.

export function str(what: string, min = 0, max = 4096) {
  const msg = `expected ${what}`;
  return z.string({ error: msg }).min(min, { error: msg }).max(max, { error: `${msg} (at most ${max} characters)` });
}

export function int(min: number, max: number, what = 'a whole number') {
  const msg = `expected ${what} from ${min} to ${max}`;
  return z.number({ error: msg }).int({ error: msg }).min(min, { error: msg }).max(max, { error: msg });
}

export function bool() {
  return z.boolean({ error: 'expected true or false' });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected one of ${values.join(', ')}` });
}

export function list<T extends z.ZodType>(element: T, what: string) {
  return tagged(z.array(element, { error: `expected a list of ${what}` }), 'list');
}

export function mapping<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, { error: (iss) => (iss.code === 'invalid_type' ? 'expected a mapping (key: value lines)' : undefined) });
}

export function httpUrl(what = 'an http:// or https:// URL') {
  return z.string({ error: `expected ${what}` }).refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, { error: `expected ${what}` });
}

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds from a number of seconds or a string such as 30s, 10m, 6h, 1d, 500ms; undefined if neither. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(v);
  if (!m) return undefined;
  return Number(m[1]) * DURATION_UNITS[m[2] ?? 's']!;
}

/** A number of seconds as the shortest exact duration string (90 → 90s, 3600 → 1h). */
export function formatDuration(seconds: number): string {
  for (const [unit, n] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= n && seconds % n === 0) return `${seconds / n}${unit}`;
  }
  return seconds < 1 && seconds > 0 ? `${Math.round(seconds * 1000)}ms` : `${seconds}s`;
}

export function duration(min: number, max: number) {
  const msg = `expected a duration from ${formatDuration(min)} to ${formatDuration(max)} (seconds, or a string such as 30s, 10m, 6h)`;
  return tagged(z.unknown().transform((v, ctx) => {
    const s = parseDuration(v);
    if (s === undefined || s < min || s > max) {
      ctx.addIssue({ code: 'custom', message: msg });
      return z.NEVER;
    }
    return s;
  }), 'duration');
}

const SIZE_UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** Bytes from a number or a string such as 512KiB, 4MiB, 32GiB, 10MB; undefined if neither. */
export function parseSize(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(v);
  if (!m) return undefined;
  const n = Math.round(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function size(min = 1) {
  const msg = `expected a size in bytes of at least ${min} (a number, or a string such as 512KiB, 4MiB, 32GiB)`;
  return tagged(z.unknown().transform((v, ctx) => {
    const n = parseSize(v);
    if (n === undefined || n < min) {
      ctx.addIssue({ code: 'custom', message: msg });
      return z.NEVER;
    }
    return n;
  }), 'size');
}
