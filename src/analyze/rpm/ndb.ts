/**
 * rpm's NDB backend (SUSE: SLES 15, openSUSE): `Packages.db`, the format of rpm's
 * lib/backend/ndb/rpmpkg.c. All numbers little-endian.
 *
 * - header, 32 bytes: magic 'RpmP', version 0, generation, slot page count, next package index.
 * - slot pages (4096 bytes each, the header taking the first two 16-byte slots):
 *   slots of { magic 'Slot', package index (0 = free), block offset, block count }.
 * - blobs, in 16-byte blocks at block offset × 16: header { magic 'BlbS', package index,
 *   generation, length }, the header blob, zero padding, and a tail { adler32 of everything from
 *   the blob header through the padding, length, magic 'BlbE' }; block count covers all of it.
 */
import { LadingError } from '../../errors.js';
import type { DatabaseRead, HeaderBlob } from './header.js';

const magic = (s: string): number => Buffer.from(s, 'latin1').readUInt32LE(0);
export const NDB_MAGIC = magic('RpmP');
export const SLOT_MAGIC = magic('Slot');
export const BLOB_MAGIC = magic('BlbS');
export const BLOB_TAIL_MAGIC = magic('BlbE');
export const NDB_HEADER_SIZE = 32;
export const SLOT_SIZE = 16;
export const SLOT_PAGE_SIZE = 4096;
export const BLOCK_SIZE = 16;
export const BLOB_HEAD_SIZE = 16;
export const BLOB_TAIL_SIZE = 12;
/** go-rpmdb's sanity limit: 2048 slot pages = 522,240 packages. */
const MAX_SLOT_PAGES = 2048;

function bad(message: string): LadingError {
  return new LadingError('BAD_INPUT', `NDB Packages.db: ${message}`);
}

/** Adler-32 (RFC 1950), as rpm checksums each blob. */
export function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < buf.length; ) {
    const end = Math.min(buf.length, i + 3800);
    for (; i < end; i++) {
      a += buf[i] ?? 0;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Blocks a blob of `length` bytes occupies, head and tail included. */
export function blobBlocks(length: number): number {
  return Math.ceil((BLOB_HEAD_SIZE + length + BLOB_TAIL_SIZE) / BLOCK_SIZE);
}

/** The blob a slot points to, verified; throws a message naming what is wrong. */
function readBlob(buf: Buffer, pkgIdx: number, blkOff: number, blkCnt: number, slotsEnd: number): Buffer {
  const start = blkOff * BLOCK_SIZE;
  const end = start + blkCnt * BLOCK_SIZE;
  if (blkCnt < blobBlocks(0)) throw new Error(`block count ${blkCnt} is too small`);
  if (start < slotsEnd) throw new Error(`blob offset ${start} lies inside the slot pages`);
  if (end > buf.length) throw new Error(`blob at ${start}..${end} runs past the end of the ${buf.length}-byte file`);
  if (buf.readUInt32LE(start) !== BLOB_MAGIC) throw new Error(`bad blob magic 0x${buf.readUInt32LE(start).toString(16)} at ${start}`);
  const owner = buf.readUInt32LE(start + 4);
  if (owner !== pkgIdx) throw new Error(`blob at ${start} belongs to package ${owner}`);
  const length = buf.readUInt32LE(start + 12);
  if (blobBlocks(length) !== blkCnt) throw new Error(`blob length ${length} does not match its ${blkCnt} blocks`);
  const tail = end - BLOB_TAIL_SIZE;
  if (buf.readUInt32LE(tail + 8) !== BLOB_TAIL_MAGIC) throw new Error('bad blob tail magic');
  if (buf.readUInt32LE(tail + 4) !== length) throw new Error(`blob tail length ${buf.readUInt32LE(tail + 4)} differs from its head's ${length}`);
  const sum = adler32(buf.subarray(start, tail));
  if (sum !== buf.readUInt32LE(tail)) throw new Error(`checksum mismatch (adler32 0x${sum.toString(16)}, stored 0x${buf.readUInt32LE(tail).toString(16)})`);
  return buf.subarray(start + BLOB_HEAD_SIZE, start + BLOB_HEAD_SIZE + length);
}

/** Read every header blob from an NDB `Packages.db`. Throws on an unreadable file. */
export function readNdb(buf: Buffer): DatabaseRead {
  if (buf.length < NDB_HEADER_SIZE) throw bad(`${buf.length} bytes is too short for the header`);
  if (buf.readUInt32LE(0) !== NDB_MAGIC) throw bad(`bad magic 0x${buf.readUInt32LE(0).toString(16)}`);
  const version = buf.readUInt32LE(4);
  if (version !== 0) throw bad(`unsupported version ${version}`);
  const slotPages = buf.readUInt32LE(12);
  if (slotPages === 0 || slotPages > MAX_SLOT_PAGES) throw bad(`invalid slot page count ${slotPages}`);
  const problems: string[] = [];
  const slotsEnd = slotPages * SLOT_PAGE_SIZE;
  let readable = slotsEnd;
  if (slotsEnd > buf.length) {
    problems.push(`truncated: ${slotPages} slot pages need ${slotsEnd} bytes, the file has ${buf.length}`);
    readable = buf.length - (buf.length % SLOT_SIZE);
  }
  const blobs: HeaderBlob[] = [];
  const seen = new Set<number>();
  for (let at = NDB_HEADER_SIZE; at + SLOT_SIZE <= readable; at += SLOT_SIZE) {
    if (buf.readUInt32LE(at) !== SLOT_MAGIC) {
      problems.push(`slot at ${at}: bad magic 0x${buf.readUInt32LE(at).toString(16)}; skipped`);
      continue;
    }
    const pkgIdx = buf.readUInt32LE(at + 4);
    if (pkgIdx === 0) continue;
    if (seen.has(pkgIdx)) {
      problems.push(`package ${pkgIdx}: a second slot at ${at}; skipped`);
      continue;
    }
    seen.add(pkgIdx);
    try {
      blobs.push({ key: pkgIdx, blob: readBlob(buf, pkgIdx, buf.readUInt32LE(at + 8), buf.readUInt32LE(at + 12), slotsEnd) });
    } catch (e) {
      problems.push(`package ${pkgIdx}: ${(e as Error).message}; skipped`);
    }
  }
  blobs.sort((a, b) => a.key - b.key);
  return { blobs, problems };
}
