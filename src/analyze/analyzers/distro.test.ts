import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAnalyzer } from '../testing.js';
import { distroAnalyzer, parseOsRelease } from './distro.js';

test('os-release quoting', () => {
  assert.deepEqual(parseOsRelease('ID=debian\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nX=\'a b\'\n# c\nY="q\\"x"\n'),
    { ID: 'debian', PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)', X: 'a b', Y: 'q"x' });
});

test('debian from /etc/os-release', async () => {
  const r = await runAnalyzer(distroAnalyzer, {
    '/etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
    '/etc/debian_version': '12.8\n',
  });
  assert.deepEqual(r.distro, { id: 'debian', versionId: '12', versionCodename: 'bookworm', idLike: [], prettyName: 'Debian GNU/Linux 12 (bookworm)', source: '/etc/os-release' });
});

test('os-release symlinked to /usr/lib/os-release (rocky)', async () => {
  const r = await runAnalyzer(distroAnalyzer, {
    '/etc/os-release': { content: '', linkTarget: '../usr/lib/os-release' },
    '/usr/lib/os-release': 'NAME="Rocky Linux"\nVERSION_ID="9.3"\nID="rocky"\nID_LIKE="rhel centos fedora"\n',
  });
  assert.equal(r.distro?.id, 'rocky');
  assert.equal(r.distro?.versionId, '9.3');
  assert.deepEqual(r.distro?.idLike, ['rhel', 'centos', 'fedora']);
  assert.equal(r.distro?.source, '/usr/lib/os-release');
});

test('debian sid without VERSION_ID takes debian_version', async () => {
  const r = await runAnalyzer(distroAnalyzer, {
    '/etc/os-release': 'PRETTY_NAME="Debian GNU/Linux trixie/sid"\nID=debian\nVERSION_CODENAME=trixie\n',
    '/etc/debian_version': 'trixie/sid\n',
  });
  assert.equal(r.distro?.versionId, '13');
  assert.equal(r.distro?.versionCodename, 'trixie');
});

test('fallbacks: alpine-release, redhat-release, debian_version', async () => {
  assert.deepEqual((await runAnalyzer(distroAnalyzer, { '/etc/alpine-release': '3.18.4\n' })).distro,
    { id: 'alpine', versionId: '3.18.4', idLike: [], source: '/etc/alpine-release' });
  const rh = (await runAnalyzer(distroAnalyzer, { '/etc/redhat-release': 'Red Hat Enterprise Linux release 8.6 (Ootpa)\n' })).distro;
  assert.equal(rh?.id, 'rhel');
  assert.equal(rh?.versionId, '8.6');
  assert.equal(rh?.versionCodename, 'ootpa');
  const centos = (await runAnalyzer(distroAnalyzer, { '/etc/centos-release': 'CentOS Linux release 7.9.2009 (Core)\n' })).distro;
  assert.equal(centos?.id, 'centos');
  assert.equal(centos?.versionId, '7.9.2009');
  assert.equal((await runAnalyzer(distroAnalyzer, { '/etc/debian_version': '11.7\n' })).distro?.versionId, '11');
});

test('no release files: no distro; os-release without ID is warned and skipped', async () => {
  assert.equal((await runAnalyzer(distroAnalyzer, { '/etc/hostname': 'x' })).distro, undefined);
  const r = await runAnalyzer(distroAnalyzer, { '/etc/os-release': 'NAME=x\n', '/etc/alpine-release': '3.19.0\n' });
  assert.equal(r.distro?.id, 'alpine');
  assert.match(r.warnings[0]!, /\/etc\/os-release: no ID= line/);
});
