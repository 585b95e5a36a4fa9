/**
 * Red Hat documents in bulk: any document's bytes → records, batches of a bounded size, the
 * `.json` entries of a (compressed) tar archive, and the changes.csv / deletions.csv lists.
 */
import { basename } from 'node:path';
// tar's parts by their own entry points: its main one is one file that also loads the packer and unpacker.
import { Parser } from 'tar/parse';
import type { ReadEntry } from 'tar/read-entry';
import { LadingError } from '../../../errors.js';
import { compressionOfMagic, decompressChunks } from '../../../image/decompress.js';
import type { Affected, FeedBatch, Vulnerability } from '../../model.js';
import { obj } from '../../json.js';
import type { Records, Warn } from './products.js';
import { csafRecords } from './csaf.js';
import { hydraRecords } from './hydra.js';

/** One document larger than this is skipped with a warning. */
export const MAX_DOC_BYTES = 128 * 1024 * 1024;
/** Everything an archive may expand to. */
const MAX_EXPANDED_BYTES = 128 * 1024 * 1024 * 1024;
const BATCH_AFFECTED = 5000;
const BATCH_DOCS = 200;

export function redhatRecords(doc: unknown, warn: Warn, where: string, when: string): Records | undefined {
  const d = obj(doc);
  if (!d) return undefined;
  if (obj(obj(d.document)?.tracking)) return csafRecords(d, warn, where, when);
  if (typeof d.name === 'string' && /^CVE-\d{4}-\d+$/.test(d.name) && ('affected_release' in d || 'package_state' in d || 'threat_severity' in d)) {
    return hydraRecords(d, warn, where);
  }
  return undefined;
}

/** Parse one document's bytes; a broken one is warned about and yields nothing. */
export function documentRecords(body: Buffer, warn: Warn, where: string, when: string): Records | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (e) {
    warn(`${where}: invalid JSON (${(e as Error).message}); skipped`);
    return undefined;
  }
  try {
    const r = redhatRecords(doc, warn, where, when);
    if (!r) warn(`${where}: neither a CSAF document nor Security Data API CVE JSON; skipped`);
    return r;
  } catch (e) {
    warn(`${where}: ${(e as Error).message}; skipped`);
    return undefined;
  }
}

/** Gathers per-document records into batches of a bounded size. */
export class Batcher {
  private v: Vulnerability[] = [];
  private a: Affected[] = [];
  private docs = 0;

  add(r: Records): FeedBatch | undefined {
    this.v.push(...r.vulnerabilities);
    for (const x of r.affected) this.a.push(x);
    this.docs++;
    return this.docs >= BATCH_DOCS || this.a.length >= BATCH_AFFECTED ? this.flush() : undefined;
  }

  flush(): FeedBatch | undefined {
    if (this.docs === 0 && this.v.length === 0) return undefined;
    const b: FeedBatch = { vulnerabilities: this.v, affected: this.a };
    this.v = [];
    this.a = [];
    this.docs = 0;
    return b;
  }
}

// ---------------------------------------------------------------------------------------------
// Archives and lists

/** The `.json` entries of a tar stream, one at a time; over-large ones are skipped with a warning. */
export async function* tarDocuments(tar: AsyncIterable<Buffer>, warn: Warn, where: string): AsyncGenerator<{ path: string; body: Buffer }> {
  const ready: { path: string; body: Buffer }[] = [];
  let failure: Error | undefined;
  const parser = new Parser({ strict: true, zstd: false, brotli: false, onwarn: (_code, message) => warn(`${where}: ${message}`) });
  parser.on('entry', (entry: ReadEntry) => {
    if (entry.type !== 'File' || !entry.path.endsWith('.json')) {
      entry.resume();
      return;
    }
    if (entry.size > MAX_DOC_BYTES) {
      warn(`${where}: ${entry.path} is ${entry.size} bytes, more than ${MAX_DOC_BYTES}; skipped`);
      entry.resume();
      return;
    }
    const parts: Buffer[] = [];
    entry.on('data', (c: Buffer) => parts.push(c));
    entry.on('end', () => ready.push({ path: entry.path, body: Buffer.concat(parts) }));
  });
  parser.on('error', (e: Error) => {
    failure ??= e;
  });
  const ended = new Promise<void>((resolve) => {
    parser.once('end', resolve);
    parser.once('close', resolve);
  });
  let total = 0;
  for await (const chunk of tar) {
    total += chunk.length;
    if (total > MAX_EXPANDED_BYTES) throw new LadingError('LIMIT_EXCEEDED', `${where}: the archive expands beyond ${MAX_EXPANDED_BYTES} bytes`);
    parser.write(chunk);
    if (failure) throw new LadingError('BAD_INPUT', `${where}: not a readable tar archive (${failure.message})`);
    while (ready.length) yield ready.shift()!;
  }
  parser.end();
  await ended;
  if (failure) throw new LadingError('BAD_INPUT', `${where}: not a readable tar archive (${(failure as Error).message})`);
  while (ready.length) yield ready.shift()!;
}

export async function* bufferChunks(b: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += 1 << 20) yield b.subarray(i, i + (1 << 20));
}

/**
 * A CSAF archive (`.tar.zst`, `.tar.gz` or `.tar`) → batches. Documents whose id is in `skip`
 * (changed or deleted since the archive was made, and read separately) are left out, so one full
 * apply never holds two versions of a document.
 */
export async function* archiveBatches(bytes: AsyncIterable<Buffer>, warn: Warn, where: string, when: string, skip = new Set<string>()): AsyncGenerator<FeedBatch> {
  const it = bytes[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) throw new LadingError('BAD_INPUT', `${where}: the archive is empty`);
  async function* all(): AsyncGenerator<Buffer> {
    yield first.value as Buffer;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  const kind = compressionOfMagic(first.value as Buffer);
  const batcher = new Batcher();
  // a damaged archive must fail the whole import: it replaces everything, so half of it would lose data
  const docs = tarDocuments(decompressChunks(kind, all()), warn, where)[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<{ path: string; body: Buffer }>;
    try {
      next = await docs.next();
    } catch (e) {
      if (e instanceof LadingError) throw e;
      throw new LadingError('BAD_INPUT', `${where}: cannot read the archive (${(e as Error).message})`, { cause: e });
    }
    if (next.done) break;
    if (skip.has(idFromPath(next.value.path))) continue;
    const r = documentRecords(next.value.body, warn, `${where}:${next.value.path}`, when);
    const b = r && batcher.add(r);
    if (b) yield b;
  }
  const rest = batcher.flush();
  if (rest) yield rest;
}

export interface Change {
  path: string;
  time: string;
  ms: number;
}

/** `changes.csv` / `deletions.csv`: `"2024/cve-2024-1234.json","2025-02-18T14:28:08+00:00"` per line. */
export function parseChanges(text: string, warn: Warn, where: string): Change[] {
  const out: Change[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    const m = /^"?([^",]+)"?,"?([^",]+)"?$/.exec(line.trim());
    const ms = m ? Date.parse(m[2]!) : NaN;
    if (!m || Number.isNaN(ms)) {
      warn(`${where}: line ${i + 1} is not "path","timestamp"; skipped`);
      continue;
    }
    const path = m[1]!;
    if (path.startsWith('/') || path.split('/').some((p) => p === '..' || p === '') || /^[a-z]+:/i.test(path) || !path.endsWith('.json')) {
      warn(`${where}: line ${i + 1} names ${JSON.stringify(path)}, not a relative .json path; skipped`);
      continue;
    }
    out.push({ path, time: m[2]!, ms });
  }
  return out;
}

/** The newest entry per path, newer than `sinceMs` (or at least as new, with `inclusive`). */
export function newer(list: Change[], sinceMs: number, inclusive: boolean): Change[] {
  const by = new Map<string, Change>();
  for (const c of list) {
    if (c.ms < sinceMs || (!inclusive && c.ms === sinceMs)) continue;
    const prev = by.get(c.path);
    if (!prev || c.ms > prev.ms) by.set(c.path, c);
  }
  return [...by.values()].sort((a, b) => a.ms - b.ms);
}

/** The newest time among `from` and the lists. */
export function latest(from: number, ...lists: Change[][]): number {
  let t = from;
  for (const list of lists) for (const c of list) if (c.ms > t) t = c.ms;
  return t;
}

/** A path both changed and deleted counts only as what happened last (a deletion on a tie). */
export function settle(changes: Change[], deletions: Change[]): { changes: Change[]; deletions: Change[] } {
  const deleted = new Map(deletions.map((d) => [d.path, d.ms]));
  const changed = new Map(changes.map((c) => [c.path, c.ms]));
  return {
    changes: changes.filter((c) => !(deleted.get(c.path)! >= c.ms)),
    deletions: deletions.filter((d) => !(changed.get(d.path)! > d.ms)),
  };
}

/** `2024/cve-2024-1234.json` → CVE-2024-1234; `2024/rhsa-2024_2106.json` → RHSA-2024:2106. */
export function idFromPath(path: string): string {
  const base = basename(path, '.json').toUpperCase();
  return /^RH[SBE]A-\d{4}_\d+$/.test(base) ? base.replace('_', ':') : base;
}
