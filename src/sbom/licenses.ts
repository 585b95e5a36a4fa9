/**
 * License text → SPDX. Declared licenses come in every shape ("MIT License", "Apache 2.0", "GPLv2+",
 * "(MIT OR Apache-2.0)"); this turns them into SPDX ids or expressions where that can be done
 * without guessing wildly, and otherwise keeps the declared text (trimmed).
 */
import { createRequire } from 'node:module';
import type parseType from 'spdx-expression-parse';
import type correctType from 'spdx-correct';
import { lazyRequire } from '../util/lazy.js';

type Node = parseType.Info;

// Loaded on first use: a run whose licences all come from the memo (a warm layer cache) never needs them.
const parse = lazyRequire<typeof parseType>('spdx-expression-parse');
const correct = lazyRequire<typeof correctType>('spdx-correct');

/** Names that spdx-correct misses or gets wrong, lowercased with single spaces. */
const KNOWN: Record<string, string> = {
  'expat': 'MIT',
  'mit/expat': 'MIT',
  'psf': 'PSF-2.0',
  'psfl': 'PSF-2.0',
  'psf license': 'PSF-2.0',
  'python software foundation': 'PSF-2.0',
  'python software foundation license': 'PSF-2.0',
  'isc license': 'ISC',
  'iscl': 'ISC',
  'zope public license': 'ZPL-2.1',
  'zpl': 'ZPL-2.1',
  'ruby': 'Ruby',
  'ruby license': 'Ruby',
  'perl': 'Artistic-1.0-Perl OR GPL-1.0-or-later',
  'perl_5': 'Artistic-1.0-Perl OR GPL-1.0-or-later',
  'hpnd': 'HPND',
  'boost': 'BSL-1.0',
  'boost software license': 'BSL-1.0',
  'apache license, version 2.0': 'Apache-2.0',
  'eclipse public license 2.0': 'EPL-2.0',
  'epl 2.0': 'EPL-2.0',
  // An unversioned GPL lets the recipient pick any version (GPL §9/§14): not "3.0 or later".
  'gpl': 'GPL-1.0-or-later',
  'gnu gpl': 'GPL-1.0-or-later',
  'gnu general public': 'GPL-1.0-or-later',
  'gnu general public license (gpl)': 'GPL-1.0-or-later',
  'gnu public license': 'GPL-1.0-or-later',
  'lgpl': 'LGPL-2.0-or-later',
  'gnu lgpl': 'LGPL-2.0-or-later',
  'gnu lesser general public': 'LGPL-2.0-or-later',
  'gnu library or lesser general public license (lgpl)': 'LGPL-2.0-or-later',
};

/** Texts that look like a license id to spdx-correct but mean something else: kept verbatim. */
const KEEP = new Set(['unlicensed', 'proprietary', 'public domain', 'unknown', 'none', 'commercial', 'other']);

/** Deprecated ids whose modern form is an id plus an exception. */
const DEPRECATED_WITH: Record<string, string> = {
  'GPL-2.0-with-classpath-exception': 'GPL-2.0-only WITH Classpath-exception-2.0',
  'GPL-2.0-with-GCC-exception': 'GPL-2.0-only WITH GCC-exception-2.0',
  'GPL-2.0-with-autoconf-exception': 'GPL-2.0-only WITH Autoconf-exception-2.0',
  'GPL-3.0-with-GCC-exception': 'GPL-3.0-only WITH GCC-exception-3.1',
  'GPL-3.0-with-autoconf-exception': 'GPL-3.0-only WITH Autoconf-exception-3.0',
};

/** Longest text we try to correct; anything longer is license prose, not a name. */
const MAX_CORRECTABLE = 100;

/** The ids spdx-expression-parse accepts on their own (its own copy of the lists): a plain id needs no parser. */
let plainIds: ReadonlySet<string> | undefined;

function isPlainId(text: string): boolean {
  if (plainIds === undefined) {
    const fromParser = createRequire(createRequire(import.meta.url).resolve('spdx-expression-parse'));
    plainIds = new Set<string>([...fromParser('spdx-license-ids') as string[], ...fromParser('spdx-license-ids/deprecated') as string[]]);
  }
  return plainIds.has(text);
}

function tryParse(text: string): Node | undefined {
  if (isPlainId(text)) return { license: text };
  try {
    return parse()(text);
  } catch {
    return undefined;
  }
}

/** One license id as SPDX writes it today: `GPL-2.0` → `GPL-2.0-only`, `GPL-2.0+` → `GPL-2.0-or-later`. */
function licenseText(license: string, plus: boolean | undefined, exception: string | undefined): string {
  let id = license;
  const gpl = /^(A?GPL|LGPL)-\d\.\d$/.exec(id);
  if (gpl) {
    id = plus ? `${id}-or-later` : `${id}-only`;
  } else {
    const replaced = DEPRECATED_WITH[id];
    if (replaced && !plus && !exception) return replaced;
    if (plus) id += '+';
  }
  return exception ? `${id} WITH ${exception}` : id;
}

/** Serialize a parsed expression with upper-case operators and only the parentheses needed. */
function serialize(node: Node, parent?: 'and' | 'or'): string {
  if ('license' in node) {
    const s = licenseText(node.license, node.plus, node.exception);
    return parent === 'and' && / OR /.test(s) ? `(${s})` : s;
  }
  const s = `${serialize(node.left, node.conjunction)} ${node.conjunction.toUpperCase()} ${serialize(node.right, node.conjunction)}`;
  return parent === 'and' && node.conjunction === 'or' ? `(${s})` : s;
}

/** Numbers in a text, with trailing `.0`s dropped: `GPL-2.0` → ['2'], `CC0 1.0` → ['0', '1']. */
function numbers(text: string): string[] {
  return (text.match(/\d+(?:\.\d+)*/g) ?? []).map((n) => n.replace(/(\.0)+$/, ''));
}

/** spdx-correct, but refusing corrections that invent a version the text does not have. */
function guardedCorrect(text: string): string | undefined {
  const fixed = correct()(text, { upgrade: false });
  if (!fixed) return undefined;
  const have = numbers(text);
  if (have.length && !numbers(fixed).every((n) => have.includes(n))) return undefined;
  const node = tryParse(fixed);
  return node ? serialize(node) : undefined;
}

const PLUS_SUFFIX = /(?:\s*\+|[\s-]+or[\s-]+later|[\s-]+or[\s-]+newer|[\s-]+or[\s-]+any[\s-]+later[\s-]+version)$/i;

/** One license name (no AND/OR) → an SPDX expression, or undefined. */
function correctOne(raw: string): string | undefined {
  const text = raw.trim().replace(/\s+/g, ' ');
  if (!text) return undefined;
  const node = tryParse(text);
  if (node) return serialize(node);
  if (text.length > MAX_CORRECTABLE) return undefined;
  const lower = text.toLowerCase().replace(/^the /, '');
  if (KEEP.has(lower) || lower.startsWith('see license')) return undefined;
  const known = KNOWN[lower] ?? KNOWN[lower.replace(/ licen[sc]e$/, '')];
  if (known) return known;

  if (PLUS_SUFFIX.test(text)) {
    const base = correctOne(text.replace(PLUS_SUFFIX, ''));
    const baseNode = base ? tryParse(base) : undefined;
    if (baseNode && 'license' in baseNode && !baseNode.exception) {
      const id = baseNode.license.replace(/-only$/, '');
      return serialize({ license: id, plus: true });
    }
    return undefined;
  }

  // "GNU General Public License v2 (GPLv2)", "Eclipse Public License 2.0 (EPL-2.0)": the short form wins.
  const paren = /^(.*?)\s*\(([^()]+)\)$/.exec(text);
  if (paren) {
    const inner = correctOne(paren[2] ?? '');
    if (inner) return inner;
    if (paren[1]) return correctOne(paren[1]);
  }
  return guardedCorrect(text);
}

const OPERATOR = /\s+(and|or)\s+/i;

/** Images repeat the same few hundred license texts thousands of times: each is worked out once. */
const normalized = new Map<string, string>();
const MAX_REMEMBERED = 20_000;

/**
 * An SPDX id or expression for a declared license when it can be resolved; otherwise the text
 * trimmed. `"Apache 2.0"` → `Apache-2.0`, `"MIT and BSD-3-Clause"` → `MIT AND BSD-3-Clause`.
 */
export function normalizeLicense(text: string): string {
  let normal = normalized.get(text);
  if (normal === undefined) {
    normal = normalizeUncached(text);
    if (normalized.size >= MAX_REMEMBERED) normalized.clear();
    normalized.set(text, normal);
  }
  return normal;
}

function normalizeUncached(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return '';
  const whole = tryParse(trimmed);
  if (whole) return serialize(whole);
  if (trimmed.length > MAX_CORRECTABLE * 3 || trimmed.includes('\n')) return trimmed;

  // "or later" is part of a name, not an operator.
  const protectedText = trimmed.replace(/([\s-]+)or([\s-]+)(later|newer)/gi, ' $3-PLUS');
  const unwrapped = protectedText.replace(/^\((.*)\)$/, '$1');
  if (OPERATOR.test(unwrapped) && !/[()]/.test(unwrapped)) {
    const pieces = unwrapped.split(OPERATOR);
    const out: string[] = [];
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] ?? '';
      if (i % 2 === 1) {
        out.push(piece.toUpperCase());
        continue;
      }
      const fixed = correctOne(piece.replace(/ (later|newer)-PLUS/gi, ' or $1'));
      if (!fixed) return trimmed;
      out.push(/ (AND|OR) /.test(fixed) ? `(${fixed})` : fixed);
    }
    const node = tryParse(out.join(' '));
    return node ? serialize(node) : trimmed;
  }
  return correctOne(trimmed) ?? trimmed;
}

/** Normalized licenses, empty values dropped, duplicates removed (first occurrence kept). */
export function licensesFrom(values: (string | undefined | null)[]): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const n = normalizeLicense(v);
    if (n) out.add(n);
  }
  return [...out];
}

/** Is `text` valid by the SPDX expression grammar (`MIT OR Apache-2.0`, `LicenseRef-x`, any listed id)? */
export function isSpdxExpression(text: string): boolean {
  try {
    parse()(text);
    return true;
  } catch {
    return false;
  }
}
