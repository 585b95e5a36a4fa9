/** Line-by-line regex scanning of file contents, with redaction. */
import type { SecretRule } from './rules.js';

export interface LineMatch {
  ruleId: string;
  description: string;
  line: number;
  match: string;
}

/** True when the bytes look binary (a NUL in the first 8 KiB). */
export function looksBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8192).includes(0);
}

export function redact(text: string): string {
  if (text.length <= 4) return '*'.repeat(text.length);
  const keep = Math.min(4, Math.floor(text.length / 4));
  return text.slice(0, keep) + '*'.repeat(Math.min(text.length - keep, 32));
}

function redacted(m: RegExpExecArray, rule: SecretRule, doRedact: boolean): string {
  const whole = m[0];
  if (!doRedact || rule.secret < 0) return whole.slice(0, 200);
  const part = m[rule.secret];
  if (part === undefined) return redact(whole);
  const at = whole.indexOf(part);
  return (whole.slice(0, at) + redact(part) + whole.slice(at + part.length)).slice(0, 200);
}

/** A rule with its keywords as one case-insensitive pattern. */
interface Compiled {
  rule: SecretRule;
  keyword: RegExp | null;
  /** The same pattern, global, to find the lines that hold a keyword. */
  keywordAll: RegExp | null;
  /**
   * The keywords lower-cased, when all are ASCII: `keyword` (case-insensitive, no `u` flag) can
   * match a text only where its lower-cased copy holds one of them, so they make a cheap first test.
   */
  lower: string[] | null;
}

interface CompiledSet {
  rules: Compiled[];
  /**
   * Every ASCII keyword of the set in one case-insensitive pattern, longest first, so that one pass
   * over a text tells which keywords it holds (see keywordsIn); null when no rule has them.
   */
  anyKeyword: RegExp | null;
  keywordCount: number;
}

const compiledSets = new WeakMap<SecretRule[], CompiledSet>();

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function compile(rules: SecretRule[]): CompiledSet {
  let out = compiledSets.get(rules);
  if (out === undefined) {
    const compiled = rules.map((rule): Compiled => {
      const source = rule.keywords?.length ? rule.keywords.map(escapeRegExp).join('|') : null;
      const ascii = rule.keywords?.length && rule.keywords.every((k) => /^[\x20-\x7e]+$/.test(k));
      return {
        rule, keyword: source === null ? null : new RegExp(source, 'i'), keywordAll: source === null ? null : new RegExp(source, 'gi'),
        lower: ascii ? rule.keywords!.map((k) => k.toLowerCase()) : null,
      };
    });
    const keywords = [...new Set(compiled.flatMap((c) => c.lower ?? []))].sort((a, b) => b.length - a.length);
    out = {
      rules: compiled,
      anyKeyword: keywords.length > 0 ? new RegExp(keywords.map(escapeRegExp).join('|'), 'gi') : null,
      keywordCount: keywords.length,
    };
    compiledSets.set(rules, out);
  }
  return out;
}

/**
 * The ASCII keywords (lower case) that occur in `text`, case-insensitively, found in one pass. The
 * search goes on one character after each match's start, so keywords that overlap are all seen; of
 * keywords starting at the same place the pattern reports the longest, and any shorter one there
 * is its prefix (keywordPresent).
 */
function keywordsIn(text: string, set: CompiledSet): Set<string> {
  const seen = new Set<string>();
  const re = set.anyKeyword!;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    seen.add(m[0].toLowerCase());
    if (seen.size === set.keywordCount) break;
    re.lastIndex = m.index + 1;
  }
  return seen;
}

function keywordPresent(k: string, seen: Set<string>): boolean {
  if (seen.has(k)) return true;
  for (const s of seen) if (s.startsWith(k)) return true;
  return false;
}

/**
 * The rules that may match somewhere in `text`: those without keywords, and those with a keyword in
 * it. The ASCII keywords of all rules are looked for in one pass (a case-insensitive indexOf per
 * keyword on a lower-cased copy was a pass each, and a copy); the per-line keyword test uses the
 * same case-insensitive patterns, so no rule that could match is left out.
 */
function rulesIn(text: string, set: CompiledSet): Compiled[] {
  let seen: Set<string> | null = null;
  return set.rules.filter((c) => {
    if (c.keyword === null) return true;
    if (c.lower === null) return c.keyword.test(text);
    seen ??= keywordsIn(text, set);
    return c.lower.some((k) => keywordPresent(k, seen!));
  });
}

/** Offsets where each line starts (text.split('\n') lines). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
  return starts;
}

function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The lines worth looking at: every line when some rule has no keywords, else those holding a keyword. */
function candidateLines(text: string, rules: Compiled[], starts: number[]): Iterable<number> {
  if (rules.some((c) => c.keywordAll === null)) return starts.keys();
  const lines = new Set<number>();
  for (const c of rules) {
    const re = c.keywordAll!;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const line = lineOf(starts, m.index);
      lines.add(line);
      // The rest of this line is settled: go on from the next one.
      re.lastIndex = line + 1 < starts.length ? starts[line + 1]! : text.length;
    }
  }
  return [...lines].sort((a, b) => a - b);
}

/**
 * Every rule match, line by line (line order, then rule order). A rule with keywords runs only on
 * lines that hold one of them (case-insensitive); the lines are found by one pass over the text
 * per rule, so a large file with few candidate lines costs little more than reading it.
 */
export function scanText(text: string, allRules: SecretRule[], doRedact = true, maxLineLength = 16 * 1024): LineMatch[] {
  const out: LineMatch[] = [];
  const rules = rulesIn(text, compile(allRules));
  if (rules.length === 0) return out;
  const starts = lineStarts(text);
  for (const i of candidateLines(text, rules, starts)) {
    const end = i + 1 < starts.length ? starts[i + 1]! - 1 : text.length;
    const line = text.slice(starts[i]!, Math.min(end, starts[i]! + maxLineLength));
    for (const { rule, keyword } of rules) {
      if (keyword !== null && !keyword.test(line)) continue;
      const m = rule.regex.exec(line);
      if (m) out.push({ ruleId: rule.id, description: rule.description, line: i + 1, match: redacted(m, rule, doRedact) });
    }
  }
  return out;
}
