/**
 * A small, bounded ZIP reader over a Buffer: end of central directory (with ZIP64), central
 * directory entries, local headers, stored and deflated data. Every offset and size taken from the
 * archive is checked against the buffer before use; entry counts and inflated sizes are capped.
 * Malformed archives throw LadingError('BAD_INPUT'); limits throw LadingError('LIMIT_EXCEEDED').
 */
import { inflateRawSync } from 'node:zlib';
import { LadingError } from '../errors.js';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate; anything else cannot be read. */
  method: number;
  flags: number;
  compressedSize: number;
  /** Uncompressed size as declared by the central directory. */
  size: number;
  crc32: number;
  localHeaderOffset: number;
  isDirectory: boolean;
}

export interface ZipLimits {
  /** Most central directory entries accepted. */
  maxEntries: number;
  /** Largest inflated entry accepted by read() unless a smaller bound is passed. */
  maxEntryBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 500_000,
  maxEntryBytes: 512 * 1024 * 1024,
};

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;

function bad(message: string): LadingError {
  return new LadingError('BAD_INPUT', `zip: ${message}`);
}

/** A 64-bit little-endian field as a safe integer, or an error. */
function u64(buf: Buffer, at: number, what: string): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${what} is out of range`);
  return Number(v);
}

/** True when the buffer starts like a ZIP archive (local header or an empty archive). */
export function looksLikeZip(buf: Buffer): boolean {
  if (buf.length < 4) return false;
  const sig = buf.readUInt32LE(0);
  return sig === SIG_LOCAL || sig === SIG_EOCD;
}

interface Directory { offset: number; size: number; count: number; end: number }

function findEndOfCentralDirectory(buf: Buffer): Directory {
  if (buf.length < EOCD_SIZE) throw bad('too short for an end of central directory record');
  const stop = Math.max(0, buf.length - EOCD_SIZE - MAX_COMMENT);
  for (let at = buf.length - EOCD_SIZE; at >= stop; at--) {
    if (buf[at] !== 0x50 || buf.readUInt32LE(at) !== SIG_EOCD) continue;
    const commentLength = buf.readUInt16LE(at + 20);
    if (at + EOCD_SIZE + commentLength > buf.length) continue;
    let count = buf.readUInt16LE(at + 10);
    let size = buf.readUInt32LE(at + 12);
    let offset = buf.readUInt32LE(at + 16);
    let end = at;
    if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
      const loc = at - 20;
      if (loc >= 0 && buf.readUInt32LE(loc) === SIG_EOCD64_LOCATOR) {
        // The locator's offset ignores any prepended stub; the record normally sits right before the locator.
        const declared = u64(buf, loc + 8, 'ZIP64 end of central directory offset');
        const eocd64 = [declared, loc - 56].find((o) => o >= 0 && o + 56 <= loc && buf.readUInt32LE(o) === SIG_EOCD64);
        if (eocd64 === undefined) throw bad('ZIP64 end of central directory record missing');
        count = u64(buf, eocd64 + 32, 'ZIP64 entry count');
        size = u64(buf, eocd64 + 40, 'ZIP64 central directory size');
        offset = u64(buf, eocd64 + 48, 'ZIP64 central directory offset');
        end = eocd64;
      }
    }
    return { offset, size, count, end };
  }
  throw bad('no end of central directory record');
}

export class ZipArchive {
  readonly entries: ZipEntry[];
  private readonly buf: Buffer;
  /** Bytes before the archive proper (a launcher script or stub), added to every offset. */
  private readonly base: number;
  private readonly limits: ZipLimits;

  constructor(buf: Buffer, limits: Partial<ZipLimits> = {}) {
    this.buf = buf;
    this.limits = { ...DEFAULT_ZIP_LIMITS, ...limits };
    const dir = findEndOfCentralDirectory(buf);
    if (dir.size > dir.end) throw bad('central directory is larger than the archive');
    // Archives with data prepended keep offsets relative to their own start.
    let base = dir.end - dir.size - dir.offset;
    if (base < 0) throw bad('central directory offset is out of bounds');
    if (dir.count > 0 && (base + dir.offset + 4 > buf.length || buf.readUInt32LE(base + dir.offset) !== SIG_CENTRAL)) {
      if (dir.offset + 4 <= buf.length && buf.readUInt32LE(dir.offset) === SIG_CENTRAL) base = 0;
      else throw bad('central directory signature missing');
    }
    this.base = base;
    if (dir.count > this.limits.maxEntries) {
      throw new LadingError('LIMIT_EXCEEDED', `zip: ${dir.count} entries exceed the limit of ${this.limits.maxEntries}`);
    }
    if (dir.count * CENTRAL_SIZE > dir.size) throw bad(`${dir.count} entries cannot fit in a ${dir.size}-byte central directory`);
    this.entries = this.readCentralDirectory(base + dir.offset, base + dir.offset + dir.size, dir.count);
  }

  private readCentralDirectory(start: number, end: number, count: number): ZipEntry[] {
    const buf = this.buf;
    const entries: ZipEntry[] = [];
    let at = start;
    for (let i = 0; i < count; i++) {
      if (at + CENTRAL_SIZE > end) throw bad(`central directory entry ${i} is truncated`);
      if (buf.readUInt32LE(at) !== SIG_CENTRAL) throw bad(`central directory entry ${i} has a bad signature`);
      const flags = buf.readUInt16LE(at + 8);
      const method = buf.readUInt16LE(at + 10);
      const crc32 = buf.readUInt32LE(at + 16);
      let compressedSize = buf.readUInt32LE(at + 20);
      let size = buf.readUInt32LE(at + 24);
      const nameLength = buf.readUInt16LE(at + 28);
      const extraLength = buf.readUInt16LE(at + 30);
      const commentLength = buf.readUInt16LE(at + 32);
      let localHeaderOffset = buf.readUInt32LE(at + 42);
      const nameStart = at + CENTRAL_SIZE;
      const extraStart = nameStart + nameLength;
      const next = extraStart + extraLength + commentLength;
      if (next > end) throw bad(`central directory entry ${i} runs past the directory`);
      const name = buf.toString('utf8', nameStart, extraStart);
      // ZIP64 extended information: only the fields saturated in the fixed record are present, in this order.
      for (let x = extraStart; x + 4 <= extraStart + extraLength;) {
        const id = buf.readUInt16LE(x);
        const len = buf.readUInt16LE(x + 2);
        const dataEnd = x + 4 + len;
        if (dataEnd > extraStart + extraLength) break;
        if (id === 0x0001) {
          let p = x + 4;
          const take = (what: string): number => {
            if (p + 8 > dataEnd) throw bad(`entry ${JSON.stringify(name)}: ZIP64 field ${what} missing`);
            const v = u64(buf, p, what);
            p += 8;
            return v;
          };
          if (size === 0xffffffff) size = take('size');
          if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = take('local header offset');
        }
        x = dataEnd;
      }
      entries.push({ name, method, flags, compressedSize, size, crc32, localHeaderOffset, isDirectory: name.endsWith('/') });
      at = next;
    }
    return entries;
  }

  /** Entry by exact name. */
  get(name: string): ZipEntry | undefined {
    return this.entries.find((e) => e.name === name);
  }

  /**
   * The entry's uncompressed bytes. `maxBytes` (default the archive's maxEntryBytes) bounds the
   * output: a larger entry, declared or actual, throws LIMIT_EXCEEDED.
   */
  read(entry: ZipEntry, maxBytes = this.limits.maxEntryBytes): Buffer {
    const buf = this.buf;
    const label = JSON.stringify(entry.name);
    if (entry.flags & 1) throw new LadingError('UNSUPPORTED', `zip: entry ${label} is encrypted`);
    if (entry.size > maxBytes) {
      throw new LadingError('LIMIT_EXCEEDED', `zip: entry ${label} is ${entry.size} bytes, over the limit of ${maxBytes}`);
    }
    const local = this.base + entry.localHeaderOffset;
    if (local + LOCAL_SIZE > buf.length) throw bad(`entry ${label}: local header is out of bounds`);
    if (buf.readUInt32LE(local) !== SIG_LOCAL) throw bad(`entry ${label}: local header signature missing`);
    const dataStart = local + LOCAL_SIZE + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const dataEnd = dataStart + entry.compressedSize;
    if (dataEnd > buf.length) throw bad(`entry ${label}: data runs past the end of the archive`);
    const data = buf.subarray(dataStart, dataEnd);
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) throw bad(`entry ${label}: stored sizes disagree`);
      return data;
    }
    if (entry.method !== 8) throw new LadingError('UNSUPPORTED', `zip: entry ${label} uses compression method ${entry.method}`);
    try {
      return inflateRawSync(data, { maxOutputLength: Math.max(1, maxBytes) });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
        throw new LadingError('LIMIT_EXCEEDED', `zip: entry ${label} inflates past the limit of ${maxBytes} bytes`);
      }
      throw bad(`entry ${label}: ${(e as Error).message}`);
    }
  }
}

/** Open a ZIP archive held in memory. Throws LadingError for a malformed archive or a limit. */
export function openZip(buf: Buffer, limits?: Partial<ZipLimits>): ZipArchive {
  return new ZipArchive(buf, limits);
}
