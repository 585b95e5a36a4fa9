/**
 * Python's way of printing values, where Anchore put them into trigger messages. Messages are
 * hashed into trigger ids (md5 of gate + trigger + message), so they must read byte for byte as
 * Anchore's did for existing allowlists to keep matching.
 */

/** `repr()` of a str: single quotes unless the text holds a single quote and no double quote. */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return quote + out + quote;
}

/** `str()` of a list of str: `['a', 'b']`. */
export function pyListRepr(items: string[]): string {
  return `[${items.map(pyStrRepr).join(', ')}]`;
}

/** `oct()`: `0o644`, `0o0`. */
export function pyOct(n: number): string {
  return `0o${n.toString(8)}`;
}

/** `str()` of a float: `9.8`, `7.0`, `-1.0`. */
export function pyFloat(n: number): string {
  if (Number.isInteger(n)) return `${n}.0`;
  return String(n);
}

/** `str()` of a date: `2024-01-31`. */
export function pyDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}
