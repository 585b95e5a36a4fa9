import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, zstdCompress } from '../testkit/images.js';
import { memoryImage, withLayerBlob } from '../testkit/memory-image.js';
import { opaque, whiteout } from '../testkit/tar.js';
import { MediaTypes } from './types.js';
import { squash } from './squash.js';
import { dir, file, hardlink, image, paths, rejects, run, symlink, text } from './testing-squash.js';

describe('squash: layers and whiteouts', () => {
  test('files replaced, deleted by whiteout, and directories whited out with their subtree', async () => {
    const r = await run(image(
      [dir('etc'), file('etc/passwd', 'root:x:0:0'), file('etc/hosts', '127.0.0.1'), dir('var'), dir('var/lib'), dir('var/lib/x'), file('var/lib/x/y', 'y'), dir('var/lib/x/z'), file('var/lib/x/z/w')],
      [file('etc/passwd', 'root:x:0:0\nuser:x:1000'), whiteout('etc/hosts'), whiteout('var/lib/x'), file('etc/new', 'n')],
    ), { captures: [{ id: 'all', match: () => true }] });
    assert.deepEqual(paths(r), ['/etc', '/etc/new', '/etc/passwd', '/var', '/var/lib']);
    const pw = r.files.get('/etc/passwd')!;
    assert.equal(pw.layer, 1);
    assert.equal(pw.size, 22);
    assert.equal(await text(r, 'all', '/etc/passwd'), 'root:x:0:0\nuser:x:1000');
    assert.equal(r.files.get('/etc')!.layer, 0);
    assert.equal(r.files.has('/etc/.wh.hosts'), false);
    assert.equal(r.files.size, 5);
    assert.deepEqual(r.files.readdir('/etc'), ['new', 'passwd']);
    assert.deepEqual(r.layers.map((l) => l.entries), [9, 4]);
    assert.deepEqual(r.warnings, []);
    await r.dispose();
  });

  test('a whiteout does not delete what its own layer writes, before or after it', async () => {
    const r = await run(image(
      [file('a', 'old'), file('b', 'old'), dir('d'), file('d/lower')],
      [file('a', 'new'), whiteout('a'), whiteout('b'), file('b', 'new'), whiteout('d'), file('d/upper')],
    ), { captures: [{ id: 'c', paths: ['/a', '/b'] }] });
    assert.deepEqual(paths(r), ['/a', '/b', '/d', '/d/upper']);
    assert.equal(await text(r, 'c', '/a'), 'new');
    assert.equal(await text(r, 'c', '/b'), 'new');
  });

  test('an opaque directory hides lower entries; entries of its own layer stay, before or after the marker', async () => {
    const r = await run(image(
      [dir('a'), file('a/old1'), dir('a/sub'), file('a/sub/old2'), dir('a/keep'), file('a/keep/lower'), file('outside')],
      [file('a/new-before'), file('a/keep/upper'), dir('a/sub2'), opaque('a'), file('a/new-after'), file('a/sub2/x')],
    ));
    assert.deepEqual(paths(r), ['/a', '/a/keep', '/a/keep/upper', '/a/new-after', '/a/new-before', '/a/sub2', '/a/sub2/x', '/outside']);
    assert.equal(r.files.has('/a/.wh..wh..opq'), false);
  });

  test('an opaque marker also drops deeper lower entries under a directory its layer re-declares', async () => {
    const r = await run(image(
      [dir('a'), dir('a/sub'), file('a/sub/lower')],
      [dir('a'), opaque('a'), dir('a/sub'), file('a/sub/upper')],
    ));
    assert.deepEqual(paths(r), ['/a', '/a/sub', '/a/sub/upper']);
  });

  test('a file replaces a directory and its subtree; a directory replaces a file; a directory over a directory keeps children', async () => {
    const r = await run(image(
      [dir('x'), file('x/child'), dir('x/deep'), file('x/deep/f'), file('y', 'file'), dir('z', { mode: 0o755 }), file('z/c')],
      [file('x', 'now a file'), dir('y'), file('y/inner'), dir('z', { mode: 0o700, uid: 5, gid: 6 })],
    ));
    assert.deepEqual(paths(r), ['/x', '/y', '/y/inner', '/z', '/z/c']);
    assert.equal(r.files.get('/x')!.type, 'file');
    assert.equal(r.files.get('/y')!.type, 'dir');
    const z = r.files.get('/z')!;
    assert.equal(z.mode, 0o700);
    assert.equal(z.uid, 5);
    assert.equal(z.gid, 6);
    assert.equal(z.layer, 1);
    assert.equal(r.files.get('/z/c')!.layer, 0);
  });

  test('implicit parent directories are created as 0755 root-owned directories', async () => {
    const r = await run(image([file('usr/local/bin/tool', 'x', { uid: 7 })]));
    assert.deepEqual(paths(r), ['/usr', '/usr/local', '/usr/local/bin', '/usr/local/bin/tool']);
    const usr = r.files.get('/usr')!;
    assert.deepEqual([usr.type, usr.mode, usr.uid, usr.gid], ['dir', 0o755, 0, 0]);
  });

  test('hardlinks, symlinks, devices and fifos', async () => {
    const r = await run(image([
      dir('bin'), file('bin/busybox', 'BUSYBOX', { mode: 0o755, uid: 0, gid: 0 }), hardlink('bin/sh', 'bin/busybox'),
      symlink('bin/ls', 'busybox'), symlink('lib64', '/usr/lib64'), symlink('dangling', '../nowhere/at/all'),
      dir('dev'), { type: 'char', path: 'dev/null', major: 1, minor: 3, mode: 0o666 }, { type: 'block', path: 'dev/sda', major: 8, minor: 0 },
      { type: 'fifo', path: 'run-fifo' },
    ]), { captures: [{ id: 'bin', match: (p) => p.startsWith('/bin/') }] });
    const sh = r.files.get('/bin/sh')!;
    assert.equal(sh.type, 'hardlink');
    assert.equal(sh.linkTarget, '/bin/busybox');
    assert.equal(sh.size, 7);
    assert.equal(sh.mode, 0o755);
    assert.equal(await text(r, 'bin', '/bin/sh'), 'BUSYBOX');
    assert.deepEqual(r.captured('bin').map((c) => c.path), ['/bin/busybox', '/bin/sh']);
    assert.equal(r.files.get('/bin/ls')!.linkTarget, 'busybox');
    assert.equal(r.files.get('/lib64')!.linkTarget, '/usr/lib64');
    assert.equal(r.files.get('/dangling')!.linkTarget, '../nowhere/at/all');
    assert.equal(r.files.resolve('/bin/ls')!.path, '/bin/busybox');
    assert.deepEqual(r.files.get('/dev/null'), { path: '/dev/null', type: 'char', mode: 0o666, uid: 0, gid: 0, size: 0, mtime: 1700000000, layer: 0, devMajor: 1, devMinor: 3 });
    assert.equal(r.files.get('/dev/sda')!.type, 'block');
    assert.equal(r.files.get('/dev/sda')!.devMajor, 8);
    assert.equal(r.files.get('/run-fifo')!.type, 'fifo');
  });

  test('a hardlink keeps the content of the file it was made from after that file is replaced', async () => {
    const r = await run(image(
      [file('a', 'first'), hardlink('b', 'a')],
      [file('a', 'second')],
    ), { captures: [{ id: 'c', paths: ['/a', '/b'] }] });
    assert.equal(await text(r, 'c', '/a'), 'second');
    assert.equal(await text(r, 'c', '/b'), 'first');
  });

  test('a hardlink to a file no request captured is listed as skipped', async () => {
    const r = await run(image([file('usr/bin/perl5.36', 'perl'), hardlink('usr/bin/perl', 'usr/bin/perl5.36')]),
      { captures: [{ id: 'perl', paths: ['/usr/bin/perl'] }] });
    assert.deepEqual(r.captured('perl'), []);
    const [s] = r.skipped('perl');
    assert.equal(s!.path, '/usr/bin/perl');
    assert.match(s!.reason, /hardlink target \/usr\/bin\/perl5.36 was not captured/);
  });

  test('PAX long names (over 100 and over 255 bytes), GNU long names and long link targets', async () => {
    const long1 = 'usr/share/' + 'a'.repeat(120) + '/file.txt';
    const long2 = 'opt/' + Array.from({ length: 12 }, (_, i) => `segment-${i}-${'b'.repeat(20)}`).join('/') + '/deep.txt';
    const longTarget = '/' + 'c'.repeat(150);
    const entries = [file(long1, 'one'), file(long2, 'two'), symlink('link', longTarget)];
    assert.ok(Buffer.byteLength(long2) > 255);
    for (const spec of [{ entries }, { entries, tarOptions: { gnuLongNames: true } }]) {
      const r = await run(image(spec), { captures: [{ id: 'c', match: (p) => p.endsWith('.txt') }] });
      assert.equal(await text(r, 'c', '/' + long1), 'one');
      assert.equal(await text(r, 'c', '/' + long2), 'two');
      assert.equal(r.files.get('/link')!.linkTarget, longTarget);
      assert.deepEqual(r.warnings, []);
    }
  });

  test('uid, gid, mode with setuid/setgid/sticky and mtime are kept', async () => {
    const r = await run(image([
      file('usr/bin/passwd', 'x', { mode: 0o4755, uid: 0, gid: 0, mtime: 1234567890 }),
      file('usr/bin/wall', 'x', { mode: 0o2755, uid: 0, gid: 5 }),
      dir('tmp', { mode: 0o1777, mtime: 1600000000 }),
      file('home/u/f', 'x', { mode: 0o600, uid: 1000, gid: 1001 }),
    ]));
    const p = r.files.get('/usr/bin/passwd')!;
    assert.equal(p.mode, 0o4755);
    assert.equal(p.mtime, 1234567890);
    assert.equal(r.files.get('/usr/bin/wall')!.mode, 0o2755);
    assert.equal(r.files.get('/usr/bin/wall')!.gid, 5);
    assert.equal(r.files.get('/tmp')!.mode, 0o1777);
    assert.equal(r.files.get('/tmp')!.mtime, 1600000000);
    const f = r.files.get('/home/u/f')!;
    assert.deepEqual([f.mode, f.uid, f.gid], [0o600, 1000, 1001]);
  });

  test('gzip, zstd and uncompressed layers in one image', async () => {
    const r = await run(image(
      { entries: [file('one', '1')], compression: 'gzip' },
      { entries: [file('two', '22')], compression: 'zstd' },
      { entries: [file('three', '333')], compression: 'none' },
    ), { captures: [{ id: 'c', match: () => true }] });
    assert.deepEqual(r.layers.map((l) => l.compression), ['gzip', 'zstd', 'none']);
    assert.deepEqual(await Promise.all(['/one', '/two', '/three'].map((p) => text(r, 'c', p))), ['1', '22', '333']);
    for (const l of r.layers) assert.equal(l.uncompressedBytes, 2048);
  });

  test('a media type that says gzip over plain tar bytes: the bytes win, with a warning', async () => {
    const built = buildImage({ layers: [{ entries: [file('plain', 'p')], compression: 'none' }] });
    built.manifest.layers[0]!.mediaType = MediaTypes.ociLayerGzip;
    const r = await squash(memoryImage(built));
    assert.deepEqual(paths(r), ['/plain']);
    assert.equal(r.layers[0]!.compression, 'none');
    assert.match(r.warnings.join('\n'), /layer 0 .* says gzip, but the content is not compressed/);
  });

  test('list() sorts by UTF-8 bytes, like LC_ALL=C sort', async () => {
    const names = ['a', 'B', 'é', 'z', '😀', '\ufffd', 'a-b', 'ab', '_x', 'Z', '\u00ff'];
    const r = await run(image([...names.map((n) => file(n)), dir('a'), file('a/b')]));
    const got = paths(r);
    const expected = [...got].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(got, expected);
    assert.equal(got.length, names.length + 1);
    // '/a-b' sorts before '/a/b' ('-' is 0x2d, '/' is 0x2f); U+FFFD (ef bf bd) before the emoji (f0 ...)
    assert.ok(got.indexOf('/a-b') < got.indexOf('/a/b'));
    assert.ok(got.indexOf('/\ufffd') < got.indexOf('/😀'));
    assert.deepEqual(r.files.readdir('/'), names.concat([]).filter((n) => n !== 'a').concat('a')
      .sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
  });

  test('an empty layer (only the end-of-archive blocks, or no bytes at all) is fine', async () => {
    const built = buildImage({ layers: [{ entries: [file('f')] }, { entries: [], compression: 'none' }] });
    const r = await squash(memoryImage(built));
    assert.deepEqual(paths(r), ['/f']);
    const empty = withLayerBlob(built, 1, Buffer.alloc(0), 'sha256:' + createHash('sha256').update('').digest('hex'));
    const r2 = await squash(memoryImage(empty));
    assert.deepEqual(paths(r2), ['/f']);
    assert.deepEqual(r2.warnings, []);
  });

  test('progress is reported per layer in raw bytes', async () => {
    const img = image([file('a', 'x'.repeat(10000))], [file('b')]);
    const seen = new Map<number, number>();
    await squash(img, { onProgress: (i, b) => seen.set(i, b) });
    assert.deepEqual([...seen.keys()], [0, 1]);
    assert.equal(seen.get(0), img.layers[0]!.size);
  });
});

describe('squash: captures', () => {
  const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);

  test('by exact path, by predicate and by magic bytes', async () => {
    const r = await run(image([
      file('etc/os-release', 'ID=debian'), file('var/lib/dpkg/status', 'Package: a'), file('var/lib/dpkg/status-old', 'x'),
      file('usr/lib/python3/dist-packages/x.dist-info/METADATA', 'Name: x'),
      file('usr/local/bin/app', Buffer.concat([ELF, Buffer.alloc(5000, 1)])), file('usr/local/bin/script', '#!/bin/sh'),
      file('usr/bin/tiny', Buffer.from([0x7f, 0x45])), file('usr/bin/big-elf', Buffer.concat([ELF, Buffer.alloc(20000)])),
    ]), {
      captures: [
        { id: 'os', paths: ['/etc/os-release', 'var/lib/dpkg/status', '/missing'] },
        { id: 'py', match: (p) => p.endsWith('/METADATA') },
        { id: 'elf', magic: [ELF.subarray(0, 4)], maxBytes: 10000 },
      ],
    });
    assert.deepEqual(r.captured('os').map((c) => c.path), ['/etc/os-release', '/var/lib/dpkg/status']);
    assert.equal(await text(r, 'os', '/var/lib/dpkg/status'), 'Package: a');
    assert.deepEqual(r.captured('py').map((c) => c.path), ['/usr/lib/python3/dist-packages/x.dist-info/METADATA']);
    const elf = r.captured('elf');
    assert.deepEqual(elf.map((c) => c.path), ['/usr/local/bin/app']);
    assert.equal(elf[0]!.size, 5008);
    assert.equal(elf[0]!.record.type, 'file');
    assert.ok((await elf[0]!.read()).subarray(0, 4).equals(ELF.subarray(0, 4)));
    assert.deepEqual(r.skipped('elf').map((s) => [s.path, s.size]), [['/usr/bin/big-elf', 20008]]);
    assert.match(r.skipped('elf')[0]!.reason, /larger than maxBytes \(10000\)/);
    assert.throws(() => r.captured('nope'), /no capture request has the id "nope"/);
  });

  test('magic and a path selection together; hardlinks to magic-matched files', async () => {
    const r = await run(image([
      file('usr/bin/go-app', Buffer.concat([ELF, Buffer.from('go')])), file('opt/other-elf', Buffer.concat([ELF, Buffer.from('x')])),
      hardlink('usr/bin/go-app-link', 'usr/bin/go-app'), file('usr/bin/text', 'hello'),
    ]), { captures: [{ id: 'bin', match: (p) => p.startsWith('/usr/bin/'), magic: [ELF.subarray(0, 4)] }] });
    assert.deepEqual(r.captured('bin').map((c) => c.path), ['/usr/bin/go-app', '/usr/bin/go-app-link']);
    assert.equal(await text(r, 'bin', '/usr/bin/go-app-link'), '\x7fELF\x02\x01\x01\x00go');
  });

  test('text only: a NUL in the first 8 KiB keeps a file out, as do hardlinks to it; magic requests still see binaries', async () => {
    const lateNul = Buffer.concat([Buffer.alloc(8000, 0x61), Buffer.alloc(1), Buffer.alloc(10, 0x61)]);
    const nulAfterProbe = Buffer.concat([Buffer.alloc(8192, 0x62), Buffer.alloc(1)]);
    const r = await run(image([
      file('etc/app.conf', 'password = "hunter22"'), file('usr/bin/tool', Buffer.concat([ELF, Buffer.alloc(100)])),
      file('data/late-nul', lateNul), file('data/nul-after-probe', nulAfterProbe), file('data/empty', ''),
      hardlink('data/tool-link', 'usr/bin/tool'), hardlink('data/late-link', 'data/late-nul'), hardlink('data/conf-link', 'etc/app.conf'),
    ]), { captures: [{ id: 'text', match: () => true, text: true }, { id: 'elf', magic: [ELF.subarray(0, 4)] }] });
    assert.deepEqual(r.captured('text').map((c) => c.path), ['/data/conf-link', '/data/empty', '/data/nul-after-probe', '/etc/app.conf']);
    assert.deepEqual(r.captured('elf').map((c) => c.path), ['/data/tool-link', '/usr/bin/tool']);
    assert.deepEqual(r.skipped('text'), []);
  });

  test('a later layer replaces captured content; whiteouts and opaque directories drop it', async () => {
    const r = await run(image(
      [file('etc/a', 'a0'), file('etc/b', 'b0'), dir('opt'), file('opt/c', 'c0'), file('etc/d', 'd0')],
      [file('etc/a', 'a1'), whiteout('etc/b'), opaque('opt'), file('etc/d', 'd1')],
      [file('etc/d', 'd2')],
    ), { captures: [{ id: 'c', match: () => true }] });
    assert.deepEqual(r.captured('c').map((c) => c.path), ['/etc/a', '/etc/d']);
    assert.equal(await text(r, 'c', '/etc/a'), 'a1');
    assert.equal(await text(r, 'c', '/etc/d'), 'd2');
  });

  test('large captures are spooled to a private scratch directory, read back, and removed by dispose()', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'lading-test-scratch-'));
    try {
      const big = Buffer.alloc(300_000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      const r = await run(image(
        [file('data/big.bin', big), file('data/replaced.bin', Buffer.alloc(200_000, 1)), file('data/small', 's')],
        [file('data/replaced.bin', Buffer.alloc(150_000, 2))],
      ), { scratchDir: parent, limits: { inMemoryCaptureBytes: 1024 }, captures: [{ id: 'd', match: (p) => p.startsWith('/data/') }] });
      const scratch = readdirSync(parent)[0]!;
      assert.ok(scratch.startsWith('lading-squash-'));
      assert.equal(statSync(join(parent, scratch)).mode & 0o777, 0o700);
      // the replaced file's first version was deleted: only the two live spool files remain, named by a counter
      assert.deepEqual(readdirSync(join(parent, scratch)).sort(), ['1', '3']);
      const files = r.captured('d');
      assert.deepEqual(files.map((f) => [f.path, f.size]), [['/data/big.bin', 300_000], ['/data/replaced.bin', 150_000], ['/data/small', 1]]);
      assert.ok((await files[0]!.read()).equals(big));
      const streamed: Buffer[] = [];
      for await (const c of files[1]!.stream()) streamed.push(c as Buffer);
      assert.ok(Buffer.concat(streamed).equals(Buffer.alloc(150_000, 2)));
      await r.dispose();
      assert.deepEqual(readdirSync(parent), []);
      await assert.rejects(files[0]!.read(), /after the squash result was disposed/);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  test('the scratch directory is removed when the squash fails', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'lading-test-scratch-'));
    try {
      const img = image(
        [file('big', Buffer.alloc(100_000, 3))],
        { entries: [file('x')], tamper: (b) => Buffer.concat([b, Buffer.from('junk')]) },
      );
      await rejects(squash(img, { scratchDir: parent, limits: { inMemoryCaptureBytes: 10 }, captures: [{ id: 'c', paths: ['/big'] }] }),
        'DIGEST_MISMATCH', /layer 1 \(sha256:[0-9a-f]{64}\)/);
      assert.deepEqual(readdirSync(parent), []);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  test('captured bytes are bounded by maxCapturedBytes', async () => {
    const img = image([file('a', Buffer.alloc(600)), file('b', Buffer.alloc(600))]);
    await rejects(squash(img, { limits: { maxCapturedBytes: 1000 }, captures: [{ id: 'c', match: () => true }] }),
      'LIMIT_EXCEEDED', /maxCapturedBytes \(1000 bytes\)/);
    // replaced content gives its budget back
    const img2 = image([file('a', Buffer.alloc(600))], [file('a', Buffer.alloc(600))]);
    const r = await squash(img2, { limits: { maxCapturedBytes: 1000 }, captures: [{ id: 'c', match: () => true }] });
    assert.equal(r.captured('c').length, 1);
  });
});

test('zstd layers decode the same as gzip ones', async () => {
  const entries = Array.from({ length: 50 }, (_, i) => file(`f${i}`, `content ${i} `.repeat(i * 30)));
  const a = await run(image({ entries, compression: 'zstd' }), { captures: [{ id: 'c', match: () => true }] });
  const b = await run(image({ entries, compression: 'gzip' }), { captures: [{ id: 'c', match: () => true }] });
  assert.deepEqual(a.files.list(), b.files.list());
  for (const f of a.captured('c')) assert.equal(await text(a, 'c', f.path), await text(b, 'c', f.path));
  assert.ok(zstdCompress(Buffer.from('x')).length > 0);
});

test('file digests: sha256 of every regular file, computed in the same pass, alongside captures', async () => {
  const big = Buffer.alloc(3 * 1024 * 1024, 7);
  const img = memoryImage(buildImage({
    layers: [
      { entries: [{ type: 'file', path: 'a.txt', content: 'alpha' }, { type: 'file', path: 'empty', content: '' }, { type: 'file', path: 'big.bin', content: big }] },
      { entries: [{ type: 'file', path: 'a.txt', content: 'alpha v2' }, { type: 'hardlink', path: 'b.txt', target: 'a.txt' }, { type: 'symlink', path: 'c', target: 'a.txt' }] },
    ],
  }));
  const hex = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
  const r = await squash(img, { digests: true, captures: [{ id: 'a', paths: ['/a.txt', '/big.bin'] }] });
  try {
    assert.equal(r.files.get('/a.txt')!.sha256, hex('alpha v2'));
    assert.equal(r.files.get('/empty')!.sha256, hex(''));
    assert.equal(r.files.get('/big.bin')!.sha256, hex(big));
    assert.equal(r.files.get('/c')!.sha256, undefined);
    assert.equal((await r.captured('a').find((c) => c.path === '/big.bin')!.read()).length, big.length);
  } finally {
    await r.dispose();
  }
  const plain = await squash(img);
  assert.equal(plain.files.get('/a.txt')!.sha256, undefined);
  await plain.dispose();
});
