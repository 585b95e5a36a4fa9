/**
 * The `dir` driver: each object a file under a directory (`object_store.dir.path`, default
 * `<data_dir>/objects`), at the path its key names. Written to a temporary file beside it, synced
 * and renamed into place, so a reader sees the whole file or none; files are 0600, directories 0700.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rmdir, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { LadingError, describeError } from '../../errors.js';
import type { DriverFactory, ObjectStore } from './types.js';

const SEGMENT = /^[A-Za-z0-9_%-][A-Za-z0-9._%-]*$/;

/** The file of a key: every segment plain (no `..`, no separators), so it stays inside the directory. */
export function keyPath(root: string, key: string): string {
  const segments = key.split('/');
  if (!segments.every((s) => SEGMENT.test(s) && s !== '..')) throw new LadingError('INTERNAL', `object key "${key}" is not a plain relative path`);
  return join(root, ...segments);
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

export class DirObjectStore implements ObjectStore {
  readonly name = 'dir' as const;
  readonly inline = false;
  readonly location: string;

  constructor(private readonly root: string) {
    this.location = root;
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    const file = keyPath(this.root, key);
    const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw new LadingError('INTERNAL', `cannot write ${file}: ${describeError(e)}`, { cause: e });
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    const file = keyPath(this.root, key);
    try {
      return await readFile(file);
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined;
      throw new LadingError('INTERNAL', `cannot read ${file}: ${describeError(e)}`, { cause: e });
    }
  }

  async delete(key: string): Promise<void> {
    const file = keyPath(this.root, key);
    try {
      await unlink(file);
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw new LadingError('INTERNAL', `cannot delete ${file}: ${describeError(e)}`, { cause: e });
    }
    // The per-image and per-account directories go when they are empty (another writer may refill them: fine).
    for (let d = dirname(file); d.startsWith(this.root) && d !== this.root; d = dirname(d)) {
      if (!(await rmdir(d).then(() => true, () => false))) break;
    }
  }
}

export const openDirStore: DriverFactory = (config, context) => new DirObjectStore(resolve(config.dir.path ?? join(context.dataDir, 'objects')));
