/**
 * The rpm header blob, as rpm stores one per installed package in every database backend
 * (sqlite, Berkeley DB, NDB): no lead and no header magic, just
 *
 *   il (uint32 BE)  number of index entries
 *   dl (uint32 BE)  length of the data store
 *   il × { tag, type, offset, count } (4 × int32 BE)
 *   dl bytes of data
 *
 * The first entry may be a region tag (61-63: HEADERIMAGE, HEADERSIGNATURES, HEADERIMMUTABLE)
 * whose 16-byte trailer in the data store is another index entry giving the region's size; entries
 * after the region ("dribbles", added at install time) override region entries with the same tag.
 *
 * Every entry is checked the way rpm's hdrblobVerifyInfo does (type, alignment, the data fits the
 * store, strings are terminated) before anything is decoded, so a hostile blob gives an error and
 * never an out-of-range read or a runaway loop.
 */
import { LadingError } from '../../errors.js';

export const TagType = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;

/** The tags Lading reads (rpmtag.h numbers). */
export const Tag = {
  HEADERIMAGE: 61,
  HEADERSIGNATURES: 62,
  HEADERIMMUTABLE: 63,
  HEADERI18NTABLE: 100,
  SIGMD5: 261,
  SHA1HEADER: 269,
  SHA256HEADER: 273,
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  DESCRIPTION: 1005,
  BUILDTIME: 1006,
  INSTALLTIME: 1008,
  SIZE: 1009,
  VENDOR: 1011,
  LICENSE: 1014,
  PACKAGER: 1015,
  GROUP: 1016,
  URL: 1020,
  OS: 1021,
  ARCH: 1022,
  OLDFILENAMES: 1027,
  FILESIZES: 1028,
  FILEMODES: 1030,
  FILEDIGESTS: 1035,
  FILEFLAGS: 1037,
  FILEUSERNAME: 1039,
  FILEGROUPNAME: 1040,
  SOURCERPM: 1044,
  PROVIDENAME: 1047,
  REQUIRENAME: 1049,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  LONGSIZE: 5009,
  FILEDIGESTALGO: 5011,
  MODULARITYLABEL: 5096,
} as const;

/** One header blob as a database holds it, with the key it was stored under (instance number). */
export interface HeaderBlob {
  key: number;
  blob: Buffer;
}

/** What a database reader returns: the blobs it could extract and the problems it skipped over. */
export interface DatabaseRead {
  blobs: HeaderBlob[];
  problems: string[];
}

export interface IndexEntry {
  tag: number;
  type: number;
  offset: number;
  count: number;
  /** Bytes the value occupies in the data store (checked to fit). */
  length: number;
}

/** rpm's own limits (hdrchkTags / hdrchkData): fewer than 65536 entries, less than 16 MiB of data. */
const MAX_ENTRIES = 0xffff;
const MAX_DATA = 0x00ffffff;
const ENTRY_SIZE = 16;
const REGION_TAGS = new Set<number>([Tag.HEADERIMAGE, Tag.HEADERSIGNATURES, Tag.HEADERIMMUTABLE]);
/** The 8-byte magic that starts a header inside an .rpm file; tolerated before a database blob. */
const HEADER_MAGIC = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]);
const FIXED_SIZE: Record<number, number> = {
  [TagType.CHAR]: 1, [TagType.INT8]: 1, [TagType.BIN]: 1,
  [TagType.INT16]: 2, [TagType.INT32]: 4, [TagType.INT64]: 8,
};

function bad(message: string): LadingError {
  return new LadingError('BAD_INPUT', `rpm header: ${message}`);
}

/** Bytes used by `count` NUL-terminated strings starting at `offset`, or an error. */
function stringsLength(data: Buffer, offset: number, count: number, tag: number): number {
  if (count > data.length - offset) throw bad(`tag ${tag}: ${count} strings cannot fit in ${data.length - offset} bytes`);
  let pos = offset;
  for (let i = 0; i < count; i++) {
    const end = data.indexOf(0, pos);
    if (end < 0) throw bad(`tag ${tag}: string ${i} at offset ${pos} is not terminated inside the data store`);
    pos = end + 1;
  }
  return pos - offset;
}

function entryLength(data: Buffer, e: Omit<IndexEntry, 'length'>): number {
  const { tag, type, offset, count } = e;
  if (type < TagType.CHAR || type > TagType.I18NSTRING) throw bad(`tag ${tag}: invalid type ${type}`);
  if (count <= 0 || count > MAX_DATA) throw bad(`tag ${tag}: invalid count ${count}`);
  if (offset < 0 || offset >= data.length) throw bad(`tag ${tag}: offset ${offset} outside the ${data.length}-byte data store`);
  if (type === TagType.STRING) {
    if (count !== 1) throw bad(`tag ${tag}: STRING with count ${count}`);
    return stringsLength(data, offset, 1, tag);
  }
  if (type === TagType.STRING_ARRAY || type === TagType.I18NSTRING) return stringsLength(data, offset, count, tag);
  const size = FIXED_SIZE[type] ?? 1;
  if (offset % size !== 0) throw bad(`tag ${tag}: offset ${offset} not aligned for a ${size}-byte type`);
  const length = size * count;
  if (offset + length > data.length) throw bad(`tag ${tag}: ${count} × ${size} bytes at offset ${offset} run past the ${data.length}-byte data store`);
  return length;
}

export class RpmHeader {
  /** Index entries by tag; for a repeated tag the last one (a dribble overriding the region) wins. */
  readonly entries: ReadonlyMap<number, IndexEntry>;
  readonly data: Buffer;

  constructor(data: Buffer, entries: ReadonlyMap<number, IndexEntry>) {
    this.data = data;
    this.entries = entries;
  }

  has(tag: number): boolean {
    return this.entries.has(tag);
  }

  private readStrings(e: IndexEntry): string[] {
    const out: string[] = [];
    let pos = e.offset;
    for (let i = 0; i < e.count; i++) {
      const end = this.data.indexOf(0, pos);
      out.push(this.data.toString('utf8', pos, end));
      pos = end + 1;
    }
    return out;
  }

  /** A string value: STRING, the first (default-locale) I18NSTRING, or the first of a STRING_ARRAY. */
  string(tag: number): string | undefined {
    const e = this.entries.get(tag);
    if (!e) return undefined;
    if (e.type === TagType.STRING || e.type === TagType.I18NSTRING || e.type === TagType.STRING_ARRAY) {
      const end = this.data.indexOf(0, e.offset);
      return this.data.toString('utf8', e.offset, end);
    }
    return undefined;
  }

  /** All strings of a STRING_ARRAY or I18NSTRING; a STRING as a one-element array. */
  strings(tag: number): string[] | undefined {
    const e = this.entries.get(tag);
    if (!e) return undefined;
    if (e.type === TagType.STRING || e.type === TagType.I18NSTRING || e.type === TagType.STRING_ARRAY) return this.readStrings(e);
    return undefined;
  }

  /** Integer values (CHAR, INT8, INT16, INT32 unsigned; INT64 as a number when it is exact). */
  ints(tag: number): number[] | undefined {
    const e = this.entries.get(tag);
    if (!e) return undefined;
    const out: number[] = new Array<number>(e.count);
    const d = this.data;
    for (let i = 0; i < e.count; i++) {
      switch (e.type) {
        case TagType.CHAR:
        case TagType.INT8: out[i] = d.readUInt8(e.offset + i); break;
        case TagType.INT16: out[i] = d.readUInt16BE(e.offset + 2 * i); break;
        case TagType.INT32: out[i] = d.readUInt32BE(e.offset + 4 * i); break;
        case TagType.INT64: {
          const v = d.readBigUInt64BE(e.offset + 8 * i);
          if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`tag ${tag}: 64-bit value ${v} too large`);
          out[i] = Number(v);
          break;
        }
        default: return undefined;
      }
    }
    return out;
  }

  int(tag: number): number | undefined {
    return this.ints(tag)?.[0];
  }

  /** Raw bytes of a BIN value. */
  bin(tag: number): Buffer | undefined {
    const e = this.entries.get(tag);
    if (!e || e.type !== TagType.BIN) return undefined;
    return this.data.subarray(e.offset, e.offset + e.length);
  }
}

/** Parse and fully verify one header blob. Throws a LadingError (BAD_INPUT) naming the problem. */
export function parseHeader(input: Buffer): RpmHeader {
  const blob = input.length >= 8 && input.subarray(0, 8).equals(HEADER_MAGIC) ? input.subarray(8) : input;
  if (blob.length < 8) throw bad(`${blob.length} bytes is too short for a header`);
  const il = blob.readUInt32BE(0);
  const dl = blob.readUInt32BE(4);
  if (il === 0 || il > MAX_ENTRIES) throw bad(`invalid index entry count ${il}`);
  if (dl > MAX_DATA) throw bad(`invalid data length ${dl}`);
  const dataStart = 8 + il * ENTRY_SIZE;
  if (blob.length < dataStart + dl) throw bad(`${il} entries and ${dl} data bytes need ${dataStart + dl} bytes, blob has ${blob.length}`);
  const data = blob.subarray(dataStart, dataStart + dl);

  const entries = new Map<number, IndexEntry>();
  for (let i = 0; i < il; i++) {
    const at = 8 + i * ENTRY_SIZE;
    const e = { tag: blob.readInt32BE(at), type: blob.readUInt32BE(at + 4), offset: blob.readInt32BE(at + 8), count: blob.readUInt32BE(at + 12) };
    const length = entryLength(data, e);
    if (REGION_TAGS.has(e.tag)) {
      if (i !== 0) throw bad(`region tag ${e.tag} at index ${i}, not first`);
      checkRegion(data, e, il);
      continue;
    }
    entries.set(e.tag, { ...e, length });
  }
  return new RpmHeader(data, entries);
}

/** The region trailer is an index entry (same tag, BIN, count 16) whose negative offset sizes the region. */
function checkRegion(data: Buffer, e: Omit<IndexEntry, 'length'>, il: number): void {
  if (e.type !== TagType.BIN || e.count !== 16) throw bad(`region tag ${e.tag} has type ${e.type} and count ${e.count}, expected BIN × 16`);
  const trailerTag = data.readInt32BE(e.offset);
  const trailerType = data.readUInt32BE(e.offset + 4);
  const trailerOffset = data.readInt32BE(e.offset + 8);
  const trailerCount = data.readUInt32BE(e.offset + 12);
  if (trailerTag !== e.tag || trailerType !== TagType.BIN || trailerCount !== 16) {
    throw bad(`region ${e.tag}: trailer is not a region entry (tag ${trailerTag}, type ${trailerType}, count ${trailerCount})`);
  }
  const ril = -trailerOffset / ENTRY_SIZE;
  if (!Number.isInteger(ril) || ril < 1 || ril > il) throw bad(`region ${e.tag}: trailer offset ${trailerOffset} does not match ${il} entries`);
}

export interface EncodeEntry {
  tag: number;
  type: number;
  /** number[] for integer types (bigint[] allowed for INT64), string / string[] for string types, Buffer for BIN. */
  value: number[] | bigint[] | string | string[] | Buffer;
}

/**
 * Write a header blob in the layout `parseHeader` reads (and rpm stores), with an immutable region
 * around all entries unless `region` is false. Used to build database fixtures.
 */
export function encodeHeader(entries: EncodeEntry[], options: { region?: boolean } = {}): Buffer {
  const region = options.region ?? true;
  const chunks: Buffer[] = [];
  let size = 0;
  const index: { tag: number; type: number; offset: number; count: number }[] = [];
  const align = (n: number): void => {
    const pad = (n - (size % n)) % n;
    if (pad) { chunks.push(Buffer.alloc(pad)); size += pad; }
  };
  for (const e of entries) {
    let bytes: Buffer;
    let count: number;
    const v = e.value;
    if (e.type === TagType.STRING || e.type === TagType.STRING_ARRAY || e.type === TagType.I18NSTRING) {
      const list = typeof v === 'string' ? [v] : (v as string[]);
      bytes = Buffer.concat(list.map((s) => Buffer.from(`${s}\0`, 'utf8')));
      count = list.length;
    } else if (e.type === TagType.BIN) {
      bytes = v as Buffer;
      count = bytes.length;
    } else {
      const nums = v as (number | bigint)[];
      const width = FIXED_SIZE[e.type] ?? 1;
      align(width);
      bytes = Buffer.alloc(width * nums.length);
      nums.forEach((n, i) => {
        if (width === 1) bytes.writeUInt8(Number(n), i);
        else if (width === 2) bytes.writeUInt16BE(Number(n), 2 * i);
        else if (width === 4) bytes.writeUInt32BE(Number(n), 4 * i);
        else bytes.writeBigUInt64BE(BigInt(n), 8 * i);
      });
      count = nums.length;
    }
    index.push({ tag: e.tag, type: e.type, offset: size, count });
    chunks.push(bytes);
    size += bytes.length;
  }
  if (region) {
    align(4);
    const trailer = Buffer.alloc(16);
    trailer.writeInt32BE(Tag.HEADERIMMUTABLE, 0);
    trailer.writeUInt32BE(TagType.BIN, 4);
    trailer.writeInt32BE(-(index.length + 1) * ENTRY_SIZE, 8);
    trailer.writeUInt32BE(16, 12);
    index.unshift({ tag: Tag.HEADERIMMUTABLE, type: TagType.BIN, offset: size, count: 16 });
    chunks.push(trailer);
    size += 16;
  }
  const head = Buffer.alloc(8 + index.length * ENTRY_SIZE);
  head.writeUInt32BE(index.length, 0);
  head.writeUInt32BE(size, 4);
  index.forEach((e, i) => {
    const at = 8 + i * ENTRY_SIZE;
    head.writeInt32BE(e.tag, at);
    head.writeUInt32BE(e.type, at + 4);
    head.writeInt32BE(e.offset, at + 8);
    head.writeUInt32BE(e.count, at + 12);
  });
  return Buffer.concat([head, ...chunks]);
}
