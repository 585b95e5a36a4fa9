/**
 * CISA Known Exploited Vulnerabilities: the whole catalogue as one JSON document (online, fetched
 * conditionally) or its CSV twin (offline import). Every sync is a full replacement; a 304 yields
 * nothing and replaces nothing. Entries are checked against the catalogue schema's required
 * fields; an entry that fails is warned about and skipped.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { LadingError } from '../../errors.js';
import type { FeedDriver, ImportContext, SyncContext } from '../driver.js';
import type { FeedBatch, KevEntry } from '../model.js';

export const KEV_URL = 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json';

/** The schema's required fields of one catalogue entry (known_exploited_vulnerabilities_schema.json). */
const REQUIRED = ['cveID', 'vendorProject', 'product', 'vulnerabilityName', 'dateAdded', 'shortDescription', 'requiredAction', 'dueDate'] as const;
const CVE_ID = /^CVE-[0-9]{4}-[0-9]{4,19}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const BATCH = 2000;
const MAX_BYTES = 256 * 1024 * 1024;

type Warn = (message: string) => void;

/** One catalogue entry (JSON object or CSV row) → KevEntry, or a reason it is invalid. */
export function kevEntry(raw: unknown): KevEntry | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not an object';
  const r = raw as Record<string, unknown>;
  const missing = REQUIRED.filter((k) => typeof r[k] !== 'string');
  if (missing.length) return `missing or non-string ${missing.join(', ')}`;
  const s = (k: string): string => (r[k] as string).trim();
  if (!CVE_ID.test(s('cveID'))) return `cveID ${JSON.stringify(r.cveID)} is not a CVE id`;
  if (!DATE.test(s('dateAdded'))) return `dateAdded ${JSON.stringify(r.dateAdded)} is not a YYYY-MM-DD date`;
  if (!DATE.test(s('dueDate'))) return `dueDate ${JSON.stringify(r.dueDate)} is not a YYYY-MM-DD date`;
  const entry: KevEntry = {
    cve: s('cveID'),
    vendorProject: s('vendorProject'),
    product: s('product'),
    vulnerabilityName: s('vulnerabilityName'),
    dateAdded: s('dateAdded'),
    dueDate: s('dueDate'),
    requiredAction: s('requiredAction'),
  };
  if (typeof r.knownRansomwareCampaignUse === 'string' && r.knownRansomwareCampaignUse.trim()) {
    entry.knownRansomwareCampaignUse = r.knownRansomwareCampaignUse.trim();
  }
  return entry;
}

function label(raw: unknown, index: number): string {
  const id = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).cveID : undefined;
  return typeof id === 'string' ? `KEV entry ${index} (${id})` : `KEV entry ${index}`;
}

/**
 * The entries of a parsed catalogue, or of a bare array of entries or a single entry (then
 * `complete` is false: importing it must not replace the stored catalogue).
 */
export function kevFromJson(doc: unknown, warn: Warn, where: string): { entries: KevEntry[]; complete: boolean } {
  let items: unknown[];
  if (Array.isArray(doc)) {
    items = doc;
  } else if (typeof doc === 'object' && doc !== null && Array.isArray((doc as Record<string, unknown>).vulnerabilities)) {
    const d = doc as Record<string, unknown>;
    items = d.vulnerabilities as unknown[];
    for (const k of ['catalogVersion', 'dateReleased'] as const) {
      if (typeof d[k] !== 'string') warn(`${where}: the catalogue has no ${k}`);
    }
    if (typeof d.count !== 'number') warn(`${where}: the catalogue has no count`);
    else if (d.count !== items.length) warn(`${where}: the catalogue says count ${d.count} but lists ${items.length} entries`);
  } else if (typeof doc === 'object' && doc !== null && 'cveID' in doc) {
    return { entries: validEntries([doc], warn, where), complete: false };
  } else {
    throw new LadingError('BAD_INPUT', `${where}: not a KEV catalogue (no "vulnerabilities" array)`);
  }
  return { entries: validEntries(items, warn, where), complete: !Array.isArray(doc) };
}

function validEntries(items: unknown[], warn: Warn, where: string): KevEntry[] {
  const out: KevEntry[] = [];
  const seen = new Set<string>();
  items.forEach((raw, i) => {
    const e = kevEntry(raw);
    if (typeof e === 'string') {
      warn(`${where}: ${label(raw, i)} skipped: ${e}`);
    } else if (seen.has(e.cve)) {
      warn(`${where}: ${label(raw, i)} skipped: ${e.cve} is listed twice`);
    } else {
      seen.add(e.cve);
      out.push(e);
    }
  });
  return out;
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const plainEnd = (from: number): number => {
    let j = from;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 44 /* , */ || c === 10 /* \n */ || c === 13 /* \r */) break;
      j++;
    }
    return j;
  };
  while (i < n) {
    let field: string;
    if (text.charCodeAt(i) === 34 /* " */) {
      field = '';
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) {
          field += text.slice(j);
          j = n;
          break;
        }
        field += text.slice(j, q);
        if (text.charCodeAt(q + 1) === 34) {
          field += '"';
          j = q + 2;
        } else {
          j = q + 1;
          break;
        }
      }
      // anything between the closing quote and the delimiter is kept as it is
      const end = plainEnd(j);
      field += text.slice(j, end);
      i = end;
    } else {
      const end = plainEnd(i);
      field = text.slice(i, end);
      i = end;
    }
    row.push(field);
    if (text.charCodeAt(i) === 44) {
      i++;
      if (i === n) row.push('');
      continue;
    }
    rows.push(row);
    row = [];
    i += text.charCodeAt(i) === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
  }
  if (row.length) rows.push(row);
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

/** The CSV catalogue: a header row naming the same fields as the JSON. */
export function kevFromCsv(text: string, warn: Warn, where: string): KevEntry[] {
  const rows = parseCsv(text);
  const header = rows.shift()?.map((h) => h.trim());
  if (!header || !header.includes('cveID')) {
    throw new LadingError('BAD_INPUT', `${where}: not a KEV CSV (its header has no cveID column)`);
  }
  const missing = REQUIRED.filter((k) => !header.includes(k));
  if (missing.length) throw new LadingError('BAD_INPUT', `${where}: the KEV CSV header lacks ${missing.join(', ')}`);
  const objects = rows.map((cells, i) => {
    if (cells.length !== header.length) return `row ${i + 2} has ${cells.length} fields, the header ${header.length}`;
    return Object.fromEntries(header.map((h, j) => [h, cells[j]]));
  });
  const good: unknown[] = [];
  objects.forEach((o) => {
    if (typeof o === 'string') warn(`${where}: ${o}; skipped`);
    else good.push(o);
  });
  return validEntries(good, warn, where);
}

function parseJson(body: Buffer, where: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${where}: invalid JSON (${(e as Error).message})`);
  }
}

async function* inBatches(entries: KevEntry[]): AsyncGenerator<FeedBatch> {
  for (let i = 0; i < entries.length; i += BATCH) yield { kev: entries.slice(i, i + BATCH) };
}

async function* nothing(): AsyncGenerator<FeedBatch> {}

function looksLikeCsv(head: string): boolean {
  return /^\ufeff?"?cveID"?,/.test(head);
}

export const kevDriver: FeedDriver = {
  id: 'kev',
  description: 'CISA Known Exploited Vulnerabilities catalogue',

  async sync(ctx: SyncContext) {
    // a mirror directory (ending in /) gets the catalogue's file name; anything else is the whole URL
    const url = ctx.baseUrl === undefined ? KEV_URL : ctx.baseUrl.endsWith('/') ? `${ctx.baseUrl}known_exploited_vulnerabilities.json` : ctx.baseUrl;
    const res = await ctx.get(url, { maxBytes: MAX_BYTES });
    if (res.notModified) return { full: false, batches: nothing() };
    if (res.status !== 200) throw new LadingError('NETWORK', `${url}: HTTP ${res.status}`);
    const { entries, complete } = kevFromJson(parseJson(res.body, url), (m) => ctx.warn(m), url);
    if (!complete) throw new LadingError('BAD_INPUT', `${url}: not a KEV catalogue (no "vulnerabilities" array)`);
    if (entries.length === 0) throw new LadingError('BAD_INPUT', `${url}: the catalogue has no valid entries; keeping the stored one`);
    return { full: true, batches: inBatches(entries) };
  },

  detect(path: string, head: Buffer) {
    const text = head.toString('utf8', 0, Math.min(head.length, 4096));
    if (looksLikeCsv(text)) return true;
    if (/^\s*[[{]/.test(text) && /"catalogVersion"|Known Exploited Vulnerabilities/.test(text)) return true;
    return /^known_exploited_vulnerabilities\.(json|csv)$/.test(basename(path));
  },

  async importPath(path: string, ctx: ImportContext) {
    const body = await readFile(path);
    const text = body.toString('utf8');
    const warn = (m: string): void => ctx.warn(m);
    const { entries, complete } = /^\s*[[{]/.test(text)
      ? kevFromJson(parseJson(body, path), warn, path)
      : { entries: kevFromCsv(text, warn, path), complete: true };
    if (entries.length === 0) throw new LadingError('BAD_INPUT', `${path}: no valid KEV entries`);
    return { full: complete, batches: inBatches(entries) };
  },
};
