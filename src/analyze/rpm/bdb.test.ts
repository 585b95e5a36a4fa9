import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LadingError } from '../../errors.js';
import { encodeHeader, parseHeader, Tag, TagType } from './header.js';
import { readBdb } from './bdb.js';

const DB_LOAD = '/usr/bin/db5.3_load';

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function header(name: string, files = 1): Buffer {
  return encodeHeader([
    { tag: Tag.NAME, type: TagType.STRING, value: name },
    { tag: Tag.VERSION, type: TagType.STRING, value: '1.0' },
    { tag: Tag.RELEASE, type: TagType.STRING, value: '1' },
    { tag: Tag.DIRINDEXES, type: TagType.INT32, value: Array.from({ length: files }, () => 0) },
    { tag: Tag.BASENAMES, type: TagType.STRING_ARRAY, value: Array.from({ length: files }, (_, i) => `a-rather-long-file-name-number-${i}.txt`) },
    { tag: Tag.DIRNAMES, type: TagType.STRING_ARRAY, value: [`/usr/share/${name}/`] },
  ]);
}

/**
 * A minimal hash database written by hand (little-endian, 512-byte pages): page 0 metadata,
 * page 1 one hash page with all pairs; values marked off-page go to overflow chains after it.
 */
function handBuilt(pairs: { key: Buffer; value: Buffer; offpage?: boolean }[], pageSize = 512): Buffer {
  const pages: Buffer[] = [Buffer.alloc(pageSize), Buffer.alloc(pageSize)];
  const items: Buffer[] = [];
  for (const p of pairs) {
    items.push(Buffer.concat([Buffer.from([1]), p.key]));
    if (!p.offpage) {
      items.push(Buffer.concat([Buffer.from([1]), p.value]));
      continue;
    }
    const room = pageSize - 26;
    const first = pages.length;
    for (let at = 0; at < p.value.length || at === 0; at += room) {
      const page = Buffer.alloc(pageSize);
      const chunk = p.value.subarray(at, at + room);
      page.writeUInt32LE(pages.length, 8);
      page.writeUInt32LE(at + room < p.value.length ? pages.length + 1 : 0, 16);
      page.writeUInt16LE(chunk.length, 22);
      page[25] = 7;
      chunk.copy(page, 26);
      pages.push(page);
    }
    const off = Buffer.alloc(12);
    off[0] = 3;
    off.writeUInt32LE(first, 4);
    off.writeUInt32LE(p.value.length, 8);
    items.push(off);
  }
  const hash = pages[1] as Buffer;
  hash.writeUInt32LE(1, 8);
  hash.writeUInt16LE(items.length, 20);
  hash[25] = 13;
  let top = pageSize;
  items.forEach((item, i) => {
    top -= item.length;
    assert.ok(top > 26 + 2 * items.length, 'fixture items fit the page');
    item.copy(hash, top);
    hash.writeUInt16LE(top, 26 + 2 * i);
  });
  const meta = pages[0] as Buffer;
  meta.writeUInt32LE(0x061561, 12);
  meta.writeUInt32LE(9, 16);
  meta.writeUInt32LE(pageSize, 20);
  meta[25] = 8;
  meta.writeUInt32LE(pages.length - 1, 32);
  return Buffer.concat(pages);
}

function names(buf: Buffer): (string | undefined)[] {
  return readBdb(buf).blobs.map((b) => parseHeader(b.blob).string(Tag.NAME));
}

test('hand-built hash database: inline and off-page values, key 0 skipped', () => {
  const big = header('big', 40);
  assert.ok(big.length > 3 * 512, 'the big header spans several overflow pages');
  const db = handBuilt([
    { key: u32le(0), value: u32le(4) },
    { key: u32le(1), value: header('small') },
    { key: u32le(3), value: big, offpage: true },
    { key: u32le(2), value: header('mid'), offpage: true },
  ]);
  const read = readBdb(db);
  assert.deepEqual(read.problems, []);
  assert.deepEqual(read.blobs.map((b) => b.key), [1, 2, 3], 'sorted by instance number');
  assert.deepEqual(read.blobs[2]?.blob, big);
  assert.deepEqual(names(db), ['small', 'mid', 'big']);
});

const pageOf = (db: Buffer, n: number): Buffer => db.subarray(n * 512, (n + 1) * 512);

test('broken overflow chains are reported per package; the others are still read', () => {
  const build = (): Buffer => handBuilt([
    { key: u32le(1), value: header('first', 30), offpage: true }, // pages 2..
    { key: u32le(2), value: header('second') },
  ]);
  const cases: [string, (db: Buffer) => void, RegExp][] = [
    ['loop', (db) => pageOf(db, 3).writeUInt32LE(2, 16), /loops at page 2/],
    ['past the end', (db) => pageOf(db, 2).writeUInt32LE(999, 16), /past the last page/],
    ['chain cut short', (db) => pageOf(db, 3).writeUInt32LE(0, 16), /ends after/],
    ['wrong page type', (db) => { pageOf(db, 3)[25] = 13; }, /not overflow/],
    ['page length too large', (db) => pageOf(db, 2).writeUInt16LE(600, 22), /claims 600 bytes/],
    ['total length absurd', (db) => {
      const hash = pageOf(db, 1);
      const off = hash.readUInt16LE(26 + 2);
      hash.writeUInt32LE(0x7fffffff, off + 8);
    }, /larger than the file/],
  ];
  for (const [what, damage, pattern] of cases) {
    const db = build();
    damage(db);
    const read = readBdb(db);
    assert.deepEqual(read.blobs.map((b) => b.key), [2], what);
    assert.match(read.problems.join('\n'), pattern, what);
    assert.match(read.problems.join('\n'), /package 1/, what);
  }
});

test('damaged hash pages are reported and skipped, never a crash', () => {
  const good = handBuilt([{ key: u32le(1), value: header('one') }, { key: u32le(2), value: header('two') }]);
  let db: Buffer = Buffer.from(good);
  pageOf(db, 1).writeUInt16LE(3, 20);
  assert.match(readBdb(db).problems.join('\n'), /invalid item count 3/);
  const tiny = (name: string): Buffer => encodeHeader([{ tag: Tag.NAME, type: TagType.STRING, value: name }]);
  db = handBuilt([{ key: u32le(1), value: tiny('one') }, { key: u32le(2), value: tiny('two') }, { key: u32le(3), value: tiny('three') }]);
  pageOf(db, 1).writeUInt16LE(20, 26 + 2 * 5); // the last value's offset, into the index area
  let read = readBdb(db);
  assert.match(read.problems.join('\n'), /package 3: item 5 has offset 20\.\.\d+, outside the page's item area/);
  assert.deepEqual(read.blobs.map((b) => b.key), [1, 2]);
  db = Buffer.from(good);
  pageOf(db, 1).writeUInt32LE(7, 8);
  assert.match(readBdb(db).problems.join('\n'), /page 1 says it is page 7/);
  db = Buffer.from(good);
  const hash = pageOf(db, 1);
  hash[hash.readUInt16LE(26 + 2)] = 2; // H_DUPLICATE
  read = readBdb(db);
  assert.match(read.problems.join('\n'), /duplicate-key items/);
  assert.deepEqual(read.blobs.map((b) => b.key), [2]);
});

test('truncated file: reported, pages that are present still read', () => {
  const db = handBuilt([{ key: u32le(1), value: header('one') }, { key: u32le(2), value: header('two', 30), offpage: true }]);
  const read = readBdb(db.subarray(0, 3 * 512));
  assert.match(read.problems.join('\n'), /truncated: metadata says \d+ pages of 512 bytes, the file holds 3/);
  assert.deepEqual(read.blobs.map((b) => b.key), [1]);
  assert.match(read.problems.join('\n'), /package 2: overflow chain/);
});

test('not a hash database: a clear error', () => {
  const good = handBuilt([{ key: u32le(1), value: header('one') }]);
  const isBad = (pattern: RegExp) => (e: unknown): boolean => e instanceof LadingError && e.code === 'BAD_INPUT' && pattern.test(e.message);
  assert.throws(() => readBdb(Buffer.alloc(100)), isBad(/too short/));
  assert.throws(() => readBdb(Buffer.alloc(4096)), isBad(/bad magic/));
  let db = Buffer.from(good);
  db.writeUInt32LE(0x053162, 12);
  assert.throws(() => readBdb(db), isBad(/btree/));
  db = Buffer.from(good);
  db.writeUInt32LE(1000, 20);
  assert.throws(() => readBdb(db), isBad(/invalid page size 1000/));
  db = Buffer.from(good);
  db[24] = 1;
  assert.throws(() => readBdb(db), isBad(/encrypted/));
  db = Buffer.from(good);
  db[25] = 9;
  assert.throws(() => readBdb(db), isBad(/not hash metadata/));
});

/** db_load's -T input: one line per key or value, every byte as a backslash-hex escape. */
function loadInput(pairs: [Buffer, Buffer][]): string {
  const enc = (b: Buffer): string => [...b].map((c) => `\\${c.toString(16).padStart(2, '0')}`).join('');
  return pairs.map(([k, v]) => `${enc(k)}\n${enc(v)}\n`).join('');
}

test('databases written by Berkeley DB itself (db5.3_load): page sizes, byte orders, checksums', (t) => {
  if (!existsSync(DB_LOAD)) {
    t.skip('db5.3_load not installed (Debian package db5.3-util): cannot write a real Berkeley DB here');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'lading-bdb-'));
  try {
    const blobs = [header('alpha'), header('beta', 400), header('gamma', 3)];
    assert.ok((blobs[1]?.length ?? 0) > 4 * 4096, 'one header spans several 4 KiB overflow pages');
    const instances = [1, 7, 300];
    writeFileSync(join(dir, 'in.txt'), loadInput([[u32le(0), u32le(301)], ...blobs.map((b, i): [Buffer, Buffer] => [u32le(instances[i] ?? 0), b])]));
    const variants: [string, string[], number, boolean][] = [
      ['default', [], 4096, true],
      ['512-byte pages', ['-c', 'db_pagesize=512'], 512, true],
      ['big-endian', ['-c', 'db_lorder=4321'], 4096, false],
      ['with page checksums', ['-c', 'chksum=1'], 4096, true],
    ];
    for (const [what, args, pageSize, le] of variants) {
      const out = join(dir, `Packages-${what.replace(/\W+/g, '-')}`);
      execFileSync(DB_LOAD, ['-T', '-t', 'hash', ...args, '-f', join(dir, 'in.txt'), out]);
      const file = readFileSync(out);
      assert.equal(le ? file.readUInt32LE(20) : file.readUInt32BE(20), pageSize, `${what}: page size`);
      const read = readBdb(file);
      assert.deepEqual(read.problems, [], what);
      assert.deepEqual(read.blobs.map((b) => b.key), le ? instances : instances.map((n) => u32le(n).readUInt32BE(0)).sort((a, b) => a - b), `${what}: keys`);
      const byName = new Map(read.blobs.map((b) => [parseHeader(b.blob).string(Tag.NAME), b.blob]));
      assert.deepEqual(byName.get('alpha'), blobs[0], what);
      assert.deepEqual(byName.get('beta'), blobs[1], what);
      assert.deepEqual(byName.get('gamma'), blobs[2], what);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
