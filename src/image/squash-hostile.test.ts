import { after, test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildImage } from '../testkit/images.js';
import { memoryImage, withLayerBlob } from '../testkit/memory-image.js';
import { opaque, sha256, tarBuffer, tarHeader, type TarEntry } from '../testkit/tar.js';
import { squash } from './squash.js';
import { dir, file, hardlink, image, paths, rejects, run, symlink, text } from './testing-squash.js';

// ---- hostile input -------------------------------------------------------------------------

/** What must not change while hostile images are squashed: a canary directory and the usual targets. */
function snapshot(canary: string): string {
  const list = (d: string): string[] => (existsSync(d) ? readdirSync(d).sort() : []);
  const sums = list(canary).map((n) => {
    const p = join(canary, n);
    return statSync(p).isDirectory() ? `${n}/:${list(p).join(',')}` : `${n}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
  });
  return JSON.stringify({
    canary: sums,
    tmp: list(tmpdir()).filter((n) => n.startsWith('lading-evil')),
    etc: ['/etc/evil', '/etc/evil2', '/var/tmp/x'].map((p) => existsSync(p)),
    cwd: ['etc', 'tmp', 'var', 'escape-abs', 'pw', 'shadow'].map((n) => existsSync(join(process.cwd(), n))),
  });
}

describe('squash: hostile images', () => {
  const canary = mkdtempSync(join(tmpdir(), 'lading-canary-'));
  writeFileSync(join(canary, 'passwd'), 'root:x:0:0\n');
  mkdirSync(join(canary, 'sub'));
  const before = snapshot(canary);
  const unchanged = (): void => assert.equal(snapshot(canary), before);

  test('path traversal stays inside the image root, with warnings', async () => {
    const r = await run(image([
      file('../../etc/evil', 'e1'), file('/etc/evil2', 'e2'), file('usr/../../../../tmp/lading-evil3', 'e3'), file('./ok/./fine', 'ok'),
    ]));
    assert.deepEqual(paths(r), ['/etc', '/etc/evil', '/etc/evil2', '/ok', '/ok/fine', '/tmp', '/tmp/lading-evil3']);
    const w = r.warnings.join('\n');
    assert.match(w, /path "..\/..\/etc\/evil" climbs out of the image root; kept inside it as "\/etc\/evil"/);
    assert.match(w, /path "\/etc\/evil2" normalised to "\/etc\/evil2"/);
    assert.match(w, /"usr\/..\/..\/..\/..\/tmp\/lading-evil3" climbs out/);
    assert.equal(r.warnings.length, 3);
    unchanged();
  });

  test('symlink escapes (absolute and relative) are resolved inside the root, in the same and in later layers', async () => {
    const r = await run(image(
      [symlink('escape-abs', '/var/tmp/x'), symlink('escape-rel', '../../../../tmp'), file('escape-abs/file', 'a'), file('escape-rel/lading-evil4', 'b'),
        dir('etc'), symlink('etc/up', '../../..'), file('etc/up/etc/evil', 'c')],
      [file('escape-abs/later', 'd'), file('escape-rel/lading-evil5', 'e'), symlink('chain', 'escape-abs'), file('chain/via-chain', 'f')],
    ), { captures: [{ id: 'c', match: () => true }] });
    assert.deepEqual(paths(r), [
      '/chain', '/escape-abs', '/escape-rel', '/etc', '/etc/evil', '/etc/up', '/tmp', '/tmp/lading-evil4', '/tmp/lading-evil5',
      '/var', '/var/tmp', '/var/tmp/x', '/var/tmp/x/file', '/var/tmp/x/later', '/var/tmp/x/via-chain',
    ]);
    assert.equal(r.files.get('/escape-abs')!.type, 'symlink');
    assert.equal(await text(r, 'c', '/var/tmp/x/via-chain'), 'f');
    assert.equal(await text(r, 'c', '/etc/evil'), 'c');
    unchanged();
  });

  test('hardlink escapes: a target outside the image is skipped; ../ targets are kept inside the root', async () => {
    const r = await run(image([dir('etc'), file('etc/passwd', 'root'), hardlink('shadow', '/etc/shadow'), hardlink('pw', '../../etc/passwd'),
      hardlink('loop', 'loop'), dir('d'), hardlink('dirlink', 'd')]), { captures: [{ id: 'c', paths: ['/pw', '/etc/passwd'] }] });
    assert.equal(r.files.has('/shadow'), false);
    assert.equal(r.files.has('/loop'), false);
    assert.equal(r.files.has('/dirlink'), false);
    const pw = r.files.get('/pw')!;
    assert.equal(pw.type, 'hardlink');
    assert.equal(pw.linkTarget, '/etc/passwd');
    assert.equal(await text(r, 'c', '/pw'), 'root');
    const w = r.warnings.join('\n');
    assert.match(w, /skipped hardlink "shadow": its target "\/etc\/shadow" is not in the image/);
    assert.match(w, /hardlink "pw" has target "..\/..\/etc\/passwd", which climbs out of the image root/);
    assert.match(w, /skipped hardlink "loop"/);
    assert.match(w, /skipped hardlink "dirlink": its target "d" is a directory/);
    unchanged();
  });

  test('symlink loops and parents that are files are skipped with a warning', async () => {
    const r = await run(image([symlink('a', 'b'), symlink('b', 'a'), file('a/file'), file('f'), file('f/x'), symlink('self', '.'), file('self/ok')]));
    assert.deepEqual(paths(r), ['/a', '/b', '/f', '/ok', '/self']);
    const w = r.warnings.join('\n');
    assert.match(w, /skipped "a\/file": too many levels of symlinks/);
    assert.match(w, /skipped "f\/x": \/f is not a directory/);
    unchanged();
  });

  test('digest, size and diff_id mismatches', async () => {
    const built = buildImage({ layers: [{ entries: [file('a', 'a')] }, { entries: [file('b', 'b'.repeat(5000))] }] });
    const blob = built.layers[1]!.blob;
    const flipped = Buffer.from(blob);
    flipped[Math.floor(flipped.length / 2)]! ^= 0xff;
    await rejects(squash(memoryImage(withTamper(built, 1, flipped))), 'DIGEST_MISMATCH',
      new RegExp(`layer 1 \\(${built.layers[1]!.desc.digest}\\): blob digest mismatch: expected ${built.layers[1]!.desc.digest}, got sha256:[0-9a-f]{64}`));
    await rejects(squash(memoryImage(withTamper(built, 1, Buffer.concat([blob, Buffer.from('x')])))), 'DIGEST_MISMATCH', /layer 1 .* longer than the \d+ bytes its descriptor declares/);
    const short = structuredClone(built.manifest.layers[1]!);
    const img = memoryImage(built);
    img.layers[1] = { ...img.layers[1]!, size: short.size + 10 };
    await rejects(squash(img), 'DIGEST_MISMATCH', new RegExp(`layer 1 .*: the blob is ${blob.length} bytes, but its descriptor declares ${blob.length + 10}`));
    const badDiff = withLayerBlob(built, 1, blob, 'sha256:' + '0'.repeat(64));
    await rejects(squash(memoryImage(badDiff)), 'DIGEST_MISMATCH', /layer 1 .*: the uncompressed content has digest sha256:[0-9a-f]{64}, but the image config's diff_id is sha256:0{64}/);
    unchanged();
  });

  test('a tampered uncompressed layer is a digest mismatch, not a tar error', async () => {
    await rejects(squash(image({ entries: [file('a', 'a'.repeat(3000))], compression: 'none', tamper: (b) => { const c = Buffer.from(b); c[10] = 0x41; return c; } })),
      'DIGEST_MISMATCH', /layer 0 .* blob digest mismatch/);
  });

  test('a gzip bomb stops at maxUncompressedBytes with bounded memory', async () => {
    const tar = tarBuffer([file('zeros', Buffer.alloc(64 * 1024 * 1024))]);
    const bomb = gzipSync(tar, { level: 9 });
    assert.ok(bomb.length < 200_000);
    const built = buildImage({ layers: [{ entries: [file('a')] }] });
    const img = memoryImage(withLayerBlob(built, 0, bomb, 'sha256:' + createHash('sha256').update(tar).digest('hex')));
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const t = Date.now();
    await rejects(squash(img, {
      limits: { maxUncompressedBytes: 8 * 1024 * 1024 },
      captures: [{ id: 'z', paths: ['/zeros'] }],
      onProgress: () => { peak = Math.max(peak, process.memoryUsage().arrayBuffers - base); },
    }), 'LIMIT_EXCEEDED', /layer 0 .* exceed maxUncompressedBytes \(8388608 bytes\)/);
    assert.ok(Date.now() - t < 5000);
    assert.ok(peak < 48 * 1024 * 1024, `peak external memory ${peak}`);
    // the limit is for the whole image: two layers of 5 MiB each break an 8 MiB limit
    const two = image([file('a', Buffer.alloc(5 << 20))], [file('b', Buffer.alloc(5 << 20))]);
    await rejects(squash(two, { limits: { maxUncompressedBytes: 8 << 20 } }), 'LIMIT_EXCEEDED', /layer 1 .*maxUncompressedBytes/);
  });

  test('a gzip bomb also stops on its compression ratio, under the default size limit', async () => {
    const tar = tarBuffer([file('zeros', Buffer.alloc(64 * 1024 * 1024))]);
    const bomb = gzipSync(tar, { level: 9 });
    const built = buildImage({ layers: [{ entries: [file('a')] }] });
    const img = memoryImage(withLayerBlob(built, 0, bomb, 'sha256:' + createHash('sha256').update(tar).digest('hex')));
    await rejects(squash(img, { limits: { ratioCheckAfterBytes: 16 * 1024 * 1024 } }), 'LIMIT_EXCEEDED',
      /layer 0 .*: looks like a decompression bomb: \d+ bytes from \d+ compressed \(\d+:1, over maxCompressionRatio 200:1 after 16777216 bytes\)/);
    // the same layer passes when the ratio limit is raised
    const ok = await squash(img, { limits: { ratioCheckAfterBytes: 16 * 1024 * 1024, maxCompressionRatio: 5000 } });
    assert.equal(ok.files.get('/zeros')!.size, 64 * 1024 * 1024);
    await ok.dispose();
  });

  test('truncated gzip and zstd blobs (with matching digests)', async () => {
    const built = buildImage({ layers: [{ entries: [file('a', 'x'.repeat(20000))] }, { entries: [file('b', 'y'.repeat(20000))], compression: 'zstd' }] });
    const gz = built.layers[0]!.blob;
    await rejects(squash(memoryImage(withLayerBlob(built, 0, gz.subarray(0, gz.length - 12)))), 'BAD_INPUT', /layer 0 \(sha256:[0-9a-f]{64}\) is truncated or corrupt: /);
    const zs = built.layers[1]!.blob;
    await rejects(squash(memoryImage(withLayerBlob(built, 1, zs.subarray(0, zs.length - 5)))), 'BAD_INPUT', /layer 1 \(sha256:[0-9a-f]{64}\) is truncated or corrupt: /);
  });

  test('a truncated tar stream, and garbage instead of a tar', async () => {
    const tar = tarBuffer([file('a', 'x'.repeat(3000)), file('b', 'y')]);
    const built = buildImage({ layers: [{ entries: [file('z')], compression: 'none' }] });
    /** An image whose only layer is `tar` (compressed as given), with digests that match. */
    const as = (uncompressed: Buffer, blob = uncompressed) => memoryImage(withLayerBlob(built, 0, blob, sha256(uncompressed)));
    await rejects(squash(as(tar.subarray(0, 1024))), 'BAD_INPUT', /layer 0 .* is truncated: the tar stream ends inside an entry \(entry "a"\)/);
    await rejects(squash(as(tar.subarray(0, 700))), 'BAD_INPUT', /layer 0 .*truncated/);
    const garbage = Buffer.alloc(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7 + 13) & 0xff;
    await rejects(squash(as(garbage)), 'BAD_INPUT', /layer 0 .* is not a valid tar stream: (checksum failure|invalid base256)/);
    await rejects(squash(as(garbage, gzipSync(garbage))), 'BAD_INPUT', /layer 0 .* is not a valid tar stream: /);
    await rejects(squash(as(Buffer.from('not a tar at all'))), 'BAD_INPUT', /layer 0 .* is not a valid tar stream: unrecognized archive format \(this is not a tar\)/);
    // a truncation is only seen at the end of the stream, where a wrong diff_id is reported first
    await rejects(squash(memoryImage(withLayerBlob(built, 0, tar.subarray(0, 1024)))), 'DIGEST_MISMATCH', /diff_id/);
  });

  test('a tar missing its end-of-archive marker at an entry boundary is read, with a warning', async () => {
    const r = await run(image({ entries: [file('a', 'x')], tarOptions: { noTrailer: true } }));
    assert.deepEqual(paths(r), ['/a']);
    assert.match(r.warnings.join('\n'), /no end-of-archive marker/);
  });

  test('limits: PAX header size, entry count, path length', async () => {
    await rejects(squash(image([file('f', 'x', { pax: { comment: 'c'.repeat(100_000) } })]), { limits: { maxHeaderBytes: 64 * 1024 } }),
      'LIMIT_EXCEEDED', /layer 0 .*: a ExtendedHeader header of \d+ bytes is over maxHeaderBytes \(65536\)/);
    await rejects(squash(image(Array.from({ length: 6 }, (_, i) => file(`f${i}`)), [file('g')]), { limits: { maxEntries: 5 } }),
      'LIMIT_EXCEEDED', /layer 0 .*more than maxEntries \(5\)/);
    await rejects(squash(image([file('d/' + 'n'.repeat(300))]), { limits: { maxPathBytes: 200 } }),
      'LIMIT_EXCEEDED', /a tar entry's path is 302 bytes, over maxPathBytes \(200\)/);
    await rejects(squash(image([file('x'), symlink('s', 'a'.repeat(250))]), { limits: { maxPathBytes: 200 } }),
      'LIMIT_EXCEEDED', /symlink target is 250 bytes/);
    await rejects(squash(image([file('a')], [file('b')], [file('c')]), { limits: { maxLayers: 2 } }), 'LIMIT_EXCEEDED', /3 layers, over maxLayers \(2\)/);
  });

  test('unsupported entry types and PAX global headers are skipped with warnings, and do not shift the stream', async () => {
    const globalBody = Buffer.from('17 size=99999999\n11 uid=666\n');
    const raw = (typeflag: string, name: string, body = Buffer.alloc(0)): TarEntry => ({
      type: 'raw',
      bytes: Buffer.concat([tarHeader({ name, typeflag, size: body.length }), body, Buffer.alloc((512 - (body.length % 512)) % 512)]),
    });
    const r = await run(image([
      raw('g', 'pax_global_header', globalBody), raw('V', 'volume-label'), raw('S', 'sparse', Buffer.from('sparse data')),
      file('after', 'content after odd entries'), raw('D', 'dumpdir/', Buffer.from('Yx\0\0')), file('last', 'L'),
    ]), { captures: [{ id: 'c', match: () => true }] });
    assert.deepEqual(paths(r), ['/after', '/last']);
    assert.equal(await text(r, 'c', '/after'), 'content after odd entries');
    assert.equal(r.files.get('/after')!.uid, 0);
    const w = r.warnings.join('\n');
    assert.match(w, /ignored a PAX global extended header/);
    assert.match(w, /skipped "volume-label": unsupported tar entry type TapeVolumeHeader/);
    assert.match(w, /skipped "sparse": unsupported tar entry type SparseFile/);
    assert.match(w, /skipped "dumpdir\/": unsupported tar entry type GNUDumpDir/);
  });

  test('links and devices with a size field have no body (as in Go), so nothing hides in one', async () => {
    const smuggled = Buffer.concat([tarHeader({ name: 'smuggled', typeflag: '0', size: 5 }), Buffer.from('hello'), Buffer.alloc(507)]);
    const r = await run(image([
      { type: 'raw', bytes: tarHeader({ name: 'link', typeflag: '2', linkname: 'target', size: smuggled.length }) },
      { type: 'raw', bytes: smuggled },
      { type: 'raw', bytes: tarHeader({ name: 'dev', typeflag: '3', size: 512 }) },
      file('after', 'a'),
    ]), { captures: [{ id: 'c', match: () => true }] });
    assert.deepEqual(paths(r), ['/after', '/dev', '/link', '/smuggled']);
    assert.equal(await text(r, 'c', '/smuggled'), 'hello');
    assert.match(r.warnings.join('\n'), /"link" \(symlink\) declares a 1024-byte body; it was read as having none/);
  });

  test('an uncompressed layer whose first name starts with the gzip magic is read as the tar it is', async () => {
    const header = tarHeader({ name: 'xx-odd-name', typeflag: '0', size: 1 });
    header[0] = 0x1f;
    header[1] = 0x8b;
    header.write('        ', 148, 'ascii');
    let sum = 0;
    for (const b of header) sum += b;
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
    const r = await run(image({ entries: [{ type: 'raw', bytes: Buffer.concat([header, Buffer.from('x'), Buffer.alloc(511)]) }, file('b', 'y')], compression: 'gzip' }));
    assert.deepEqual(paths(r), ['/\x1f\ufffd-odd-name', '/b']);
  });

  // Bounded by the test's timeout, not a timed assertion: quadratic work here takes minutes.
  test('repeated opaque markers over a large directory cost one walk', { timeout: 60_000 }, async (t) => {
    const lower = Array.from({ length: 30_000 }, (_, i) => file(`d/old${i}`));
    const upper: TarEntry[] = [];
    for (let i = 0; i < 15_000; i++) upper.push(file(`d/new${i}`), opaque('d'));
    const img = image({ entries: lower, compression: 'none' }, { entries: upper, compression: 'none' });
    const started = Date.now();
    const r = await run(img);
    assert.equal(r.files.size, 15_001);
    t.diagnostic(`took ${Date.now() - started} ms`);
  });

  test('a symlink maze is cut short: bounded work per path, warnings capped', { timeout: 60_000 }, async (t) => {
    const maze: TarEntry[] = [dir('x'), symlink('m0', 'x/../'.repeat(800) + 'x')];
    for (let i = 1; i < 30; i++) maze.push(symlink(`m${i}`, `m${i - 1}/../`.repeat(500) + `m${i - 1}`));
    for (let i = 0; i < 1500; i++) maze.push(file(`m29/f${i}`));
    const started = Date.now();
    const r = await run(image({ entries: maze, compression: 'none' }));
    t.diagnostic(`took ${Date.now() - started} ms`);
    assert.equal(r.files.has('/x/f0'), false);
    assert.equal(r.warnings.length, 1001);
    assert.match(r.warnings[0]!, /skipped "m29\/f0": too many levels of symlinks/);
    assert.match(r.warnings[1000]!, /… and 500 more warnings/);
  });

  test('an aborted squash stops with the abort reason', async () => {
    const ac = new AbortController();
    const img = image([file('a', Buffer.alloc(1 << 20))], [file('b')]);
    const p = squash(img, { signal: ac.signal, onProgress: () => ac.abort() });
    await assert.rejects(p, /abort/i);
  });

  test('nothing was written outside the scratch directory', () => {
    unchanged();
  });

  after(() => rmSync(canary, { recursive: true, force: true }));
});

/** `built` with layer `index` replaced by `blob` but the descriptor left as it was (a tampered download). */
function withTamper(built: ReturnType<typeof buildImage>, index: number, blob: Buffer): ReturnType<typeof buildImage> {
  const blobs = new Map(built.blobs);
  blobs.set(built.layers[index]!.desc.digest, blob);
  return { ...built, blobs };
}
