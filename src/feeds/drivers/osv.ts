/**
 * The OSV driver: the osv.dev bulk export (one bucket folder per ecosystem).
 *
 * Online, per ecosystem: with no cursor, download `<Ecosystem>/all.zip` and remember the newest
 * `modified` seen; with a cursor, read `<Ecosystem>/modified_id.csv` (`timestamp,id`, newest
 * first; conditional) and fetch `<Ecosystem>/<ID>.json` for the records modified since, or the
 * whole all.zip again when more than `maxIncremental` changed. A sync where every ecosystem
 * starts from all.zip is a full replace; anything else is an upsert, so one ecosystem's update
 * never drops another's records.
 *
 * Offline: a record (.json / .yaml), a directory tree of them, an all.zip, or a directory of
 * `<Ecosystem>/all.zip`. Imports upsert (a single ecosystem's export must not drop the others).
 *
 * The reading and batching helpers here are shared with the ghsa and ubuntu drivers.
 */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { FeedDriver, HttpResult, ImportContext, SourceId, SyncContext } from '../driver.js';
import type { FeedBatch } from '../model.js';
import { OSV_ECOSYSTEMS, convertOsv, isOsvFileName, parseOsvText, type OsvOptions } from '../osv.js';
import { looksLikeZip, openZip, type ZipArchive } from '../../analyze/zip.js';
import { LadingError, describeError, isLadingError } from '../../errors.js';

export const OSV_BASE_URL = 'https://osv-vulnerabilities.storage.googleapis.com';

/** The ecosystems Lading matches, as the bucket names its folders (the distros of feeds/osv.ts, then sbom/ecosystems.ts). */
export const DEFAULT_OSV_ECOSYSTEMS: readonly string[] = OSV_ECOSYSTEMS;

/** Records per FeedBatch. */
export const OSV_BATCH_SIZE = 500;
/** Largest archive read (an all.zip, the GitHub advisory archive). */
export const MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024;
/** Largest single record file read. */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;
/** Entries accepted in one archive (the GitHub advisory archive holds ~600k with its folders). */
const MAX_ARCHIVE_ENTRIES = 5_000_000;

export interface OsvFile {
  /** Where it came from, for warnings: a path, `zip!entry` or a URL. */
  name: string;
  data: Buffer;
}

/** A context's warn as a free function (contexts may be class instances). */
export function warnOf(ctx: { warn(message: string): void }): (message: string) => void {
  return (message) => ctx.warn(message);
}

/** Throw a NETWORK error unless the response is a 2xx or (when allowed) a 304. */
export function expectOk(res: HttpResult, url: string): void {
  if (res.notModified || (res.status >= 200 && res.status < 300)) return;
  throw new LadingError('NETWORK', `GET ${url}: HTTP ${res.status}`);
}

/**
 * A GET where 404 means "absent": undefined. The runner's context throws NOT_FOUND for a 404;
 * a context that returns the status is handled the same way. Other failures throw.
 */
export async function getIfPresent(ctx: SyncContext, url: string, options: Parameters<SyncContext['get']>[1]): Promise<HttpResult | undefined> {
  try {
    const res = await ctx.get(url, options);
    if (res.status === 404) return undefined;
    expectOk(res, url);
    return res;
  } catch (e) {
    if (isLadingError(e) && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
}

/** The OSV records of an archive, in entry order; unreadable entries are warned and skipped. */
export function* osvFilesInZip(zip: ZipArchive, label: string, warn: (m: string) => void, accept: (name: string) => boolean = isOsvFileName): Generator<OsvFile> {
  for (const entry of zip.entries) {
    if (entry.isDirectory || !accept(entry.name)) continue;
    try {
      yield { name: `${label}!${entry.name}`, data: zip.read(entry, MAX_RECORD_BYTES) };
    } catch (e) {
      warn(`${label}!${entry.name}: ${describeError(e)}, skipped`);
    }
  }
}

/** Files under a directory, depth first in name order. */
async function* walk(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

/** Open an archive file (size-capped). */
export async function readZipFile(path: string): Promise<ZipArchive> {
  const size = (await stat(path)).size;
  if (size > MAX_ARCHIVE_BYTES) throw new LadingError('LIMIT_EXCEEDED', `${path}: ${size} bytes exceed the archive limit of ${MAX_ARCHIVE_BYTES}`);
  return openZip(await readFile(path), { maxEntries: MAX_ARCHIVE_ENTRIES });
}

async function isZipPath(path: string): Promise<boolean> {
  if (/\.zip$/i.test(path)) return true;
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return looksLikeZip(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/**
 * Every OSV record file at a path: a record, an archive, or a directory tree holding either.
 * A missing path or an unreadable top-level archive throws; anything inside a directory that
 * cannot be read is warned and skipped.
 */
export async function* osvFilesInPath(path: string, warn: (m: string) => void, accept: (name: string) => boolean = isOsvFileName): AsyncGenerator<OsvFile> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new LadingError('BAD_INPUT', `${path}: no such file or directory`);
  if (st.isFile()) {
    if (await isZipPath(path)) {
      yield* osvFilesInZip(await readZipFile(path), path, warn, accept);
    } else {
      if (st.size > MAX_RECORD_BYTES) throw new LadingError('LIMIT_EXCEEDED', `${path}: ${st.size} bytes exceed the record limit`);
      yield { name: path, data: await readFile(path) };
    }
    return;
  }
  for await (const file of walk(path)) {
    try {
      if (/\.zip$/i.test(file)) {
        yield* osvFilesInZip(await readZipFile(file), file, warn, accept);
      } else if (accept(file)) {
        const size = (await stat(file)).size;
        if (size > MAX_RECORD_BYTES) throw new LadingError('LIMIT_EXCEEDED', `${size} bytes exceed the record limit`);
        yield { name: file, data: await readFile(file) };
      }
    } catch (e) {
      warn(`${file}: ${describeError(e)}, skipped`);
    }
  }
}

export interface ConvertOptions extends OsvOptions {
  batchSize?: number;
  /** Called with each converted record's `modified` (for cursors). */
  onModified?(modified: string): void;
}

/** Parse and convert OSV files into batches; a file that does not parse is warned and skipped. */
export async function* osvBatches(files: AsyncIterable<OsvFile> | Iterable<OsvFile>, opts: ConvertOptions): AsyncGenerator<FeedBatch> {
  const size = opts.batchSize ?? OSV_BATCH_SIZE;
  let batch: Required<Pick<FeedBatch, 'vulnerabilities' | 'affected'>> = { vulnerabilities: [], affected: [] };
  for await (const file of files) {
    let record: unknown;
    try {
      record = parseOsvText(file.data.toString('utf8'), file.name);
    } catch (e) {
      opts.warn(`${file.name}: not valid ${/\.ya?ml$/i.test(file.name) ? 'YAML' : 'JSON'} (${describeError(e)}), skipped`);
      continue;
    }
    const converted = convertOsv(record, { ...opts, warn: (m) => opts.warn(`${m} (${file.name})`) });
    if (!converted) continue;
    if (converted.vulnerability.modified) opts.onModified?.(converted.vulnerability.modified);
    batch.vulnerabilities.push(converted.vulnerability);
    batch.affected.push(...converted.affected);
    if (batch.vulnerabilities.length >= size) {
      yield batch;
      batch = { vulnerabilities: [], affected: [] };
    }
  }
  if (batch.vulnerabilities.length > 0) yield batch;
}

/** Seconds since the epoch of an OSV timestamp, or undefined. Compared at second precision. */
export function timestampSeconds(ts: string): number | undefined {
  const ms = Date.parse(ts.trim());
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** Tracks the newest timestamp seen. */
class Newest {
  value?: string;
  private seconds = -Infinity;
  see(ts: string): void {
    const s = timestampSeconds(ts);
    if (s !== undefined && (s > this.seconds || (s === this.seconds && this.value !== undefined && ts > this.value))) {
      this.seconds = s;
      this.value = ts;
    }
  }
}

/** Which kind of OSV data a record is: a GitHub advisory, Canonical's Ubuntu data, or other OSV. */
export function osvFlavour(record: unknown): 'ghsa' | 'ubuntu' | 'osv' | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return undefined;
  const r = record as Record<string, unknown>;
  if (typeof r.id !== 'string' || (!('affected' in r) && !('modified' in r))) return undefined;
  const db = r.database_specific;
  if (r.id.startsWith('GHSA-') && typeof db === 'object' && db !== null && 'github_reviewed' in db) return 'ghsa';
  if (/^(UBUNTU-CVE-|USN-)/.test(r.id)) return 'ubuntu';
  return 'osv';
}

/** The first OSV record found at a path (at most `limit` candidate files are parsed). */
export async function sampleOsvRecord(path: string, limit = 20): Promise<unknown> {
  let tried = 0;
  try {
    for await (const file of osvFilesInPath(path, () => {})) {
      if (tried++ >= limit) return undefined;
      try {
        const record = parseOsvText(file.data.toString('utf8'), file.name);
        if (osvFlavour(record)) return record;
      } catch {
        // not a record; keep looking
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export interface OsvDriverOptions {
  id?: SourceId;
  description?: string;
  /** Bucket folders to sync (default DEFAULT_OSV_ECOSYSTEMS). */
  ecosystems?: string[];
  /** More changed records than this since the cursor → download all.zip instead (default 2000). */
  maxIncremental?: number;
  /** Records per batch (default 500). */
  batchSize?: number;
  /** Records kept as advisories only (no Affected). */
  advisoryOnly?(id: string): boolean;
  /** Whether a sampled record is this driver's (default: any OSV record that is not GHSA or Ubuntu data). */
  accepts?(record: unknown): boolean;
}

const cursorKey = (ecosystem: string): string => `modified:${ecosystem}`;

/** Build an OSV-export driver; osvDriver and the ubuntu driver are instances. */
export function createOsvDriver(options: OsvDriverOptions = {}): FeedDriver {
  const id: SourceId = options.id ?? 'osv';
  const ecosystems = options.ecosystems ?? DEFAULT_OSV_ECOSYSTEMS;
  const maxIncremental = options.maxIncremental ?? 2000;
  const accepts = options.accepts ?? ((r: unknown) => osvFlavour(r) === 'osv');
  const convertOptions = (warn: (m: string) => void, onModified?: (m: string) => void): ConvertOptions => ({
    source: id,
    warn,
    batchSize: options.batchSize,
    advisoryOnly: options.advisoryOnly,
    onModified,
  });

  async function* fromAllZip(ctx: SyncContext, base: string, ecosystem: string, conditional: boolean): AsyncGenerator<FeedBatch> {
    const url = `${base}/${encodeURIComponent(ecosystem)}/all.zip`;
    const res = await ctx.get(url, { conditional, maxBytes: MAX_ARCHIVE_BYTES });
    if (res.notModified) return;
    expectOk(res, url);
    const zip = openZip(res.body, { maxEntries: MAX_ARCHIVE_ENTRIES });
    const newest = new Newest();
    yield* osvBatches(osvFilesInZip(zip, url, warnOf(ctx)), convertOptions(warnOf(ctx), (m) => newest.see(m)));
    if (newest.value) ctx.setState(cursorKey(ecosystem), newest.value);
  }

  async function* incremental(ctx: SyncContext, base: string, ecosystem: string, cursor: string): AsyncGenerator<FeedBatch> {
    const since = timestampSeconds(cursor);
    if (since === undefined) {
      ctx.warn(`saved cursor ${JSON.stringify(cursor)} for ${ecosystem} is not a timestamp; downloading all.zip`);
      yield* fromAllZip(ctx, base, ecosystem, false);
      return;
    }
    const url = `${base}/${encodeURIComponent(ecosystem)}/modified_id.csv`;
    const res = await ctx.get(url, { conditional: true, maxBytes: 512 * 1024 * 1024 });
    if (res.notModified) return;
    expectOk(res, url);
    const changed = changedSince(res.body.toString('utf8'), since, url, warnOf(ctx));
    if (changed.length > maxIncremental) {
      yield* fromAllZip(ctx, base, ecosystem, false);
      return;
    }
    const newest = new Newest();
    newest.see(cursor);
    for (const c of changed) newest.see(c.timestamp);
    // Oldest first, so a record changed twice ends with its newest version.
    const ordered = changed.slice().reverse();
    const fetchOne = async (recordId: string): Promise<OsvFile | undefined> => {
      const recordUrl = `${base}/${encodeURIComponent(ecosystem)}/${encodeURIComponent(recordId)}.json`;
      const r = await getIfPresent(ctx, recordUrl, { conditional: false, maxBytes: MAX_RECORD_BYTES });
      if (!r) {
        ctx.warn(`${ecosystem} record ${recordId} is listed in modified_id.csv but not found (${recordUrl}), skipped`);
        return undefined;
      }
      return { name: recordUrl, data: r.body };
    };
    const fetched = prefetched(ordered.map((c) => c.id), fetchOne, FETCH_AHEAD);
    yield* osvBatches(fetched, convertOptions(warnOf(ctx)));
    if (newest.value) ctx.setState(cursorKey(ecosystem), newest.value);
  }

  return {
    id,
    description: options.description ?? `OSV export (osv.dev) for ${ecosystems.join(', ')}`,
    async sync(ctx) {
      const base = (ctx.baseUrl ?? OSV_BASE_URL).replace(/\/+$/, '');
      const full = ecosystems.every((e) => !ctx.state[cursorKey(e)]);
      async function* batches(): AsyncGenerator<FeedBatch> {
        for (const ecosystem of ecosystems) {
          const cursor = ctx.state[cursorKey(ecosystem)];
          // On a full replace every all.zip must be read, so no conditional request there.
          if (cursor) yield* incremental(ctx, base, ecosystem, cursor);
          else yield* fromAllZip(ctx, base, ecosystem, !full);
        }
      }
      return { full, batches: batches() };
    },
    async detect(path) {
      return accepts(await sampleOsvRecord(path));
    },
    async importPath(path: string, ctx: ImportContext) {
      const files = osvFilesInPath(path, warnOf(ctx));
      return { full: false, batches: osvBatches(files, convertOptions(warnOf(ctx))) };
    },
  };
}

/** Records fetched at once during an incremental sync. */
const FETCH_AHEAD = 8;

/**
 * `fetch` applied to each item with up to `ahead` requests in flight, results in input order.
 * A failure is thrown when its turn comes; requests still in flight are then left to settle.
 */
export async function* prefetched<T, R>(items: T[], fetch: (item: T) => Promise<R | undefined>, ahead: number): AsyncGenerator<R> {
  const inflight: Promise<R | undefined>[] = [];
  let next = 0;
  const start = (): void => {
    const p = fetch(items[next++]!);
    p.catch(() => undefined); // handled where it is awaited; never an unhandled rejection
    inflight.push(p);
  };
  while (next < items.length && inflight.length < ahead) start();
  while (inflight.length > 0) {
    const result = await inflight.shift()!;
    if (next < items.length) start();
    if (result !== undefined) yield result;
  }
}

/** `timestamp,id` lines modified at or after `since` (seconds), newest first as listed. */
export function changedSince(csv: string, since: number, label: string, warn: (m: string) => void): { timestamp: string; id: string }[] {
  const out: { timestamp: string; id: string }[] = [];
  let bad = 0;
  for (const line of csv.split('\n')) {
    const text = line.trim();
    if (!text) continue;
    const comma = text.indexOf(',');
    const timestamp = comma > 0 ? text.slice(0, comma) : '';
    const recordId = comma > 0 ? text.slice(comma + 1).trim() : '';
    const seconds = timestampSeconds(timestamp);
    if (seconds === undefined || !recordId || recordId.includes('/')) {
      if (bad++ < 5) warn(`${label}: malformed line ${JSON.stringify(text.slice(0, 120))} skipped`);
      continue;
    }
    // Listed newest first: everything after an older line is older still.
    if (seconds < since) break;
    out.push({ timestamp, id: recordId });
  }
  return out;
}

export const osvDriver: FeedDriver = createOsvDriver();

/** Base name of a path or archive entry, for filters. */
export function entryBaseName(name: string): string {
  return basename(name.slice(name.lastIndexOf('!') + 1));
}
