/**
 * Red Hat: CSAF VEX (one document per CVE) online, and offline CSAF VEX or advisory documents,
 * their `.tar.zst` archives, and Security Data API CVE JSON.
 *
 * Online: the first sync reads `archive_latest.txt`, streams that `.tar.zst` archive (a complete
 * export, so `full: true`), then applies the documents `changes.csv` lists as changed on or after
 * the archive's date and the deletions `deletions.csv` lists. Later syncs fetch `changes.csv`
 * conditionally and only the documents changed since the cursor (the newest change timestamp
 * seen); too many changes fall back to the archive.
 *
 * Mapping: a product status names `<platform product>:<component>` through the product tree's
 * relationships. The platform's CPE gives the namespace (`rhel:<major>`; only RHEL platforms,
 * not layered products); the component's purl (or its NEVRA name) gives the package. Red Hat
 * components are source packages (`.src`, or a bare name for unfixed ones); a binary component is
 * kept only when its platform lists no source component in the same status. Per (namespace,
 * name, module stream) the mainline platforms (`enterprise_linux`) decide; EUS/AUS/E4S/TUS/ELS
 * platforms only when no mainline one mentions the package. Fixed beats affected beats under
 * investigation beats not affected. Several fix versions (one per minor-release stream) each
 * become a range `introduced 0, fixed v`: a package is affected while below any of them.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { isLadingError, LadingError } from '../../errors.js';
import { compressionOfMagic } from '../../image/decompress.js';
import type { FeedDriver, ImportContext, SyncContext } from '../driver.js';
import type { FeedBatch } from '../model.js';
import { readHead } from '../files.js';
import { Batcher, type Change, MAX_DOC_BYTES, archiveBatches, bufferChunks, documentRecords, idFromPath, latest, newer, parseChanges, redhatRecords, settle } from './redhat/documents.js';
import type { Records, Warn } from './redhat/products.js';
import { withdrawnRecord } from './redhat/csaf.js';

export const REDHAT_VEX_URL = 'https://security.access.redhat.com/data/csaf/v2/vex/';

/** The archive is held in memory by SyncContext.get. */
const MAX_ARCHIVE_BYTES = 3 * 1024 * 1024 * 1024;
const MAX_LIST_BYTES = 256 * 1024 * 1024;
/** More changed documents than this since the cursor: the archive is cheaper. */
const MAX_INCREMENTAL = 20_000;
const FETCH_CONCURRENCY = 8;

// ---------------------------------------------------------------------------------------------
// Online

function joinUrl(base: string, path: string): string {
  return base.endsWith('/') ? base + path : `${base}/${path}`;
}

/** The body of a 200; undefined for a 304. Other statuses throw (NOT_FOUND for 404), as the runner's context does. */
async function getOk(ctx: SyncContext, url: string, maxBytes: number, conditional = false): Promise<Buffer | undefined> {
  const res = await ctx.get(url, { conditional, maxBytes });
  if (res.notModified) return undefined;
  if (res.status !== 200) throw new LadingError(res.status === 404 ? 'NOT_FOUND' : 'NETWORK', `${url}: HTTP ${res.status}`);
  return res.body;
}

/** Fetch and convert changed documents, a few at a time; a document gone since (404) is warned about. */
async function* changedBatches(ctx: SyncContext, base: string, changes: Change[]): AsyncGenerator<FeedBatch> {
  const batcher = new Batcher();
  const warn = (m: string): void => ctx.warn(m);
  for (let i = 0; i < changes.length; i += FETCH_CONCURRENCY) {
    const slice = changes.slice(i, i + FETCH_CONCURRENCY);
    const bodies = await Promise.all(
      slice.map(async (c) => {
        const url = joinUrl(base, c.path);
        const res = await getOk(ctx, url, MAX_DOC_BYTES).catch((e: unknown) => {
          if (isLadingError(e) && e.code === 'NOT_FOUND') return undefined;
          throw e;
        });
        if (!res) {
          ctx.warn(`${url}: listed in changes.csv but gone (HTTP 404); skipped`);
          return undefined;
        }
        return { url, body: res, time: c.time };
      }),
    );
    for (const b of bodies) {
      if (!b) continue;
      const r = documentRecords(b.body, warn, b.url, b.time);
      const out = r && batcher.add(r);
      if (out) yield out;
    }
  }
  const rest = batcher.flush();
  if (rest) yield rest;
}

function deletionBatch(deletions: Change[]): FeedBatch | undefined {
  if (deletions.length === 0) return undefined;
  return { vulnerabilities: deletions.map((d) => withdrawnRecord(idFromPath(d.path), d.time)) };
}

async function* fromArchive(ctx: SyncContext, base: string): AsyncGenerator<FeedBatch> {
  const warn = (m: string): void => ctx.warn(m);
  const latestUrl = joinUrl(base, 'archive_latest.txt');
  const name = (await getOk(ctx, latestUrl, 4096))!.toString('utf8').trim();
  if (!/^[\w.-]+\.tar(\.zst|\.gz)?$/.test(name)) throw new LadingError('BAD_INPUT', `${latestUrl}: ${JSON.stringify(name.slice(0, 100))} is not an archive name`);
  const dated = /(\d{4}-\d{2}-\d{2})/.exec(name)?.[1];
  if (!dated) throw new LadingError('BAD_INPUT', `${latestUrl}: the archive name ${name} carries no date`);
  const sinceMs = Date.parse(`${dated}T00:00:00Z`);
  // documents changed or deleted since the archive was made (on its day too: reading one twice is harmless)
  const changesUrl = joinUrl(base, 'changes.csv');
  const changed = newer(parseChanges((await getOk(ctx, changesUrl, MAX_LIST_BYTES))!.toString('utf8'), warn, changesUrl), sinceMs, true);
  const { changes, deletions } = settle(changed, await fetchDeletions(ctx, base, sinceMs, true));
  const later = new Set([...changes, ...deletions].map((c) => idFromPath(c.path)));
  const archiveUrl = joinUrl(base, name);
  const archive = (await getOk(ctx, archiveUrl, MAX_ARCHIVE_BYTES))!;
  yield* archiveBatches(bufferChunks(archive), warn, archiveUrl, new Date(sinceMs).toISOString(), later);
  yield* changedBatches(ctx, base, changes);
  const d = deletionBatch(deletions);
  if (d) yield d;
  ctx.setState('lastChange', new Date(latest(sinceMs, changed, deletions)).toISOString());
}

async function fetchDeletions(ctx: SyncContext, base: string, sinceMs: number, inclusive: boolean): Promise<Change[]> {
  const url = joinUrl(base, 'deletions.csv');
  const body = await getOk(ctx, url, MAX_LIST_BYTES).catch((e: unknown) => {
    if (isLadingError(e) && e.code === 'NOT_FOUND') return Buffer.alloc(0);
    throw e;
  });
  return newer(parseChanges(body!.toString('utf8'), (m) => ctx.warn(m), url), sinceMs, inclusive);
}

async function* incremental(ctx: SyncContext, base: string, changes: Change[], deletions: Change[], cursorMs: number): AsyncGenerator<FeedBatch> {
  yield* changedBatches(ctx, base, changes);
  const d = deletionBatch(deletions);
  if (d) yield d;
  ctx.setState('lastChange', new Date(latest(cursorMs, changes, deletions)).toISOString());
}

async function* nothing(): AsyncGenerator<FeedBatch> {}

// ---------------------------------------------------------------------------------------------
// Offline

const ARCHIVE_NAME = /\.tar(\.zst|\.gz)?$/;

async function* documentFiles(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* documentFiles(p);
    else if (e.isFile() && (e.name.endsWith('.json') || /^CVE-\d{4}-\d+$/.test(e.name))) yield p;
  }
}


/** One file named explicitly: anything wrong with it is an error, not a warning. */
function singleFile(body: Buffer, warn: Warn, where: string, when: string): Records {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${where}: invalid JSON (${(e as Error).message})`);
  }
  const r = redhatRecords(doc, warn, where, when);
  if (!r) throw new LadingError('BAD_INPUT', `${where}: neither a Red Hat CSAF document nor Security Data API CVE JSON`);
  return r;
}

async function* fileBatches(path: string, ctx: ImportContext): AsyncGenerator<FeedBatch> {
  const warn = (m: string): void => ctx.warn(m);
  const when = new Date().toISOString();
  const batcher = new Batcher();
  for await (const f of documentFiles(path)) {
    const info = await stat(f);
    if (info.size > MAX_DOC_BYTES) {
      warn(`${f}: ${info.size} bytes, more than ${MAX_DOC_BYTES}; skipped`);
      continue;
    }
    const r = documentRecords(await readFile(f), warn, f, when);
    const b = r && batcher.add(r);
    if (b) yield b;
  }
  const rest = batcher.flush();
  if (rest) yield rest;
  // a mirror of the feed directory: deletions.csv names withdrawn documents
  const del = join(path, 'deletions.csv');
  const text = await readFile(del, 'utf8').catch(() => undefined);
  if (text !== undefined) {
    const d = deletionBatch(newer(parseChanges(text, warn, del), 0, true));
    if (d) yield d;
  }
}

function looksNative(text: string): boolean {
  return /"category"\s*:\s*"csaf_(vex|security_advisory)"/.test(text)
    || /^\s*\{\s*"document"\s*:\s*\{/.test(text)
    || (/"threat_severity"|"affected_release"|"package_state"/.test(text) && /"(name|public_date)"\s*:/.test(text));
}

export const redhatDriver: FeedDriver = {
  id: 'redhat',
  description: 'Red Hat CSAF VEX (RHEL), advisories and Security Data API CVE JSON',

  async sync(ctx: SyncContext) {
    const base = ctx.baseUrl ?? REDHAT_VEX_URL;
    const saved = ctx.state.lastChange;
    const cursorMs = saved === undefined ? NaN : Date.parse(saved);
    if (saved !== undefined && Number.isNaN(cursorMs)) ctx.warn(`redhat: the saved cursor ${JSON.stringify(saved)} is not a date; reading the archive`);
    if (!Number.isNaN(cursorMs)) {
      const changesUrl = joinUrl(base, 'changes.csv');
      const body = await getOk(ctx, changesUrl, MAX_LIST_BYTES, true);
      if (!body) return { full: false, batches: nothing() };
      const changes = newer(parseChanges(body.toString('utf8'), (m) => ctx.warn(m), changesUrl), cursorMs, false);
      if (changes.length <= MAX_INCREMENTAL) {
        const settled = settle(changes, await fetchDeletions(ctx, base, cursorMs, false));
        return { full: false, batches: incremental(ctx, base, settled.changes, settled.deletions, cursorMs) };
      }
      ctx.warn(`redhat: ${changes.length} documents changed since ${saved}; reading the archive instead`);
    }
    return { full: true, batches: fromArchive(ctx, base) };
  },

  async detect(path: string, head: Buffer) {
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) {
      for await (const f of documentFiles(path)) {
        return looksNative((await readHead(f, 4096)).toString('utf8'));
      }
      return false;
    }
    if (/^csaf_(vex|advisories)_.*\.tar(\.zst|\.gz)?$/.test(basename(path))) return true;
    return looksNative(head.toString('utf8', 0, Math.min(head.length, 8192)));
  },

  async importPath(path: string, ctx: ImportContext) {
    const info = await stat(path);
    if (info.isFile() && (ARCHIVE_NAME.test(path) || compressionOfMagic(await readHead(path, 8)) !== 'none')) {
      const when = new Date(info.mtimeMs).toISOString();
      const stream = createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
      return { full: true, batches: archiveBatches(stream, (m) => ctx.warn(m), path, when) };
    }
    if (info.isFile()) {
      if (info.size > MAX_DOC_BYTES) throw new LadingError('LIMIT_EXCEEDED', `${path}: ${info.size} bytes, more than ${MAX_DOC_BYTES}`);
      const records = singleFile(await readFile(path), (m) => ctx.warn(m), path, new Date(info.mtimeMs).toISOString());
      return { full: false, batches: (async function* () {
        yield { vulnerabilities: records.vulnerabilities, affected: records.affected };
      })() };
    }
    return { full: false, batches: fileBatches(path, ctx) };
  },
};
