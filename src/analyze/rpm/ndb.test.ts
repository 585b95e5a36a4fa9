import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { LadingError } from '../../errors.js';
import { encodeHeader, parseHeader, Tag, TagType } from './header.js';
import {
  adler32, BLOB_HEAD_SIZE, BLOB_MAGIC, BLOB_TAIL_MAGIC, BLOB_TAIL_SIZE, BLOCK_SIZE, blobBlocks, NDB_MAGIC, readNdb,
  SLOT_MAGIC, SLOT_PAGE_SIZE, SLOT_SIZE,
} from './ndb.js';

function header(name: string, files = 1): Buffer {
  return encodeHeader([
    { tag: Tag.NAME, type: TagType.STRING, value: name },
    { tag: Tag.VERSION, type: TagType.STRING, value: '2.0' },
    { tag: Tag.RELEASE, type: TagType.STRING, value: '150400.1' },
    { tag: Tag.DIRINDEXES, type: TagType.INT32, value: Array.from({ length: files }, () => 0) },
    { tag: Tag.BASENAMES, type: TagType.STRING_ARRAY, value: Array.from({ length: files }, (_, i) => `file-${i}`) },
    { tag: Tag.DIRNAMES, type: TagType.STRING_ARRAY, value: ['/usr/lib/'] },
  ]);
}

/**
 * Write a Packages.db the way rpm's rpmpkg.c lays it out: the 32-byte header in the first two
 * slots of the first slot page, slot entries, then each blob (head, data, zero padding, tail with
 * the adler32 of head+data+padding) on 16-byte block boundaries after the slot pages. A slot with
 * package index 0 is a free slot.
 */
function writeNdb(packages: { idx: number; blob: Buffer }[], options: { slotPages?: number; generation?: number } = {}): Buffer {
  const slotPages = options.slotPages ?? 1;
  const generation = options.generation ?? 17;
  const parts: Buffer[] = [];
  const slots = Buffer.alloc(slotPages * SLOT_PAGE_SIZE);
  slots.writeUInt32LE(NDB_MAGIC, 0);
  slots.writeUInt32LE(0, 4);
  slots.writeUInt32LE(generation, 8);
  slots.writeUInt32LE(slotPages, 12);
  slots.writeUInt32LE(Math.max(0, ...packages.map((p) => p.idx)) + 1, 16);
  for (let at = 32; at < slots.length; at += SLOT_SIZE) slots.writeUInt32LE(SLOT_MAGIC, at);
  parts.push(slots);
  let block = slots.length / BLOCK_SIZE;
  packages.forEach((p, i) => {
    const count = blobBlocks(p.blob.length);
    const slot = 32 + i * SLOT_SIZE;
    slots.writeUInt32LE(p.idx, slot + 4);
    slots.writeUInt32LE(p.idx ? block : 0, slot + 8);
    slots.writeUInt32LE(p.idx ? count : 0, slot + 12);
    if (!p.idx) return;
    const blob = Buffer.alloc(count * BLOCK_SIZE);
    blob.writeUInt32LE(BLOB_MAGIC, 0);
    blob.writeUInt32LE(p.idx, 4);
    blob.writeUInt32LE(generation, 8);
    blob.writeUInt32LE(p.blob.length, 12);
    p.blob.copy(blob, BLOB_HEAD_SIZE);
    const tail = blob.length - BLOB_TAIL_SIZE;
    blob.writeUInt32LE(adler32(blob.subarray(0, tail)), tail);
    blob.writeUInt32LE(p.blob.length, tail + 4);
    blob.writeUInt32LE(BLOB_TAIL_MAGIC, tail + 8);
    parts.push(blob);
    block += count;
  });
  return Buffer.concat(parts);
}

const names = (buf: Buffer): (string | undefined)[] => readNdb(buf).blobs.map((b) => parseHeader(b.blob).string(Tag.NAME));

test('adler32 matches zlib (the checksum in a zlib stream trailer)', () => {
  for (const data of [Buffer.alloc(0), Buffer.from('Wikipedia'), Buffer.alloc(100000, 0xff), Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 7) & 255))]) {
    const z = deflateSync(data);
    assert.equal(adler32(data), z.readUInt32BE(z.length - 4));
  }
  assert.equal(adler32(Buffer.from('Wikipedia')), 0x11e60398);
});

test('reads every package of a Packages.db, free slots skipped, in package order', () => {
  const blobs = { 1: header('filesystem'), 2: header('glibc', 500), 5: header('bash') };
  const db = writeNdb([{ idx: 2, blob: blobs[2] }, { idx: 0, blob: Buffer.alloc(0) }, { idx: 5, blob: blobs[5] }, { idx: 1, blob: blobs[1] }]);
  const read = readNdb(db);
  assert.deepEqual(read.problems, []);
  assert.deepEqual(read.blobs.map((b) => b.key), [1, 2, 5]);
  assert.deepEqual(read.blobs.map((b) => b.blob), [blobs[1], blobs[2], blobs[5]]);
  assert.deepEqual(names(db), ['filesystem', 'glibc', 'bash']);
  assert.equal(readNdb(writeNdb([{ idx: 1, blob: blobs[1] }], { slotPages: 3 })).blobs.length, 1, 'several slot pages');
});

/** Byte offset of the blob of the n-th slot in a database from writeNdb. */
const blobAt = (db: Buffer, n: number): number => db.readUInt32LE(32 + n * SLOT_SIZE + 8) * BLOCK_SIZE;

test('a damaged blob is reported and skipped; the other packages are still read', () => {
  const build = (): Buffer => writeNdb([{ idx: 1, blob: header('one') }, { idx: 2, blob: header('two') }, { idx: 3, blob: header('three') }]);
  const cases: [string, (db: Buffer) => void, RegExp][] = [
    ['checksum', (db) => { const at = blobAt(db, 1) + BLOB_HEAD_SIZE + 5; db[at] = (db[at] ?? 0) ^ 1; }, /package 2: checksum mismatch/],
    ['blob magic', (db) => db.writeUInt32LE(0, blobAt(db, 1)), /package 2: bad blob magic/],
    ['owner', (db) => db.writeUInt32LE(9, blobAt(db, 1) + 4), /package 2: blob at \d+ belongs to package 9/],
    ['length vs blocks', (db) => db.writeUInt32LE(100000, blobAt(db, 1) + 12), /package 2: blob length 100000 does not match/],
    ['tail magic', (db) => { const end = blobAt(db, 2) - BLOB_TAIL_SIZE; db.writeUInt32LE(0, end + 8); }, /package 2: bad blob tail magic/],
    ['slot offset past the end', (db) => db.writeUInt32LE(0x0fffffff, 32 + SLOT_SIZE + 8), /package 2: blob at .* runs past the end/],
    ['slot offset inside the slots', (db) => db.writeUInt32LE(4, 32 + SLOT_SIZE + 8), /package 2: blob offset 64 lies inside the slot pages/],
    ['slot block count too small', (db) => db.writeUInt32LE(1, 32 + SLOT_SIZE + 12), /package 2: block count 1 is too small/],
    ['slot magic', (db) => db.writeUInt32LE(0x12345678, 32 + SLOT_SIZE), /slot at 48: bad magic/],
  ];
  for (const [what, damage, pattern] of cases) {
    const db = build();
    damage(db);
    const read = readNdb(db);
    assert.deepEqual(read.blobs.map((b) => b.key), [1, 3], what);
    assert.match(read.problems.join('\n'), pattern, what);
  }
  const dup = build();
  dup.writeUInt32LE(1, 32 + 2 * SLOT_SIZE + 4);
  assert.match(readNdb(dup).problems.join('\n'), /package 1: a second slot/);
});

test('truncated files and bad headers: errors or problems, never a crash', () => {
  const db = writeNdb([{ idx: 1, blob: header('one') }, { idx: 2, blob: header('two', 50) }]);
  const isBad = (pattern: RegExp) => (e: unknown): boolean => e instanceof LadingError && e.code === 'BAD_INPUT' && pattern.test(e.message);
  assert.throws(() => readNdb(Buffer.alloc(0)), isBad(/too short/));
  assert.throws(() => readNdb(db.subarray(0, 31)), isBad(/too short/));
  let bad = Buffer.from(db);
  bad.write('XpmP', 0, 'latin1');
  assert.throws(() => readNdb(bad), isBad(/bad magic/));
  bad = Buffer.from(db);
  bad.writeUInt32LE(1, 4);
  assert.throws(() => readNdb(bad), isBad(/unsupported version 1/));
  bad = Buffer.from(db);
  bad.writeUInt32LE(0, 12);
  assert.throws(() => readNdb(bad), isBad(/invalid slot page count 0/));
  bad.writeUInt32LE(0xffffffff, 12);
  assert.throws(() => readNdb(bad), isBad(/invalid slot page count/));

  // Cut inside the second blob: the first is intact, the second reported.
  const cut = readNdb(db.subarray(0, blobAt(db, 1) + 40));
  assert.deepEqual(cut.blobs.map((b) => b.key), [1]);
  assert.match(cut.problems.join('\n'), /package 2: blob at .* runs past the end/);
  // Cut inside the slot pages.
  const early = readNdb(db.subarray(0, 100));
  assert.deepEqual(early.blobs, []);
  assert.match(early.problems.join('\n'), /truncated: 1 slot pages need 4096 bytes, the file has 100/);
  assert.match(early.problems.join('\n'), /package 1: blob at .* runs past the end/);
  // Every prefix length: never anything but a LadingError or a result.
  for (let n = 0; n < db.length; n += 97) {
    try {
      readNdb(db.subarray(0, n));
    } catch (e) {
      assert.ok(e instanceof LadingError, `prefix ${n}: ${String(e)}`);
    }
  }
});
