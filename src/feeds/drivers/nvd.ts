/**
 * NVD: enrichment only. CVE records from the NVD API 2.0 (online, paged) or from NVD 2.0 JSON
 * files and CVE JSON 5 records (offline) become Vulnerability records with description, dates,
 * references, CVSS and a severity; no Affected records (CPE configurations are not matched and
 * not kept).
 *
 * Online: the first sync pages through the whole catalogue with no date filter and is a full
 * replacement (`full: true`): it is a complete export, so records that NVD no longer serves do not
 * linger. Later syncs are incremental upserts: `lastModStartDate`/`lastModEndDate` windows of at
 * most 120 days from the saved cursor up to the time the sync started, which becomes the next
 * cursor (so changes made while paging are fetched again next time, never missed). Requests are
 * spaced by a sliding-window limiter: 5 per 30 s, or 50 per 30 s with an API key (env
 * NVD_API_KEY, sent as the `apiKey` header). The clock is injectable so tests run fast.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import { LadingError } from '../../errors.js';
import type { FeedDriver, HttpResult, ImportContext, SyncContext } from '../driver.js';
import type { Cvss, FeedBatch, Severity, Vulnerability } from '../model.js';
import { obj, arr, str } from '../json.js';
import { readHead } from '../files.js';

export const NVD_URL = 'https://services.nvd.nist.gov/rest/json/cves/2.0';
export const NVD_PAGE_SIZE = 2000;
/** The longest lastModStartDate..lastModEndDate range the API accepts. */
export const NVD_MAX_WINDOW_MS = 120 * 24 * 60 * 60 * 1000;
const RATE_WINDOW_MS = 30_000;
const MAX_PAGE_BYTES = 256 * 1024 * 1024;
const MAX_FILE_BYTES = 1024 * 1024 * 1024;
const IMPORT_BATCH = 1000;
/** Statuses NVD answers when it is overloaded or throttling; retried after a pause. */
const RETRY_STATUS = new Set([403, 429, 500, 502, 503, 504]);
const RETRIES = 3;
const CVE_ID = /^CVE-\d{4}-\d{4,}$/;

type Warn = (message: string) => void;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface RateLimiter {
  /** Resolves when one more request may be sent. */
  acquire(): Promise<void>;
}

/** At most `limit` acquisitions in any `windowMs` span (a rolling window, as NVD counts). */
export function slidingWindowLimiter(limit: number, windowMs: number, clock: Clock = realClock): RateLimiter {
  const sent: number[] = [];
  return {
    async acquire() {
      for (;;) {
        const t = clock.now();
        while (sent.length > 0 && sent[0]! <= t - windowMs) sent.shift();
        if (sent.length < limit) {
          sent.push(t);
          return;
        }
        await clock.sleep(sent[0]! + windowMs - t);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Record conversion

const SEVERITY: Record<string, Severity> = { CRITICAL: 'Critical', HIGH: 'High', MEDIUM: 'Medium', LOW: 'Low', NONE: 'Negligible' };

function severityOf(s: unknown): Severity | undefined {
  return typeof s === 'string' ? SEVERITY[s.toUpperCase()] : undefined;
}

/** NVD writes UTC times without a zone (`2023-10-12T19:15:11.747`); the result is full ISO 8601 UTC. */
export function isoTime(s: unknown): string | undefined {
  if (typeof s !== 'string' || s.trim() === '') return undefined;
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(s) ? s : `${s}Z`;
  const t = Date.parse(zoned);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}




function englishText(list: unknown): string | undefined {
  const items = arr(list).map(obj).filter((d): d is Record<string, unknown> => !!d);
  const en = items.find((d) => typeof d.lang === 'string' && /^en\b/i.test(d.lang)) ?? items[0];
  return str(en?.value);
}

function uniqueUrls(list: unknown, field = 'url'): string[] {
  const out = new Set<string>();
  for (const r of arr(list)) {
    const u = str(obj(r)?.[field]);
    if (u) out.add(u);
  }
  return [...out];
}

/** NVD's metric keys, in the order severity is taken from them. */
const NVD_METRICS = ['cvssMetricV31', 'cvssMetricV30', 'cvssMetricV40', 'cvssMetricV2'] as const;

/** `nvd@nist.gov` is NVD itself; other sources (CNA e-mails or UUIDs) are kept as NVD names them. */
function scorer(source: unknown): string {
  return source === 'nvd@nist.gov' ? 'nvd' : (str(source) ?? 'unknown');
}

interface Scored {
  cvss: Cvss;
  severity?: Severity;
}

function nvdMetrics(metrics: Record<string, unknown> | undefined): Scored[] {
  const out: Scored[] = [];
  for (const key of NVD_METRICS) {
    for (const m of arr(metrics?.[key])) {
      const metric = obj(m);
      const data = obj(metric?.cvssData);
      const vector = str(data?.vectorString);
      const score = data?.baseScore;
      if (!metric || !data || !vector || typeof score !== 'number') continue;
      const type = metric.type === 'Primary' || metric.type === 'Secondary' ? metric.type : undefined;
      const cvss: Cvss = { source: scorer(metric.source), version: str(data.version) ?? key.replace(/^cvssMetricV(\d)(\d)$/, '$1.$2'), vector, baseScore: score };
      if (type) cvss.type = type;
      // v2 carries its severity beside cvssData, v3 and v4 inside it
      out.push({ cvss, severity: severityOf(data.baseSeverity ?? metric.baseSeverity) });
    }
  }
  return out;
}

/** The Primary score's severity in v3.1, v3.0, v4.0, v2 order; else the first Secondary one. */
function pickSeverity(scored: Scored[]): Severity | undefined {
  return (scored.find((s) => s.cvss.type === 'Primary' && s.severity) ?? scored.find((s) => s.severity))?.severity;
}

/** One NVD API 2.0 `vulnerabilities[].cve` object → Vulnerability; a string says why it is not one. */
export function nvdVulnerability(cve: unknown): Vulnerability | string {
  const c = obj(cve);
  if (!c) return 'not an object';
  const id = str(c.id);
  if (!id || !CVE_ID.test(id)) return `id ${JSON.stringify(c.id)} is not a CVE id`;
  const scored = nvdMetrics(obj(c.metrics));
  const v: Vulnerability = { id, source: 'nvd', aliases: [], cvss: scored.map((s) => s.cvss), references: uniqueUrls(c.references) };
  const description = englishText(c.descriptions);
  if (description) v.description = description;
  const published = isoTime(c.published);
  if (published) v.published = published;
  const modified = isoTime(c.lastModified);
  if (modified) v.modified = modified;
  const severity = pickSeverity(scored);
  if (severity) v.severity = severity;
  if (c.vulnStatus === 'Rejected') v.withdrawn = modified ?? published ?? 'rejected';
  return v;
}

/** CVE JSON 5 metric keys, in the order severity is taken from them. */
const CVE5_METRICS: [string, string][] = [['cvssV3_1', '3.1'], ['cvssV3_0', '3.0'], ['cvssV4_0', '4.0'], ['cvssV2_0', '2.0']];

function cve5Metrics(container: Record<string, unknown> | undefined, source: string): Scored[] {
  const out: Scored[] = [];
  for (const [key, version] of CVE5_METRICS) {
    for (const m of arr(container?.metrics)) {
      const data = obj(obj(m)?.[key]);
      const vector = str(data?.vectorString);
      if (!data || !vector || typeof data.baseScore !== 'number') continue;
      out.push({ cvss: { source, version: str(data.version) ?? version, vector, baseScore: data.baseScore, type: 'Secondary' }, severity: severityOf(data.baseSeverity) });
    }
  }
  return out;
}

/** One CVE JSON 5 record (cve.org / cvelistV5) → Vulnerability; a string says why it is not one. */
export function cve5Vulnerability(record: unknown): Vulnerability | string {
  const r = obj(record);
  const meta = obj(r?.cveMetadata);
  const id = str(meta?.cveId);
  if (!r || !meta) return 'not a CVE JSON 5 record (no cveMetadata)';
  if (!id || !CVE_ID.test(id)) return `cveId ${JSON.stringify(meta.cveId)} is not a CVE id`;
  const containers = obj(r.containers);
  const cna = obj(containers?.cna);
  const scored = cve5Metrics(cna, str(meta.assignerShortName) ?? 'cna');
  for (const adp of arr(containers?.adp)) {
    const a = obj(adp);
    scored.push(...cve5Metrics(a, str(obj(a?.providerMetadata)?.shortName) ?? 'adp'));
  }
  const v: Vulnerability = { id, source: 'nvd', aliases: [], cvss: scored.map((s) => s.cvss), references: uniqueUrls(cna?.references) };
  const summary = str(cna?.title);
  if (summary) v.summary = summary;
  const description = englishText(cna?.descriptions);
  if (description) v.description = description;
  const published = isoTime(meta.datePublished);
  if (published) v.published = published;
  const modified = isoTime(meta.dateUpdated);
  if (modified) v.modified = modified;
  const severity = scored.find((s) => s.severity)?.severity;
  if (severity) v.severity = severity;
  if (meta.state === 'REJECTED') v.withdrawn = isoTime(meta.dateRejected) ?? modified ?? 'rejected';
  return v;
}

interface Page {
  totalResults: number;
  startIndex: number;
  items: unknown[];
}

function asPage(doc: unknown): Page | undefined {
  const d = obj(doc);
  if (!d || !Array.isArray(d.vulnerabilities)) return undefined;
  const total = typeof d.totalResults === 'number' ? d.totalResults : d.vulnerabilities.length;
  return { totalResults: total, startIndex: typeof d.startIndex === 'number' ? d.startIndex : 0, items: d.vulnerabilities };
}

/** The Vulnerability records of one NVD page / feed document; bad records are warned about and skipped. */
export function pageVulnerabilities(items: unknown[], warn: Warn, where: string): Vulnerability[] {
  const out: Vulnerability[] = [];
  items.forEach((item, i) => {
    const cve = obj(item)?.cve;
    const v = nvdVulnerability(cve);
    if (typeof v === 'string') {
      const id = str(obj(cve)?.id);
      warn(`${where}: record ${i}${id ? ` (${id})` : ''} skipped: ${v}`);
    } else {
      out.push(v);
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Online

/** NVD's extended ISO 8601 with an explicit UTC offset: `2024-01-01T00:00:00.000+00:00`. */
export function nvdDate(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

/** [start, end) split into consecutive windows of at most `max` ms. */
export function windows(startMs: number, endMs: number, max = NVD_MAX_WINDOW_MS): [number, number][] {
  const out: [number, number][] = [];
  for (let s = startMs; s < endMs; s += max) out.push([s, Math.min(s + max, endMs)]);
  return out;
}

export interface NvdOptions {
  /** Overrides env NVD_API_KEY; null means no key even if the env has one. */
  apiKey?: string | null;
  clock?: Clock;
  /** Overrides the limiter that the key's presence selects. */
  limiter?: RateLimiter;
  pageSize?: number;
  maxWindowMs?: number;
}

function parseJson(body: Buffer, where: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${where}: invalid JSON (${(e as Error).message})`);
  }
}

/** The HTTP status an error from SyncContext.get reports (it throws for statuses other than 2xx/304). */
function statusOf(e: unknown): number | undefined {
  const m = e instanceof LadingError ? /\bHTTP (\d{3})\b/.exec(e.message) : null;
  return m ? Number(m[1]) : undefined;
}

async function fetchPage(ctx: SyncContext, url: string, headers: Record<string, string>, limiter: RateLimiter, clock: Clock): Promise<Page> {
  for (let attempt = 1; ; attempt++) {
    await limiter.acquire();
    let res: HttpResult | undefined;
    let failure: unknown;
    try {
      res = await ctx.get(url, { headers, conditional: false, maxBytes: MAX_PAGE_BYTES });
    } catch (e) {
      failure = e;
    }
    if (res?.status === 200) {
      const page = asPage(parseJson(res.body, url));
      if (!page) throw new LadingError('BAD_INPUT', `${url}: not an NVD API page (no "vulnerabilities" array)`);
      return page;
    }
    // NVD answers 403 when the rate limit is exceeded, 503 when busy: pause and try again
    const status = res?.status ?? statusOf(failure);
    if (status === undefined || !RETRY_STATUS.has(status) || attempt >= RETRIES) {
      if (failure !== undefined) throw failure;
      const why = res!.headers.message ?? res!.body.toString('utf8', 0, 200);
      throw new LadingError('NETWORK', `${url}: HTTP ${res!.status}${why ? ` (${why.trim()})` : ''}`);
    }
    ctx.warn(`${url}: HTTP ${status}; retrying in ${6 * attempt} s`);
    await clock.sleep(6000 * attempt);
  }
}

async function* pages(
  ctx: SyncContext,
  base: string,
  ranges: ([number, number] | undefined)[],
  opts: { headers: Record<string, string>; limiter: RateLimiter; clock: Clock; pageSize: number },
  cursor: string,
): AsyncGenerator<FeedBatch> {
  for (const range of ranges) {
    let start = 0;
    for (;;) {
      const q = new URLSearchParams();
      if (range) {
        q.set('lastModStartDate', nvdDate(range[0]));
        q.set('lastModEndDate', nvdDate(range[1]));
      }
      q.set('resultsPerPage', String(opts.pageSize));
      q.set('startIndex', String(start));
      const url = `${base}?${q.toString()}`;
      const page = await fetchPage(ctx, url, opts.headers, opts.limiter, opts.clock);
      const vulnerabilities = pageVulnerabilities(page.items, (m) => ctx.warn(m), url);
      if (vulnerabilities.length) yield { vulnerabilities };
      start += page.items.length;
      if (page.items.length === 0 || start >= page.totalResults) {
        if (page.items.length === 0 && start < page.totalResults) {
          ctx.warn(`${url}: an empty page at ${start} of ${page.totalResults}; stopping this window`);
        }
        break;
      }
    }
  }
  ctx.setState('lastModified', cursor);
}

// ---------------------------------------------------------------------------------------------
// Offline

function isGzip(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

function headText(head: Buffer): string {
  if (!isGzip(head)) return head.toString('utf8', 0, Math.min(head.length, 8192));
  try {
    return gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8', 0, 8192);
  } catch {
    return '';
  }
}

function looksNative(text: string): boolean {
  return /"format"\s*:\s*"NVD_CVE"/.test(text) || /"dataType"\s*:\s*"CVE_RECORD"/.test(text) || /^\s*\{\s*"resultsPerPage"/.test(text) || /"cveMetadata"\s*:/.test(text);
}


const FEED_FILE = /\.json(\.gz)?$/i;

async function* files(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile() && FEED_FILE.test(e.name)) yield p;
  }
}

/** The records of one file: an NVD API page / 2.0 feed, a CVE JSON 5 record, or an array of either. */
async function fileVulnerabilities(path: string, warn: Warn): Promise<Vulnerability[] | undefined> {
  let body = await readFile(path);
  if (isGzip(body)) body = gunzipSync(body, { maxOutputLength: MAX_FILE_BYTES });
  const doc = parseJson(body, path);
  const page = asPage(doc);
  if (page) return pageVulnerabilities(page.items, warn, path);
  const records = Array.isArray(doc) ? doc : obj(doc)?.cveMetadata ? [doc] : undefined;
  if (!records) return undefined;
  const out: Vulnerability[] = [];
  records.forEach((r, i) => {
    const v = cve5Vulnerability(r);
    if (typeof v === 'string') warn(`${path}${records.length > 1 ? ` record ${i}` : ''} skipped: ${v}`);
    else out.push(v);
  });
  return out;
}

async function* importBatches(path: string, isDir: boolean, ctx: ImportContext): AsyncGenerator<FeedBatch> {
  let pending: Vulnerability[] = [];
  const list = isDir ? files(path) : (async function* () {
    yield path;
  })();
  for await (const f of list) {
    const vs = await fileVulnerabilities(f, (m) => ctx.warn(m)).catch((e: unknown) => {
      if (!isDir) throw e;
      ctx.warn(`${f}: skipped: ${(e as Error).message}`);
      return [];
    });
    if (vs === undefined) {
      if (!isDir) throw new LadingError('BAD_INPUT', `${f}: neither an NVD API 2.0 document nor a CVE JSON 5 record`);
      ctx.warn(`${f}: neither an NVD API 2.0 document nor a CVE JSON 5 record; skipped`);
      continue;
    }
    pending.push(...vs);
    if (pending.length >= IMPORT_BATCH) {
      yield { vulnerabilities: pending };
      pending = [];
    }
  }
  if (pending.length) yield { vulnerabilities: pending };
}

export function createNvdDriver(options: NvdOptions = {}): FeedDriver {
  const clock = options.clock ?? realClock;
  return {
    id: 'nvd',
    description: 'NVD CVE records (descriptions, CVSS, references; enrichment only)',

    async sync(ctx: SyncContext) {
      // a mirror root (ending in /) gets the API path; anything else is the whole endpoint URL
      const base = ctx.baseUrl === undefined ? NVD_URL : ctx.baseUrl.endsWith('/') ? `${ctx.baseUrl}rest/json/cves/2.0` : ctx.baseUrl;
      const key = options.apiKey === undefined ? process.env.NVD_API_KEY : options.apiKey;
      const headers: Record<string, string> = key ? { apiKey: key } : {};
      const limiter = options.limiter ?? slidingWindowLimiter(key ? 50 : 5, RATE_WINDOW_MS, clock);
      const started = clock.now();
      const saved = ctx.state.lastModified;
      const from = saved === undefined ? undefined : Date.parse(saved);
      if (saved !== undefined && (from === undefined || Number.isNaN(from))) {
        ctx.warn(`nvd: the saved cursor ${JSON.stringify(saved)} is not a date; doing a full sync`);
      }
      const full = from === undefined || Number.isNaN(from);
      const ranges = full ? [undefined] : windows(from, started, options.maxWindowMs ?? NVD_MAX_WINDOW_MS);
      const opts = { headers, limiter, clock, pageSize: options.pageSize ?? NVD_PAGE_SIZE };
      return { full, batches: pages(ctx, base, ranges, opts, new Date(started).toISOString()) };
    },

    async detect(path: string, head: Buffer) {
      const info = await stat(path).catch(() => undefined);
      if (info?.isDirectory()) {
        for await (const f of files(path)) return looksNative(headText(await readHead(f, 8192)));
        return false;
      }
      if (/^nvdcve-2\.0-.*\.json(\.gz)?$/.test(basename(path))) return true;
      return looksNative(headText(head));
    },

    async importPath(path: string, ctx: ImportContext) {
      const info = await stat(path);
      return { full: false, batches: importBatches(path, info.isDirectory(), ctx) };
    },
  };
}

export const nvdDriver: FeedDriver = createNvdDriver();
