/** Output helpers shared by commands: tables, key/value blocks, JSON. */
import { createRequire } from 'node:module';
import type TableType from 'cli-table3';

/** cli-table3 is loaded on the first table, so that commands which print none start faster. */
let loadedTable: typeof TableType | undefined;
const tableClass = (): typeof TableType => (loadedTable ??= createRequire(import.meta.url)('cli-table3') as typeof TableType);

export type OutputFormat = 'table' | 'json' | 'text';

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new (tableClass())({
    head,
    style: { head: [], border: [], compact: true },
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
  });
  for (const r of rows) t.push(r.map(String));
  return t.toString().split('\n').map((l) => l.trimEnd().replace(/^ /, '')).join('\n') + '\n';
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
