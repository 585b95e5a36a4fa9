/**
 * Anchore's pattern matching for mappings, image lists and allowlist trigger ids: `*` matches any
 * run of characters and everything else literally, anchored at both ends; a pattern prefixed
 * `regexp:` is a raw (Python) regular expression applied with `re.match`.
 */
import { pyRegex } from './pyregex.js';

const RAW_PREFIX = 'regexp:';

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

const compiled = new Map<string, RegExp>();

/** Does `input` match the wildcard (or `regexp:`) pattern? An invalid raw regex throws. */
export function wildcardMatch(pattern: string, input: string): boolean {
  const trimmed = pattern.trimStart();
  if (trimmed.startsWith(RAW_PREFIX)) return pyRegex(trimmed.slice(RAW_PREFIX.length)).match(input);
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.split('*').map(escape).join('(.*)')}$`, 's');
    if (compiled.size > 1000) compiled.clear();
    compiled.set(pattern, re);
  }
  return re.test(input);
}

/** Undefined when the pattern can be used, else why not (only `regexp:` patterns can be invalid). */
export function wildcardProblem(pattern: string): string | undefined {
  const trimmed = pattern.trimStart();
  if (!trimmed.startsWith(RAW_PREFIX)) return undefined;
  try {
    pyRegex(trimmed.slice(RAW_PREFIX.length));
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
