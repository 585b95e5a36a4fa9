/**
 * Where the layer cache lives for the command line: $LADING_CACHE_DIR, else <data dir>/cache
 * (the data directory as the database's: $LADING_DATA_DIR, $XDG_DATA_HOME/lading,
 * ~/.local/share/lading), capped at $LADING_CACHE_MAX_BYTES (default 2 GiB). The service reads
 * the same variables through its configuration (analysis.cache).
 */
import { LadingError } from '../../errors.js';
import { cacheDir } from './dir.js';
import { DEFAULT_CACHE_CAP, DiskCache } from './store.js';

export { cacheDir };

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

/** `2GiB`, `500MB`, `1048576`. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new LadingError('BAD_INPUT', `expected a size such as 2GiB or 500MB, got "${text}"`);
  return Math.round(Number(m[1]) * unit);
}

export function cacheCap(env: NodeJS.ProcessEnv = process.env): number {
  return env.LADING_CACHE_MAX_BYTES ? parseSize(env.LADING_CACHE_MAX_BYTES) : DEFAULT_CACHE_CAP;
}

export function openCliCache(env: NodeJS.ProcessEnv = process.env): DiskCache {
  return new DiskCache(cacheDir(env), cacheCap(env));
}
