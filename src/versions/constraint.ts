/**
 * Constraint syntaxes shared by the version schemes, each parametrised by a compare function.
 *
 * 1. Comparator lists, for schemes without a native range syntax (dpkg, rpm, apk, go) and as the
 *    fallback of the others (GHSA writes `>= 1.0, < 2.0` for every ecosystem):
 *
 *      constraint  := alternative ( '||' alternative )*
 *      alternative := comparator ( [','] comparator )*       comma and/or whitespace = AND
 *      comparator  := [op] [ws] version                        no op = equality
 *      op          := '=' | '==' | '===' | '!=' | '<>' | '<' | '<<' | '<=' | '=<' | '>' | '>>' | '>=' | '=>'
 *
 *    `<<` / `>>` are dpkg's strict operators (aliases of `<` / `>`). An empty constraint, or `*`,
 *    matches every version; `*` as a comparator inside an alternative is ignored.
 *
 * 2. Interval notation (Maven version ranges, NuGet ranges): `[1.0,2.0)`, `(,1.0]`, `[1.2]`,
 *    `[1.0,)`, and several sets joined by commas (`[1,2),[3,4)`: OR).
 *
 * A constraint that does not parse matches nothing (the `satisfies*` functions return false and
 * never throw); callers that want to reject bad feed data at the boundary use the `parse*`
 * functions, which return undefined for text they cannot read.
 */

export type CompareFn = (a: string, b: string) => number;

export type Operator = '=' | '!=' | '<' | '<=' | '>' | '>=';

export interface Comparator {
  op: Operator;
  version: string;
}

/** Alternatives (OR) of conjunctions (AND). `[[]]` matches everything. */
export type Constraint = Comparator[][];

const OPERATORS: Record<string, Operator> = {
  '=': '=',
  '==': '=',
  '===': '=',
  '!=': '!=',
  '<>': '!=',
  '<': '<',
  '<<': '<',
  '<=': '<=',
  '=<': '<=',
  '>': '>',
  '>>': '>',
  '>=': '>=',
  '=>': '>=',
};

// one comparator and what separates it from the next: a comma, whitespace, or the end
const COMPARATOR = /\s*(===|==|!=|<>|<<|>>|<=|=<|>=|=>|<|>|=)?\s*([^\s,<>=!|]+)(?:\s*,\s*|\s+|$)/y;

function parseConjunction(text: string): Comparator[] | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  const out: Comparator[] = [];
  let i = 0;
  while (i < s.length) {
    COMPARATOR.lastIndex = i;
    const m = COMPARATOR.exec(s);
    if (!m || COMPARATOR.lastIndex === i) return undefined;
    i = COMPARATOR.lastIndex;
    const op = OPERATORS[m[1] ?? '='] ?? '=';
    const version = m[2] ?? '';
    if (version === '*') {
      if (op !== '=') return undefined;
      continue;
    }
    out.push({ op, version });
  }
  return out;
}

/** Parse the comparator-list syntax; undefined when the text is not a constraint. */
export function parseConstraint(text: string): Constraint | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === '*') return [[]];
  const out: Constraint = [];
  for (const alt of trimmed.split('||')) {
    const conj = parseConjunction(alt);
    if (!conj) return undefined;
    out.push(conj);
  }
  return out;
}

/** Whether `c` (the result of compare(version, bound)) satisfies `op`. */
export function testOperator(c: number, op: Operator): boolean {
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

/**
 * Whether `version` satisfies a comparator-list constraint, comparing with `compare(version, bound)`
 * (an asymmetric compare may treat the bound specially, as rpm does with a bound without release).
 */
export function satisfiesConstraint(version: string, constraint: string | Constraint, compare: CompareFn): boolean {
  const parsed = typeof constraint === 'string' ? parseConstraint(constraint) : constraint;
  if (!parsed) return false;
  return parsed.some((alt) => alt.every((c) => testOperator(compare(version, c.version), c.op)));
}

/** `satisfies` for a scheme whose native syntax is the comparator list. */
export function makeSatisfies(compare: CompareFn): (version: string, constraint: string) => boolean {
  return (version, constraint) => satisfiesConstraint(version, constraint, compare);
}

// ---------------------------------------------------------------------------------------------
// Interval notation

export interface Interval {
  /** Undefined: unbounded below. */
  lower?: string;
  lowerInclusive: boolean;
  /** Undefined: unbounded above. */
  upper?: string;
  upperInclusive: boolean;
}

const INTERVAL = /\s*([[(])([^[\]()]*)([\])])\s*(,|$)/y;

/** Whether the text looks like interval notation (starts with `[` or `(`). */
export function isIntervalNotation(text: string): boolean {
  const t = text.trimStart();
  return t.startsWith('[') || t.startsWith('(');
}

/** Parse `[1.0,2.0)`, `(,1.0]`, `[1.2]`, `[1,2),[3,4)`; undefined when malformed. */
export function parseIntervals(text: string): Interval[] | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  const out: Interval[] = [];
  let i = 0;
  while (i < s.length) {
    INTERVAL.lastIndex = i;
    const m = INTERVAL.exec(s);
    if (!m) return undefined;
    i = INTERVAL.lastIndex;
    const open = m[1]!;
    const body = m[2]!;
    const close = m[3]!;
    const sep = m[4]!;
    const parts = body.split(',').map((p) => p.trim());
    if (parts.length === 1) {
      // [1.2]: exactly this version
      if (open !== '[' || close !== ']' || parts[0] === '') return undefined;
      out.push({ lower: parts[0], lowerInclusive: true, upper: parts[0], upperInclusive: true });
    } else if (parts.length === 2) {
      const lo = parts[0]!;
      const hi = parts[1]!;
      if (lo === '' && hi === '') return undefined;
      const iv: Interval = { lowerInclusive: open === '[', upperInclusive: close === ']' };
      if (lo !== '') iv.lower = lo;
      if (hi !== '') iv.upper = hi;
      out.push(iv);
    } else {
      return undefined;
    }
    if (sep === ',' && i >= s.length) return undefined; // trailing comma
  }
  return out.length > 0 ? out : undefined;
}

export function inInterval(version: string, iv: Interval, compare: CompareFn): boolean {
  if (iv.lower !== undefined) {
    const c = compare(version, iv.lower);
    if (iv.lowerInclusive ? c < 0 : c <= 0) return false;
  }
  if (iv.upper !== undefined) {
    const c = compare(version, iv.upper);
    if (iv.upperInclusive ? c > 0 : c >= 0) return false;
  }
  return true;
}

export function satisfiesIntervals(version: string, intervals: string | Interval[], compare: CompareFn): boolean {
  const parsed = typeof intervals === 'string' ? parseIntervals(intervals) : intervals;
  if (!parsed) return false;
  return parsed.some((iv) => inInterval(version, iv, compare));
}

// ---------------------------------------------------------------------------------------------
// Small helpers shared by the scheme modules

/** -1, 0 or 1. */
export function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Compare two strings of ASCII digits numerically, of any length (leading zeros ignored; '' is 0). */
export function compareDigits(a: string, b: string): number {
  if (a === '') a = '0';
  if (b === '') b = '0';
  let i = 0;
  while (i < a.length - 1 && a.charCodeAt(i) === 48) i++;
  let j = 0;
  while (j < b.length - 1 && b.charCodeAt(j) === 48) j++;
  const la = a.length - i;
  const lb = b.length - j;
  if (la !== lb) return la < lb ? -1 : 1;
  for (; i < a.length; i++, j++) {
    const d = a.charCodeAt(i) - b.charCodeAt(j);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Plain code-unit string comparison: -1, 0, 1. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
