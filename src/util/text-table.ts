/**
 * Borderless text tables (columns two spaces apart, a header row) that fit a given width: when
 * the natural widths do not fit, the widest prose columns are narrowed first and their cells
 * wrapped at spaces (a word longer than its column is cut). Columns of identifiers (no spaces:
 * names, ids, digests up to 71 characters) keep their width, so an id is never split unless even
 * the narrowest layout is too wide.
 */

const GAP = '  ';
/** A prose column is not narrowed below this (nor below its header). */
const MIN_PROSE = 16;
/** Identifiers up to this long are never wrapped (a UUID is 36, a sha256 digest with its prefix 71). */
const MAX_ID = 71;

/** Display width: code points, without terminal colour sequences. */
function displayWidth(s: string): number {
  return [...s.replace(/\x1b\[[0-9;]*m/g, '')].length;
}

function naturalWidth(cell: string): number {
  return Math.max(0, ...cell.split('\n').map(displayWidth));
}

/** The widths to use: the natural ones when they fit, else the widest columns capped at one limit (and the room left given back). */
export function fitWidths(natural: number[], floors: number[], available: number): number[] {
  const sum = (ws: number[]) => ws.reduce((a, b) => a + b, 0);
  if (sum(natural) <= available) return natural;
  const capped = (cap: number) => natural.map((w, i) => Math.min(w, Math.max(floors[i]!, cap)));
  let lo = 0;
  let hi = Math.max(...natural);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (sum(capped(mid)) <= available) lo = mid;
    else hi = mid - 1;
  }
  const widths = capped(lo);
  let room = available - sum(widths);
  for (let i = 0; room > 0 && i < widths.length; i++) {
    const more = Math.min(room, natural[i]! - widths[i]!);
    widths[i] = widths[i]! + more;
    room -= more;
  }
  return widths;
}

/** One cell's text as lines of at most `width` characters: wrapped at spaces, over-long words cut. */
export function wrapCell(text: string, width: number): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (displayWidth(line) <= width) {
      out.push(line);
      continue;
    }
    let current = '';
    for (const word of line.split(' ')) {
      if (current && displayWidth(current) + 1 + displayWidth(word) <= width) {
        current += ` ${word}`;
        continue;
      }
      if (current) out.push(current);
      const chars = [...word];
      while (chars.length > width) out.push(chars.splice(0, width).join(''));
      current = chars.join('');
    }
    out.push(current);
  }
  return out;
}

/** The table as text (one line per row unless cells wrap), lines right-trimmed, ending in a newline. */
export function textTable(head: string[], rows: readonly (readonly (string | number)[])[], width = Infinity): string {
  const all = [head, ...rows.map((r) => r.map(String))];
  const columns = Math.max(head.length, ...all.map((r) => r.length));
  const natural = Array.from({ length: columns }, (_, i) => Math.max(0, ...all.map((r) => naturalWidth(r[i] ?? ''))));
  const prose = natural.map((_, i) => rows.some((r) => String(r[i] ?? '').includes(' ')));
  const floors = natural.map((w, i) => Math.min(w, Math.max(displayWidth(head[i] ?? ''), prose[i] ? MIN_PROSE : MAX_ID)));
  const widths = fitWidths(natural, floors, width - GAP.length * (columns - 1));
  const lines: string[] = [];
  for (const row of all) {
    const cells = widths.map((w, i) => wrapCell(row[i] ?? '', w));
    const height = Math.max(...cells.map((c) => c.length));
    for (let l = 0; l < height; l++) {
      const parts = cells.map((c, i) => {
        const text = c[l] ?? '';
        return text + ' '.repeat(Math.max(0, widths[i]! - displayWidth(text)));
      });
      lines.push(parts.join(GAP).trimEnd());
    }
  }
  return `${lines.join('\n')}\n`;
}
