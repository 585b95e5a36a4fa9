/**
 * rpm's Berkeley DB backend (rpm < 4.16: EL5-EL8, older Fedora, Amazon Linux 2): the `Packages`
 * file is a BDB HASH database, keys = 4-byte instance numbers, values = header blobs. Read here in
 * plain TypeScript from the bytes (libdb's dbinc/db_page.h layout):
 *
 * - page 0, the hash metadata page: LSN(8) pgno(4) magic(4)=0x061561 version(4) pagesize(4)
 *   encrypt_alg(1) type(1)=8 metaflags(1) unused(1) free(4) last_pgno(4) ...
 * - hash pages (type 13, or 2 for pre-4.6 "unsorted" ones): the 26-byte page header, then an index
 *   of 2-byte item offsets, key/data pairs; items grow down from the end of the page. An item is
 *   H_KEYDATA (1: type byte + bytes inline) or H_OFFPAGE (3: type, 3 pad, pgno(4), total length(4))
 *   for values too big for the page.
 * - overflow pages (type 7) hold an off-page item as a chain: next_pgno at 16, bytes on this page
 *   (OV_LEN) at 22, data after the page header.
 *
 * Every page of every bucket is a hash page, so all pairs are found by visiting each page up to
 * last_pgno once (as rpm's own salvage code, go-rpmdb and claircore do); the chains are followed
 * with loop and bounds checks. The byte order comes from the metadata magic (db_lorder).
 */
import { LadingError } from '../../errors.js';
import type { DatabaseRead, HeaderBlob } from './header.js';

const HASH_MAGIC = 0x061561;
const BTREE_MAGIC = 0x053162;
const PAGE_HEADER = 26;
/** With DB_CHKSUM a 2-byte pad and a 4-byte checksum follow the page header (PG_CHKSUM). */
const PAGE_HEADER_CHKSUM = 32;
const DBMETA_CHKSUM = 0x01;

const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASHMETA = 8;
const P_HASH = 13;

const H_KEYDATA = 1;
const H_DUPLICATE = 2;
const H_OFFPAGE = 3;
const H_OFFDUP = 4;

function bad(message: string): LadingError {
  return new LadingError('BAD_INPUT', `Berkeley DB Packages: ${message}`);
}

class Pages {
  constructor(
    readonly buf: Buffer,
    readonly pageSize: number,
    readonly count: number,
    readonly le: boolean,
    readonly overhead: number,
  ) {}

  page(n: number): Buffer {
    return this.buf.subarray(n * this.pageSize, (n + 1) * this.pageSize);
  }

  u16(b: Buffer, at: number): number {
    return this.le ? b.readUInt16LE(at) : b.readUInt16BE(at);
  }

  u32(b: Buffer, at: number): number {
    return this.le ? b.readUInt32LE(at) : b.readUInt32BE(at);
  }

  /** Concatenate an off-page item's overflow chain; throws (a message) when the chain is broken. */
  overflow(first: number, total: number): Buffer {
    const room = this.pageSize - this.overhead;
    if (total > this.count * room) throw new Error(`off-page item of ${total} bytes is larger than the file`);
    const out = Buffer.alloc(total);
    let filled = 0;
    const seen = new Set<number>();
    for (let n = first; filled < total; ) {
      if (n === 0) throw new Error(`overflow chain from page ${first} ends after ${filled} of ${total} bytes`);
      if (n >= this.count) throw new Error(`overflow chain from page ${first} points to page ${n}, past the last page ${this.count - 1}`);
      if (seen.has(n)) throw new Error(`overflow chain from page ${first} loops at page ${n}`);
      seen.add(n);
      const p = this.page(n);
      if (p[25] !== P_OVERFLOW) throw new Error(`overflow chain from page ${first}: page ${n} has type ${p[25]}, not overflow`);
      const len = this.u16(p, 22);
      if (len > room || filled + len > total) throw new Error(`overflow page ${n} claims ${len} bytes, more than the item or page holds`);
      p.copy(out, filled, this.overhead, this.overhead + len);
      filled += len;
      n = this.u32(p, 16);
    }
    return out;
  }

  /** Item `i` of a hash page as its raw bytes (type byte first), bounds-checked. */
  item(p: Buffer, nent: number, i: number): Buffer {
    const inp = (k: number): number => this.u16(p, this.overhead + 2 * k);
    const start = inp(i);
    const end = i === 0 ? this.pageSize : inp(i - 1);
    const lowest = this.overhead + 2 * nent;
    if (start < lowest || end > this.pageSize || end <= start) throw new Error(`item ${i} has offset ${start}..${end}, outside the page's item area`);
    return p.subarray(start, end);
  }

  /** The bytes an H_KEYDATA or H_OFFPAGE item stands for. */
  value(item: Buffer): Buffer {
    const type = item[0];
    if (type === H_KEYDATA) return item.subarray(1);
    if (type === H_OFFPAGE) {
      if (item.length < 12) throw new Error(`off-page item of ${item.length} bytes is truncated`);
      return this.overflow(this.u32(item, 4), this.u32(item, 8));
    }
    if (type === H_DUPLICATE || type === H_OFFDUP) throw new Error('duplicate-key items are not used by rpm');
    throw new Error(`unknown item type ${type}`);
  }
}

/** Open the metadata page; throws a LadingError when this is not a readable hash database. */
function open(buf: Buffer, problems: string[]): Pages {
  if (buf.length < 512) throw bad(`${buf.length} bytes is too short for a metadata page`);
  let le: boolean;
  if (buf.readUInt32LE(12) === HASH_MAGIC) le = true;
  else if (buf.readUInt32BE(12) === HASH_MAGIC) le = false;
  else if (buf.readUInt32LE(12) === BTREE_MAGIC || buf.readUInt32BE(12) === BTREE_MAGIC) throw bad('a btree database, not the hash Packages database');
  else throw bad(`bad magic 0x${buf.readUInt32LE(12).toString(16)}`);
  const pageSize = le ? buf.readUInt32LE(20) : buf.readUInt32BE(20);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw bad(`invalid page size ${pageSize}`);
  if (buf[24] !== 0) throw bad('encrypted databases are not supported');
  if (buf[25] !== P_HASHMETA) throw bad(`page 0 has type ${buf[25]}, not hash metadata`);
  const overhead = (buf[26] ?? 0) & DBMETA_CHKSUM ? PAGE_HEADER_CHKSUM : PAGE_HEADER;
  const lastPage = le ? buf.readUInt32LE(32) : buf.readUInt32BE(32);
  const inFile = Math.floor(buf.length / pageSize);
  let count = lastPage + 1;
  if (count > inFile) {
    problems.push(`truncated: metadata says ${count} pages of ${pageSize} bytes, the file holds ${inFile}`);
    count = inFile;
  }
  return new Pages(buf, pageSize, count, le, overhead);
}

/** Read every header blob from a Berkeley DB hash `Packages` file. Throws on an unreadable file. */
export function readBdb(buf: Buffer): DatabaseRead {
  const problems: string[] = [];
  const db = open(buf, problems);
  const blobs: HeaderBlob[] = [];
  for (let n = 1; n < db.count; n++) {
    const p = db.page(n);
    const type = p[25];
    if (type !== P_HASH && type !== P_HASH_UNSORTED) continue;
    if (db.u32(p, 8) !== n) {
      problems.push(`page ${n} says it is page ${db.u32(p, 8)}; skipped`);
      continue;
    }
    const nent = db.u16(p, 20);
    if (nent % 2 !== 0 || db.overhead + 2 * nent > db.pageSize) {
      problems.push(`page ${n}: invalid item count ${nent}; skipped`);
      continue;
    }
    for (let i = 0; i < nent; i += 2) {
      let key: Buffer;
      try {
        key = db.value(db.item(p, nent, i));
      } catch (e) {
        problems.push(`page ${n}, key ${i / 2}: ${(e as Error).message}; skipped`);
        continue;
      }
      const keyNum = key.length === 4 ? (db.le ? key.readUInt32LE(0) : key.readUInt32BE(0)) : -1;
      // Key 0 holds rpm's next-instance counter, not a header.
      if (keyNum === 0) continue;
      try {
        const value = db.value(db.item(p, nent, i + 1));
        blobs.push({ key: keyNum, blob: value });
      } catch (e) {
        problems.push(`page ${n}, package ${keyNum}: ${(e as Error).message}; skipped`);
      }
    }
  }
  blobs.sort((a, b) => a.key - b.key);
  return { blobs, problems };
}
