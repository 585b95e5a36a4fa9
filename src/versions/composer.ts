/**
 * Composer / Packagist versions.
 *
 * `compare` is PHP's version_compare, which Composer's Comparator applies to the strings it is
 * given, after dropping a leading `v`/`V`: `-`, `_`, `+` become `.`, a `.` is put between every
 * digit / non-digit transition (`1.0rc1` = `1.0.rc.1`), then the parts compare in turn: numbers by
 * value (any length), words by stability — `dev` < `alpha` = `a` < `beta` = `b` < `RC` = `rc` <
 * (a number) < `pl` = `p` (`patch`) — matched on their first letters; other words sort before `dev`.
 * When one version runs out, a following number makes the longer one greater (`1.0.0` > `1.0`) and
 * a following word compares against a number (`1.0` > `1.0-dev`, `1.0` < `1.0pl1`). `dev-<branch>`
 * names therefore sort before every numeric release. `#` counts as the number slot itself
 * (`1.2.3.#` = `1.2.3.1` and = `1.2.3`), as the osv-scalibr Packagist vectors require; that makes
 * the order non-transitive for strings containing `#` (which no real version has).
 * Every string has a reading, so `compare` never throws.
 *
 * `valid`: Composer's VersionParser::normalize accepts it (`1.2.3`, `v1.2`, `1.0.0-beta2`, `1.0RC1`,
 * `2.1.x-dev`, `dev-main`, dates like `2010-01-02`, with optional `+build` and `@stability`).
 *
 * `satisfies`: Composer constraints, as VersionParser::parseConstraints reads them and Constraint
 * matches them — on normalised versions (`1.2` → `1.2.0.0`): `^1.2.3`, `~1.2`, `1.2.*`/`1.2.x`,
 * `1.0 - 2.0`, `>=`, `>`, `<=`, `<`, `=`/`==`, `!=`/`<>`, bare versions, `*`; `,` or space = AND,
 * `|` or `||` = OR; `@stability` flags. As in Composer, `<2.0` and `>=2.0` written without a
 * stability mean `<2.0.0.0-dev` and `>=2.0.0.0-dev`, so `<2.0` excludes `2.0-beta1` and `>=2.0`
 * admits it; `dev-` branches only match constraints naming the same branch. A version Composer
 * cannot normalise matches nothing.
 */
import { compareDigits } from './constraint.js';
import type { VersionScheme } from './types.js';
import { testOperator } from './constraint.js';

// ---------------------------------------------------------------------------------------------
// PHP version_compare

/** Stability order of version_compare's special forms, matched as prefixes, in PHP's order. */
const SPECIAL_FORMS: [string, number][] = [
  ['dev', 0],
  ['alpha', 1],
  ['a', 1],
  ['beta', 2],
  ['b', 2],
  ['RC', 3],
  ['rc', 3],
  ['#', 4],
  ['pl', 5],
  ['p', 5],
];

function specialOrder(form: string): number {
  for (const [name, order] of SPECIAL_FORMS) if (form.startsWith(name)) return order;
  return -1;
}

function compareSpecial(a: string, b: string): number {
  return Math.sign(specialOrder(a) - specialOrder(b));
}

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** PHP's canonical form, split into parts (see the module comment). */
export function phpVersionParts(version: string): string[] {
  let s = version.trim();
  if (s.startsWith('v') || s.startsWith('V')) s = s.slice(1);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    let ch = s[i]!;
    if (ch === '-' || ch === '_' || ch === '+') ch = '.';
    if (i > 0 && ch !== '.' && out.length > 0) {
      const prev = out.charCodeAt(out.length - 1);
      if (prev !== 46 && isDigitCode(prev) !== isDigitCode(ch.charCodeAt(0))) out += '.';
    }
    out += ch;
  }
  return out.split('.');
}

const NUMERIC = /^\d+$/;

function compareParts(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const xn = NUMERIC.test(x);
    const yn = NUMERIC.test(y);
    let c: number;
    if (xn && yn) c = compareDigits(x, y);
    else if (!xn && !yn) c = compareSpecial(x, y);
    else c = xn ? compareSpecial('#', y) : compareSpecial(x, '#');
    if (c !== 0) return c;
  }
  if (a.length > b.length) {
    if (NUMERIC.test(a[b.length]!)) return 1;
    return compareParts(a.slice(b.length), ['#']);
  }
  if (a.length < b.length) {
    if (NUMERIC.test(b[a.length]!)) return -1;
    return compareParts(['#'], b.slice(a.length));
  }
  return 0;
}

/** PHP version_compare (after dropping a leading v): -1, 0 or 1. */
export function phpVersionCompare(a: string, b: string): number {
  if (a === b) return 0;
  return compareParts(phpVersionParts(a), phpVersionParts(b));
}

// ---------------------------------------------------------------------------------------------
// Composer's VersionParser::normalize

const MODIFIER = '[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\\d+)*)?)?([.-]?dev)?';
const STABILITIES = 'stable|RC|beta|alpha|dev';
const CLASSICAL = new RegExp(`^v?(\\d{1,5})(\\.\\d+)?(\\.\\d+)?(\\.\\d+)?${MODIFIER}$`, 'i');
const DATE = new RegExp(`^v?(\\d{4}(?:[.:-]?\\d{2}){1,6}(?:[.:-]?\\d{1,3}){0,2})${MODIFIER}$`, 'i');
const BRANCH = /^v?(\d+)(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?(\.(?:\d+|[xX*]))?$/i;

function expandStability(s: string): string {
  const l = s.toLowerCase();
  if (l === 'a') return 'alpha';
  if (l === 'b') return 'beta';
  if (l === 'p' || l === 'pl') return 'patch';
  if (l === 'rc') return 'RC';
  return l;
}

function normalizeBranch(name: string): string {
  const n = name.trim();
  const m = BRANCH.exec(n);
  if (m) {
    let v = '';
    for (let i = 1; i < 5; i++) v += m[i] !== undefined ? m[i]!.replace(/[*X]/g, 'x') : '.x';
    return `${v.replace(/x/g, '9999999')}-dev`;
  }
  return `dev-${n}`;
}

/** Composer's normalised form (`1.2` → `1.2.0.0`, `1.0RC1` → `1.0.0.0-RC1`), or undefined. */
export function normalizeComposer(version: string): string | undefined {
  let v = version.trim();
  const alias = /^([^,\s]+) +as +([^,\s]+)$/.exec(v);
  if (alias) v = alias[1]!;
  const flag = new RegExp(`@(?:${STABILITIES})$`, 'i').exec(v);
  if (flag) v = v.slice(0, v.length - flag[0].length);
  if (v === 'master' || v === 'trunk' || v === 'default') v = `dev-${v}`;
  if (v.toLowerCase().startsWith('dev-')) return `dev-${v.slice(4)}`;
  const build = /^([^,\s+]+)\+[^\s]+$/.exec(v);
  if (build) v = build[1]!;

  let base: string | undefined;
  let m = CLASSICAL.exec(v);
  let index = 5;
  if (m) {
    base = m[1]! + (m[2] || '.0') + (m[3] || '.0') + (m[4] || '.0');
  } else {
    m = DATE.exec(v);
    if (m) {
      base = m[1]!.replace(/\D/g, '.');
      index = 2;
    }
  }
  if (m && base !== undefined) {
    const stability = m[index];
    if (stability) {
      if (stability.toLowerCase() === 'stable') return base;
      const num = m[index + 1];
      base += `-${expandStability(stability)}${num ? num.replace(/^[.-]+/, '') : ''}`;
    }
    if (m[index + 2]) base += '-dev';
    return base;
  }
  const dev = /^(.*?)[.-]?dev$/i.exec(v);
  if (dev) {
    const n = normalizeBranch(dev[1]!);
    if (!n.startsWith('dev-')) return n;
  }
  return undefined;
}

/** VersionParser::parseStability on a normalised version. */
function parseStability(version: string): string {
  const v = version.replace(/#.+$/, '');
  if (v.startsWith('dev-') || v.endsWith('-dev')) return 'dev';
  const m = new RegExp(`${MODIFIER}(?:\\+.*)?$`, 'i').exec(v.toLowerCase());
  if (m?.[3]) return 'dev';
  const s = m?.[1];
  if (s === 'beta' || s === 'b') return 'beta';
  if (s === 'alpha' || s === 'a') return 'alpha';
  if (s === 'rc') return 'RC';
  return 'stable';
}

// ---------------------------------------------------------------------------------------------
// Constraints

type Op = '==' | '!=' | '<' | '<=' | '>' | '>=';
interface Bound {
  op: Op;
  version: string;
}
/** OR of ANDs; an AND list with no bounds matches everything. */
type Parsed = Bound[][];

const VERSION_RE = `v?(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?(?:\\.(\\d+))?(?:${MODIFIER}|\\.([xX*][.-]?dev))(?:\\+[^\\s]+)?`;
const TILDE = new RegExp(`^~>?${VERSION_RE}$`, 'i');
const CARET = new RegExp(`^\\^${VERSION_RE}($)`, 'i');
const XRANGE = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.[xX*])+$/;
const HYPHEN = new RegExp(`^(${VERSION_RE}) +- +(${VERSION_RE})($)`, 'i');
const BASIC = /^(<>|!=|>=?|<=?|==?)?\s*(.*)$/;
const OR_SPLIT = /\s*\|\|?\s*/;
const AND_SPLIT = /(?<!^|as|[=>< ,]) *(?<!-)[, ](?!-) *(?!,|as|$)/;

const present = (x: string | undefined): x is string => x !== undefined && x !== '';

/** manipulateVersionString: pad after `position`, add `increment` at it; a dotted four-part version. */
function manipulate(parts: (string | undefined)[], position: number, increment = 0): string | undefined {
  const m = parts.slice();
  for (let i = 4; i > 0; i--) {
    if (i > position) m[i] = '0';
    else if (i === position && increment) {
      const n = BigInt(present(m[i]) ? m[i]! : '0') + BigInt(increment);
      if (n < 0n) return undefined;
      m[i] = n.toString();
    }
  }
  return `${m[1] ?? ''}.${m[2] ?? ''}.${m[3] ?? ''}.${m[4] ?? ''}`;
}

/** A constraint without its `as` alias, `@stability` flag and `#ref`, and the flag when not stable. */
function stripModifiers(input: string): { constraint: string; stabilityModifier: string | undefined } {
  let c = input;
  const alias = /^([^,\s]+) +as +([^,\s]+)$/.exec(c);
  if (alias) c = alias[1]!;
  let stabilityModifier: string | undefined;
  const flag = new RegExp(`^([^,\\s]*?)@(${STABILITIES})$`, 'i').exec(c);
  if (flag) {
    c = flag[1] !== '' ? flag[1]! : '*';
    if (flag[2]!.toLowerCase() !== 'stable') stabilityModifier = flag[2];
  }
  const ref = /^(dev-[^,\s@]+?|[^,\s@]+?\.x-dev)#.+$/i.exec(c);
  if (ref) c = ref[1]!;
  return { constraint: c, stabilityModifier };
}

/** `low - high`: from low (inclusive) to high (inclusive when complete, else below its next step). */
function hyphenBounds(m: RegExpExecArray): Bound[] | undefined {
  const lowSuffix = !m[6] && !m[8] && !m[9] ? '-dev' : '';
  const low = normalizeComposer(m[1]!);
  if (!low) return undefined;
  const lower: Bound = { op: '>=', version: low + lowSuffix };
  if ((present(m[12]) && present(m[13])) || m[15] || m[17] || m[18]) {
    const high = normalizeComposer(m[10]!);
    if (!high) return undefined;
    return [lower, { op: '<=', version: high }];
  }
  if (!normalizeComposer(m[10]!)) return undefined;
  const high = manipulate(['', m[11], m[12], m[13], m[14]], present(m[12]) ? 2 : 1, 1);
  if (!high) return undefined;
  return [lower, { op: '<', version: `${high}-dev` }];
}

/** An operator and a version (`=` when none). */
function basicBounds(m: RegExpExecArray, stabilityModifier: string | undefined): Bound[] | undefined {
  const text = m[2]!;
  let version = normalizeComposer(text);
  if (version === undefined && text.endsWith('-dev') && /^[0-9a-zA-Z-./]+$/.test(text)) {
    version = normalizeComposer(`dev-${text.slice(0, -4)}`);
  }
  if (version === undefined) return undefined;
  const raw = m[1] || '=';
  const op: Op = raw === '=' || raw === '==' ? '==' : raw === '<>' ? '!=' : (raw as Op);
  if (op !== '==' && stabilityModifier && parseStability(version) === 'stable') {
    version += `-${stabilityModifier}`;
  } else if (raw === '<' || raw === '>=') {
    if (!new RegExp(`-${MODIFIER}$`).test(text.toLowerCase()) && !text.startsWith('dev-')) version += '-dev';
  }
  return [{ op, version }];
}

function parseOne(input: string): Bound[] | undefined {
  const { constraint: c, stabilityModifier } = stripModifiers(input);

  const any = /^(v)?[xX*](\.[xX*])*$/i.exec(c);
  if (any) return any[1] || any[2] ? [{ op: '>=', version: '0.0.0.0-dev' }] : [];

  let m = TILDE.exec(c);
  if (m) {
    if (c.startsWith('~>')) return undefined; // Composer: "you probably meant to use the ~ operator"
    let position = present(m[4]) ? 4 : present(m[3]) ? 3 : present(m[2]) ? 2 : 1;
    if (m[8]) position++;
    const suffix = !m[5] && !m[7] && !m[8] ? '-dev' : '';
    const low = normalizeComposer(c.slice(1) + suffix);
    const high = manipulate([...m], Math.max(1, position - 1), 1);
    if (!low || !high) return undefined;
    return [
      { op: '>=', version: low },
      { op: '<', version: `${high}-dev` },
    ];
  }

  m = CARET.exec(c);
  if (m) {
    const position = m[1] !== '0' || !present(m[2]) ? 1 : m[2] !== '0' || !present(m[3]) ? 2 : 3;
    const suffix = !m[5] && !m[7] && !m[8] ? '-dev' : '';
    const low = normalizeComposer(c.slice(1) + suffix);
    const high = manipulate([...m], position, 1);
    if (!low || !high) return undefined;
    return [
      { op: '>=', version: low },
      { op: '<', version: `${high}-dev` },
    ];
  }

  m = XRANGE.exec(c);
  if (m) {
    const position = present(m[3]) ? 3 : present(m[2]) ? 2 : 1;
    const low = `${manipulate([...m], position)}-dev`;
    const high = `${manipulate([...m], position, 1)}-dev`;
    if (low === '0.0.0.0-dev') return [{ op: '<', version: high }];
    return [
      { op: '>=', version: low },
      { op: '<', version: high },
    ];
  }

  m = HYPHEN.exec(c);
  if (m) return hyphenBounds(m);

  m = BASIC.exec(c);
  if (m) return basicBounds(m, stabilityModifier);
  return undefined;
}

/** Parse a Composer constraint into OR-of-AND bounds on normalised versions; undefined if invalid. */
export function parseComposerConstraint(text: string): Parsed | undefined {
  const t = text.trim();
  if (t === '') return [[]];
  const out: Parsed = [];
  for (const orPart of t.split(OR_SPLIT)) {
    const ands = orPart.split(AND_SPLIT);
    const bounds: Bound[] = [];
    for (const a of ands) {
      const parsed = parseOne(a);
      if (!parsed) return undefined;
      bounds.push(...parsed);
    }
    out.push(bounds);
  }
  return out;
}

/** Constraint::versionCompare: dev- branches only equal themselves. */
function matches(version: string, b: Bound): boolean {
  const aBranch = version.startsWith('dev-');
  const bBranch = b.version.startsWith('dev-');
  if (b.op === '!=' && (aBranch || bBranch)) return version !== b.version;
  if (aBranch && bBranch) return b.op === '==' && version === b.version;
  if (aBranch || bBranch) return false;
  return testOperator(phpVersionCompare(version, b.version), b.op === '==' ? '=' : b.op);
}

export function satisfiesComposer(version: string, constraint: string): boolean {
  const v = normalizeComposer(version);
  if (v === undefined) return false;
  const parsed = parseComposerConstraint(constraint);
  if (!parsed) return false;
  return parsed.some((and) => and.every((b) => matches(v, b)));
}

export const composer: VersionScheme = {
  id: 'composer',
  compare: phpVersionCompare,
  valid: (v) => normalizeComposer(v) !== undefined,
  satisfies: satisfiesComposer,
};
