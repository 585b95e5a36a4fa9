/**
 * Document encoding: each compression round-trips, gzip documents of earlier versions still read,
 * a document that compression would not shrink is kept as JSON, and corrupt bytes throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { decodeDocument, encodeDocument, encodingOf, effectiveCompression } from './codec.js';

const doc = { packages: Array.from({ length: 200 }, (_, i) => ({ name: `pkg${i}`, version: `1.${i}-1`, purl: `pkg:deb/debian/pkg${i}@1.${i}-1?arch=amd64` })) };

test('codec: zstd, gzip and none round-trip; zstd is the smallest; the bytes say which', () => {
  const sizes: Record<string, number> = {};
  for (const compression of ['zstd', 'gzip', 'none'] as const) {
    const bytes = encodeDocument(doc, { compression });
    assert.deepEqual(decodeDocument(bytes), doc);
    assert.equal(encodingOf(bytes), effectiveCompression(compression));
    sizes[compression] = bytes.length;
  }
  assert.equal(sizes.none, Buffer.byteLength(JSON.stringify(doc)));
  assert.ok(sizes.gzip! < sizes.none! / 4);
  if (effectiveCompression('zstd') === 'zstd') assert.ok(sizes.zstd! < sizes.gzip!, JSON.stringify(sizes));
  assert.ok(encodeDocument(doc, { compression: 'zstd', level: 19 }).length <= encodeDocument(doc, { compression: 'zstd', level: 1 }).length);
});

test('codec: what earlier versions stored (gzip of the JSON) reads; a tiny document stays JSON', () => {
  assert.deepEqual(decodeDocument(gzipSync(Buffer.from(JSON.stringify(doc)))), doc);
  const tiny = encodeDocument({ a: 1 }, { compression: 'zstd' });
  assert.equal(tiny.toString(), '{"a":1}');
  assert.equal(encodingOf(tiny), 'none');
});

test('codec: corrupt bytes throw', () => {
  const gz = encodeDocument(doc, { compression: 'gzip' });
  assert.throws(() => decodeDocument(gz.subarray(0, gz.length - 10)));
  const zs = encodeDocument(doc, { compression: 'zstd' });
  const broken = Buffer.from(zs);
  broken.fill(0xff, 8, 40);
  assert.throws(() => decodeDocument(broken));
  assert.throws(() => decodeDocument(Buffer.from('{"not json')));
});
