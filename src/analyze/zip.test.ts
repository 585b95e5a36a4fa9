import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openZip, looksLikeZip } from './zip.js';
import { writeZip } from './testing-zip.js';
import { isLadingError } from '../errors.js';

const files = [
  { name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\r\n' },
  { name: 'a/', data: '', method: 'store' as const },
  { name: 'a/b.txt', data: 'hello '.repeat(1000), method: 'store' as const },
  { name: 'a/c.bin', data: Buffer.from([0, 1, 2, 3, 255]) },
];

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isLadingError(e) ? e.code : 'other';
  }
  return undefined;
}

test('reads stored and deflated entries', () => {
  const buf = writeZip(files);
  assert.ok(looksLikeZip(buf));
  const zip = openZip(buf);
  assert.deepEqual(zip.entries.map((e) => e.name), files.map((f) => f.name));
  assert.equal(zip.get('a/')?.isDirectory, true);
  assert.equal(zip.read(zip.get('META-INF/MANIFEST.MF')!).toString(), 'Manifest-Version: 1.0\r\n');
  assert.equal(zip.read(zip.get('a/b.txt')!).toString(), 'hello '.repeat(1000));
  assert.deepEqual([...zip.read(zip.get('a/c.bin')!)], [0, 1, 2, 3, 255]);
});

test('reads ZIP64 records, a prepended stub, and both together', () => {
  for (const opts of [{ zip64: true }, { prefix: Buffer.from('#!/bin/sh\nexec java -jar "$0"\n') }, { zip64: true, prefix: Buffer.from('stub') }]) {
    const zip = openZip(writeZip(files, opts));
    assert.equal(zip.entries.length, 4, JSON.stringify(opts));
    assert.equal(zip.read(zip.get('a/b.txt')!).toString(), 'hello '.repeat(1000));
    assert.equal(zip.read(zip.get('META-INF/MANIFEST.MF')!).toString(), 'Manifest-Version: 1.0\r\n');
  }
});

test('an empty archive has no entries', () => {
  assert.equal(openZip(writeZip([])).entries.length, 0);
});

test('rejects things that are not zips or are cut short', () => {
  assert.equal(code(() => openZip(Buffer.from('not a zip at all, just text'))), 'BAD_INPUT');
  assert.equal(code(() => openZip(Buffer.alloc(0))), 'BAD_INPUT');
  const buf = writeZip(files);
  // Drop the first local header: the central directory now points past where data lives.
  assert.equal(code(() => openZip(buf.subarray(40))), 'BAD_INPUT');
  // Truncate inside the central directory (the end record is lost too).
  assert.equal(code(() => openZip(buf.subarray(0, buf.length - 30))), 'BAD_INPUT');
});

test('offsets and sizes pointing outside the buffer are errors, not crashes', () => {
  const buf = Buffer.from(writeZip(files));
  const eocd = buf.length - 22;
  const bigCount = Buffer.from(buf);
  bigCount.writeUInt16LE(60000, eocd + 10);
  assert.equal(code(() => openZip(bigCount)), 'BAD_INPUT');
  const badOffset = Buffer.from(buf);
  badOffset.writeUInt32LE(0x7ffffff0, eocd + 16);
  assert.equal(code(() => openZip(badOffset)), 'BAD_INPUT');
  // A central entry whose local header offset points past the end.
  const zip = openZip(buf);
  const cdStart = buf.readUInt32LE(eocd + 16);
  const badLocal = Buffer.from(buf);
  badLocal.writeUInt32LE(0x7ffffff0, cdStart + 42);
  const z2 = openZip(badLocal);
  assert.equal(code(() => z2.read(z2.entries[0]!)), 'BAD_INPUT');
  // A compressed size larger than the archive.
  const badSize = Buffer.from(buf);
  badSize.writeUInt32LE(0x7ffffff0, cdStart + 20);
  const z3 = openZip(badSize);
  assert.equal(code(() => z3.read(z3.entries[0]!)), 'BAD_INPUT');
  assert.ok(zip.entries.length > 0);
});

test('corrupt deflate data is an error', () => {
  const buf = Buffer.from(writeZip([{ name: 'x', data: 'some text that deflates'.repeat(10) }]));
  buf.fill(0xff, 30 + 1, 30 + 12);
  const zip = openZip(buf);
  assert.equal(code(() => zip.read(zip.entries[0]!)), 'BAD_INPUT');
});

test('bounds: entry count limit, declared size limit and inflate bombs', () => {
  assert.equal(code(() => openZip(writeZip(files), { maxEntries: 3 })), 'LIMIT_EXCEEDED');
  const zip = openZip(writeZip(files));
  assert.equal(code(() => zip.read(zip.get('a/b.txt')!, 100)), 'LIMIT_EXCEEDED');
  // A bomb whose central directory lies about its size: 10 MiB of zeros declared as 10 bytes.
  const bomb = Buffer.from(writeZip([{ name: 'bomb', data: Buffer.alloc(10 * 1024 * 1024) }]));
  const eocd = bomb.length - 22;
  const cd = bomb.readUInt32LE(eocd + 16);
  bomb.writeUInt32LE(10, cd + 24);
  const z = openZip(bomb);
  assert.equal(z.entries[0]!.size, 10);
  assert.equal(code(() => z.read(z.entries[0]!, 1024 * 1024)), 'LIMIT_EXCEEDED');
  assert.equal(z.read(z.entries[0]!, 16 * 1024 * 1024).length, 10 * 1024 * 1024);
});

test('unsupported methods and encryption are reported', () => {
  const buf = Buffer.from(writeZip([{ name: 'x', data: 'abc', method: 'store' }]));
  const cd = buf.readUInt32LE(buf.length - 22 + 16);
  const enc = Buffer.from(buf);
  enc.writeUInt16LE(1, cd + 8);
  const z1 = openZip(enc);
  assert.equal(code(() => z1.read(z1.entries[0]!)), 'UNSUPPORTED');
  const bz = Buffer.from(buf);
  bz.writeUInt16LE(12, cd + 10);
  const z2 = openZip(bz);
  assert.equal(code(() => z2.read(z2.entries[0]!)), 'UNSUPPORTED');
});

test('mutated archives never escape as anything but LadingError', () => {
  let seed = 99;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const originals = [writeZip(files), writeZip(files, { zip64: true })];
  for (let round = 0; round < 3000; round++) {
    const buf = Buffer.from(originals[round % 2]!);
    const flips = 1 + Math.floor(rand() * 8);
    for (let f = 0; f < flips; f++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
    try {
      const zip = openZip(buf);
      for (const e of zip.entries) {
        try {
          zip.read(e, 1024 * 1024);
        } catch (err) {
          assert.ok(isLadingError(err), `round ${round} read: ${String(err)}`);
        }
      }
    } catch (e) {
      assert.ok(isLadingError(e), `round ${round}: ${String(e)}`);
    }
  }
});
