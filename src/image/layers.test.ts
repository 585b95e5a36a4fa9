import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { buildImage, zstdCompress, type BuiltImage } from '../testkit/images.js';
import { memoryImage, withLayerBlob } from '../testkit/memory-image.js';
import { sha256, tarBuffer, type TarEntry } from '../testkit/tar.js';
import { isLadingError } from '../errors.js';
import { LayerReader, openLayer, type LayerOptions } from './layers.js';
import { compressionOfMagic, compressionOfMediaType, zstdImpl, type ZstdImpl } from './decompress.js';
import { DEFAULT_LIMITS, withLimits } from './limits.js';
import { MediaTypes, type ResolvedImage } from './types.js';

const files = (n: number, size: number): TarEntry[] =>
  Array.from({ length: n }, (_, i) => ({ type: 'file', path: `dir${i % 7}/file-${i}.txt`, content: `line ${i} `.repeat(size / 8) }));

async function readAll(stream: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of stream) out.push(c as Buffer);
  return Buffer.concat(out);
}

/** Read a layer through LayerReader with a forced zstd decoder. */
async function readLayer(img: ResolvedImage, index: number, options: LayerOptions = {}, limits = DEFAULT_LIMITS): Promise<Buffer> {
  const reader = await LayerReader.open(img, index, limits, options);
  try {
    const out: Buffer[] = [];
    for await (const c of reader.chunks()) out.push(c);
    return Buffer.concat(out);
  } finally {
    reader.close();
  }
}

async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isLadingError(e), `expected a LadingError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

/** An image whose layer 0 is `blob`, declared with `uncompressed`'s digest as diff_id. */
function imageOf(blob: Buffer, uncompressed: Buffer, mediaType: string = MediaTypes.ociLayerZstd): ResolvedImage {
  const built = buildImage({ layers: [{ entries: [{ type: 'file', path: 'x', content: 'x' }] }] });
  const img = memoryImage(withLayerBlob(built, 0, blob, sha256(uncompressed)));
  img.layers[0]!.mediaType = mediaType;
  return img;
}

describe('openLayer', () => {
  test('yields the exact uncompressed tar of gzip, zstd and uncompressed layers, OCI and Docker media types', async () => {
    for (const format of ['oci', 'docker'] as const) {
      const built = buildImage({
        format,
        layers: [
          { entries: files(40, 3000), compression: 'gzip' },
          { entries: files(20, 9000), compression: 'zstd' },
          ...(format === 'oci' ? [{ entries: files(5, 100), compression: 'none' as const }] : []),
        ],
      });
      const img = memoryImage(built, { chunkSize: 1000 });
      for (let i = 0; i < built.layers.length; i++) {
        const got = await readAll(await openLayer(img, i, DEFAULT_LIMITS));
        assert.ok(got.equals(built.layers[i]!.tar), `${format} layer ${i}`);
      }
    }
  });

  test('the pure-JS zstd decoder gives the same bytes, across frames and skippable frames', async () => {
    const tar = tarBuffer(files(60, 5000));
    const half = 512 * 40;
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18]), Buffer.from([5, 0, 0, 0]), Buffer.from('hello')]);
    const blob = Buffer.concat([skippable, zstdCompress(tar.subarray(0, half)), zstdCompress(tar.subarray(half))]);
    const img = imageOf(blob, tar);
    for (const zstd of ['js', 'native'] as ZstdImpl[]) {
      if (zstd === 'native' && zstdImpl() !== 'native') continue;
      const got = await readLayer(img, 0, { zstd });
      assert.ok(got.equals(tar), zstd);
    }
  });

  test('truncated zstd is an error with either decoder; so is a zstd frame with a window over 128 MiB', async () => {
    const tar = tarBuffer(files(30, 4000));
    const zs = zstdCompress(tar);
    const truncated = imageOf(zs.subarray(0, zs.length - 7), tar);
    await rejects(readLayer(truncated, 0, { zstd: 'js' }), 'BAD_INPUT', /layer 0 .* is truncated or corrupt: /);
    if (zstdImpl() === 'native') await rejects(readLayer(truncated, 0, { zstd: 'native' }), 'BAD_INPUT', /layer 0 .* is truncated or corrupt: /);
    // frame header: magic, descriptor 0 (window descriptor present), window exponent 20 => 2^30 bytes
    const hugeWindow = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 20 << 3]), Buffer.from([0x01, 0x00, 0x00])]);
    await rejects(readLayer(imageOf(hugeWindow, tar), 0, { zstd: 'js' }), 'LIMIT_EXCEEDED', /layer 0 .* a zstd frame needs a 1073741824-byte window, over the limit of 134217728/);
    if (zstdImpl() === 'native') await rejects(readLayer(imageOf(hugeWindow, tar), 0, { zstd: 'native' }), 'BAD_INPUT', /layer 0 .* is truncated or corrupt/);
  });

  test('compression is told by the magic bytes; a disagreeing media type earns a warning', async () => {
    assert.equal(compressionOfMediaType(MediaTypes.dockerLayerGzip), 'gzip');
    assert.equal(compressionOfMediaType(MediaTypes.ociLayerZstd), 'zstd');
    assert.equal(compressionOfMediaType(MediaTypes.ociLayer), 'none');
    assert.equal(compressionOfMediaType('application/octet-stream'), undefined);
    assert.equal(compressionOfMagic(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
    assert.equal(compressionOfMagic(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
    assert.equal(compressionOfMagic(Buffer.from('usr/')), 'none');
    const tar = tarBuffer(files(3, 100));
    const warnings: string[] = [];
    const gz = await readLayer(imageOf(gzipSync(tar), tar, MediaTypes.ociLayerZstd), 0, { onWarning: (w) => warnings.push(w) });
    assert.ok(gz.equals(tar));
    const plain = await readLayer(imageOf(tar, tar, MediaTypes.ociLayerGzip), 0, { onWarning: (w) => warnings.push(w) });
    assert.ok(plain.equals(tar));
    assert.match(warnings[0]!, /media type .*\+zstd says zstd, but the content is gzip/);
    assert.match(warnings[1]!, /media type .*\+gzip says gzip, but the content is not compressed/);
  });

  test('a blob longer than its descriptor says is cut off at once, even an endless one', async () => {
    const built = buildImage({ layers: [{ entries: files(2, 100) }] });
    const img = memoryImage(built);
    let served = 0;
    img.openBlob = async () => new Readable({
      read() {
        served += 65536;
        this.push(Buffer.alloc(65536));
      },
    });
    await rejects(readLayer(img, 0), 'DIGEST_MISMATCH', /layer 0 \(sha256:[0-9a-f]{64}\): the blob is longer than the \d+ bytes its descriptor declares/);
    assert.ok(served <= 4 * 65536, `served ${served}`);
  });

  test('a shorter blob, a different blob and a wrong diff_id are errors of the stream, after its data', async () => {
    const built = buildImage({ layers: [{ entries: files(10, 2000) }] });
    const blob = built.layers[0]!.blob;
    const d = built.layers[0]!.desc.digest;
    const img = memoryImage(built);
    img.layers[0] = { ...img.layers[0]!, size: blob.length + 1 };
    await rejects(readLayer(img, 0), 'DIGEST_MISMATCH', new RegExp(`layer 0 \\(${d}\\): the blob is ${blob.length} bytes, but its descriptor declares ${blob.length + 1}`));

    const other = buildImage({ layers: [{ entries: files(11, 2000) }] });
    const swapped: BuiltImage = { ...built, blobs: new Map([...built.blobs, [d, other.layers[0]!.blob]]) };
    const s = memoryImage(swapped);
    s.layers[0] = { ...s.layers[0]!, size: other.layers[0]!.blob.length };
    await rejects(readLayer(s, 0), 'DIGEST_MISMATCH', new RegExp(`layer 0 \\(${d}\\): blob digest mismatch: expected ${d}, got ${other.layers[0]!.desc.digest}`));

    const wrongDiff = memoryImage(withLayerBlob(built, 0, blob, 'sha256:' + 'a'.repeat(64)));
    const stream = await openLayer(wrongDiff, 0, DEFAULT_LIMITS);
    let got = 0;
    await assert.rejects((async () => {
      for await (const c of stream) got += (c as Buffer).length;
    })(), /the uncompressed content has digest sha256:[0-9a-f]{64}, but the image config's diff_id is sha256:a{64}/);
    assert.equal(got, built.layers[0]!.tar.length);
  });

  test('a byte flipped inside a gzip blob is reported as a digest mismatch, not as corrupt gzip', async () => {
    const built = buildImage({ layers: [{ entries: files(50, 4000) }] });
    const bad = Buffer.from(built.layers[0]!.blob);
    bad[100]! ^= 0x55;
    const img = memoryImage({ ...built, blobs: new Map([[built.layers[0]!.desc.digest, bad]]) });
    await rejects(readLayer(img, 0), 'DIGEST_MISMATCH', /layer 0 .* blob digest mismatch/);
  });

  test('decompression bombs stop at maxUncompressedBytes, promptly and with bounded memory', { timeout: 60_000 }, async (t) => {
    const zeros = Buffer.alloc(96 * 1024 * 1024);
    const tar = tarBuffer([{ type: 'file', path: 'zeros', content: zeros }]);
    const limits = withLimits({ maxUncompressedBytes: 4 * 1024 * 1024 });
    const cases: [string, Buffer, LayerOptions][] = [['gzip', gzipSync(tar, { level: 9 }), {}], ['zstd js', zstdCompress(tar), { zstd: 'js' }]];
    if (zstdImpl() === 'native') cases.push(['zstd native', zstdCompress(tar), { zstd: 'native' }]);
    for (const [name, blob, options] of cases) {
      assert.ok(blob.length < 200_000, name);
      const img = imageOf(blob, tar);
      const base = process.memoryUsage().arrayBuffers;
      let peak = 0;
      const started = Date.now();
      const reader = await LayerReader.open(img, 0, limits, options);
      await rejects((async () => {
        for await (const c of reader.chunks()) {
          void c;
          peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
        }
      })(), 'LIMIT_EXCEEDED', /layer 0 .* exceed maxUncompressedBytes \(4194304 bytes\)/);
      reader.close();
      t.diagnostic(`${name} took ${Date.now() - started} ms`);
      assert.ok(peak < 40 * 1024 * 1024, `${name}: peak ${peak}`);
    }
  });

  test('the uncompressed limit counts bytes of earlier layers', async () => {
    const built = buildImage({ layers: [{ entries: files(4, 1000) }] });
    const size = built.layers[0]!.tar.length;
    const img = memoryImage(built);
    assert.equal((await readLayer(img, 0, { priorUncompressedBytes: 100 }, withLimits({ maxUncompressedBytes: size + 100 }))).length, size);
    await rejects(readLayer(img, 0, { priorUncompressedBytes: 101 }, withLimits({ maxUncompressedBytes: size + 100 })), 'LIMIT_EXCEEDED', /maxUncompressedBytes/);
  });

  test('open errors reject the promise: missing blob, bad index, unsupported digest algorithm', async () => {
    const built = buildImage({ layers: [{ entries: files(1, 10) }] });
    const img = memoryImage({ ...built, blobs: new Map() });
    await rejects(openLayer(img, 0, DEFAULT_LIMITS), 'NOT_FOUND', /is not in this image/);
    await rejects(openLayer(img, 3, DEFAULT_LIMITS), 'BAD_INPUT', /the image has no layer 3 \(it has 1\)/);
    const md5 = memoryImage(built);
    md5.layers[0] = { ...md5.layers[0]!, digest: 'md5:abcdef' };
    await rejects(openLayer(md5, 0, DEFAULT_LIMITS), 'UNSUPPORTED', /unsupported digest algorithm in "md5:abcdef"/);
  });

  test('progress reports raw bytes, and an abort signal stops the stream', async () => {
    const built = buildImage({ layers: [{ entries: files(30, 20000), compression: 'none' }] });
    const img = memoryImage(built, { chunkSize: 4096 });
    const seen: number[] = [];
    await readLayer(img, 0, { onProgress: (b) => seen.push(b) });
    assert.equal(seen.at(-1), built.layers[0]!.blob.length);
    const ac = new AbortController();
    const stream = await openLayer(img, 0, DEFAULT_LIMITS, ac.signal);
    await assert.rejects((async () => {
      for await (const c of stream) {
        void c;
        ac.abort();
      }
    })(), /abort/i);
  });
});
