/**
 * Offline data: importing feed files with the drivers' readers, and moving a whole vulnerability
 * database between machines (or between SQLite and PostgreSQL) as one portable bundle.
 *
 * The bundle is gzip-compressed JSON lines:
 *   {"format":"lading-vulndb-bundle","version":1,"schema":1,"created":"…","tool":"lading 0.1.0","tables":{"meta":["key","value"],…}}
 *   ["vulnerabilities","osv","GHSA-…","[…]","2024-…","{…}"]     one line per row: table, then its columns in the header's order
 *   …
 *   {"end":true,"counts":{"vulnerabilities":123,…}}
 * Importing one checks the header (format, version, schema, tables and columns), every row, and
 * the trailer's counts (a truncated file has none), all inside one transaction: a bad bundle is
 * an error naming the line, and the database keeps what it had.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { constants as zc, createGunzip, createGzip, gunzipSync } from 'node:zlib';
import { once } from 'node:events';
import { basename, dirname, join } from 'node:path';
import { describeError, LadingError } from '../errors.js';
import { VERSION } from '../version.js';
import type { FeedDriver } from './driver.js';
import { VULNDB_SCHEMA, VULNDB_TABLES, type ApplyResult, type VulnDb } from './vulndb.js';
import { readHead } from './files.js';

export const BUNDLE_FORMAT = 'lading-vulndb-bundle';
export const BUNDLE_VERSION = 1;

export interface BundleHeader {
  format: typeof BUNDLE_FORMAT;
  version: number;
  /** VULNDB_SCHEMA of the Lading that wrote it: the layout of the vulnerability tables. */
  schema: number;
  created: string;
  tool?: string;
  tables: Record<string, string[]>;
}

export interface ImportOptions {
  /** Read every path with this driver instead of asking each driver's detect(). */
  source?: string;
  /** Told about every warning as it happens. */
  warn?: (message: string) => void;
  tmpDir?: string;
  /**
   * Replace everything the source had with what a full import brings. By default an import
   * merges by namespace: the releases it brings replace those releases, the others are kept.
   */
  replace?: boolean;
}

export interface ImportResult {
  path: string;
  /** `feed`: read by a driver; `bundle`: a whole-database bundle replaced everything. */
  kind: 'feed' | 'bundle';
  source?: string;
  ok: boolean;
  applied?: ApplyResult;
  /** Rows per table, for a bundle. */
  counts?: Record<string, number>;
  warnings: string[];
  warningCount: number;
  error?: string;
  durationMs: number;
}

const HEAD_BYTES = 4096;
const MAX_KEPT_WARNINGS = 1000;


/** Whether a file is a Lading database bundle (gzip whose first line is a bundle header). */
export async function isDbBundle(path: string): Promise<boolean> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return false;
    const head = await readHead(path, 64 * 1024);
    if (head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) return false;
    const text = gunzipSync(head, { finishFlush: zc.Z_SYNC_FLUSH }).subarray(0, 4096).toString('utf8');
    return /^\{\s*"format"\s*:\s*"lading-vulndb-bundle"/.test(text);
  } catch {
    return false;
  }
}

/**
 * Import feed files or directories: each path goes to the driver named by `source`, or to the
 * first whose detect() claims it (a file's first 4 KiB as the head; a directory gets an empty
 * head), or, when it is a Lading database bundle, replaces the whole database. One transaction
 * per path. Returns a result per path; a failed path is recorded and the next one still runs.
 * Throws only for an unknown `source`.
 */
export async function importPaths(db: VulnDb, paths: string[], drivers: Record<string, FeedDriver>,
  options: ImportOptions = {}): Promise<ImportResult[]> {
  if (options.source !== undefined && !drivers[options.source]) {
    throw new LadingError('BAD_INPUT', `unknown source "${options.source}" (known: ${Object.keys(drivers).sort().join(', ') || 'none'})`);
  }
  const results: ImportResult[] = [];
  for (const path of paths) results.push(await importOne(db, path, drivers, options));
  return results;
}

async function importOne(db: VulnDb, path: string, drivers: Record<string, FeedDriver>, options: ImportOptions): Promise<ImportResult> {
  const started = new Date();
  const warnings: string[] = [];
  let warningCount = 0;
  const warn = (m: string) => {
    warningCount++;
    if (warnings.length < MAX_KEPT_WARNINGS) warnings.push(m);
    options.warn?.(m);
  };
  const done = (r: Omit<ImportResult, 'path' | 'warnings' | 'warningCount' | 'durationMs'>): ImportResult =>
    ({ path, ...r, warnings, warningCount, durationMs: Date.now() - started.getTime() });

  let isDir: boolean;
  try {
    const st = await stat(path);
    isDir = st.isDirectory();
  } catch (e) {
    return done({ kind: 'feed', ok: false, error: `cannot read ${path}: ${describeError(e)}` });
  }
  if (!isDir && await isDbBundle(path)) {
    try {
      const counts = await importDb(db, path);
      return done({ kind: 'bundle', ok: true, counts });
    } catch (e) {
      return done({ kind: 'bundle', ok: false, error: describeError(e) });
    }
  }

  let driver: FeedDriver | undefined = options.source !== undefined ? drivers[options.source] : undefined;
  if (!driver) {
    const head = isDir ? Buffer.alloc(0) : await readHead(path, HEAD_BYTES).catch(() => Buffer.alloc(0));
    for (const d of Object.values(drivers)) {
      try {
        if (await d.detect(path, head)) {
          driver = d;
          break;
        }
      } catch {
        // a detector that cannot read it does not claim it
      }
    }
  }
  if (!driver) {
    return done({ kind: 'feed', ok: false,
      error: `cannot tell which feed ${path} belongs to; name it with --source (one of ${Object.keys(drivers).sort().join(', ') || 'none'})` });
  }
  const source = driver.id;
  try {
    const feed = await driver.importPath(path, { warn: (m) => warn(`${source}: ${m}`) });
    const applied = await db.apply(source, feed, {
      kind: 'import', at: started,
      // The online cursor and validators no longer describe what is stored: the next sync starts afresh.
      cursor: null, validators: null,
    }, { warn, scope: options.replace ? 'source' : 'namespace', ...(options.tmpDir ? { tmpDir: options.tmpDir } : {}) });
    return done({ kind: 'feed', source, ok: true, applied });
  } catch (e) {
    const error = `${path}: ${describeError(e)}`;
    await db.recordFailure(source, 'import', error, started).catch(() => {});
    return done({ kind: 'feed', source, ok: false, error });
  }
}

// ---------------------------------------------------------------------------------------------

/** Write the whole vulnerability database to `file` as a bundle (atomically: a temp file renamed). */
export async function exportDb(db: VulnDb, file: string): Promise<{ counts: Record<string, number>; bytes: number }> {
  const header: BundleHeader = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    schema: VULNDB_SCHEMA,
    created: new Date().toISOString(),
    tool: `lading ${VERSION}`,
    tables: Object.fromEntries(Object.entries(VULNDB_TABLES).map(([t, cols]) => [t, [...cols]])),
  };
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const gzip = createGzip({ level: 6 });
  const written = pipeline(gzip, createWriteStream(tmp));
  // Surface a write failure (full disk, bad directory) while we are still producing rows.
  let failure: unknown;
  written.catch((e: unknown) => { failure = e; });
  const counts: Record<string, number> = Object.fromEntries(Object.keys(VULNDB_TABLES).map((t) => [t, 0]));
  let buffer = '';
  const push = async (line: string) => {
    buffer += line + '\n';
    if (buffer.length < 256 * 1024) return;
    if (failure) throw failure;
    const ok = gzip.write(buffer);
    buffer = '';
    if (!ok) await Promise.race([once(gzip, 'drain'), written]);
  };
  try {
    await push(JSON.stringify(header));
    await db.dump(async (table, values) => {
      counts[table] = (counts[table] ?? 0) + 1;
      await push(JSON.stringify([table, ...values]));
    });
    await push(JSON.stringify({ end: true, counts }));
    if (failure) throw failure;
    gzip.end(buffer);
    await written;
    await rename(tmp, file);
  } catch (e) {
    gzip.destroy();
    await written.catch(() => {});
    await rm(tmp, { force: true });
    throw new LadingError('BAD_INPUT', `cannot write the database bundle ${file}: ${describeError(e)}`, { cause: e });
  }
  return { counts, bytes: (await stat(file)).size };
}

/** Lines of a stream, as strings (a line over `max` characters is an error). */
async function* lines(stream: AsyncIterable<Buffer>, max = 512 << 20): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of stream) {
    const text = rest + chunk.toString('utf8');
    const parts = text.split('\n');
    rest = parts.pop() ?? '';
    if (rest.length > max) throw new Error(`a line is longer than ${max} characters`);
    yield* parts;
  }
  if (rest) yield rest;
}

function checkHeader(h: unknown, file: string): BundleHeader {
  const bad = (why: string) => new LadingError('BAD_INPUT', `${file} is not a usable Lading database bundle: ${why}`);
  if (typeof h !== 'object' || h === null || Array.isArray(h)) throw bad('the first line is not a header object');
  const o = h as Record<string, unknown>;
  if (o.format !== BUNDLE_FORMAT) throw bad(`format is ${JSON.stringify(o.format)}, not "${BUNDLE_FORMAT}"`);
  if (o.version !== BUNDLE_VERSION) throw bad(`bundle format version ${JSON.stringify(o.version)} is not supported (this Lading reads version ${BUNDLE_VERSION})`);
  if (typeof o.schema !== 'number' || !Number.isInteger(o.schema) || o.schema < 1) throw bad('the header names no schema version');
  if (o.schema > VULNDB_SCHEMA) {
    throw bad(`it was made with database schema ${o.schema}, newer than this Lading's (${VULNDB_SCHEMA}): use a newer Lading`);
  }
  if (typeof o.tables !== 'object' || o.tables === null || Array.isArray(o.tables)) throw bad('the header lists no tables');
  for (const [t, cols] of Object.entries(o.tables as Record<string, unknown>)) {
    const known = VULNDB_TABLES[t];
    if (!known) throw bad(`unknown table "${t}"`);
    if (!Array.isArray(cols) || !cols.every((c) => typeof c === 'string')) throw bad(`the columns of "${t}" are not a list of names`);
    const unknown = cols.find((c) => !known.includes(c));
    if (unknown) throw bad(`unknown column "${unknown}" in table "${t}"`);
  }
  if (typeof o.created !== 'string') throw bad('the header has no creation time');
  return o as unknown as BundleHeader;
}

/**
 * Replace the whole vulnerability database with a bundle's contents, in one transaction.
 * A corrupt, truncated or foreign file is an error naming the problem; nothing changes then.
 */
export async function importDb(db: VulnDb, file: string): Promise<Record<string, number>> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new Error('not a regular file');
  } catch (e) {
    throw new LadingError('NOT_FOUND', `cannot read the database bundle ${file}: ${describeError(e)}`);
  }
  const input = createReadStream(file).pipe(createGunzip());
  const it = lines(input)[Symbol.asyncIterator]();
  let lineNo = 0;
  let header: BundleHeader;
  let trailer: { counts: Record<string, number> } | undefined;
  const seen: Record<string, number> = {};
  try {
    const first = await it.next();
    lineNo = 1;
    if (first.done) throw new LadingError('BAD_INPUT', `${file} is empty`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(first.value);
    } catch {
      throw new LadingError('BAD_INPUT', `${file} is not a Lading database bundle (its first line is not JSON)`);
    }
    header = checkHeader(parsed, file);

    async function* rows(): AsyncGenerator<{ table: string; row: Record<string, unknown>; where: string }> {
      for (;;) {
        const next = await it.next();
        if (next.done) break;
        lineNo++;
        const where = `${file} line ${lineNo}`;
        if (!next.value.trim()) continue;
        if (trailer) throw new LadingError('BAD_INPUT', `${where}: data after the end marker`);
        let v: unknown;
        try {
          v = JSON.parse(next.value);
        } catch {
          throw new LadingError('BAD_INPUT', `${where}: not valid JSON (the bundle is corrupt)`);
        }
        if (!Array.isArray(v)) {
          const o = v as Record<string, unknown> | null;
          if (o && o.end === true && typeof o.counts === 'object' && o.counts !== null) {
            trailer = { counts: o.counts as Record<string, number> };
            continue;
          }
          throw new LadingError('BAD_INPUT', `${where}: expected a row (an array) or the end marker`);
        }
        const [table, ...values] = v as unknown[];
        if (typeof table !== 'string') throw new LadingError('BAD_INPUT', `${where}: a row must start with its table name`);
        const columns = header.tables[table];
        if (!columns) throw new LadingError('BAD_INPUT', `${where}: table "${table}" is not in the header`);
        if (values.length !== columns.length) {
          throw new LadingError('BAD_INPUT', `${where}: ${table} row has ${values.length} values, the header lists ${columns.length} columns`);
        }
        const bad = values.findIndex((x) => x !== null && typeof x !== 'string' && typeof x !== 'number');
        if (bad >= 0) throw new LadingError('BAD_INPUT', `${where}: ${table}.${columns[bad]} is not a string, number or null`);
        seen[table] = (seen[table] ?? 0) + 1;
        yield { table, row: Object.fromEntries(columns.map((c, i) => [c, values[i]])), where };
      }
    }

    return await db.restore(rows(), () => {
      if (!trailer) throw new LadingError('BAD_INPUT', `${file} is truncated (no end marker after line ${lineNo}); nothing was imported`);
      for (const [t, n] of Object.entries(trailer.counts)) {
        if ((seen[t] ?? 0) !== n) throw new LadingError('BAD_INPUT', `${file} is incomplete: ${t} has ${seen[t] ?? 0} rows, the end marker says ${n}`);
      }
    });
  } catch (e) {
    input.destroy();
    if (e instanceof LadingError) throw e;
    const msg = describeError(e);
    const code = (e as { code?: unknown }).code;
    const corrupt = (typeof code === 'string' && code.startsWith('Z_')) || /unexpected end of file|incorrect (header|data) check/i.test(msg);
    throw new LadingError('BAD_INPUT', `${file}: ${corrupt ? `the bundle is corrupt or truncated (${msg})` : msg}${lineNo ? ` near line ${lineNo}` : ''}; nothing was imported`, { cause: e });
  }
}
