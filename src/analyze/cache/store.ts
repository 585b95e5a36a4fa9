/**
 * The layer cache on disk: <dir>/layers/<diffID hex>/<part key>, one file per part of a layer's
 * analysis (its tar records, or one analyzer's results). Writers go through a private temp file
 * and a rename, so several processes can fill the cache at once and readers never see half a
 * file; a file that fails its checksum is removed and treated as a miss. Reading a part touches
 * its mtime, and the least recently used parts go first when the cache grows over its cap.
 */
import { mkdir, open, readdir, readFile, rename, rmdir, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { decodeEntry, encodeEntry, type EntryData } from './codec.js';

export const DEFAULT_CACHE_CAP = 2 * 1024 ** 3;

export interface LayerCache {
  get(layer: string, part: string): Promise<EntryData | undefined>;
  put(layer: string, part: string, data: EntryData): Promise<void>;
  /** Keep within the size cap (called after a run that wrote). */
  trim(): Promise<void>;
}

export interface CacheStatus {
  dir: string;
  entries: number;
  layers: number;
  bytes: number;
  cap: number;
}

interface PartFile {
  path: string;
  layer: string;
  size: number;
  mtimeMs: number;
}

const SAFE = /^[A-Za-z0-9:._-]{1,200}$/;

function layerDir(layer: string): string {
  if (!SAFE.test(layer)) throw new Error(`not a layer id: ${layer}`);
  return layer.replace(':', '-');
}

export class DiskCache implements LayerCache {
  private wrote = false;

  constructor(readonly dir: string, readonly cap: number = DEFAULT_CACHE_CAP) {}

  private file(layer: string, part: string): string {
    if (!SAFE.test(part)) throw new Error(`not a part key: ${part}`);
    return join(this.dir, 'layers', layerDir(layer), part);
  }

  async get(layer: string, part: string): Promise<EntryData | undefined> {
    const path = this.file(layer, part);
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch {
      return undefined;
    }
    const data = decodeEntry(buf);
    if (data === undefined) {
      await unlink(path).catch(() => {});
      return undefined;
    }
    const now = new Date();
    await utimes(path, now, now).catch(() => {});
    return data;
  }

  async put(layer: string, part: string, data: EntryData): Promise<void> {
    const path = this.file(layer, part);
    const dir = join(this.dir, 'layers', layerDir(layer));
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o600);
    try {
      for (const chunk of encodeEntry(data)) await fh.write(chunk);
    } catch (e) {
      await fh.close();
      await unlink(tmp).catch(() => {});
      throw e;
    }
    await fh.close();
    await rename(tmp, path);
    this.wrote = true;
  }

  async trim(): Promise<void> {
    if (!this.wrote) return;
    this.wrote = false;
    const files = await this.parts();
    let total = files.reduce((n, f) => n + f.size, 0);
    if (total <= this.cap) return;
    files.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const f of files) {
      if (total <= this.cap) break;
      await unlink(f.path).catch(() => {});
      total -= f.size;
    }
  }

  private async parts(): Promise<PartFile[]> {
    const root = join(this.dir, 'layers');
    const out: PartFile[] = [];
    let layers: string[];
    try {
      layers = await readdir(root);
    } catch {
      return out;
    }
    for (const layer of layers) {
      let names: string[];
      try {
        names = await readdir(join(root, layer));
      } catch {
        continue;
      }
      for (const name of names) {
        const path = join(root, layer, name);
        const s = await stat(path).catch(() => undefined);
        if (s?.isFile() && !name.startsWith('.tmp-')) out.push({ path, layer, size: s.size, mtimeMs: s.mtimeMs });
      }
    }
    return out;
  }

  async status(): Promise<CacheStatus> {
    const files = await this.parts();
    return {
      dir: this.dir, entries: files.length, layers: new Set(files.map((f) => f.layer).filter((l) => l !== 'results' && l !== 'images' && l !== 'blobs')).size,
      bytes: files.reduce((n, f) => n + f.size, 0), cap: this.cap,
    };
  }

  /** Remove parts: all, those unused for `olderThanMs`, or those of one layer (diffID). Returns how many went. */
  async clean(options: { olderThanMs?: number; layer?: string } = {}): Promise<{ entries: number; bytes: number }> {
    const cutoff = options.olderThanMs === undefined ? Infinity : Date.now() - options.olderThanMs;
    const layer = options.layer === undefined ? undefined : layerDir(options.layer);
    let entries = 0;
    let bytes = 0;
    for (const f of await this.parts()) {
      if (layer !== undefined && f.layer !== layer) continue;
      if (f.mtimeMs > cutoff) continue;
      await unlink(f.path).catch(() => {});
      entries++;
      bytes += f.size;
    }
    const root = join(this.dir, 'layers');
    for (const d of await readdir(root).catch(() => [] as string[])) {
      await rmdir(join(root, d)).catch(() => {});
    }
    return { entries, bytes };
  }
}
