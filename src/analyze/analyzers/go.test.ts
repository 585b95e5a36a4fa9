import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goAnalyzer, readGoBuildInfo, parseModinfo, goPurl, goCpes, stdlibIdentity } from './go.js';
import { runAnalyzer } from '../testing.js';
import { buildElf, buildMachO, buildPe } from '../testing-binaries.js';

// The toolchain's own sentinels (cmd/go/internal/modload infoStart/infoEnd): not valid UTF-8.
const INFO_START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
const INFO_END = Buffer.from('f932433186182072008242104116d8f2', 'hex');
const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');

const MODINFO = [
  'path\tgithub.com/acme/tool/cmd/tool',
  'mod\tgithub.com/acme/tool\t(devel)\t',
  'dep\tgithub.com/spf13/cobra\tv1.7.0\th1:hyqWnYt1ZQShIddO5kBpj3vu05/++x6tJ6dg8EC572I=',
  'dep\tgolang.org/x/net\tv0.10.0\th1:old=',
  '=>\tgithub.com/fork/net\tv0.17.0\th1:new=',
  'dep\tgithub.com/acme/internal\tv0.0.0\t',
  '=>\t../internal\t\t',
  'build\t-compiler=gc',
  'build\t-ldflags="-s -w -X main.version=1.2.3"',
  'build\tCGO_ENABLED=0',
  'build\tGOARCH=amd64',
  'build\tGOOS=linux',
  'build\tvcs.revision=0123456789abcdef',
  '',
].join('\n');

function framed(text: string): Buffer {
  return Buffer.concat([INFO_START, Buffer.from(text), INFO_END]);
}

function uvarint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** Go >= 1.18: 32-byte header with flags & 2, then varint-prefixed version and module strings. */
function inlineBlob(goVersion: string, mod: Buffer): Buffer {
  const header = Buffer.alloc(32);
  MAGIC.copy(header);
  header[14] = 8;
  header[15] = 2;
  const v = Buffer.from(goVersion);
  return Buffer.concat([header, uvarint(v.length), v, uvarint(mod.length), mod]);
}

/**
 * Older layout: the header holds two pointers to Go string headers {ptr, len}. Laid out in one
 * data section at `base`: header, the two string headers, then the bytes.
 */
function pointerBlob(base: number, ptrSize: 4 | 8, bigEndian: boolean, goVersion: string, mod: Buffer): Buffer {
  const v = Buffer.from(goVersion);
  const hdrs = 32;
  const vData = hdrs + 4 * ptrSize;
  const mData = vData + v.length;
  const out = Buffer.alloc(mData + mod.length);
  MAGIC.copy(out);
  out[14] = ptrSize;
  out[15] = bigEndian ? 1 : 0;
  const put = (at: number, value: number) => {
    if (ptrSize === 4) { if (bigEndian) out.writeUInt32BE(value, at); else out.writeUInt32LE(value, at); }
    else if (bigEndian) out.writeBigUInt64BE(BigInt(value), at);
    else out.writeBigUInt64LE(BigInt(value), at);
  };
  put(16, base + hdrs);
  put(16 + ptrSize, base + hdrs + 2 * ptrSize);
  put(hdrs, base + vData);
  put(hdrs + ptrSize, v.length);
  put(hdrs + 2 * ptrSize, base + mData);
  put(hdrs + 3 * ptrSize, mod.length);
  v.copy(out, vData);
  mod.copy(out, mData);
  return out;
}

const text = { name: '.text', addr: 0x401000, data: Buffer.alloc(256, 0x90) };

test('ELF64, Go >= 1.18 inline layout in .go.buildinfo', async () => {
  const elf = buildElf({ sections: [text, { name: '.go.buildinfo', addr: 0x600000, data: inlineBlob('go1.21.5', framed(MODINFO)), writable: true }] });
  const r = await runAnalyzer(goAnalyzer, { '/usr/local/bin/tool': { content: elf, layer: 2 } });
  assert.deepEqual(r.warnings, []);
  const byName = new Map(r.packages!.map((p) => [p.name, p]));
  assert.deepEqual([...byName.keys()].sort(), ['github.com/acme/internal', 'github.com/acme/tool', 'github.com/fork/net', 'github.com/spf13/cobra', 'stdlib']);

  const main = byName.get('github.com/acme/tool')!;
  assert.equal(main.version, '(devel)');
  assert.equal(main.type, 'go-module');
  assert.equal(main.foundBy, 'go');
  assert.deepEqual(main.locations, [{ path: '/usr/local/bin/tool', layer: 2 }]);
  const meta = main.metadata as { goVersion: string; buildSettings: Record<string, string>; architecture: string; mainPackage: string };
  assert.equal(meta.goVersion, 'go1.21.5');
  assert.equal(meta.architecture, 'amd64');
  assert.equal(meta.mainPackage, 'github.com/acme/tool/cmd/tool');
  assert.equal(meta.buildSettings['GOOS'], 'linux');
  assert.equal(meta.buildSettings['vcs.revision'], '0123456789abcdef');
  assert.equal(meta.buildSettings['-ldflags'], '-s -w -X main.version=1.2.3');

  const cobra = byName.get('github.com/spf13/cobra')!;
  assert.equal(cobra.purl, 'pkg:golang/github.com/spf13/cobra@v1.7.0');
  assert.deepEqual(cobra.cpes, ['cpe:2.3:a:spf13:cobra:1.7.0:*:*:*:*:*:*:*']);
  assert.equal((cobra.metadata as { h1Digest: string }).h1Digest, 'h1:hyqWnYt1ZQShIddO5kBpj3vu05/++x6tJ6dg8EC572I=');

  const net = byName.get('github.com/fork/net')!;
  assert.equal(net.version, 'v0.17.0');
  assert.equal((net.metadata as { replaces: string; h1Digest: string }).replaces, 'golang.org/x/net@v0.10.0');
  assert.equal((net.metadata as { h1Digest: string }).h1Digest, 'h1:new=');

  assert.equal(byName.get('github.com/acme/internal')!.version, '(devel)');

  const std = byName.get('stdlib')!;
  assert.equal(std.version, 'go1.21.5');
  assert.equal(std.purl, 'pkg:golang/stdlib@1.21.5');
  assert.deepEqual(std.cpes, ['cpe:2.3:a:golang:go:1.21.5:-:*:*:*:*:*:*']);
  assert.deepEqual(std.licenses, ['BSD-3-Clause']);
});

test('ELF64 little-endian, older pointer layout in the data segment (no dedicated section)', async () => {
  const base = 0x5a0000;
  const elf = buildElf({ sections: [text, { name: '.data', addr: base, data: Buffer.concat([pointerBlob(base, 8, false, 'go1.16.15', framed(MODINFO))]), writable: true }] });
  const info = readGoBuildInfo(elf)!;
  assert.equal(info.goVersion, 'go1.16.15');
  assert.equal(info.modinfo, MODINFO);
});

test('ELF32 big-endian pointer layout, strings read through the program headers', () => {
  const base = 0x10020000;
  const elf = buildElf({ bits: 32, littleEndian: false, sections: [text, { name: '.noptrdata', addr: base, data: pointerBlob(base, 4, true, 'go1.15', framed(MODINFO)), writable: true }] });
  const info = readGoBuildInfo(elf)!;
  assert.equal(info.goVersion, 'go1.15');
  assert.equal(parseModinfo(info.modinfo).deps.length, 3);
});

test('PE: pointer layout in .data (32-bit, image base mapping) and inline layout in a long-named section', async () => {
  const imageBase = 0x400000;
  const rva = 0x3000;
  const pe32 = buildPe({ bits: 32, imageBase, sections: [{ name: '.text', addr: 0x1000, data: Buffer.alloc(64, 0xcc) }, { name: '.data', addr: rva, data: pointerBlob(imageBase + rva, 4, false, 'go1.17.13', framed(MODINFO)), writable: true }] });
  assert.equal(readGoBuildInfo(pe32)?.goVersion, 'go1.17.13');
  const pe64 = buildPe({ sections: [{ name: '.text', addr: 0x1000, data: Buffer.alloc(64) }, { name: '.go.buildinfo', addr: 0x2000, data: inlineBlob('go1.22.1', framed(MODINFO)), writable: true }] });
  const r = await runAnalyzer(goAnalyzer, { '/app/tool.exe': pe64 });
  assert.ok(r.packages!.some((p) => p.purl === 'pkg:golang/stdlib@1.22.1'));
  assert.ok(r.packages!.some((p) => p.purl === 'pkg:golang/github.com/spf13/cobra@v1.7.0'));
});

test('Mach-O: __DATA,__go_buildinfo', () => {
  const macho = buildMachO({ sections: [{ name: '__text', segment: '__TEXT', addr: 0x100001000, data: Buffer.alloc(32), writable: false }, { name: '__go_buildinfo', addr: 0x100100000, data: inlineBlob('go1.20.3', framed(MODINFO)) }] });
  assert.equal(readGoBuildInfo(macho)?.goVersion, 'go1.20.3');
});

test('binaries without build info are skipped silently; broken build info warns', async () => {
  const plain = buildElf({ sections: [text, { name: '.data', addr: 0x600000, data: Buffer.alloc(128, 7), writable: true }] });
  const dangling = Buffer.alloc(32);
  MAGIC.copy(dangling);
  dangling[14] = 8;
  dangling.writeBigUInt64LE(0xdead0000n, 16);
  dangling.writeBigUInt64LE(0xdead1000n, 24);
  const broken = buildElf({ sections: [text, { name: '.go.buildinfo', addr: 0x600000, data: dangling, writable: true }] });
  const truncated = buildElf({ sections: [text, { name: '.go.buildinfo', addr: 0x600000, data: inlineBlob('go1.21.5', framed(MODINFO)).subarray(0, 60), writable: true }] });
  const r = await runAnalyzer(goAnalyzer, {
    '/bin/plain': plain,
    '/bin/broken': broken,
    '/bin/truncated': truncated,
    '/bin/dos.com': Buffer.from('MZ\x90\x00 just a DOS stub'),
    '/bin/tiny': Buffer.from('\x7fELF'),
  });
  assert.deepEqual(r.packages, []);
  assert.equal(r.warnings.length, 2, r.warnings.join('\n'));
  assert.ok(r.warnings[0]!.startsWith('/bin/broken: Go build info is malformed'));
  assert.ok(r.warnings[1]!.startsWith('/bin/truncated: Go build info is malformed'));
});

test('a magic string off the 16-byte grid is not build info', () => {
  const data = Buffer.concat([Buffer.alloc(8), inlineBlob('go1.21.5', framed(MODINFO))]);
  const elf = buildElf({ sections: [text, { name: '.data', addr: 0x600000, data, writable: true }] });
  assert.equal(readGoBuildInfo(elf), undefined);
});

test('a damaged executable header does not hide inline build info', () => {
  const elf = Buffer.from(buildElf({ sections: [text, { name: '.go.buildinfo', addr: 0x600000, data: inlineBlob('go1.21.5', framed(MODINFO)), writable: true }] }));
  elf.writeBigUInt64LE(BigInt(elf.length * 4), 40); // e_shoff out of the file
  assert.equal(readGoBuildInfo(elf)?.goVersion, 'go1.21.5');
});

test('a build info lookalike in read-only code is ignored when the header is readable', () => {
  const elf = buildElf({ sections: [{ name: '.rodata', addr: 0x401000, data: inlineBlob('go1.21.5', framed(MODINFO)) }, { name: '.data', addr: 0x600000, data: Buffer.alloc(64), writable: true }] });
  assert.equal(readGoBuildInfo(elf), undefined);
});

test('built outside module mode: only stdlib', async () => {
  const elf = buildElf({ sections: [{ name: '.go.buildinfo', addr: 0x600000, data: inlineBlob('go1.19.2', Buffer.alloc(0)) }] });
  const r = await runAnalyzer(goAnalyzer, { '/bin/x': elf });
  assert.deepEqual(r.packages!.map((p) => p.purl), ['pkg:golang/stdlib@1.19.2']);
});

test('identities: purls, CPEs, stdlib versions', () => {
  assert.equal(goPurl('golang.org/x/net', 'v0.17.0'), 'pkg:golang/golang.org/x/net@v0.17.0');
  assert.equal(goPurl('rsc.io', 'v1.0.0'), 'pkg:golang/rsc.io@v1.0.0');
  assert.deepEqual(goCpes('golang.org/x/net', 'v0.17.0'), ['cpe:2.3:a:golang:net:0.17.0:*:*:*:*:*:*:*']);
  assert.deepEqual(goCpes('github.com/docker/docker', 'v20.10.7+incompatible'), ['cpe:2.3:a:docker:docker:20.10.7:*:*:*:*:*:*:*']);
  assert.deepEqual(goCpes('k8s.io/api', 'v0.28.0'), []);
  assert.deepEqual(stdlibIdentity('go1.21rc2'), { version: 'go1.21rc2', purlVersion: '1.21rc2', cpe: 'cpe:2.3:a:golang:go:1.21:rc2:*:*:*:*:*:*' });
  assert.equal(stdlibIdentity('go1.20.3 X:boringcrypto')?.version, 'go1.20.3');
  assert.equal(stdlibIdentity('devel go1.22-abcdef Tue'), undefined);
});

test('cross-check: Go binaries installed from Debian (skipped when none is present)', async (t) => {
  // The test suite installs docker-registry (a Go program); Debian builds it outside module mode.
  const found = ['/usr/bin/docker-registry', '/usr/bin/skopeo', '/usr/bin/umoci'].filter((p) => existsSync(p));
  if (!found.length) {
    t.skip('no Go binary from Debian installed');
    return;
  }
  for (const path of found) {
    const info = readGoBuildInfo(readFileSync(path));
    assert.ok(info, path);
    assert.match(info.goVersion, /^go1\.\d+/);
    const mod = parseModinfo(info.modinfo);
    assert.ok(mod.path, `${path}: main package path`);
    assert.equal(mod.settings['GOOS'], 'linux');
    const r = await runAnalyzer(goAnalyzer, { [path]: readFileSync(path) });
    assert.deepEqual(r.warnings, []);
    assert.ok(r.packages!.some((p) => p.name === 'stdlib'));
  }
});

test('cross-check: a real Go binary (skipped without a Go toolchain)', async (t) => {
  let goBin: string;
  try {
    goBin = execFileSync('sh', ['-c', 'command -v go'], { encoding: 'utf8' }).trim();
  } catch {
    t.skip('go is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'lading-go-'));
  try {
    writeFileSync(join(dir, 'go.mod'), 'module example.com/hello\n\ngo 1.18\n');
    writeFileSync(join(dir, 'main.go'), 'package main\n\nfunc main() { println("hi") }\n');
    execFileSync(goBin, ['build', '-o', 'hello', '.'], { cwd: dir, env: { ...process.env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0', GOTOOLCHAIN: 'local' }, stdio: 'ignore' });
    const version = execFileSync(goBin, ['env', 'GOVERSION'], { encoding: 'utf8' }).trim();
    const r = await runAnalyzer(goAnalyzer, { '/hello': readFileSync(join(dir, 'hello')) });
    assert.deepEqual(r.warnings, []);
    const main = r.packages!.find((p) => p.name === 'example.com/hello');
    assert.ok(main, 'main module found');
    assert.equal((main.metadata as { goVersion: string }).goVersion, version);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
