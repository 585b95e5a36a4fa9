/** `csv`: one line per finding (RFC 4180: a header line, fields quoted when they hold a comma, quote or line break). */
import type { ScanResult } from '../model.js';
import { findingRows, ROW_FIELDS } from './rows.js';

export const csvMediaType = 'text/csv; charset=utf-8';

function field(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function writeScanCsv(result: ScanResult, options: { header?: boolean } = {}): string {
  const lines = findingRows(result).map((r) => ROW_FIELDS.map((f) => field(r[f])).join(','));
  if (options.header !== false) lines.unshift(ROW_FIELDS.join(','));
  return lines.map((l) => `${l}\r\n`).join('');
}
