import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAnalyzer } from '../testing.js';
import { dpkgAnalyzer, parseSource, copyrightLicenses } from './dpkg.js';
import type { Distro } from '../../sbom/model.js';

const debian: Distro = { id: 'debian', versionId: '12', versionCodename: 'bookworm', idLike: [], source: '/etc/os-release' };

const STATUS = `Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12986
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u9
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.

Package: libgcc-s1
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14
Installed-Size: 140

Package: perl-base
Status: install ok installed
Architecture: amd64
Version: 5.36.0-7+deb12u1
Source: perl

Package: tzdata
Status: install ok installed
Architecture: all
Version: 2024a-0+deb12u1

Package: removed-pkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: sysvinit-utils
Status: install ok installed
Architecture: amd64
Version: 1:3.06-4
Source: sysvinit

Package: broken
Status: install ok installed
`;

test('Source field forms', () => {
  assert.deepEqual(parseSource('glibc'), { name: 'glibc' });
  assert.deepEqual(parseSource('gcc-12 (12.2.0-14)'), { name: 'gcc-12', version: '12.2.0-14' });
  assert.deepEqual(parseSource(undefined), {});
});

test('DEP-5 copyright licences', () => {
  const text = 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 1999 X\nLicense: GPL-2+\n\nFiles: lib/*\nLicense: LGPL-2.1+\n\nLicense: GPL-2+\n This program is free software\n';
  assert.deepEqual(copyrightLicenses(text), ['GPL-2+', 'LGPL-2.1+']);
});

test('dpkg status: installed packages with source, epoch, files, licences', async () => {
  const r = await runAnalyzer(dpkgAnalyzer, {
    '/var/lib/dpkg/status': { content: STATUS, layer: 1 },
    '/var/lib/dpkg/info/libc6:amd64.list': '/.\n/lib\n/lib/x86_64-linux-gnu/libc.so.6\n',
    '/var/lib/dpkg/info/tzdata.list': '/.\n/usr/share/zoneinfo/UTC\n',
    '/usr/share/doc/libc6/copyright': 'Files: *\nLicense: LGPL-2.1+\n',
    '/var/lib/dpkg/status-old': 'Package: stale\nStatus: install ok installed\nVersion: 1\n',
  }, debian);
  const pkgs = r.packages!;
  assert.deepEqual(pkgs.map((p) => `${p.name} ${p.version} ${p.sourceName} ${p.sourceVersion}`), [
    'libc6 2.36-9+deb12u9 glibc 2.36-9+deb12u9',
    'libgcc-s1 12.2.0-14 gcc-12 12.2.0-14',
    'perl-base 5.36.0-7+deb12u1 perl 5.36.0-7+deb12u1',
    'tzdata 2024a-0+deb12u1 tzdata 2024a-0+deb12u1',
    'sysvinit-utils 1:3.06-4 sysvinit 1:3.06-4',
  ]);
  const libc = pkgs[0]!;
  assert.equal(libc.purl, 'pkg:deb/debian/libc6@2.36-9+deb12u9?arch=amd64&distro=debian-12&upstream=glibc');
  assert.deepEqual(libc.files, ['/lib', '/lib/x86_64-linux-gnu/libc.so.6']);
  assert.deepEqual(libc.licenses, ['LGPL-2.1-or-later']);
  assert.deepEqual(libc.locations, [{ path: '/var/lib/dpkg/status', layer: 1 }]);
  assert.equal(libc.metadata?.installedSize, 12986);
  assert.equal(pkgs[1]!.purl, 'pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12%4012.2.0-14');
  assert.equal(pkgs[4]!.epoch, 1);
  assert.deepEqual(pkgs[3]!.files, ['/usr/share/zoneinfo/UTC']);
  assert.match(r.warnings.join('\n'), /paragraph without Package or Version/);
});

test('distroless status.d with md5sums', async () => {
  const r = await runAnalyzer(dpkgAnalyzer, {
    '/var/lib/dpkg/status.d/base-files': 'Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n',
    '/var/lib/dpkg/status.d/base-files.md5sums': 'd41d8cd98f00b204e9800998ecf8427e  etc/debian_version\n',
    '/var/lib/dpkg/status.d/libssl3': 'Package: libssl3\nVersion: 3.0.15-1~deb12u1\nArchitecture: amd64\nSource: openssl\n',
  }, debian);
  assert.deepEqual(r.packages!.map((p) => [p.name, p.version, p.sourceName]), [
    ['base-files', '12.4+deb12u5', 'base-files'],
    ['libssl3', '3.0.15-1~deb12u1', 'openssl'],
  ]);
  assert.deepEqual(r.packages![0]!.files, ['/etc/debian_version']);
});
