import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LadingError } from '../../errors.js';
import { encodeHeader, parseHeader, Tag, TagType, type RpmHeader } from './header.js';

/** Index entry bytes: tag, type, offset, count (big-endian int32s). */
function entry(tag: number, type: number, offset: number, count: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32BE(tag, 0);
  b.writeUInt32BE(type, 4);
  b.writeInt32BE(offset, 8);
  b.writeUInt32BE(count, 12);
  return b;
}

function blob(entries: Buffer[], data: Buffer, il = entries.length, dl = data.length): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(il, 0);
  head.writeUInt32BE(dl, 4);
  return Buffer.concat([head, ...entries, data]);
}

/**
 * A header laid out byte by byte: immutable region around NAME, EPOCH, BASENAMES, an INT16, an
 * INT64, a BIN and an I18NSTRING, then one dribble entry (RELEASE) outside the region.
 */
function handBuilt(): Buffer {
  const d = Buffer.alloc(80);
  d.write('foo\0', 0, 'latin1'); //                        NAME         @0
  d.writeUInt32BE(7, 4); //                                 EPOCH        @4
  d.write('a\0bc\0', 8, 'latin1'); //                      BASENAMES    @8 (5 bytes)
  d.writeUInt16BE(1, 14); d.writeUInt16BE(0xfffe, 16); //  INT16 × 2    @14
  d.writeBigUInt64BE(2n ** 40n, 24); //                     LONGSIZE     @24
  d.write('\xde\xad\xbe', 32, 'latin1'); //                 SIGMD5 (BIN) @32 (3 bytes)
  d.write('hello\0hallo\0', 35, 'latin1'); //               SUMMARY      @35 (12 bytes)
  d.write('1.el9\0', 47, 'latin1'); //                      RELEASE      @47 (6 bytes, dribble)
  // region trailer @56: HEADERIMMUTABLE, BIN, -(8 entries × 16), 16
  entry(Tag.HEADERIMMUTABLE, TagType.BIN, -8 * 16, 16).copy(d, 56);
  return blob([
    entry(Tag.HEADERIMMUTABLE, TagType.BIN, 56, 16),
    entry(Tag.NAME, TagType.STRING, 0, 1),
    entry(Tag.EPOCH, TagType.INT32, 4, 1),
    entry(Tag.BASENAMES, TagType.STRING_ARRAY, 8, 2),
    entry(Tag.FILEMODES, TagType.INT16, 14, 2),
    entry(Tag.LONGSIZE, TagType.INT64, 24, 1),
    entry(Tag.SIGMD5, TagType.BIN, 32, 3),
    entry(Tag.SUMMARY, TagType.I18NSTRING, 35, 2),
    entry(Tag.RELEASE, TagType.STRING, 47, 1),
  ], d.subarray(0, 72));
}

test('parses a hand-built header: every tag type, region and dribble', () => {
  const h = parseHeader(handBuilt());
  assert.equal(h.string(Tag.NAME), 'foo');
  assert.equal(h.int(Tag.EPOCH), 7);
  assert.deepEqual(h.strings(Tag.BASENAMES), ['a', 'bc']);
  assert.deepEqual(h.ints(Tag.FILEMODES), [1, 0xfffe]);
  assert.equal(h.int(Tag.LONGSIZE), 2 ** 40);
  assert.deepEqual(h.bin(Tag.SIGMD5), Buffer.from([0xde, 0xad, 0xbe]));
  assert.equal(h.string(Tag.SUMMARY), 'hello', 'I18NSTRING: the default locale');
  assert.deepEqual(h.strings(Tag.SUMMARY), ['hello', 'hallo']);
  assert.equal(h.string(Tag.RELEASE), '1.el9');
  assert.equal(h.has(Tag.HEADERIMMUTABLE), false, 'the region tag is structure, not a value');
  assert.equal(h.string(Tag.VERSION), undefined);
  assert.equal(h.ints(Tag.NAME), undefined, 'a string is not read as integers');
  assert.equal(h.string(Tag.EPOCH), undefined, 'an integer is not read as a string');
});

test('the 8-byte header magic of an .rpm file is tolerated before the blob', () => {
  const withMagic = Buffer.concat([Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]), handBuilt()]);
  assert.equal(parseHeader(withMagic).string(Tag.NAME), 'foo');
});

test('encodeHeader round-trips through parseHeader', () => {
  const b = encodeHeader([
    { tag: Tag.NAME, type: TagType.STRING, value: 'bash' },
    { tag: Tag.FILEFLAGS, type: TagType.INT8, value: [1, 2, 3] },
    { tag: Tag.FILEMODES, type: TagType.INT16, value: [0o100644, 0o40755] },
    { tag: Tag.SIZE, type: TagType.INT32, value: [123456] },
    { tag: Tag.LONGSIZE, type: TagType.INT64, value: [5000000000n] },
    { tag: Tag.SIGMD5, type: TagType.BIN, value: Buffer.from('0123456789abcdef') },
    { tag: Tag.DIRNAMES, type: TagType.STRING_ARRAY, value: ['/usr/bin/', '/etc/'] },
    { tag: Tag.GROUP, type: TagType.I18NSTRING, value: ['System Environment/Shells'] },
    { tag: Tag.LICENSE, type: TagType.STRING, value: 'GPLv3+ — ünïcode' },
  ]);
  const h = parseHeader(b);
  assert.equal(h.string(Tag.NAME), 'bash');
  assert.deepEqual(h.ints(Tag.FILEFLAGS), [1, 2, 3]);
  assert.deepEqual(h.ints(Tag.FILEMODES), [0o100644, 0o40755]);
  assert.equal(h.int(Tag.SIZE), 123456);
  assert.equal(h.int(Tag.LONGSIZE), 5000000000);
  assert.equal(h.bin(Tag.SIGMD5)?.toString(), '0123456789abcdef');
  assert.deepEqual(h.strings(Tag.DIRNAMES), ['/usr/bin/', '/etc/']);
  assert.equal(h.string(Tag.GROUP), 'System Environment/Shells');
  assert.equal(h.string(Tag.LICENSE), 'GPLv3+ — ünïcode');
  assert.equal(parseHeader(encodeHeader([{ tag: Tag.NAME, type: TagType.STRING, value: 'x' }], { region: false })).string(Tag.NAME), 'x');
});

test('a dribble entry after the region overrides the region entry with the same tag', () => {
  const d = Buffer.alloc(32);
  d.write('old\0new\0', 0, 'latin1');
  entry(Tag.HEADERIMMUTABLE, TagType.BIN, -2 * 16, 16).copy(d, 8);
  const h = parseHeader(blob([
    entry(Tag.HEADERIMMUTABLE, TagType.BIN, 8, 16),
    entry(Tag.RELEASE, TagType.STRING, 0, 1),
    entry(Tag.RELEASE, TagType.STRING, 4, 1),
  ], d.subarray(0, 24)));
  assert.equal(h.string(Tag.RELEASE), 'new');
});

function rejects(b: Buffer, pattern: RegExp, what: string): void {
  assert.throws(() => parseHeader(b), (e: unknown) => {
    assert.ok(e instanceof LadingError, `${what}: a LadingError, got ${String(e)}`);
    assert.equal(e.code, 'BAD_INPUT');
    assert.match(e.message, pattern, what);
    return true;
  });
}

test('hostile blobs are rejected with an error naming the problem', () => {
  const str = Buffer.from('abc\0');
  rejects(Buffer.alloc(0), /too short/, 'empty');
  rejects(Buffer.from([0, 0, 0, 1]), /too short/, '4 bytes');
  rejects(blob([], Buffer.alloc(0)), /entry count 0/, 'no entries');
  rejects(blob([], Buffer.alloc(0), 0x10000), /entry count/, 'too many entries');
  rejects(blob([entry(Tag.NAME, TagType.STRING, 0, 1)], str, 1000), /need .* bytes, blob has/, 'index count past the end');
  rejects(blob([entry(Tag.NAME, TagType.STRING, 0, 1)], str, 1, 4096), /need .* bytes, blob has/, 'data length past the end');
  rejects(blob([entry(Tag.NAME, TagType.STRING, 0, 1)], str, 1, 0x7fffffff), /invalid data length/, 'absurd data length');
  rejects(blob([entry(Tag.NAME, TagType.STRING, 4, 1)], str), /offset 4 outside/, 'offset at the end');
  rejects(blob([entry(Tag.NAME, TagType.STRING, -4, 1)], str), /offset -4 outside/, 'negative offset');
  rejects(blob([entry(Tag.NAME, TagType.STRING, 0x7ffffff0, 1)], str), /outside/, 'huge offset');
  rejects(blob([entry(Tag.NAME, TagType.STRING, 0, 1)], Buffer.from('abcd')), /not terminated/, 'unterminated string');
  rejects(blob([entry(Tag.NAME, TagType.STRING, 0, 2)], str), /STRING with count 2/, 'STRING count 2');
  rejects(blob([entry(Tag.BASENAMES, TagType.STRING_ARRAY, 0, 3)], Buffer.from('a\0b\0')), /cannot fit|not terminated/, 'array count past the end');
  rejects(blob([entry(Tag.BASENAMES, TagType.STRING_ARRAY, 0, 0x7fffffff)], str), /invalid count|cannot fit/, 'absurd array count');
  rejects(blob([entry(Tag.SIZE, TagType.INT32, 0, 2)], str), /run past/, 'INT32 count past the end');
  rejects(blob([entry(Tag.SIZE, TagType.INT32, 2, 1)], Buffer.alloc(8)), /not aligned/, 'misaligned INT32');
  rejects(blob([entry(Tag.LONGSIZE, TagType.INT64, 4, 1)], Buffer.alloc(16)), /not aligned/, 'misaligned INT64');
  rejects(blob([entry(Tag.NAME, 42, 0, 1)], str), /invalid type 42/, 'unknown type');
  rejects(blob([entry(Tag.NAME, TagType.NULL, 0, 1)], str), /invalid type 0/, 'NULL type');
  rejects(blob([entry(Tag.NAME, TagType.BIN, 0, 0)], str), /invalid count 0/, 'zero count');

  const trailer = (tag: number, offset: number, count = 16): Buffer => entry(tag, TagType.BIN, offset, count);
  rejects(blob([entry(Tag.HEADERIMMUTABLE, TagType.BIN, 0, 16)], trailer(Tag.NAME, -16)), /trailer is not a region entry/, 'trailer with another tag');
  rejects(blob([entry(Tag.HEADERIMMUTABLE, TagType.BIN, 0, 16)], trailer(Tag.HEADERIMMUTABLE, -8)), /does not match/, 'trailer offset not a multiple of 16');
  rejects(blob([entry(Tag.HEADERIMMUTABLE, TagType.BIN, 0, 16)], trailer(Tag.HEADERIMMUTABLE, -32)), /does not match/, 'region larger than the index');
  rejects(blob([entry(Tag.HEADERIMMUTABLE, TagType.BIN, 0, 16)], trailer(Tag.HEADERIMMUTABLE, 16)), /does not match/, 'positive trailer offset');
  rejects(blob([entry(Tag.HEADERIMMUTABLE, TagType.BIN, 0, 8)], trailer(Tag.HEADERIMMUTABLE, -16)), /expected BIN × 16/, 'region of 8 bytes');
  rejects(blob([entry(Tag.HEADERIMMUTABLE, TagType.BIN, 8, 16)], trailer(Tag.HEADERIMMUTABLE, -16)), /run past/, 'trailer past the end');
  rejects(blob([entry(Tag.NAME, TagType.STRING, 16, 1), entry(Tag.HEADERIMMUTABLE, TagType.BIN, 0, 16)],
    Buffer.concat([trailer(Tag.HEADERIMMUTABLE, -32), str])), /not first/, 'region tag not first');
});

test('a 64-bit value beyond exact numbers is an error when read, not a wrong number', () => {
  const h = parseHeader(encodeHeader([{ tag: Tag.LONGSIZE, type: TagType.INT64, value: [2n ** 63n] }]));
  assert.throws(() => h.int(Tag.LONGSIZE), /too large/);
});

/** Decode every entry the way the analyzer would. */
function readAll(h: RpmHeader): void {
  for (const [tag, e] of h.entries) {
    if (e.type === TagType.BIN) h.bin(tag);
    else if (e.type >= TagType.STRING) h.strings(tag);
    else {
      try {
        h.ints(tag);
      } catch (err) {
        if (!(err instanceof LadingError)) throw err;
      }
    }
  }
}

test('random corruption of a valid blob gives a LadingError or a readable header, never a crash', () => {
  const good = encodeHeader([
    { tag: Tag.NAME, type: TagType.STRING, value: 'pkg' },
    { tag: Tag.EPOCH, type: TagType.INT32, value: [1] },
    { tag: Tag.DIRINDEXES, type: TagType.INT32, value: [0, 0, 1] },
    { tag: Tag.BASENAMES, type: TagType.STRING_ARRAY, value: ['a', 'b', 'c'] },
    { tag: Tag.DIRNAMES, type: TagType.STRING_ARRAY, value: ['/x/', '/y/'] },
    { tag: Tag.LONGSIZE, type: TagType.INT64, value: [42n] },
    { tag: Tag.FILEMODES, type: TagType.INT16, value: [1, 2, 3] },
    { tag: Tag.SIGMD5, type: TagType.BIN, value: Buffer.alloc(16, 7) },
  ]);
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let parsed = 0;
  let rejected = 0;
  for (let round = 0; round < 3000; round++) {
    const b = Buffer.from(good);
    const flips = 1 + rand(4);
    for (let i = 0; i < flips; i++) b[rand(b.length)] = rand(256);
    const cut = rand(10) === 0 ? b.subarray(0, rand(b.length)) : b;
    try {
      readAll(parseHeader(cut));
      parsed++;
    } catch (e) {
      assert.ok(e instanceof LadingError, `round ${round}: ${String(e)}`);
      rejected++;
    }
  }
  assert.ok(parsed > 0 && rejected > 0, `both outcomes seen (${parsed} parsed, ${rejected} rejected)`);
});
