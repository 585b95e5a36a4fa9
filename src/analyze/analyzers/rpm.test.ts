import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runAnalyzer, wanted } from '../testing.js';
import type { Distro, Package } from '../../sbom/model.js';
import { encodeHeader, Tag, TagType, type EncodeEntry } from '../rpm/header.js';
import { readSqlite } from '../rpm/sqlite.js';
import { parseSourceRpm, rpmAnalyzer, rpmLicense } from './rpm.js';

const RHEL: Distro = { id: 'rhel', versionId: '9.3', idLike: ['fedora'], source: '/etc/os-release' };

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'lading-rpm-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An rpmdb.sqlite (as rpm >= 4.16 writes it) holding the given blobs, as bytes. */
function sqliteDb(blobs: Buffer[]): Buffer {
  return withDir((dir) => {
    const path = join(dir, 'rpmdb.sqlite');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO Packages (blob) VALUES (?)');
    for (const b of blobs) insert.run(b);
    db.close();
    return readFileSync(path);
  });
}

interface Fake {
  name?: string; epoch?: number; version?: string; release?: string; arch?: string; sourceRpm?: string;
  license?: string; vendor?: string; modularityLabel?: string; size?: number; longSize?: bigint;
  dirs?: string[]; bases?: string[]; dirIndexes?: number[];
}

function fakeHeader(f: Fake): Buffer {
  const e: EncodeEntry[] = [];
  const str = (tag: number, v: string | undefined): void => { if (v !== undefined) e.push({ tag, type: TagType.STRING, value: v }); };
  str(Tag.NAME, f.name);
  str(Tag.VERSION, f.version);
  str(Tag.RELEASE, f.release);
  if (f.epoch !== undefined) e.push({ tag: Tag.EPOCH, type: TagType.INT32, value: [f.epoch] });
  str(Tag.ARCH, f.arch);
  str(Tag.SOURCERPM, f.sourceRpm);
  str(Tag.LICENSE, f.license);
  str(Tag.VENDOR, f.vendor);
  str(Tag.MODULARITYLABEL, f.modularityLabel);
  if (f.size !== undefined) e.push({ tag: Tag.SIZE, type: TagType.INT32, value: [f.size] });
  if (f.longSize !== undefined) e.push({ tag: Tag.LONGSIZE, type: TagType.INT64, value: [f.longSize] });
  if (f.bases) {
    e.push({ tag: Tag.DIRINDEXES, type: TagType.INT32, value: f.dirIndexes ?? [] });
    e.push({ tag: Tag.BASENAMES, type: TagType.STRING_ARRAY, value: f.bases });
    e.push({ tag: Tag.DIRNAMES, type: TagType.STRING_ARRAY, value: f.dirs ?? [] });
  }
  return encodeHeader(e);
}

const BASH: Fake = {
  name: 'bash', version: '5.1.8', release: '6.el9_1', arch: 'x86_64', sourceRpm: 'bash-5.1.8-6.el9_1.src.rpm',
  license: 'GPLv3+', vendor: 'Red Hat, Inc.', size: 7738634,
  dirs: ['/usr/bin/', '/usr/share/doc/bash/'], bases: ['bash', 'sh', 'README'], dirIndexes: [0, 0, 1],
};
const OPENSSL: Fake = {
  name: 'openssl-libs', epoch: 1, version: '3.0.1', release: '41.el9_0', arch: 'x86_64', sourceRpm: 'openssl-3.0.1-41.el9_0.src.rpm',
  license: 'ASL 2.0', vendor: 'Red Hat, Inc.', size: 1, longSize: 6000000000n, modularityLabel: 'openssl:3:9000:abcdef',
  dirs: ['/usr/lib64/'], bases: ['libssl.so.3'], dirIndexes: [0],
};

test('rpm License tags become SPDX expressions only when every part resolves', () => {
  const cases: [string, string][] = [
    ['GPLv2+', 'GPL-2.0-or-later'],
    ['GPLv2', 'GPL-2.0-only'],
    ['LGPLv2.1+', 'LGPL-2.1-or-later'],
    ['AGPLv3', 'AGPL-3.0-only'],
    ['ASL 2.0', 'Apache-2.0'],
    ['GPL+', 'GPL-1.0-or-later'],
    ['MIT', 'MIT'],
    ['zlib and Boost', 'Zlib AND BSL-1.0'],
    ['GPLv2+ and LGPLv2+ and MIT', 'GPL-2.0-or-later AND LGPL-2.0-or-later AND MIT'],
    ['(GPLv2+ or LGPLv3+) and MIT', '(GPL-2.0-or-later OR LGPL-3.0-or-later) AND MIT'],
    ['MPLv2.0', 'MPL-2.0'],
    // already SPDX (Fedora >= 38, SUSE): kept, operators upper-cased, deprecated GPL ids modernised
    ['LGPL-2.1-or-later AND LGPL-2.1-or-later WITH GCC-exception-2.0', 'LGPL-2.1-or-later AND LGPL-2.1-or-later WITH GCC-exception-2.0'],
    ['BSD-3-Clause or GPL-2.0', 'BSD-3-Clause OR GPL-2.0-only'],
    ['Artistic-1.0 or GPL-2.0+', 'Artistic-1.0 OR GPL-2.0-or-later'],
    // ambiguous or unknown parts: the declared text, not a guess
    ['BSD', 'BSD'],
    ['Public Domain', 'Public Domain'],
    ['GPL+ or Artistic', 'GPL+ or Artistic'],
    ['GPLv3+ and GFDL', 'GPLv3+ and GFDL'],
    ['LGPLv2+ with exceptions', 'LGPLv2+ with exceptions'],
    ['BSD AND GPLv2+ AND Inner-Net', 'BSD AND GPLv2+ AND Inner-Net'],
    ['  MIT  ', 'MIT'],
  ];
  for (const [text, want] of cases) assert.equal(rpmLicense(text), want, text);
});

test('source rpm file names split into name and version-release', () => {
  assert.deepEqual(parseSourceRpm('openssl-3.0.1-41.el9_0.src.rpm'), { name: 'openssl', version: '3.0.1-41.el9_0' });
  assert.deepEqual(parseSourceRpm('python3.11-pip-22.3.1-4.el9.src.rpm'), { name: 'python3.11-pip', version: '22.3.1-4.el9' });
  assert.deepEqual(parseSourceRpm('kernel-5.14.0-362.8.1.el9_3.nosrc.rpm'), { name: 'kernel', version: '5.14.0-362.8.1.el9_3' });
  assert.equal(parseSourceRpm('garbage'), undefined);
  assert.equal(parseSourceRpm('nodash.src.rpm'), undefined);
});

test('asks for the rpm databases in the three known directories, nothing else', () => {
  const empty = Buffer.alloc(0);
  for (const p of ['/var/lib/rpm/Packages', '/var/lib/rpm/rpmdb.sqlite', '/var/lib/rpm/rpmdb.sqlite-wal', '/usr/share/rpm/Packages',
    '/usr/lib/sysimage/rpm/Packages.db', '/usr/lib/sysimage/rpm/rpmdb.sqlite']) assert.ok(wanted(rpmAnalyzer, p, empty), p);
  for (const p of ['/var/lib/rpm/Name', '/var/lib/rpm/Index.db', 'var/lib/rpm/Packages', '/opt/var/lib/rpm/Packages', '/var/lib/rpm/Packages.bak']) {
    assert.ok(!wanted(rpmAnalyzer, p, empty), p);
  }
});

test('packages from an rpmdb.sqlite: identity, epoch, source, license, files, metadata', async () => {
  const db = sqliteDb([fakeHeader(BASH), fakeHeader(OPENSSL), fakeHeader({ name: 'gpg-pubkey', version: 'fd431d51', release: '4ae0493b', license: 'pubkey' })]);
  const { packages = [], warnings } = await runAnalyzer(rpmAnalyzer, {
    '/var/lib/rpm/rpmdb.sqlite': { content: db, layer: 3 },
    '/var/lib/rpm/rpmdb.sqlite-wal': { content: Buffer.alloc(0), layer: 3 },
  }, RHEL);
  assert.deepEqual(warnings, []);
  assert.deepEqual(packages.map((p) => p.name), ['bash', 'openssl-libs'], 'gpg-pubkey pseudo-packages are skipped');
  const [bash, ssl] = packages as [Package, Package];
  assert.deepEqual(bash, {
    name: 'bash',
    version: '5.1.8-6.el9_1',
    type: 'rpm',
    purl: 'pkg:rpm/rhel/bash@5.1.8-6.el9_1?arch=x86_64&distro=rhel-9.3&upstream=bash-5.1.8-6.el9_1.src.rpm',
    cpes: ['cpe:2.3:a:redhat:bash:5.1.8:*:*:*:*:*:*:*'],
    licenses: ['GPL-3.0-or-later'],
    locations: [{ path: '/var/lib/rpm/rpmdb.sqlite', layer: 3 }],
    foundBy: 'rpm',
    metadata: { version: '5.1.8', release: '6.el9_1', sourceRpm: 'bash-5.1.8-6.el9_1.src.rpm', vendor: 'Red Hat, Inc.', license: 'GPLv3+', size: 7738634 },
    sourceName: 'bash',
    sourceVersion: '5.1.8-6.el9_1',
    arch: 'x86_64',
    files: ['/usr/bin/bash', '/usr/bin/sh', '/usr/share/doc/bash/README'],
  });
  assert.equal(ssl.version, '1:3.0.1-41.el9_0', 'the version matchers compare: epoch:version-release');
  assert.equal(ssl.epoch, 1);
  assert.equal(ssl.purl, 'pkg:rpm/rhel/openssl-libs@3.0.1-41.el9_0?arch=x86_64&distro=rhel-9.3&epoch=1&upstream=openssl-3.0.1-41.el9_0.src.rpm');
  assert.equal(ssl.sourceName, 'openssl');
  assert.equal(ssl.sourceVersion, '3.0.1-41.el9_0');
  assert.deepEqual(ssl.licenses, ['Apache-2.0']);
  assert.deepEqual(ssl.metadata?.modularityLabel, 'openssl:3:9000:abcdef');
  assert.equal(ssl.metadata?.size, 6000000000, 'LONGSIZE wins over SIZE');
  assert.equal(ssl.metadata?.epoch, 1);
  assert.deepEqual(ssl.files, ['/usr/lib64/libssl.so.3']);
});

test('without a distro: no namespace and no distro qualifier; CPE vendor from the Vendor tag', async () => {
  const { packages = [] } = await runAnalyzer(rpmAnalyzer, {
    '/usr/lib/sysimage/rpm/rpmdb.sqlite': sqliteDb([fakeHeader({ name: 'tool', version: '2', release: '1', vendor: 'Example Corp' })]),
  });
  assert.equal(packages.length, 1);
  assert.equal(packages[0]?.purl, 'pkg:rpm/tool@2-1');
  assert.deepEqual(packages[0]?.cpes, ['cpe:2.3:a:example:tool:2:*:*:*:*:*:*:*']);
  assert.equal(packages[0]?.arch, undefined);
  assert.equal(packages[0]?.sourceName, undefined);
  assert.deepEqual(packages[0]?.licenses, []);
});

test('the same package twice is one package; in two database directories, one package with both locations', async () => {
  const db = sqliteDb([fakeHeader(BASH), fakeHeader(BASH)]);
  const once = await runAnalyzer(rpmAnalyzer, { '/var/lib/rpm/rpmdb.sqlite': db }, RHEL);
  assert.equal(once.packages?.length, 1);
  assert.deepEqual(once.packages?.[0]?.locations, [{ path: '/var/lib/rpm/rpmdb.sqlite', layer: 0 }]);
  const twice = await runAnalyzer(rpmAnalyzer, { '/var/lib/rpm/rpmdb.sqlite': db, '/usr/lib/sysimage/rpm/rpmdb.sqlite': { content: db, layer: 1 } }, RHEL);
  assert.equal(twice.packages?.length, 1);
  assert.deepEqual(twice.packages?.[0]?.locations, [{ path: '/var/lib/rpm/rpmdb.sqlite', layer: 0 }, { path: '/usr/lib/sysimage/rpm/rpmdb.sqlite', layer: 1 }]);
});

test('malformed headers and databases are warnings naming the file; the rest is still reported', async () => {
  const garbageBlob = Buffer.from([0, 0, 0, 9, 0, 0, 0, 1, 1, 2, 3]);
  const badIndex = fakeHeader({ ...BASH, name: 'broken-files', dirIndexes: [0, 5, 0] });
  const noName = fakeHeader({ version: '1', release: '1' });
  const db = sqliteDb([garbageBlob, fakeHeader(OPENSSL), badIndex, noName]);
  const { packages = [], warnings } = await runAnalyzer(rpmAnalyzer, {
    '/var/lib/rpm/rpmdb.sqlite': db,
    '/usr/share/rpm/Packages': Buffer.from('this is not a Berkeley DB file'),
    '/usr/lib/sysimage/rpm/Packages.db': Buffer.alloc(64, 7),
  }, RHEL);
  assert.deepEqual(packages.map((p) => p.name), ['openssl-libs', 'broken-files']);
  assert.equal(packages[1]?.files, undefined, 'a package whose file list is broken is kept, without files');
  assert.equal(packages[1]?.version, '5.1.8-6.el9_1');
  const text = warnings.join('\n');
  assert.match(text, /rpm: \/var\/lib\/rpm\/rpmdb\.sqlite: package 1: rpm header: .*; skipped/);
  assert.match(text, /rpm: \/var\/lib\/rpm\/rpmdb\.sqlite: package 3: broken-files: file list unreadable \(file sh: directory index 5 out of range \(2 directories\)\); package kept without files/);
  assert.match(text, /rpm: \/var\/lib\/rpm\/rpmdb\.sqlite: package 4: no NAME, VERSION or RELEASE/);
  assert.match(text, /rpm: \/usr\/share\/rpm\/Packages: Berkeley DB Packages: 30 bytes is too short for a metadata page/);
  assert.match(text, /rpm: \/usr\/lib\/sysimage\/rpm\/Packages\.db: NDB Packages\.db: bad magic/);
  assert.equal(warnings.length, 5);
});

// ---------------------------------------------------------------- real rpm databases

const RPM = '/usr/bin/rpm';
const RPMBUILD = '/usr/bin/rpmbuild';
const DB_LOAD = '/usr/bin/db5.3_load';
const QF = '%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\n';

const SPECS: Record<string, string> = {
  // Many files with long names: its header is several BDB pages long (overflow chain).
  alpha: `Name: alpha
Version: 1.0
Release: 1
Summary: Alpha
License: GPLv2+ and MIT
Vendor: Example Corp
BuildArch: noarch
%description
Alpha.
%install
mkdir -p %{buildroot}/usr/share/alpha
for i in $(seq 1 300); do echo $i > %{buildroot}/usr/share/alpha/a-long-file-name-to-make-the-header-big-$i.txt; done
%files
/usr/share/alpha
`,
  // An epoch, a module label, and a subpackage whose SOURCERPM is beta-..., not beta-libs-...
  beta: `Name: beta
Epoch: 2
Version: 3.1
Release: 4.el9
Summary: Beta
License: ASL 2.0
BuildArch: noarch
%description
Beta.
%package libs
Summary: Beta libraries
License: LGPLv2+
%description libs
Beta libraries.
%install
mkdir -p %{buildroot}/usr/share/beta %{buildroot}/usr/lib/beta
echo b > %{buildroot}/usr/share/beta/b.txt
echo l > %{buildroot}/usr/lib/beta/libbeta.txt
%files
/usr/share/beta/b.txt
%files libs
/usr/lib/beta
`,
  gamma: `Name: gamma
Version: 0.9
Release: 2
Summary: Gamma
License: Public Domain
BuildArch: noarch
%description
Gamma.
%install
mkdir -p %{buildroot}/etc
echo g > %{buildroot}/etc/gamma.conf
%files
%config /etc/gamma.conf
`,
};

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

/** Build the spec files with rpmbuild and install them into ROOT with rpm (sqlite backend). */
function buildRoot(dir: string): string {
  const top = join(dir, 'rpmbuild');
  const root = join(dir, 'root');
  mkdirSync(join(top, 'SPECS'), { recursive: true });
  mkdirSync(root);
  for (const [name, spec] of Object.entries(SPECS)) {
    const file = join(top, 'SPECS', `${name}.spec`);
    writeFileSync(file, spec);
    const defines = ['--define', `_topdir ${top}`, '--define', '_buildhost lading.invalid'];
    if (name === 'beta') defines.push('--define', 'modularitylabel beta:3:9040020240101:c0ffee42');
    run(RPMBUILD, ['--quiet', ...defines, '-bb', file]);
  }
  const rpms = readdirSync(join(top, 'RPMS', 'noarch')).map((f) => join(top, 'RPMS', 'noarch', f));
  assert.equal(rpms.length, 4, 'alpha, beta, beta-libs and gamma were built');
  run(RPM, ['--root', root, '--dbpath', '/var/lib/rpm', '--initdb']);
  run(RPM, ['--root', root, '--dbpath', '/var/lib/rpm', '-i', '--nodeps', '--ignorearch', '--force-debian', ...rpms]);
  return root;
}

/** The analyzer's packages in rpm -qa --qf QF form, sorted. */
function asQueryLines(packages: Package[]): string[] {
  return packages.map((p) => [p.name, p.epoch ?? '(none)', p.metadata?.version, p.metadata?.release, p.arch, p.metadata?.sourceRpm].join('\t')).sort();
}

function queryLines(out: string): string[] {
  return out.split('\n').filter(Boolean).sort();
}

test('a real rpmdb.sqlite and the same headers as a Berkeley DB: exactly what rpm -qa reports', async (t) => {
  if (!existsSync(RPM) || !existsSync(RPMBUILD)) {
    t.skip('rpm and rpmbuild not installed (Debian package rpm): cannot build a real rpm database');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'lading-rpmdb-real-'));
  try {
    const root = buildRoot(dir);
    const dbdir = join(root, 'var/lib/rpm');
    const truth = queryLines(run(RPM, ['--root', root, '--dbpath', '/var/lib/rpm', '-qa', '--qf', QF]));
    assert.equal(truth.length, 4);
    const sqlite = readFileSync(join(dbdir, 'rpmdb.sqlite'));
    const wal = existsSync(join(dbdir, 'rpmdb.sqlite-wal')) ? readFileSync(join(dbdir, 'rpmdb.sqlite-wal')) : Buffer.alloc(0);
    const distro: Distro = { id: 'rocky', versionId: '9.3', idLike: ['rhel', 'centos', 'fedora'], source: '/etc/os-release' };
    const fromSqlite = await runAnalyzer(rpmAnalyzer, { '/var/lib/rpm/rpmdb.sqlite': sqlite, '/var/lib/rpm/rpmdb.sqlite-wal': wal }, distro);
    assert.deepEqual(fromSqlite.warnings, []);
    const pkgs = fromSqlite.packages ?? [];
    assert.deepEqual(asQueryLines(pkgs), truth);

    const byName = new Map(pkgs.map((p) => [p.name, p]));
    for (const p of pkgs) {
      const files = run(RPM, ['--root', root, '--dbpath', '/var/lib/rpm', '-q', '--qf', '[%{FILENAMES}\\n]', p.name]).split('\n').filter(Boolean);
      assert.deepEqual(p.files, files, `${p.name}: file list`);
      const [license, vendor, label, size] = run(RPM, ['--root', root, '--dbpath', '/var/lib/rpm', '-q', '--qf', '%{LICENSE}\\t%{VENDOR}\\t%{MODULARITYLABEL}\\t%{LONGSIZE}', p.name]).split('\t');
      assert.equal(p.metadata?.license, license, `${p.name}: license`);
      assert.equal(p.metadata?.vendor, vendor === '(none)' ? undefined : vendor, `${p.name}: vendor`);
      assert.equal(p.metadata?.modularityLabel, label === '(none)' ? undefined : label, `${p.name}: modularity label`);
      assert.equal(p.metadata?.size, Number(size), `${p.name}: size`);
    }
    const libs = byName.get('beta-libs');
    assert.equal(libs?.version, '2:3.1-4.el9');
    assert.equal(libs?.sourceName, 'beta');
    assert.equal(libs?.sourceVersion, '3.1-4.el9');
    assert.equal(libs?.purl, 'pkg:rpm/rocky/beta-libs@3.1-4.el9?arch=noarch&distro=rocky-9.3&epoch=2&upstream=beta-3.1-4.el9.src.rpm');
    assert.deepEqual(libs?.licenses, ['LGPL-2.0-or-later']);
    assert.deepEqual(byName.get('alpha')?.licenses, ['GPL-2.0-or-later AND MIT']);
    assert.deepEqual(byName.get('alpha')?.cpes, ['cpe:2.3:a:rocky:alpha:1.0:*:*:*:*:*:*:*', 'cpe:2.3:a:example:alpha:1.0:*:*:*:*:*:*:*']);
    assert.equal(byName.get('alpha')?.files?.length, 301);

    // The same header blobs as a Berkeley DB hash Packages file (key 0 = next-instance counter).
    if (!existsSync(DB_LOAD)) {
      t.diagnostic('db5.3_load not installed (Debian package db5.3-util): Berkeley DB part skipped');
      return;
    }
    const { blobs } = readSqlite(sqlite, wal);
    const enc = (b: Buffer): string => [...b].map((c) => `\\${c.toString(16).padStart(2, '0')}`).join('');
    const key = (n: number): Buffer => { const k = Buffer.alloc(4); k.writeUInt32LE(n); return k; };
    const lines = [`${enc(key(0))}\n${enc(key(Math.max(...blobs.map((b) => b.key)) + 1))}\n`, ...blobs.map((b) => `${enc(key(b.key))}\n${enc(b.blob)}\n`)];
    writeFileSync(join(dir, 'packages.txt'), lines.join(''));
    const bdbRoot = join(dir, 'root-bdb');
    mkdirSync(join(bdbRoot, 'var/lib/rpm'), { recursive: true });
    const packagesFile = join(bdbRoot, 'var/lib/rpm/Packages');
    run(DB_LOAD, ['-T', '-t', 'hash', '-f', join(dir, 'packages.txt'), packagesFile]);
    const bdbTruth = queryLines(run(RPM, ['--root', bdbRoot, '--dbpath', '/var/lib/rpm', '--define', '_db_backend bdb_ro', '-qa', '--qf', QF]));
    assert.deepEqual(bdbTruth, truth, 'rpm reads the Berkeley DB written here');
    const bdb = readFileSync(packagesFile);
    const pageSize = bdb.readUInt32LE(20);
    const alphaBlob = blobs.find((b) => b.blob.includes(Buffer.from('a-long-file-name-to-make-the-header-big-1.txt')));
    assert.ok((alphaBlob?.blob.length ?? 0) > 2 * pageSize, `alpha's header (${alphaBlob?.blob.length} bytes) spans several ${pageSize}-byte overflow pages`);
    const fromBdb = await runAnalyzer(rpmAnalyzer, { '/var/lib/rpm/Packages': bdb }, distro);
    assert.deepEqual(fromBdb.warnings, []);
    assert.deepEqual(asQueryLines(fromBdb.packages ?? []), truth);
    assert.deepEqual(fromBdb.packages, pkgs.map((p) => ({ ...p, locations: [{ path: '/var/lib/rpm/Packages', layer: 0 }] })), 'same packages from either backend');

    // Both in one directory: rpmdb.sqlite is the live one; if it cannot be read, Packages is used.
    const both = await runAnalyzer(rpmAnalyzer, { '/var/lib/rpm/rpmdb.sqlite': sqlite, '/var/lib/rpm/Packages': bdb }, distro);
    assert.deepEqual(both.packages, pkgs);
    const fallback = await runAnalyzer(rpmAnalyzer, { '/var/lib/rpm/rpmdb.sqlite': Buffer.from('garbage'), '/var/lib/rpm/Packages': bdb }, distro);
    assert.match(fallback.warnings.join('\n'), /\/var\/lib\/rpm\/rpmdb\.sqlite: rpmdb\.sqlite: not an SQLite 3 database/);
    assert.deepEqual(asQueryLines(fallback.packages ?? []), truth);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
