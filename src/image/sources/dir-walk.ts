/**
 * A directory tree as the uncompressed tar stream of one layer, made while walking it: the same
 * headers `tar --numeric-owner` would write (modes, uid/gid, mtimes, symlinks as they are written,
 * hardlinks by device and inode, device nodes and FIFOs without content, PAX for long names), so
 * the directory goes through exactly the analysis pass a tar layer does.
 *
 * Symlinks are never followed (every entry is lstat'ed, and files are opened with O_NOFOLLOW), so
 * nothing outside the root is read. Sockets cannot be put in a tar and are skipped; so are the
 * contents of the root's proc/ and sys/ (kernel views, never packages). A file or directory that
 * cannot be read is reported as a warning and left out, never fatal.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
// tar's parts by their own entry points: its main one is one file that also loads the packer and unpacker.
import { Header, type HeaderData } from 'tar/header';
import { Pax } from 'tar/pax';
import { describeError } from '../../errors.js';

export interface WalkOptions {
  signal?: AbortSignal;
  onWarning?(message: string): void;
}

const BLOCK = 512;
const CHUNK = 1 << 20;
/** Top-level directories whose contents are the kernel's, not the filesystem's. */
const KERNEL_DIRS = new Set(['proc', 'sys']);
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** The header block of one entry, preceded by a PAX header when a field does not fit in ustar. */
export function headerBytes(data: HeaderData): Buffer {
  const h = new Header(data);
  const needPax = h.encode();
  const block = h.block!;
  if (!needPax) return block;
  const pax = new Pax({
    path: data.path!, ...(data.linkpath !== undefined ? { linkpath: data.linkpath } : {}),
    size: data.size ?? 0, uid: data.uid ?? 0, gid: data.gid ?? 0, ...(data.mtime ? { mtime: data.mtime } : {}),
  }).encode();
  return Buffer.concat([pax, block]);
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

function typeOf(st: Stats): HeaderData['type'] | 'Socket' | undefined {
  if (st.isFile()) return 'File';
  if (st.isDirectory()) return 'Directory';
  if (st.isSymbolicLink()) return 'SymbolicLink';
  if (st.isCharacterDevice()) return 'CharacterDevice';
  if (st.isBlockDevice()) return 'BlockDevice';
  if (st.isFIFO()) return 'FIFO';
  if (st.isSocket()) return 'Socket';
  return undefined;
}

function baseHeader(rel: string, st: Stats): HeaderData {
  return {
    path: rel, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: 0,
    mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000),
  };
}

class Walker {
  /** First path seen of each multiply-linked file, by device and inode. */
  private readonly links = new Map<string, string>();

  constructor(private readonly options: WalkOptions) {}

  private warn(message: string): void {
    this.options.onWarning?.(message);
  }

  async *dir(abs: string, rel: string, depth: number): AsyncGenerator<Buffer> {
    let names: string[];
    try {
      names = await readdir(abs);
    } catch (e) {
      this.warn(`cannot read the directory /${rel}: ${describeError(e)}; its contents are not analyzed`);
      return;
    }
    // Byte order, as a sorted tar (and the squashed tree) has it.
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      this.options.signal?.throwIfAborted();
      yield* this.entry(join(abs, name), rel + name, depth);
    }
  }

  private async *entry(abs: string, rel: string, depth: number): AsyncGenerator<Buffer> {
    let st: Stats;
    try {
      st = await lstat(abs);
    } catch (e) {
      this.warn(`cannot stat /${rel}: ${describeError(e)}; left out`);
      return;
    }
    const type = typeOf(st);
    if (type === undefined || type === 'Socket') {
      this.warn(`/${rel} is a ${type === 'Socket' ? 'socket' : 'special file'}, which a layer cannot hold; left out`);
      return;
    }
    const h = baseHeader(rel, st);
    if (type === 'Directory') {
      yield headerBytes({ ...h, path: rel + '/', type });
      if (depth === 0 && KERNEL_DIRS.has(rel)) return;
      yield* this.dir(abs, rel + '/', depth + 1);
    } else if (type === 'SymbolicLink') {
      const target = await readlink(abs).catch((e: unknown) => {
        this.warn(`cannot read the symlink /${rel}: ${describeError(e)}; left out`);
        return undefined;
      });
      if (target !== undefined) yield headerBytes({ ...h, type, linkpath: target });
    } else if (type === 'CharacterDevice' || type === 'BlockDevice') {
      yield headerBytes({ ...h, type, devmaj: Math.floor(st.rdev / 256) & 0xfff, devmin: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) });
    } else if (type === 'FIFO') {
      yield headerBytes({ ...h, type });
    } else {
      yield* this.file(abs, rel, st, h);
    }
  }

  private async *file(abs: string, rel: string, st: Stats, h: HeaderData): AsyncGenerator<Buffer> {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? this.links.get(key) : undefined;
    if (first !== undefined) {
      yield headerBytes({ ...h, type: 'Link', linkpath: first });
      return;
    }
    let fh: FileHandle;
    try {
      fh = await open(abs, OPEN_FLAGS);
    } catch (e) {
      this.warn(`cannot read /${rel}: ${describeError(e)}; left out`);
      return;
    }
    try {
      const now = await fh.stat();
      if (!now.isFile()) {
        this.warn(`/${rel} changed while it was read; left out`);
        return;
      }
      if (st.nlink > 1) this.links.set(key, rel);
      yield headerBytes({ ...h, type: 'File', size: now.size });
      yield* this.body(fh, now.size, rel);
    } finally {
      await fh.close();
    }
  }

  /** Exactly `size` bytes: a file that shrank meanwhile is padded with zeros, one that grew is cut. */
  private async *body(fh: FileHandle, size: number, rel: string): AsyncGenerator<Buffer> {
    let done = 0;
    while (done < size) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - done));
      let n: number;
      try {
        ({ bytesRead: n } = await fh.read(buf, 0, buf.length, done));
      } catch (e) {
        this.warn(`cannot read /${rel}: ${describeError(e)}; its content is incomplete`);
        n = 0;
      }
      if (n === 0) {
        if (done < size) this.warn(`/${rel} shrank while it was read; its content is incomplete`);
        yield Buffer.alloc(size - done);
        break;
      }
      done += n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
    yield padding(size);
  }
}

/** The tar bytes of the tree under `root` (a real directory path, not a symlink), ending with the two zero blocks. */
export async function* walkDirectory(root: string, options: WalkOptions = {}): AsyncGenerator<Buffer> {
  const walker = new Walker(options);
  yield* walker.dir(root, '', 0);
  yield Buffer.alloc(BLOCK * 2);
}
