/**
 * Anchore bundles carry Python regular expressions (`re.match` / `re.search` semantics). This
 * module translates the Python syntax JavaScript lacks (`(?P<name>...)`, `(?P=name)`, `\A`, `\Z`,
 * leading inline flags such as `(?i)`) and gives the two ways Python applies a pattern:
 * `match` (anchored at the start) and `search` (anywhere).
 */

const FLAG_MAP: Record<string, string> = { i: 'i', m: 'm', s: 's', x: '', a: '', u: '', L: '' };

export class PyRegexError extends Error {}

/** Python pattern source → [JS source, JS flags]. Throws PyRegexError for what cannot be translated. */
export function translate(pattern: string): { source: string; flags: string } {
  let rest = pattern;
  let flags = '';
  let verbose = false;
  // Global inline flags at the start: (?i), (?im), (?i)(?s)...
  for (let m = /^\(\?([aiLmsux]+)\)/.exec(rest); m; m = /^\(\?([aiLmsux]+)\)/.exec(rest)) {
    for (const f of m[1]!) {
      if (f === 'x') verbose = true;
      const js = FLAG_MAP[f] ?? '';
      if (js && !flags.includes(js)) flags += js;
    }
    rest = rest.slice(m[0].length);
  }
  if (verbose) rest = stripVerbose(rest);
  let out = '';
  let inClass = false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (c === '\\') {
      const n = rest[i + 1];
      if (n === undefined) throw new PyRegexError('pattern ends with a lone backslash');
      if (!inClass && n === 'A') out += '^';
      else if (!inClass && n === 'Z') out += '$(?![\\s\\S])';
      else out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal in Python.
      if (rest[i + 1] === '^') { out += '^'; i++; }
      if (rest[i + 1] === ']') { out += '\\]'; i++; }
      continue;
    }
    if (c === '(' && rest.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    if (c === '(' && rest.startsWith('(?P=', i)) {
      const end = rest.indexOf(')', i);
      if (end < 0) throw new PyRegexError('unterminated (?P=name) back-reference');
      out += `\\k<${rest.slice(i + 4, end)}>`;
      i = end;
      continue;
    }
    if (c === '(' && /^\(\?[aiLmsux-]+[:)]/.test(rest.slice(i))) {
      throw new PyRegexError('inline flags are only supported at the start of the pattern');
    }
    if (c === '{' && rest[i + 1] === ',') {
      // Python's {,n} means {0,n}.
      out += '{0';
      continue;
    }
    out += c;
  }
  return { source: out, flags };
}

function stripVerbose(p: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') { out += c + (p[i + 1] ?? ''); i++; continue; }
    if (inClass) { if (c === ']') inClass = false; out += c; continue; }
    if (c === '[') { inClass = true; out += c; continue; }
    if (/\s/.test(c)) continue;
    if (c === '#') { while (i < p.length && p[i] !== '\n') i++; continue; }
    out += c;
  }
  return out;
}

export interface PyRegex {
  readonly pattern: string;
  /** Python `re.match`: a match starting at the first character. */
  match(s: string): boolean;
  /** Python `re.search`: a match anywhere. */
  search(s: string): boolean;
}

const cache = new Map<string, PyRegex>();

/** Compile a Python pattern; throws PyRegexError naming the pattern when it is not valid. */
export function pyRegex(pattern: string): PyRegex {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let sticky: RegExp;
  let anywhere: RegExp;
  try {
    const { source, flags } = translate(pattern);
    sticky = new RegExp(source, flags + 'y');
    anywhere = new RegExp(source, flags);
  } catch (e) {
    const why = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    throw new PyRegexError(`invalid regular expression ${JSON.stringify(pattern)}: ${why.charAt(0).toLowerCase()}${why.slice(1)}`);
  }
  const re: PyRegex = {
    pattern,
    match(s) { sticky.lastIndex = 0; return sticky.test(s); },
    search(s) { return anywhere.test(s); },
  };
  if (cache.size > 1000) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** Undefined when the pattern compiles, else why not. */
export function regexProblem(pattern: string): string | undefined {
  try {
    pyRegex(pattern);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
