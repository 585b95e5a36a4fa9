/**
 * Paths inside an image, chroot-style: every path is taken relative to the image root, `.` and
 * `..` are resolved lexically and `..` never climbs above the root (as umoci and containerd do).
 */

export interface ImagePath {
  /** The components below the root, without `.`, `..` or empty ones. Empty for the root itself. */
  parts: string[];
  /** The path started with `/`. */
  absolute: boolean;
  /** The path had a `..` component. */
  dotdot: boolean;
  /** A `..` tried to climb above the root and was clamped there. */
  escaped: boolean;
}

/** Split and normalise a path from a tar header (or a link target) inside the image root. */
export function parseImagePath(raw: string): ImagePath {
  const parts: string[] = [];
  let dotdot = false;
  let escaped = false;
  for (const s of raw.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') {
      dotdot = true;
      if (parts.length > 0) parts.pop();
      else escaped = true;
      continue;
    }
    parts.push(s);
  }
  return { parts, absolute: raw.charCodeAt(0) === 0x2f, dotdot, escaped };
}

/** The absolute, normalised form of a path ('/' for the root). */
export function normalisePath(raw: string): string {
  return '/' + parseImagePath(raw).parts.join('/');
}

/** Map a UTF-16 code unit so that code-unit order equals UTF-8 byte order (surrogates sort last). */
function unit(c: number): number {
  if (c < 0xd800) return c;
  return c <= 0xdfff ? c + 0x2000 : c - 0x800;
}

/** Compare two strings by their UTF-8 bytes, as `LC_ALL=C sort` does. */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return unit(x) - unit(y);
  }
  return a.length - b.length;
}

/** Code units at or above U+D800, where UTF-16 order and UTF-8 byte order part ways. */
export const HIGH_UNITS = /[\ud800-\uffff]/;

/** Sort strings in UTF-8 byte order; the native comparison is used when it agrees (no units >= U+D800). */
export function sortBytes(list: string[]): string[] {
  if (list.some((s) => HIGH_UNITS.test(s))) return list.sort(compareBytes);
  return list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
