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

/**
 * The rules that can match somewhere in the text: a rule with keywords needs one of them in some
 * line, so in the whole text (keywords are ASCII, and lower-casing maps characters one by one).
 */
function candidates(text: string, rules: SecretRule[]): SecretRule[] {
  let lower: string | undefined;
  return rules.filter((r) => {
    if (!r.keywords) return true;
    lower ??= text.toLowerCase();
    return r.keywords.some((k) => lower!.includes(k));
  });
}

export function scanText(text: string, allRules: SecretRule[], doRedact = true, maxLineLength = 16 * 1024): LineMatch[] {
  const out: LineMatch[] = [];
  const rules = candidates(text, allRules);
  if (rules.length === 0) return out;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.length > maxLineLength) line = line.slice(0, maxLineLength);
    let lower: string | undefined;
    for (const rule of rules) {
      if (rule.keywords) {
        lower ??= line.toLowerCase();
        if (!rule.keywords.some((k) => lower!.includes(k))) continue;
      }
      const m = rule.regex.exec(line);
      if (m) out.push({ ruleId: rule.id, description: rule.description, line: i + 1, match: redacted(m, rule, doRedact) });
    }
  }
  return out;
}
