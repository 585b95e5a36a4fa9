/**
 * FIRST EPSS scores: one gzipped CSV a day, `#model_version:…,score_date:…` then
 * `cve,epss,percentile` rows. Every sync is a full replacement; a 304 yields nothing.
 *
 * The score date comes from the comment line. Without it the date is taken from the file name
 * (`epss_scores-2025-02-20.csv.gz`) or the response's Last-Modified header, with a warning; with
 * none of them the file is refused (as vunnel does): stamping scores with the wrong day would be
 * worse than keeping the stored ones.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import { LadingError } from '../../errors.js';
import type { FeedDriver, ImportContext, SyncContext } from '../driver.js';
import type { EpssEntry, FeedBatch } from '../model.js';

export const EPSS_URL = 'https://epss.empiricalsecurity.com/epss_scores-current.csv.gz';

const BATCH = 5000;
const MAX_BYTES = 512 * 1024 * 1024;
const CVE_ID = /^CVE-\d{4}-\d{4,}$/;
/** Bad rows warned about one by one; beyond this, one summary line. */
const MAX_ROW_WARNINGS = 20;

type Warn = (message: string) => void;

export interface EpssFile {
  modelVersion?: string;
  date: string;
  entries: EpssEntry[];
}

/** `2024-10-25T00:00:00+0000` → `2024-10-25`. */
function dayOf(s: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(s.trim());
  return m?.[1];
}

function dayOfHttpDate(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString().slice(0, 10);
}

/**
 * Parse the CSV text. `fallbackDate` (from a file name or HTTP header) is used, with a warning,
 * only when the comment line has no score_date.
 */
export function parseEpssCsv(text: string, warn: Warn, where: string, fallbackDate?: string): EpssFile {
  const lines = text.split(/\r?\n/);
  let i = 0;
  let date: string | undefined;
  let modelVersion: string | undefined;
  for (; i < lines.length && (lines[i]!.startsWith('#') || lines[i]!.trim() === ''); i++) {
    for (const part of lines[i]!.replace(/^#/, '').split(',')) {
      const colon = part.indexOf(':');
      if (colon < 0) continue;
      const key = part.slice(0, colon).trim();
      const value = part.slice(colon + 1).trim();
      if (key === 'score_date') date = dayOf(value);
      if (key === 'model_version') modelVersion = value;
    }
  }
  const header = (lines[i] ?? '').trim().toLowerCase().split(',').map((h) => h.trim());
  const col = { cve: header.indexOf('cve'), epss: header.indexOf('epss'), percentile: header.indexOf('percentile') };
  if (col.cve < 0 || col.epss < 0 || col.percentile < 0) {
    throw new LadingError('BAD_INPUT', `${where}: invalid EPSS header ${JSON.stringify(lines[i] ?? '')} (expected cve,epss,percentile)`);
  }
  if (!date) {
    if (!fallbackDate) {
      throw new LadingError('BAD_INPUT', `${where}: the EPSS file has no score_date in its "#model_version:…,score_date:…" line, and none could be found elsewhere`);
    }
    warn(`${where}: no score_date in the EPSS comment line; using ${fallbackDate}`);
    date = fallbackDate;
  }
  const entries: EpssEntry[] = [];
  let bad = 0;
  const reject = (line: number, why: string): void => {
    bad++;
    if (bad <= MAX_ROW_WARNINGS) warn(`${where}: line ${line + 1} skipped: ${why}`);
  };
  for (i++; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const cells = line.split(',');
    if (cells.length !== header.length) {
      reject(i, `${cells.length} fields, the header has ${header.length}`);
      continue;
    }
    const cve = cells[col.cve]!.trim();
    const score = Number(cells[col.epss]);
    const percentile = Number(cells[col.percentile]);
    if (!CVE_ID.test(cve)) reject(i, `${JSON.stringify(cve)} is not a CVE id`);
    else if (cells[col.epss]!.trim() === '' || !(score >= 0 && score <= 1)) reject(i, `${cve}: epss ${JSON.stringify(cells[col.epss])} is not a probability`);
    else if (cells[col.percentile]!.trim() === '' || !(percentile >= 0 && percentile <= 1)) reject(i, `${cve}: percentile ${JSON.stringify(cells[col.percentile])} is not within 0..1`);
    else entries.push({ cve, score, percentile, date });
  }
  if (bad > MAX_ROW_WARNINGS) warn(`${where}: ${bad - MAX_ROW_WARNINGS} more bad lines skipped`);
  return { modelVersion, date, entries };
}

function isGzip(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

function decode(body: Buffer, where: string): string {
  if (!isGzip(body)) return body.toString('utf8');
  try {
    return gunzipSync(body, { maxOutputLength: MAX_BYTES }).toString('utf8');
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${where}: cannot gunzip (${(e as Error).message})`);
  }
}

async function* inBatches(entries: EpssEntry[]): AsyncGenerator<FeedBatch> {
  for (let i = 0; i < entries.length; i += BATCH) yield { epss: entries.slice(i, i + BATCH) };
}

async function* nothing(): AsyncGenerator<FeedBatch> {}

function checked(file: EpssFile, where: string): EpssFile {
  if (file.entries.length === 0) throw new LadingError('BAD_INPUT', `${where}: no valid EPSS rows; keeping the stored scores`);
  return file;
}

/** The first bytes of a file, gunzipped when they are gzip (a truncated stream decodes as far as it goes). */
function headText(head: Buffer): string {
  if (!isGzip(head)) return head.toString('utf8', 0, Math.min(head.length, 1024));
  try {
    return gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8', 0, 1024);
  } catch {
    return '';
  }
}

export const epssDriver: FeedDriver = {
  id: 'epss',
  description: 'FIRST Exploit Prediction Scoring System daily scores',

  async sync(ctx: SyncContext) {
    // a mirror directory (ending in /) gets the file name; anything else is the whole URL
    const url = ctx.baseUrl === undefined ? EPSS_URL : ctx.baseUrl.endsWith('/') ? `${ctx.baseUrl}epss_scores-current.csv.gz` : ctx.baseUrl;
    const res = await ctx.get(url, { maxBytes: MAX_BYTES });
    if (res.notModified) return { full: false, batches: nothing() };
    if (res.status !== 200) throw new LadingError('NETWORK', `${url}: HTTP ${res.status}`);
    const fallback = dayOf(/(\d{4}-\d{2}-\d{2})/.exec(basename(new URL(url).pathname))?.[1] ?? '') ?? dayOfHttpDate(res.headers['last-modified']);
    const file = checked(parseEpssCsv(decode(res.body, url), (m) => ctx.warn(m), url, fallback), url);
    return { full: true, batches: inBatches(file.entries) };
  },

  detect(_path: string, head: Buffer) {
    const text = headText(head);
    return /^#model_version:/.test(text) || /^cve,epss,percentile\b/i.test(text);
  },

  async importPath(path: string, ctx: ImportContext) {
    const fallback = /(\d{4}-\d{2}-\d{2})/.exec(basename(path))?.[1];
    const file = checked(parseEpssCsv(decode(await readFile(path), path), (m) => ctx.warn(m), path, fallback), path);
    return { full: true, batches: inBatches(file.entries) };
  },
};
