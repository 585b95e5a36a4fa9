import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, link, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { analyzeImage } from '../../analyze/analyze.js';
import { DiskCache } from '../../analyze/cache/store.js';
import { walkDirectory } from './dir-walk.js';
import { openSource } from './index.js';

const STATUS = (version: string) => [
  'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: ' + version + '\n',
  'Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13.dfsg-1\n',
  'Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1.0-1\n',
].join('\n');

const LONG = 'a-directory-name-long-enough/'.repeat(5) + 'file.txt';

let dir: string;
let root: string;
let server: Server;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-dir-'));
  root = join(dir, 'root');
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc/os-release'), 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
  await mkdir(join(root, 'var/lib/dpkg'), { recursive: true });
  await writeFile(join(root, 'var/lib/dpkg/status'), STATUS('3.0.15-1~deb12u1'));
  await mkdir(join(root, 'app/node_modules/express'), { recursive: true });
  await writeFile(join(root, 'app/node_modules/express/package.json'), JSON.stringify({ name: 'express', version: '4.17.1', license: 'MIT' }));
  await mkdir(join(root, 'usr/bin'), { recursive: true });
  await writeFile(join(root, 'usr/bin/tool'), '#!/bin/sh\necho hi\n');
  await chmod(join(root, 'usr/bin/tool'), 0o4755);
  await link(join(root, 'usr/bin/tool'), join(root, 'usr/bin/tool2'));
  // A loop, a relative escape and an absolute link: none is followed, each is recorded as written.
  await symlink('loop-b', join(root, 'usr/bin/loop-a'));
  await symlink('loop-a', join(root, 'usr/bin/loop-b'));
  await symlink('../../../../../../etc/passwd', join(root, 'usr/bin/escape'));
  await symlink('/etc/hostname', join(root, 'etc/host-link'));
  await symlink('..', join(root, 'app/up'));
  execFileSync('mkfifo', [join(root, 'app/pipe')]);
  server = createServer();
  await new Promise<void>((ok) => server.listen(join(root, 'app/sock'), ok));
  await mkdir(join(root, 'proc/1'), { recursive: true });
  await writeFile(join(root, 'proc/1/status'), 'kernel view\n');
  await mkdir(join(root, LONG.slice(0, LONG.lastIndexOf('/'))), { recursive: true });
  await writeFile(join(root, LONG), 'deep\n');
});
after(async () => {
  await new Promise<void>((ok) => server.close(() => ok()));
  await rm(dir, { recursive: true, force: true });
});

async function entries(path: string, warnings: string[] = []): Promise<Map<string, { e: ReadEntry; body: string }>> {
  const out = new Map<string, { e: ReadEntry; body: string }>();
  const parser = new Parser();
  parser.on('entry', (e: ReadEntry) => {
    let body = '';
    e.on('data', (c: Buffer) => (body += c.toString()));
    e.on('end', () => out.set(e.path, { e, body }));
  });
  for await (const c of walkDirectory(path, { onWarning: (m) => warnings.push(m) })) parser.write(c);
  await new Promise<void>((ok) => parser.end(ok));
  return out;
}

test('a directory walks to tar entries: modes, owners, symlinks as written, hardlinks by inode, FIFOs; sockets and proc/ left out', async () => {
  const warnings: string[] = [];
  const got = await entries(root, warnings);
  const tool = got.get('usr/bin/tool')!;
  const st = await lstat(join(root, 'usr/bin/tool'));
  assert.equal(tool.e.type, 'File');
  assert.equal(tool.e.mode, 0o4755);
  assert.equal(tool.e.uid, st.uid);
  assert.equal(tool.e.gid, st.gid);
  assert.equal(tool.e.size, st.size);
  assert.equal(tool.body, '#!/bin/sh\necho hi\n');
  assert.equal(got.get('usr/bin/tool2')!.e.type, 'Link');
  assert.equal(got.get('usr/bin/tool2')!.e.linkpath, 'usr/bin/tool');
  assert.equal(got.get('usr/bin/loop-a')!.e.type, 'SymbolicLink');
  assert.equal(got.get('usr/bin/loop-a')!.e.linkpath, 'loop-b');
  assert.equal(got.get('usr/bin/escape')!.e.linkpath, '../../../../../../etc/passwd');
  assert.equal(got.get('etc/host-link')!.e.linkpath, '/etc/hostname');
  assert.equal(got.get('app/up')!.e.type, 'SymbolicLink');
  assert.equal(got.get('app/pipe')!.e.type, 'FIFO');
  assert.equal(got.has('app/sock'), false);
  assert.ok(warnings.some((w) => /\/app\/sock is a socket/.test(w)), warnings.join('\n'));
  assert.equal(got.get('proc/')!.e.type, 'Directory');
  assert.deepEqual([...got.keys()].filter((p) => p.startsWith('proc/') && p !== 'proc/'), []);
  assert.equal(got.get(LONG)!.body, 'deep\n');
  // Every path under the root (but the left-out ones) is there exactly once.
  const all = execFileSync('find', ['.', '-mindepth', '1'], { cwd: root, encoding: 'utf8' }).trim().split('\n').map((p) => p.slice(2));
  const expected = all.filter((p) => !p.startsWith('proc/') && p !== 'app/sock').length;
  assert.equal(got.size, expected);
});

test('unreadable files are reported and left out, not fatal', { skip: process.getuid?.() === 0 ? 'root reads every file' : false }, async () => {
  const d = await mkdtemp(join(dir, 'unreadable-'));
  await writeFile(join(d, 'secret'), 'x');
  await chmod(join(d, 'secret'), 0);
  await writeFile(join(d, 'ok'), 'y');
  const warnings: string[] = [];
  const got = await entries(d, warnings);
  assert.deepEqual([...got.keys()], ['ok']);
  assert.match(warnings.join('\n'), /cannot read \/secret/);
});

test('dir: and rootfs: analyze the directory like an image: dpkg and npm packages, the file records, no cache', async () => {
  const cache = new DiskCache(join(dir, 'cache'));
  const analyze = async (input: string) => {
    const source = await openSource(input);
    try {
      return await analyzeImage(await source.resolve({}), { cache });
    } finally {
      await source.close();
    }
  };
  const sbom = await analyze(`dir:${root}`);
  assert.equal(sbom.distro?.id, 'debian');
  const names = sbom.packages.map((p) => `${p.type} ${p.name} ${p.version}`).sort();
  assert.deepEqual(names, ['deb libssl3 3.0.15-1~deb12u1', 'deb zlib1g 1:1.2.13.dfsg-1', 'npm express 4.17.1']);
  const byPath = new Map(sbom.files.map((f) => [f.path, f]));
  assert.equal(byPath.get('/usr/bin/tool')?.mode, 0o4755);
  assert.equal(byPath.get('/usr/bin/tool2')?.type, 'hardlink');
  assert.equal(byPath.get('/app/pipe')?.type, 'fifo');
  assert.equal(byPath.get('/usr/bin/loop-a')?.type, 'symlink');
  assert.ok(sbom.warnings.some((w) => /socket/.test(w)), sbom.warnings.join('\n'));

  // The same path with new content: a cache keyed by the path would answer with the old packages.
  await writeFile(join(root, 'var/lib/dpkg/status'), STATUS('3.0.16-1~deb12u1'));
  const again = await analyze(`rootfs:${root}`);
  assert.ok(again.packages.some((p) => p.name === 'libssl3' && p.version === '3.0.16-1~deb12u1'));
  assert.deepEqual(await readdir(join(dir, 'cache')).catch(() => []), []);
});

test('dir: errors name the problem', async () => {
  await assert.rejects(async () => (await openSource(`dir:${join(dir, 'nope')}`)).resolve({}), /no such directory/);
  await assert.rejects(async () => (await openSource(`dir:${join(root, 'etc/os-release')}`)).resolve({}), /is not a directory/);
  await assert.rejects(openSource(root), /use dir:/);
});
