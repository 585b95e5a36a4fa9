/**
 * Applying one layer's tar stream to the squashed tree: node-tar's Parser reads the headers
 * (PAX, GNU long names), each entry is placed in the tree with OCI whiteout rules, hostile paths
 * are kept inside the image root, and only the entries a capture request wants have their
 * content read; every other body is skipped by the parser without being copied.
 */
// tar's parts by their own entry points: its main one is one file that also loads the packer and unpacker.
import { Parser } from 'tar/parse';
import type { ReadEntry } from 'tar/read-entry';
import { LadingError } from '../errors.js';
import { createHash } from 'node:crypto';
import type { Captures, Job } from './capture.js';
import { feedContent, headerOf, type LayerRecorder, type ReplaySource, type TarHeader } from './records.js';

import { ReplayGap } from './records.js';
export { ReplayGap, type LayerEvent, type LayerRecorder, type ReplaySource, type TarHeader } from './records.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
import type { Limits } from './limits.js';
import { parseImagePath } from './paths.js';
import type { FileType, Node, Tree } from './tree.js';

export interface ApplyContext {
  index: number;
  /** 'layer 2 (sha256:…)', for messages. */
  label: string;
  tree: Tree;
  captures: Captures | null;
  limits: Limits;
  warn(message: string): void;
  /** Tar entries seen so far in the whole image (maxEntries). */
  counts: { entries: number };
  /** Compute sha256 of every regular file's content. */
  digests?: boolean;
  signal?: AbortSignal;
  /** Told every header and every stream-level warning, in tar order (the layer cache records them). */
  recorder?: LayerRecorder;
}

export async function applyLayer(chunks: AsyncIterable<Buffer>, ctx: ApplyContext): Promise<{ entries: number }> {
  return new LayerApplier(ctx).run(chunks);
}

/** Apply a recorded layer (headers and stream warnings, as a recorder saw them) to the tree. */
export async function replayLayer(source: ReplaySource, ctx: ApplyContext): Promise<{ entries: number }> {
  return new LayerApplier(ctx).replay(source);
}

/** node-tar's entry type names that become tree nodes. */
const TYPES: Record<string, FileType | undefined> = {
  File: 'file', OldFile: 'file', ContiguousFile: 'file', Link: 'hardlink', SymbolicLink: 'symlink',
  CharacterDevice: 'char', BlockDevice: 'block', Directory: 'dir', FIFO: 'fifo',
};
/** Types node-tar hands to the filter (all others it ignores by itself). */
const FILTERED = new Set([...Object.keys(TYPES), 'GNUDumpDir']);

const OPAQUE = '.wh..wh..opq';

/**
 * node-tar's Parser sniffs gzip/zstd in what it is given and applies PAX global headers to later
 * entries. The bytes here are already decompressed and checked against the diff_id, and Docker and
 * containerd ignore global headers, so both are switched off (the symbols are the parser's own).
 */
function harden(parser: Parser, onGlobalHeader: () => void): void {
  const own = Object.getOwnPropertySymbols(parser);
  const unzip = own.find((s) => s.description === 'unzip');
  const gex = own.find((s) => s.description === 'globalExtendedHeader');
  if (!unzip || !gex) throw new LadingError('INTERNAL', 'this version of node-tar cannot be configured safely (its Parser internals changed)');
  (parser as unknown as Record<symbol, unknown>)[unzip] = false;
  Object.defineProperty(parser, gex, {
    configurable: true,
    get: () => undefined,
    set: (v: unknown) => {
      if (v !== undefined) onGlobalHeader();
    },
  });
}

class LayerApplier {
  private failure: unknown = null;
  private waiters: (() => void)[] = [];
  private readonly jobs = new WeakMap<ReadEntry, Job>();
  /** Entries whose content is hashed, and the node that gets the digest. */
  private readonly hashed = new WeakMap<ReadEntry, Node>();
  private readonly parser: Parser;
  private entries = 0;
  private bytes = 0;
  private sawEof = false;
  /** Fewer than 512 bytes carried to the next chunk: the parser is fed whole blocks only, so it never re-buffers a chunk. */
  private tail: Buffer | null = null;
  /** What the last place() left for the content step: the capture job, the node to hash, the final path. */
  private lastJob: Job | null = null;
  private lastHash: Node | null = null;
  private lastNode: Node | null = null;
  private placedPath: string | null | undefined = undefined;

  constructor(private readonly ctx: ApplyContext) {
    this.parser = new Parser({
      maxMetaEntrySize: ctx.limits.maxHeaderBytes,
      brotli: false,
      zstd: false,
      filter: (_path, entry) => this.header(entry as ReadEntry),
      onwarn: (code, message, data) => this.tarWarning(code, message, data as { header?: { size?: number; path?: string }; entry?: { path?: string } }),
    });
    harden(this.parser, () => this.streamWarn(`${ctx.label}: ignored a PAX global extended header`));
    this.parser.on('entry', (e: ReadEntry) => this.content(e));
    this.parser.on('ignoredEntry', (e: ReadEntry) => this.ignored(e));
    this.parser.on('eof', () => {
      this.sawEof = true;
    });
    this.parser.on('error', (e: Error) => this.fail(this.bad(e.message)));
    if (ctx.captures) ctx.captures.onError = (e) => this.fail(e);
  }

  private streamWarn(message: string, counted = false): void {
    this.ctx.warn(message);
    this.ctx.recorder?.warn(message, counted);
  }

  async replay(source: ReplaySource): Promise<{ entries: number }> {
    const { events } = source;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      if (i % 1024 === 0) this.ctx.signal?.throwIfAborted();
      if ('warn' in ev) {
        if (ev.counted) this.count();
        this.ctx.warn(ev.warn);
        continue;
      }
      const read = this.place(ev, () => {});
      if (this.placedPath !== undefined) source.placed(i, this.placedPath);
      if (!read) continue;
      if (this.lastHash !== null) {
        if (ev.sha256 === undefined) throw new ReplayGap(`no digest kept for ${ev.path}`);
        this.lastHash.sha256 = ev.sha256;
      }
      if (this.lastJob !== null) {
        const content = source.content(i);
        if (content === undefined) throw new ReplayGap(`no content kept for ${ev.path}`);
        feedContent(this.lastJob, content);
      }
      this.check();
    }
    await this.ctx.captures?.settle();
    this.check();
    return { entries: this.entries };
  }

  async run(chunks: AsyncIterable<Buffer>): Promise<{ entries: number }> {
    const signal = this.ctx.signal;
    const onAbort = (): void => this.fail(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.feedAll(chunks);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async feedAll(chunks: AsyncIterable<Buffer>): Promise<{ entries: number }> {
    const ended = new Promise<void>((resolve) => {
      this.parser.once('end', resolve);
      this.waiters.push(resolve);
    });
    for await (const chunk of chunks) {
      this.ctx.signal?.throwIfAborted();
      this.bytes += chunk.length;
      const ok = this.feed(chunk);
      this.check();
      if (!ok) {
        await new Promise<void>((resolve) => {
          this.parser.once('drain', resolve);
          this.waiters.push(resolve);
        });
        this.check();
      }
    }
    if (this.tail !== null) this.parser.write(this.tail);
    this.parser.end();
    await ended;
    this.check();
    if (!this.sawEof && this.bytes % 512 !== 0) {
      throw this.bad(`the tar stream is truncated (${this.bytes} bytes, not a whole number of 512-byte blocks)`);
    }
    if (!this.sawEof && this.bytes > 0) this.streamWarn(`${this.ctx.label}: the tar stream has no end-of-archive marker`);
    return { entries: this.entries };
  }

  private feed(chunk: Buffer): boolean {
    let ok = true;
    if (this.tail !== null) {
      const need = 512 - this.tail.length;
      if (chunk.length < need) {
        this.tail = Buffer.concat([this.tail, chunk]);
        return true;
      }
      ok = this.parser.write(Buffer.concat([this.tail, chunk.subarray(0, need)]));
      this.tail = null;
      chunk = chunk.subarray(need);
    }
    const rest = chunk.length % 512;
    if (rest !== 0) {
      this.tail = Buffer.from(chunk.subarray(chunk.length - rest));
      chunk = chunk.subarray(0, chunk.length - rest);
    }
    if (chunk.length > 0 && this.failure === null) ok = this.parser.write(chunk) && ok;
    return ok;
  }

  private fail(e: unknown): void {
    this.failure ??= e;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private check(): void {
    if (this.failure !== null) throw this.failure;
  }

  private bad(message: string): LadingError {
    return new LadingError('BAD_INPUT', `${this.ctx.label} is not a valid tar stream: ${message}`);
  }

  private tarWarning(code: string, message: string, data: { header?: { size?: number; path?: string }; entry?: { path?: string } }): void {
    const path = data.entry?.path ?? data.header?.path;
    const where = path ? ` (entry "${path}")` : '';
    if (code === 'TAR_ENTRY_INVALID') {
      // A bad header with no body leaves the parser in step: skip it. Otherwise its body would be read as headers.
      if (message !== 'checksum failure' && data.header !== undefined && (data.header.size ?? 0) === 0) {
        this.streamWarn(`${this.ctx.label}: skipped an invalid tar entry${where}: ${message}`);
        return;
      }
      return this.fail(this.bad(`${message}${where} near uncompressed byte ${this.bytes}`));
    }
    if (code === 'TAR_BAD_ARCHIVE') {
      if (message.startsWith('Truncated input')) {
        return this.fail(new LadingError('BAD_INPUT', `${this.ctx.label} is truncated: the tar stream ends inside an entry${where} (${message})`));
      }
      // An empty layer (no bytes, or only end-of-archive blocks) is fine.
      if (message === 'Unrecognized archive format') {
        if (this.entries === 0 && this.bytes % 512 === 0) return;
        return this.fail(this.bad('unrecognized archive format (this is not a tar)'));
      }
      return this.fail(this.bad(message));
    }
    this.fail(this.bad(`${code}: ${message}${where}`));
  }

  /** The parser's filter: called at each header, in tar order. True means "read this entry's content". */
  private header(e: ReadEntry): boolean {
    if (this.failure !== null) return false;
    try {
      const h = headerOf(e);
      const read = this.place(h, () => {
        e.remain = 0;
        e.blockRemain = 0;
        e.end();
      });
      this.ctx.recorder?.header(h, this.lastNode, this.placedPath);
      if (this.lastJob !== null) this.jobs.set(e, this.lastJob);
      if (this.lastHash !== null) this.hashed.set(e, this.lastHash);
      return read;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  private count(): void {
    this.entries++;
    const max = this.ctx.limits.maxEntries;
    if (++this.ctx.counts.entries > max) {
      throw new LadingError('LIMIT_EXCEEDED', `${this.ctx.label}: the image has more than maxEntries (${max}) tar entries`);
    }
  }

  private checkLength(s: string, what: string): void {
    const max = this.ctx.limits.maxPathBytes;
    if (s.length > max || (s.length * 3 > max && Buffer.byteLength(s) > max)) {
      throw new LadingError('LIMIT_EXCEEDED', `${this.ctx.label}: a tar entry's ${what} is ${Buffer.byteLength(s)} bytes, over maxPathBytes (${max})`);
    }
  }

  /** Put one entry in the tree. True means "read this entry's content" (for a capture job or a digest). */
  private place(e: TarHeader, dropBody: () => void): boolean {
    const { ctx } = this;
    const tree = ctx.tree;
    this.lastJob = null;
    this.lastHash = null;
    this.lastNode = null;
    this.placedPath = undefined;
    this.count();
    const raw = e.path;
    this.checkLength(raw, 'path');
    const type = TYPES[e.type];
    if (type === undefined) {
      ctx.warn(`${ctx.label}: skipped "${raw}": unsupported tar entry type ${e.type}`);
      return false;
    }
    if (raw.includes('\0')) {
      ctx.warn(`${ctx.label}: skipped a path with a NUL byte: ${JSON.stringify(raw)}`);
      return false;
    }
    if (type !== 'file' && e.body === true) {
      // Go's archive/tar (Docker, containerd) reads no body for links, devices, fifos and
      // directories whatever their size field says; node-tar would skip `size` bytes. Follow Go,
      // or an entry hidden in such a "body" would be seen by Docker and not by this scanner.
      ctx.warn(`${ctx.label}: "${raw}" (${type}) declares a ${e.size}-byte body; it was read as having none, as Docker does`);
      dropBody();
    }
    const p = parseImagePath(raw);
    const parts = p.parts;
    if (p.absolute || p.dotdot) {
      ctx.warn(`${ctx.label}: path "${raw}" ${p.escaped ? 'climbs out of the image root; kept inside it as' : 'normalised to'} "/${parts.join('/')}"`);
    }
    const n = parts.length;
    if (type === 'file' || type === 'hardlink') this.placedPath = null;
    if (n === 0) return this.rootEntry(e, type, raw);
    const name = parts[n - 1]!;
    if (name.startsWith('.wh.')) {
      this.whiteout(parts, name, raw);
      return false;
    }
    const parent = tree.resolveDir(parts, n - 1, true, ctx.index);
    if (parent === null) {
      this.unresolved(raw);
      return false;
    }
    // The final path differs from the lexical one only when a symlink was followed.
    let path: string | null = null;
    if (tree.followed) {
      path = (parent.parent === null ? '' : tree.pathOf(parent)) + '/' + name;
      this.checkLength(path, 'path (through symlinks)');
    }
    if (type === 'hardlink') {
      this.hardlink(e, parent, name, raw, path ?? '/' + parts.join('/'));
      return false;
    }
    const node = tree.place(parent, name, type, ctx.index);
    this.lastNode = node;
    setMetadata(node, e);
    if (type === 'file') return this.placeFile(node, e, path ?? '/' + parts.join('/'));
    if (type === 'symlink') {
      const target = e.linkpath ?? '';
      this.checkLength(target, 'symlink target');
      node.linkTarget = target;
    } else if (type === 'char' || type === 'block') {
      node.devMajor = e.devmaj ?? 0;
      node.devMinor = e.devmin ?? 0;
    }
    return false;
  }

  /** A regular file's size, digest and capture; true when its content is to be read. */
  private placeFile(node: Node, e: TarHeader, final: string): boolean {
    const { ctx } = this;
    node.size = e.size;
    this.placedPath = final;
    // Hash the content for a digest (an empty file's is known).
    if (ctx.digests && e.size === 0) node.sha256 = EMPTY_SHA256;
    if (ctx.digests && e.size > 0) this.lastHash = node;
    const read = ctx.digests === true && e.size > 0;
    if (ctx.captures === null) return read;
    const job = ctx.captures.file(node, final, e.size);
    if (job === null) return read;
    this.lastJob = job;
    return true;
  }

  private rootEntry(e: TarHeader, type: FileType, raw: string): boolean {
    if (type !== 'dir') {
      this.ctx.warn(`${this.ctx.label}: skipped "${raw}": it names the image root but is a ${type}`);
      return false;
    }
    const root = this.ctx.tree.root;
    setMetadata(root, e);
    root.layer = this.ctx.index;
    return false;
  }

  private whiteout(parts: string[], name: string, raw: string): void {
    const { ctx } = this;
    const tree = ctx.tree;
    const n = parts.length;
    if (name === OPAQUE) {
      const dir = tree.resolveDir(parts, n - 1, true, ctx.index);
      if (dir === null) return this.unresolved(raw);
      tree.prune(dir, ctx.index);
      return;
    }
    const victim = name.slice(4);
    if (name.startsWith('.wh..wh.') || victim === '' || victim === '.' || victim === '..') {
      ctx.warn(`${ctx.label}: skipped "${raw}": not a whiteout this scanner understands`);
      return;
    }
    const dir = tree.resolveDir(parts, n - 1, false, ctx.index);
    if (dir === null) {
      if (tree.failure !== 'missing') this.unresolved(raw);
      return;
    }
    tree.whiteout(dir, victim, ctx.index);
  }

  private hardlink(e: TarHeader, parent: Node, name: string, raw: string, path: string): void {
    const { ctx } = this;
    const tree = ctx.tree;
    const linkRaw = e.linkpath ?? '';
    this.checkLength(linkRaw, 'hardlink target');
    const t = parseImagePath(linkRaw);
    const inside = '/' + t.parts.join('/');
    const tn = t.parts.length;
    const dir = tn === 0 ? null : tree.resolveDir(t.parts, tn - 1, false, ctx.index);
    const target = dir?.children?.get(t.parts[tn - 1]!);
    if (target === undefined) {
      const as = inside !== linkRaw ? ` (taken inside the image root as ${inside})` : '';
      ctx.warn(`${ctx.label}: skipped hardlink "${raw}": its target "${linkRaw}"${as} is not in the image`);
      return;
    }
    if (t.absolute || t.dotdot) {
      ctx.warn(`${ctx.label}: hardlink "${raw}" has target "${linkRaw}", ${t.escaped ? 'which climbs out of the image root; kept inside it as' : 'normalised to'} "${inside}"`);
    }
    if (target.type === 'dir') {
      ctx.warn(`${ctx.label}: skipped hardlink "${raw}": its target "${linkRaw}" is a directory`);
      return;
    }
    if (target === parent.children!.get(name)) {
      ctx.warn(`${ctx.label}: skipped hardlink "${raw}": it links to itself`);
      return;
    }
    const targetPath = tree.pathOf(target);
    const node = tree.place(parent, name, 'hardlink', ctx.index);
    this.lastNode = node;
    this.placedPath = path;
    node.mode = target.mode;
    node.uid = target.uid;
    node.gid = target.gid;
    node.mtime = target.mtime;
    node.size = target.size;
    node.linkTarget = targetPath;
    node.devMajor = target.devMajor;
    node.devMinor = target.devMinor;
    if (ctx.captures !== null && !target.removed && (target.type === 'file' || target.type === 'hardlink')) {
      ctx.captures.hardlink(node, path, target);
    }
  }

  private unresolved(raw: string): void {
    const tree = this.ctx.tree;
    const at = tree.failedAt ? tree.pathOf(tree.failedAt) : '?';
    const why = tree.failure === 'symlink-loop'
      ? `too many levels of symlinks at ${at} (a loop?)`
      : tree.failure === 'not-a-directory' ? `${at} is not a directory` : `${at} does not exist`;
    this.ctx.warn(`${this.ctx.label}: skipped "${raw}": ${why}`);
  }

  /** An entry whose content was asked for (the filter said yes). */
  private content(e: ReadEntry): void {
    const job = this.jobs.get(e);
    const node = this.hashed.get(e);
    if (node !== undefined && this.failure === null) {
      const h = createHash('sha256');
      e.on('data', (c: Buffer) => h.update(c));
      e.on('end', () => {
        node.sha256 = h.digest('hex');
      });
    }
    if (job === undefined || this.failure !== null) {
      e.resume();
      return;
    }
    this.jobs.delete(e);
    job.attach(e);
  }

  private ignored(e: ReadEntry): void {
    if (this.failure !== null) return;
    if (e.meta) {
      const max = this.ctx.limits.maxHeaderBytes;
      if (e.size > max) {
        this.fail(new LadingError('LIMIT_EXCEEDED', `${this.ctx.label}: a ${e.type} header of ${e.size} bytes is over maxHeaderBytes (${max})`));
      }
      return;
    }
    if (FILTERED.has(e.type)) return; // skipped by our own filter
    try {
      this.count();
      this.streamWarn(`${this.ctx.label}: skipped "${e.path}": unsupported tar entry type ${e.type}`, true);
    } catch (err) {
      this.fail(err);
    }
  }
}

function setMetadata(node: Node, e: TarHeader): void {
  node.mode = e.mode;
  node.uid = e.uid;
  node.gid = e.gid;
  node.mtime = e.mtime;
}
