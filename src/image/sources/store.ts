/**
 * Read access to the files of a local image container: a directory (OCI layout) or a tar
 * archive (docker-archive, OCI archive). The tar is indexed once by its headers; member contents
 * are read in place, never extracted.
 */
import { open, readFile, stat, lstat, realpath } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { LadingError } from '../../errors.js';
import type { Limits } from '../limits.js';

export interface FileStore {
  /** Human name for messages: the archive or directory path. */
  readonly name: string;
  exists(path: string): Promise<boolean>;
  size(path: string): Promise<number>;
  /** The whole member, refusing anything over `max` bytes. */
  read(path: string, max: number): Promise<Buffer>;
  /** A stream of the member's bytes; `start`/`end` (inclusive) select a range. */
  stream(path: string, start?: number, end?: number): Readable;
  close(): Promise<void>;
}

function cleanMemberPath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/');
}

/** A directory; every path is resolved inside it (a symlink out of it is refused). */
export class DirStore implements FileStore {
  private constructor(readonly name: string, private readonly root: string) {}

  static async open(dir: string): Promise<DirStore> {
    const st = await stat(dir).catch(() => null);
    if (!st?.isDirectory()) throw new LadingError('NOT_FOUND', `${dir} is not a directory`);
    return new DirStore(dir, await realpath(dir));
  }

  private async locate(path: string): Promise<string> {
    const full = resolve(this.root, cleanMemberPath(path));
    const real = await realpath(full).catch(() => null);
    if (!real) throw new LadingError('NOT_FOUND', `${this.name}: ${path} does not exist`);
    if (real !== this.root && !real.startsWith(this.root + sep)) {
      throw new LadingError('BAD_INPUT', `${this.name}: ${path} points outside the layout directory`);
    }
    return real;
  }

  async exists(path: string): Promise<boolean> {
    return (await lstat(resolve(this.root, cleanMemberPath(path))).catch(() => null)) !== null;
  }

  async size(path: string): Promise<number> {
    return (await stat(await this.locate(path))).size;
  }

  async read(path: string, max: number): Promise<Buffer> {
    const full = await this.locate(path);
    const st = await stat(full);
    if (!st.isFile()) throw new LadingError('BAD_INPUT', `${this.name}: ${path} is not a regular file`);
    if (st.size > max) throw new LadingError('LIMIT_EXCEEDED', `${this.name}: ${path} is ${st.size} bytes, over the limit of ${max}`);
    return readFile(full);
  }

  stream(path: string, start?: number, end?: number): Readable {
    const full = resolve(this.root, cleanMemberPath(path));
    if (full !== this.root && !full.startsWith(this.root + sep)) throw new LadingError('BAD_INPUT', `${this.name}: ${path} points outside the layout directory`);
    return createReadStream(full, { start, end });
  }

  async close(): Promise<void> {}
}

interface Member {
  offset: number;
  size: number;
  type: string;
  link?: string;
}

function parseOctal(b: Buffer, off: number, len: number): number {
  // GNU base-256 for large sizes: high bit set on the first byte.
  if (b[off]! & 0x80) {
    let n = 0;
    for (let i = off + 1; i < off + len; i++) n = n * 256 + b[i]!;
    return n;
  }
  const s = b.toString('ascii', off, off + len).replace(/\0.*$/s, '').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) return NaN;
  return parseInt(s, 8);
}

function cstring(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end >= 0 && end < off + len ? end : off + len);
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < body.length) {
    const sp = body.indexOf(0x20, pos);
    if (sp < 0) break;
    const len = parseInt(body.toString('ascii', pos, sp), 10);
    if (!Number.isFinite(len) || len <= 0 || pos + len > body.length) break;
    const rec = body.toString('utf8', sp + 1, pos + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    pos += len;
  }
  return out;
}

/** A tar archive on disk, indexed by member path. A gzip-compressed archive is unpacked to a scratch file first. */
export class TarStore implements FileStore {
  private constructor(
    readonly name: string,
    private readonly file: string,
    private readonly members: Map<string, Member>,
    private readonly scratch?: string,
  ) {}

  static async open(path: string, limits: Limits): Promise<TarStore> {
    const st = await stat(path).catch(() => null);
    if (!st?.isFile()) throw new LadingError('NOT_FOUND', `${path} is not a file`);
    let file = path;
    let scratch: string | undefined;
    const fh = await open(path, 'r');
    const magic = Buffer.alloc(2);
    await fh.read(magic, 0, 2, 0);
    await fh.close();
    if (magic[0] === 0x1f && magic[1] === 0x8b) {
      scratch = await mkdtemp(join(tmpdir(), 'lading-archive-'));
      file = join(scratch, 'archive.tar');
      try {
        await pipeline(createReadStream(path), createGunzip(), createWriteStream(file, { mode: 0o600 }));
      } catch (e) {
        await rm(scratch, { recursive: true, force: true });
        throw new LadingError('BAD_INPUT', `${path}: the gzip-compressed archive is corrupt (${(e as Error).message})`);
      }
    }
    try {
      return new TarStore(path, file, await indexTar(file, path, limits), scratch);
    } catch (e) {
      if (scratch) await rm(scratch, { recursive: true, force: true });
      throw e;
    }
  }

  private member(path: string): Member {
    let p = cleanMemberPath(path);
    for (let hops = 0; hops < 40; hops++) {
      const m = this.members.get(p);
      if (!m) throw new LadingError('NOT_FOUND', `${this.name}: the archive has no member ${path}`);
      if (m.type === '2' && m.link !== undefined) {
        const base = p.includes('/') ? p.slice(0, p.lastIndexOf('/') + 1) : '';
        p = cleanMemberPath(m.link.startsWith('/') ? m.link : base + m.link);
        continue;
      }
      if (m.type === '1' && m.link !== undefined) {
        p = cleanMemberPath(m.link);
        continue;
      }
      if (m.type !== '0' && m.type !== '\0' && m.type !== '7') throw new LadingError('BAD_INPUT', `${this.name}: member ${path} is not a regular file`);
      return m;
    }
    throw new LadingError('BAD_INPUT', `${this.name}: member ${path} is a symlink loop`);
  }

  async exists(path: string): Promise<boolean> {
    return this.members.has(cleanMemberPath(path));
  }

  async size(path: string): Promise<number> {
    return this.member(path).size;
  }

  async read(path: string, max: number): Promise<Buffer> {
    const m = this.member(path);
    if (m.size > max) throw new LadingError('LIMIT_EXCEEDED', `${this.name}: ${path} is ${m.size} bytes, over the limit of ${max}`);
    const fh = await open(this.file, 'r');
    try {
      const buf = Buffer.alloc(m.size);
      const { bytesRead } = await fh.read(buf, 0, m.size, m.offset);
      if (bytesRead !== m.size) throw new LadingError('BAD_INPUT', `${this.name}: ${path} is truncated`);
      return buf;
    } finally {
      await fh.close();
    }
  }

  stream(path: string, start = 0, end?: number): Readable {
    const m = this.member(path);
    const last = m.size === 0 ? -1 : Math.min(end ?? m.size - 1, m.size - 1);
    if (last < start) return createReadStream(this.file, { start: 0, end: -1 });
    return createReadStream(this.file, { start: m.offset + start, end: m.offset + last });
  }

  async close(): Promise<void> {
    if (this.scratch) await rm(this.scratch, { recursive: true, force: true });
  }
}

/** Walk the headers only, seeking past member data. */
async function indexTar(file: string, name: string, limits: Limits): Promise<Map<string, Member>> {
  const members = new Map<string, Member>();
  const fh = await open(file, 'r');
  try {
    const total = (await fh.stat()).size;
    const header = Buffer.alloc(512);
    let pos = 0;
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax: Record<string, string> = {};
    let count = 0;
    while (pos + 512 <= total) {
      const { bytesRead } = await fh.read(header, 0, 512, pos);
      if (bytesRead < 512) break;
      if (header.every((b) => b === 0)) break;
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
      if (parseOctal(header, 148, 8) !== sum) throw new LadingError('BAD_INPUT', `${name} is not a tar archive (bad header checksum at offset ${pos})`);
      const type = String.fromCharCode(header[156]!);
      const isMeta = type === 'x' || type === 'L' || type === 'K' || type === 'g';
      const size = !isMeta && pax.size !== undefined ? Number(pax.size) : parseOctal(header, 124, 12);
      if (!Number.isSafeInteger(size) || size < 0) throw new LadingError('BAD_INPUT', `${name}: bad member size at offset ${pos}`);
      const dataStart = pos + 512;
      if (dataStart + size > total) throw new LadingError('BAD_INPUT', `${name} is truncated (member at offset ${pos} runs past the end)`);
      const next = dataStart + Math.ceil(size / 512) * 512;
      if (type === 'x' || type === 'L' || type === 'K') {
        if (size > limits.maxHeaderBytes) throw new LadingError('LIMIT_EXCEEDED', `${name}: a ${size}-byte extended header is over the limit of ${limits.maxHeaderBytes}`);
        const body = Buffer.alloc(size);
        await fh.read(body, 0, size, dataStart);
        if (type === 'x') pax = { ...pax, ...parsePax(body) };
        else if (type === 'L') longName = cstring(body, 0, size);
        else longLink = cstring(body, 0, size);
        pos = next;
        continue;
      }
      if (type === 'g') { pos = next; continue; }
      if (++count > limits.maxEntries) throw new LadingError('LIMIT_EXCEEDED', `${name} has more than ${limits.maxEntries} members`);
      const ustar = header.toString('ascii', 257, 262) === 'ustar';
      const prefix = ustar ? cstring(header, 345, 155) : '';
      const base = cstring(header, 0, 100);
      const path = pax.path ?? longName ?? (prefix ? `${prefix}/${base}` : base);
      const link = pax.linkpath ?? longLink ?? cstring(header, 157, 100);
      members.set(cleanMemberPath(path), { offset: dataStart, size, type, ...(link ? { link } : {}) });
      longName = longLink = undefined;
      pax = {};
      pos = next;
    }
  } finally {
    await fh.close();
  }
  if (members.size === 0) throw new LadingError('BAD_INPUT', `${name} is not a tar archive or is empty`);
  return members;
}
