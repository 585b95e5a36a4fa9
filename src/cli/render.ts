/** Output helpers shared by commands: tables, key/value blocks, JSON. */
import { textTable, wrapCell } from '../util/text-table.js';

export type OutputFormat = 'table' | 'json' | 'text';

/** How wide output may be: the terminal's columns, else $COLUMNS, else 100 (output to a file or pipe). */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  if (stream.isTTY && stream.columns) return stream.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : 100;
}

/** What a digest line says when there is none: an SBOM read from a file has no image, a legacy docker-archive no manifest. */
export function digestText(digest: string | undefined, imageId: string): string {
  return digest ?? (imageId ? '(none: legacy docker-archive)' : '(none: SBOM input)');
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** Columns four spaces apart under a header row, fitted to the terminal's width (long cells wrap). */
export function table(head: string[], rows: (string | number)[][], width = terminalWidth()): string {
  return textTable(head, rows, width);
}

/** One item (a problem, a reason) as lines that fit the width: the first at `indent`, the rest further in. */
export function wrapItem(text: string, indent = 2, width = terminalWidth()): string[] {
  const lines = wrapCell(text, Math.max(20, width - indent - 2));
  return lines.map((l, i) => `${' '.repeat(indent + (i ? 2 : 0))}${l}`);
}

export function keyValues(pairs: [string, string | number | undefined][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${(k + ':').padEnd(width + 2)}${v}`).join('\n') + '\n';
}

export function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
