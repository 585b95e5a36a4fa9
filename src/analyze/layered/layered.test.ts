/**
 * The layer-wise pipeline, cold and warm from the layer cache, must give exactly the SBOM of the
 * squash-then-analyze pass on every fixture: packages, files, secrets, content matches, retrieved
 * files, warnings and layer attribution.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, type LayerSpec } from '../../testkit/images.js';
import { memoryImage } from '../../testkit/memory-image.js';
import { opaque, whiteout, tarHeader, type TarEntry } from '../../testkit/tar.js';
import { buildElf } from '../testing-binaries.js';
import { writeZip } from '../testing-zip.js';
import { analyzeImage, analyzeImageSquashed, type AnalyzeOptions } from '../analyze.js';
import { DiskCache } from '../cache/store.js';
import type { Sbom } from '../../sbom/model.js';
import type { Analyzer } from '../types.js';
import { ANALYZERS } from '../analyzers/index.js';
import { IMAGE_BUCKET } from './memo.js';
import { writeNative, writeNativeBytes } from '../../sbom/formats/native.js';

const file = (path: string, content: string | Buffer = '', extra: Partial<Extract<TarEntry, { type: 'file' }>> = {}): TarEntry =>
  ({ type: 'file', path, content, ...extra });
const dir = (path: string): TarEntry => ({ type: 'dir', path });
const symlink = (path: string, target: string): TarEntry => ({ type: 'symlink', path, target });
const hardlink = (path: string, target: string): TarEntry => ({ type: 'hardlink', path, target });

const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';
const pkg = (name: string, version: string) =>
  `Package: ${name}\nStatus: install ok installed\nPriority: optional\nSection: misc\nMaintainer: x <x@example.org>\nArchitecture: amd64\nVersion: ${version}\nDescription: ${name}\n`;
const status = (...p: string[]) => p.join('\n');
const AWS = 'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n';
const elf = buildElf({ sections: [{ name: '.text', addr: 0x401000, data: Buffer.alloc(64, 0x90) }] });
const jar = writeZip([
  { name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\nImplementation-Title: demo\nImplementation-Version: 1.2.3\n' },
  { name: 'META-INF/maven/org.example/demo/pom.properties', data: 'version=1.2.3\ngroupId=org.example\nartifactId=demo\n' },
]);
// Go >= 1.18 build info, inline layout (see go.test.ts), and a cargo-auditable section: binaries
// kept by their marker bytes, one large enough to be spooled, beside plain ones that are not kept.
const goInfo = (version: string, mod: string) => {
  const header = Buffer.alloc(32);
  Buffer.from('\xff Go buildinf:', 'latin1').copy(header);
  header[14] = 8;
  header[15] = 2;
  const modinfo = Buffer.concat([Buffer.alloc(16, 0xaa), Buffer.from(`path\t${mod}/cmd\nmod\t${mod}\tv1.0.0\t\ndep\tgolang.org/x/net\tv0.17.0\t\n`), Buffer.alloc(16, 0xbb)]);
  return Buffer.concat([header, Buffer.from([version.length]), Buffer.from(version), Buffer.from([modinfo.length & 0x7f | 0x80, modinfo.length >> 7]), modinfo]);
};
const goBin = (mod: string, padding = 64) => buildElf({ sections: [
  { name: '.text', addr: 0x401000, data: Buffer.alloc(padding, 0x90) }, { name: '.go.buildinfo', addr: 0x9000000, data: goInfo('go1.21.5', mod), writable: true }] });
const rustBin = buildElf({ sections: [{ name: '.text', addr: 0x401000, data: Buffer.alloc(64, 0x90) },
  { name: '.dep-v0', addr: 0x500000, data: deflateSync(JSON.stringify({ packages: [{ name: 'rg', version: '14.0.0', source: 'local', root: true }, { name: 'regex', version: '1.10.2', source: 'crates.io' }] })) }] });

const cargoLock = 'version = 3\n\n[[package]]\nname = "serde"\nversion = "1.0.190"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n';

const raw = (typeflag: string, name: string, body = Buffer.alloc(0)): TarEntry => ({
  type: 'raw',
  bytes: Buffer.concat([tarHeader({ name, typeflag, size: body.length }), body, Buffer.alloc((512 - (body.length % 512)) % 512)]),
});

const base: TarEntry[] = [
  dir('etc'), file('etc/os-release', OS_RELEASE), file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n'), file('etc/group', 'root:x:0:\n'),
  dir('var'), dir('var/lib'), dir('var/lib/dpkg'), dir('var/lib/dpkg/info'),
  file('var/lib/dpkg/status', status(pkg('libc6', '2.36-9'), pkg('bash', '5.2.15-2'), pkg('hostname', '3.23'))),
  file('var/lib/dpkg/info/bash.list', '/bin/bash\n/etc/bash.bashrc\n'), file('var/lib/dpkg/info/hostname.list', '/bin/hostname\n'),
  dir('bin'), file('bin/bash', elf, { mode: 0o755 }), file('bin/hostname', elf, { mode: 0o4755 }), hardlink('bin/sh', 'bin/bash'),
  file('etc/bash.bashrc', '# bashrc\n'), dir('usr'), dir('usr/lib'), symlink('lib', 'usr/lib'),
  dir('opt'), dir('opt/old'), file('opt/old/a.txt', 'a'), file('opt/old/key.env', AWS),
  dir('root'), file('root/.env', AWS),
];

function fixtures(): Record<string, (TarEntry[] | LayerSpec)[]> {
  return {
    'one layer': [base],
    'package db replaced, secret file removed, file replaced, whiteouts and opaque dirs, hardlinks': [
      base,
      [
        file('var/lib/dpkg/status', status(pkg('libc6', '2.36-9'), pkg('bash', '5.2.15-2'))), whiteout('var/lib/dpkg/info/hostname.list'),
        whiteout('bin/hostname'), whiteout('root/.env'), file('etc/bash.bashrc', '# changed\n'), opaque('opt/old'), file('opt/old/b.txt', 'b'),
        dir('app'), file('app/tool', elf), hardlink('app/tool-link', 'app/tool'), file('app/package.json', '{}'),
      ],
      [
        dir('app'), dir('app/node_modules'), dir('app/node_modules/left-pad'),
        file('app/node_modules/left-pad/package.json', JSON.stringify({ name: 'left-pad', version: '1.3.0', license: 'WTFPL' })),
        file('app/demo.jar', jar), file('app/Cargo.lock', cargoLock), file('app/config.json', '{"auths":{"r":{"auth":"dXNlcjpwYXNzd29yZA=="}}}'),
        whiteout('opt'),
      ],
    ],
    'a hardlink to a lower layer\'s file (falls back to the squash pass)': [base, [dir('app'), hardlink('app/bash-copy', 'bin/bash')]],
    'a hardlink in the same layer to a text file scanned as it streamed (may fall back to the squash pass, by timing)': [
      [dir('etc'), file('etc/app.env', AWS), file('etc/plain.txt', 'nothing here\n'), hardlink('etc/app-copy.env', 'etc/app.env')],
    ],
    'a hardlink to a text file whose bytes were given back after its scan (falls back to the squash pass)': [
      [dir('etc'), file('etc/app.env', AWS), file('etc/zeros.bin', Buffer.alloc(4 * 1024 * 1024)), hardlink('etc/app-copy.env', 'etc/app.env')],
    ],
    'a file written through a lower layer\'s symlink (falls back to the squash pass)': [
      base,
      [file('lib/libx.so.1', elf), dir('lib/python3'), file('lib/python3/secret.txt', AWS)],
    ],
    'a python package, replaced in a later layer': [
      base,
      [dir('usr/lib/python3'), dir('usr/lib/python3/dist-packages'), dir('usr/lib/python3/dist-packages/requests-2.31.0.dist-info'),
        file('usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA', 'Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n')],
      [whiteout('usr/lib/python3/dist-packages/requests-2.31.0.dist-info'), dir('usr/lib/python3/dist-packages/requests-2.32.0.dist-info'),
        file('usr/lib/python3/dist-packages/requests-2.32.0.dist-info/METADATA', 'Metadata-Version: 2.1\nName: requests\nVersion: 2.32.0\n')],
    ],
    'stream warnings: PAX global header, unsupported type, body on a symlink, no end marker': [
      base,
      { entries: [
        raw('g', 'pax_global_header', Buffer.from('11 uid=666\n')), raw('V', 'volume-label'), raw('S', 'sparse', Buffer.from('sparse data')),
        { type: 'raw', bytes: tarHeader({ name: 'etc/link', typeflag: '2', size: 600, linkname: 'passwd' }) },
        file('etc/motd', 'hi'),
      ], tarOptions: { noTrailer: true } },
    ],
    'go and rust binaries found by their markers, plain binaries, hardlinks, a spooled one replaced': [
      base,
      [dir('app'), file('app/tool', goBin('github.com/acme/tool'), { mode: 0o755 }), hardlink('app/tool-link', 'app/tool'), file('app/rg', rustBin, { mode: 0o755 }),
        file('app/big', goBin('github.com/acme/big', 3 * 1024 * 1024), { mode: 0o755 }), file('app/plain', elf, { mode: 0o755 }), hardlink('app/plain-link', 'app/plain')],
      [file('app/big', goBin('github.com/acme/big2', 2 * 1024 * 1024), { mode: 0o755 }), whiteout('app/plain')],
    ],
    'the same layer twice and a gzip/zstd/plain mix': [
      { entries: base, compression: 'zstd' },
      { entries: [file('etc/passwd', 'root:x:0:0::/:/bin/sh\nuser:x:1000:1000::/home/u:/bin/sh\n')], compression: 'none' },
      { entries: [file('etc/passwd', 'root:x:0:0::/:/bin/sh\n')] },
    ],
  };
}

function image(layers: (TarEntry[] | LayerSpec)[]) {
  return memoryImage(buildImage({ layers: layers.map((l) => (Array.isArray(l) ? { entries: l } : l)) }));
}

function normal(s: Sbom): unknown {
  const copy = JSON.parse(JSON.stringify({ ...s, createdAt: '' })) as Sbom;
  copy.warnings.sort();
  return copy;
}

const work = mkdtempSync(join(tmpdir(), 'lading-layered-'));
after(() => rmSync(work, { recursive: true, force: true }));

const VARIANTS: [string, AnalyzeOptions][] = [
  ['defaults', {}],
  ['file digests and content rules', { fileDigests: true, contentRules: ['BASHRC=#\\s*(bashrc|changed)'], retrieveFiles: ['/etc/passwd', '/etc/bash.bashrc'] }],
];

test('the marker fixture finds its Go and Rust packages, where they are', async () => {
  const img = image(fixtures()['go and rust binaries found by their markers, plain binaries, hardlinks, a spooled one replaced']!);
  for (const sbom of [await analyzeImageSquashed(img), await analyzeImage(img)]) {
    const found = sbom.packages.filter((p) => p.foundBy === 'go' || p.foundBy === 'rust')
      .map((p) => `${p.name}@${p.version} ${p.locations.map((l) => `${l.path}:${l.layer}`).join(',')}`).sort();
    assert.deepEqual(found, [
      'github.com/acme/big2@v1.0.0 /app/big:2', 'github.com/acme/tool@v1.0.0 /app/tool-link:1', 'github.com/acme/tool@v1.0.0 /app/tool:1',
      'golang.org/x/net@v0.17.0 /app/big:2', 'golang.org/x/net@v0.17.0 /app/tool-link:1', 'golang.org/x/net@v0.17.0 /app/tool:1',
      'regex@1.10.2 /app/rg:1', 'rg@14.0.0 /app/rg:1',
      'stdlib@go1.21.5 /app/big:2', 'stdlib@go1.21.5 /app/tool-link:1', 'stdlib@go1.21.5 /app/tool:1',
    ]);
  }
});

describe('layer-wise analysis equals squash-then-analyze', () => {
  for (const [name, layers] of Object.entries(fixtures())) {
    for (const [variant, options] of VARIANTS) {
      test(`${name} (${variant})`, async () => {
        const img = image(layers);
        const reference = normal(await analyzeImageSquashed(img, options));
        const cache = new DiskCache(mkdtempSync(join(work, 'c-')));
        const fallbacks: unknown[] = [];
        const opts = { ...options, cache, onFallback: (e: unknown) => fallbacks.push(e) };
        assert.deepEqual(normal(await analyzeImage(img, { ...options, onFallback: (e) => fallbacks.push(e) })), reference, 'no cache');
        const cold = await analyzeImage(img, opts);
        assert.deepEqual(normal(cold), reference, 'cold');
        const warm = await analyzeImage(img, opts);
        warm.createdAt = cold.createdAt;
        assert.equal(writeNative(warm), writeNative(cold), 'the warm entry writes the same document');
        assert.deepEqual(normal(warm), reference, 'warm (the image entry)');
        rmSync(join(cache.dir, 'layers', IMAGE_BUCKET), { recursive: true, force: true });
        assert.deepEqual(normal(await analyzeImage(img, opts)), reference, 'warm (assembled from the layer parts)');
        const expectFallback = name.includes('falls back');
        if (!name.includes('may fall back')) assert.equal(fallbacks.length > 0, expectFallback, `fallbacks: ${fallbacks.map(String).join('; ')}`);
        if (!expectFallback) assert.ok((await cache.status()).entries > 0);
      });
    }
  }
});

describe('layer cache', () => {
  test('an analyzer whose version changes is recomputed alone; the others come from the cache', async () => {
    const img = image(fixtures()['one layer']!);
    const dirPath = mkdtempSync(join(work, 'v-'));
    const cache = new DiskCache(dirPath);
    const layerParts = () => readdirSync(join(dirPath, 'layers', img.layers[0]!.diffId.replace(':', '-'))).length;
    await analyzeImage(img, { cache });
    const before = layerParts();
    let calls = 0;
    const dpkg = ANALYZERS.find((a) => a.name === 'dpkg')!;
    const bumped: Analyzer = { ...dpkg, version: 2, analyze: (ctx) => { calls++; return dpkg.analyze(ctx); } };
    const analyzers = ANALYZERS.map((a) => (a === dpkg ? bumped : a));
    const sbom = await analyzeImage(img, { cache, analyzers });
    assert.equal(calls, 1);
    assert.equal(layerParts(), before + 1);
    assert.deepEqual(normal(sbom), normal(await analyzeImageSquashed(img, { analyzers })));
  });

  test('a corrupt or truncated entry is dropped and recomputed, never served', async () => {
    const img = image(fixtures()['one layer']!);
    const dirPath = mkdtempSync(join(work, 'x-'));
    const cache = new DiskCache(dirPath);
    const reference = normal(await analyzeImageSquashed(img));
    await analyzeImage(img, { cache });
    rmSync(join(dirPath, 'layers', IMAGE_BUCKET), { recursive: true, force: true });
    const layerDir = join(dirPath, 'layers', img.layers[0]!.diffId.replace(':', '-'));
    const parts = readdirSync(layerDir);
    const baseFile = join(layerDir, parts.find((p) => p.startsWith('b'))!);
    const dpkgFile = join(layerDir, parts.find((p) => p.startsWith('a-dpkg-'))!);
    const bytes = readFileSync(dpkgFile);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff;
    writeFileSync(dpkgFile, bytes);
    writeFileSync(baseFile, readFileSync(baseFile).subarray(0, 100));
    const fallbacks: unknown[] = [];
    assert.deepEqual(normal(await analyzeImage(img, { cache, onFallback: (e) => fallbacks.push(e) })), reference);
    assert.deepEqual(fallbacks, []);
    assert.notDeepEqual(readFileSync(dpkgFile), bytes, 'the corrupt part was replaced');
    assert.ok(readFileSync(baseFile).length > 100, 'the truncated part was replaced');
  });

  test('a warm run takes the whole image from its entry, with the source made fresh; a corrupt entry is recomputed', async () => {
    const layers = fixtures()['one layer']!;
    const img = image(layers);
    const dirPath = mkdtempSync(join(work, 'i-'));
    const cache = new DiskCache(dirPath);
    const reference = normal(await analyzeImageSquashed(img));
    await analyzeImage(img, { cache });
    const entries = readdirSync(join(dirPath, 'layers', IMAGE_BUCKET));
    assert.equal(entries.length, 1);
    let calls = 0;
    const counted = ANALYZERS.map((a) => (a.name === 'distro' ? a : { ...a, analyze: (ctx: Parameters<Analyzer['analyze']>[0]) => {
      calls++;
      return a.analyze(ctx);
    } }));
    // Same layers, analyzers with the same names and versions: served whole, nothing runs.
    const retagged = { ...img, origin: { ...img.origin, tags: ['other'] } };
    const warm = await analyzeImage(retagged, { cache, analyzers: counted });
    assert.equal(calls, 0);
    assert.deepEqual(normal(warm), normal(await analyzeImageSquashed(retagged)));
    assert.deepEqual(warm.source.tags, ['other']);
    // A changed option is another key: the entry is not used.
    const noSecrets = await analyzeImage(img, { cache, secrets: false });
    assert.deepEqual(normal(noSecrets), normal(await analyzeImageSquashed(img, { secrets: false })));
    assert.equal(readdirSync(join(dirPath, 'layers', IMAGE_BUCKET)).length, 2);
    const entryFile = join(dirPath, 'layers', IMAGE_BUCKET, entries[0]!);
    const bytes = readFileSync(entryFile);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    writeFileSync(entryFile, bytes);
    assert.deepEqual(normal(await analyzeImage(img, { cache, analyzers: counted })), reference);
    assert.ok(calls > 0, 'recomputed');
    assert.notDeepEqual(readFileSync(entryFile), bytes, 'the corrupt entry was replaced');
  });

  test('a warm entry writes its stored document without parsing it; a changed field or warning is written afresh', async () => {
    const img = image(fixtures()['one layer']!);
    const cache = new DiskCache(mkdtempSync(join(work, 'w-')));
    const cold = await analyzeImage(img, { cache });
    const lazy = (s: Sbom) => Object.getOwnPropertyDescriptor(s, 'files')?.get !== undefined;
    const warm = await analyzeImage(img, { cache });
    warm.createdAt = cold.createdAt;
    assert.ok(lazy(warm), 'the body is not parsed on a hit');
    assert.deepEqual(warm.warnings, cold.warnings);
    assert.equal(writeNative(warm), writeNative(cold));
    assert.ok(writeNativeBytes(warm).equals(Buffer.from(writeNative(cold))), 'the stored bytes make the same document');
    assert.ok(lazy(warm), 'writing the document did not parse the body');

    const changed = await analyzeImage(img, { cache });
    changed.createdAt = cold.createdAt;
    changed.packages.push({ ...changed.packages[0]!, name: 'added-later', purl: 'pkg:deb/debian/added-later@1' });
    assert.ok(!lazy(changed));
    assert.match(writeNative(changed), /"added-later"/);
    assert.equal(JSON.parse(writeNative(changed)).packages.length, cold.packages.length + 1);
    assert.ok(writeNativeBytes(changed).equals(Buffer.from(writeNative(changed))), 'a changed body is rendered afresh as bytes too');

    const warned = await analyzeImage(img, { cache });
    warned.warnings.push('a warning added after the analysis');
    assert.match(writeNative(warned), /a warning added after the analysis/);
  });

  test('over its cap, the least recently used parts go first', async () => {
    const dirPath = mkdtempSync(join(work, 'cap-'));
    const a = image([[file('a', 'x'.repeat(20000))]]);
    const b = image([[file('b', 'y'.repeat(20000))]]);
    const big = new DiskCache(dirPath);
    await analyzeImage(a, { cache: big });
    const count = (diffId: string) => readdirSync(join(dirPath, 'layers', diffId.replace(':', '-'))).length;
    const parts = count(a.layers[0]!.diffId);
    const one = (await big.status()).bytes;
    const capped = new DiskCache(dirPath, Math.floor(one * 1.5));
    await analyzeImage(b, { cache: capped });
    const s = await capped.status();
    assert.ok(s.bytes <= s.cap, `${s.bytes} <= ${s.cap}`);
    assert.equal(count(b.layers[0]!.diffId), parts, 'the new layer is whole');
    assert.ok(count(a.layers[0]!.diffId) < parts, 'the old layer lost parts');
  });
});
