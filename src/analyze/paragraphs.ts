/** RFC 822-style control paragraphs (dpkg status, apk installed db use variants of it). */

export type Fields = Map<string, string>;

/**
 * Split a dpkg control file into paragraphs of fields. Continuation lines (starting with a space
 * or tab) are appended to the previous field with a newline; field names are case-insensitive and
 * kept as written in the first paragraph occurrence, looked up lowercased.
 */
export function parseControl(text: string): Fields[] {
  const out: Fields[] = [];
  let cur: Fields = new Map();
  let last: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      if (cur.size) out.push(cur);
      cur = new Map();
      last = undefined;
      continue;
    }
    if (line.startsWith('#')) continue;
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      cur.set(last, `${cur.get(last)}\n${line.slice(1)}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    cur.set(last, line.slice(colon + 1).trim());
  }
  if (cur.size) out.push(cur);
  return out;
}
