import { test } from 'node:test';
import assert from 'node:assert/strict';
import { file, fire, makeSbom, pkg } from '../testing.js';
import type { Sbom } from '../../sbom/model.js';

const sbom = makeSbom({
  packages: [
    pkg('curl', '7.88.1-10', { files: ['/usr/bin/curl', '/usr/share/doc/curl/copyright'] }),
    pkg('openssh-server', '1:9.2p1-2', { files: ['/usr/sbin/sshd'] }),
    pkg('bash', '5.2.15-2', { files: ['/bin/bash', '/usr/share/doc/bash/copyright'] }),
    pkg('openssl', '1:3.0.7-18.el9', { type: 'rpm', metadata: { version: '3.0.7', release: '18.el9', epoch: 1 } }),
  ],
  files: [
    file('/bin', { type: 'symlink', linkTarget: 'usr/bin' }),
    file('/usr/bin/bash'),
    file('/usr/bin/curl'),
    file('/usr/sbin/sshd'),
    file('/usr/share/doc/bash/copyright'),
  ],
});

const cases: { name: string; trigger: string; params: Record<string, string>; sbom?: Sbom; want: string[] }[] = [
  { name: 'missing package', trigger: 'required_package', params: { name: 'ca-certificates' },
    want: ['Required input package (ca-certificates) is not present in container image'] },
  { name: 'missing package and version', trigger: 'required_package', params: { name: 'ca-certificates', version: '2023' },
    want: ['Required input package (ca-certificates,2023) is not present in container image'] },
  { name: 'present, any version', trigger: 'required_package', params: { name: 'curl' }, want: [] },
  { name: 'present at the exact version', trigger: 'required_package', params: { name: 'curl', version: '7.88.1-10' }, want: [] },
  { name: 'present at another version (exact)', trigger: 'required_package', params: { name: 'curl', version: '8.0.0-1', version_match_type: 'exact' },
    want: ['Required input package (curl) is present (7.88.1-10), but not at the version specified in policy (curl)'] },
  { name: 'rpm full version is version-release without the epoch', trigger: 'required_package', params: { name: 'openssl', version: '3.0.7-18.el9' }, want: [] },
  { name: 'below the minimum (dpkg ordering)', trigger: 'required_package', params: { name: 'curl', version: '7.88.1-10+deb12u1', version_match_type: 'minimum' },
    want: ['Required min-version input package (curl) is present (7.88.1-10), but is lower version than what is specified in policy (7.88.1-10+deb12u1)'] },
  { name: 'above the minimum (dpkg ordering: ~ sorts first)', trigger: 'required_package', params: { name: 'curl', version: '7.88.1-10~bpo1', version_match_type: 'minimum' }, want: [] },
  { name: 'the epoch counts (rpm ordering)', trigger: 'required_package', params: { name: 'openssl', version: '3.0.10-1.el9', version_match_type: 'minimum' }, want: [] },
  { name: 'below the minimum (rpm ordering)', trigger: 'required_package', params: { name: 'openssl', version: '1:3.0.7-20.el9', version_match_type: 'minimum' },
    want: ['Required min-version input package (openssl) is present (3.0.7-18.el9), but is lower version than what is specified in policy (1:3.0.7-20.el9)'] },

  { name: 'blacklisted name', trigger: 'blacklist', params: { name: 'openssh-server' }, want: ['Package is blacklisted: openssh-server'] },
  { name: 'blacklisted name and version', trigger: 'blacklist', params: { name: 'openssh-server', version: '1:9.2p1-2' }, want: ['Package is blacklisted: openssh-server-1:9.2p1-2'] },
  { name: 'blacklisted rpm by its short version', trigger: 'blacklist', params: { name: 'openssl', version: '3.0.7' }, want: ['Package is blacklisted: openssl-3.0.7'] },
  { name: 'other version', trigger: 'blacklist', params: { name: 'openssh-server', version: '1:8.0' }, want: [] },

  { name: 'missing files (symlinked /bin resolved)', trigger: 'verify', params: { check: 'missing' },
    want: ["VERIFY check against package db for package 'curl' failed on entry '/usr/share/doc/curl/copyright' with status: 'missing'"] },
  { name: 'only some packages', trigger: 'verify', params: { only_packages: 'bash,openssh-server' }, want: [] },
  { name: 'only some directories', trigger: 'verify', params: { only_directories: '/usr/bin' }, want: [] },
];

for (const c of cases) {
  test(`packages/${c.trigger}: ${c.name}`, () => {
    assert.deepEqual(fire('packages', c.trigger, c.params, { sbom: c.sbom ?? sbom }).map((f) => f.msg), c.want);
  });
}

test('packages/verify: changed files need package-database digests the analysis does not record', () => {
  assert.throws(() => fire('packages', 'verify', { check: 'changed' }, { sbom }), /cannot be detected/);
});
