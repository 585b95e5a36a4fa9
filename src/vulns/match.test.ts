import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Package } from '../sbom/model.js';
import { MemoryLookup } from './lookup.js';
import { matchSbom, type MatchOptions } from './match.js';
import type { Match } from './model.js';
import { affected, deb, fakeSchemes, npm, sbomOf, vuln } from './testing.js';

const opts: MatchOptions = { schemes: fakeSchemes };

function ids(matches: Match[]): string[] {
  return matches.map((m) => `${m.package.name}:${m.vulnerability.id}`).sort();
}

test('source-name records match the binary package and are reported against it', async () => {
  const lookup = new MemoryLookup().add({
    affected: [affected({ vulnId: 'CVE-2024-0001', name: 'openssl', fixedVersions: ['3.0.15-1~deb12u1'] })],
  });
  const { matches } = await matchSbom(sbomOf([deb('libssl3', '3.0.11-1~deb12u1', 'openssl'), deb('openssl', '3.0.11-1~deb12u1')]), lookup, opts);
  assert.deepEqual(ids(matches), ['libssl3:CVE-2024-0001', 'openssl:CVE-2024-0001']);
  const m = matches.find((x) => x.package.name === 'libssl3')!;
  assert.equal(m.match.name, 'openssl');
  assert.equal(m.match.nameKind, 'source');
  assert.equal(m.match.kind, 'distro');
  assert.equal(m.match.namespace, 'debian:12');
  assert.equal(m.match.record, 'debian:CVE-2024-0001');
  assert.equal(m.match.constraint, '< 3.0.15-1~deb12u1');
  assert.equal(m.package.sourceName, 'openssl');
  assert.equal(m.vulnerability.fixState, 'fixed');
  assert.deepEqual(m.vulnerability.fixedVersions, ['3.0.15-1~deb12u1']);
});

test('binary-name records match by binary name and binary version; a source record with the binary\'s name does not match another source', async () => {
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ vulnId: 'CVE-2024-0002', name: 'libx', nameKind: 'binary', fixedVersions: ['6.0-1'] }),
      // A source package that happens to share the binary's name: libx's source is x, so no match.
      affected({ vulnId: 'CVE-2024-0003', name: 'libx', nameKind: 'source', fixedVersions: ['9.0-1'] }),
    ],
  });
  const { matches } = await matchSbom(sbomOf([deb('libx', '5.0-1', 'x', '1.0-1')]), lookup, opts);
  assert.deepEqual(ids(matches), ['libx:CVE-2024-0002']);
  assert.equal(matches[0]!.match.version, '5.0-1');
  assert.equal(matches[0]!.match.nameKind, 'binary');
});

test('source records compare the source version (binNMU +b1, differently versioned binaries)', async () => {
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ vulnId: 'CVE-2024-0010', name: 'x', fixedVersions: ['1.1-1'] }),
      affected({ vulnId: 'CVE-2024-0011', name: 'foo', fixedVersions: ['1.2-2'] }),
      affected({ vulnId: 'CVE-2024-0012', name: 'foo', fixedVersions: ['1.2-1'] }),
    ],
  });
  const sbom = sbomOf([deb('libx', '5.0-1', 'x', '1.0-1'), deb('libfoo1', '1.2-1+b1', 'foo', '1.2-1')]);
  const { matches } = await matchSbom(sbom, lookup, opts);
  // libx 5.0-1 is not below 1.1-1, but its source version 1.0-1 is.
  assert.deepEqual(ids(matches), ['libfoo1:CVE-2024-0011', 'libx:CVE-2024-0010']);
  assert.equal(matches.find((m) => m.package.name === 'libx')!.match.version, '1.0-1');
  assert.equal(matches.find((m) => m.package.name === 'libfoo1')!.match.version, '1.2-1');
});

test('epochs: a missing epoch is 0 on either side', async () => {
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ vulnId: 'CVE-2024-0020', name: 'a', fixedVersions: ['1.3-1'] }),
      affected({ vulnId: 'CVE-2024-0021', name: 'b', fixedVersions: ['1:1.0-1'] }),
    ],
  });
  const { matches } = await matchSbom(sbomOf([deb('a', '1:1.2-1'), deb('b', '1.2-1')]), lookup, opts);
  // 1:1.2-1 > 1.3-1 (epoch 1 beats 0): not affected. 1.2-1 < 1:1.0-1: affected.
  assert.deepEqual(ids(matches), ['b:CVE-2024-0021']);
});

test('rpm source records: the binary\'s epoch is put before the epoch-less source version', async () => {
  const rhel = { id: 'rhel', versionId: '9.4', idLike: ['fedora'], source: '/etc/os-release' };
  const pkg: Package = {
    name: 'openssl-libs', version: '1:3.0.7-27.el9', type: 'rpm', purl: 'pkg:rpm/rhel/openssl-libs@3.0.7-27.el9?epoch=1', cpes: [], licenses: [],
    locations: [{ path: '/var/lib/rpm/rpmdb.sqlite' }], sourceName: 'openssl', sourceVersion: '3.0.7-27.el9', epoch: 1, foundBy: 'rpm',
  };
  const base = { source: 'redhat', namespace: 'rhel:9', scheme: 'rpm' as const };
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ ...base, vulnId: 'CVE-2024-0030', name: 'openssl', fixedVersions: ['1:3.0.7-28.el9'] }),
      affected({ ...base, vulnId: 'CVE-2024-0031', name: 'openssl', fixedVersions: ['1:3.0.7-20.el9'] }),
    ],
  });
  const { matches } = await matchSbom(sbomOf([pkg], rhel), lookup, opts);
  assert.deepEqual(ids(matches), ['openssl-libs:CVE-2024-0030']);
  assert.equal(matches[0]!.match.version, '1:3.0.7-27.el9');
});

test('Debian fixed_version "0" (not-affected, or a fix at "0") never matches', async () => {
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ vulnId: 'CVE-2024-0040', name: 'zlib', state: 'not-affected', fixedVersions: ['0'] }),
      affected({ vulnId: 'CVE-2024-0041', name: 'zlib', state: 'fixed', fixedVersions: ['0'] }),
    ],
  });
  const { matches, warnings } = await matchSbom(sbomOf([deb('zlib1g', '1:1.2.13.dfsg-1', 'zlib')]), lookup, opts);
  assert.deepEqual(matches, []);
  assert.deepEqual(warnings, []);
});

test('open with no fix: affected, not-fixed; undetermined: skipped; wont-fix: affected, wont-fix', async () => {
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ vulnId: 'CVE-2024-0050', name: 'curl', state: 'not-fixed' }),
      affected({ vulnId: 'CVE-2024-0051', name: 'curl', state: 'unknown' }),
      affected({ vulnId: 'CVE-2024-0052', name: 'curl', state: 'wont-fix' }),
    ],
  });
  const { matches } = await matchSbom(sbomOf([deb('libcurl4', '7.88.1-10+deb12u5', 'curl')]), lookup, opts);
  assert.deepEqual(ids(matches), ['libcurl4:CVE-2024-0050', 'libcurl4:CVE-2024-0052']);
  const open = matches.find((m) => m.vulnerability.id === 'CVE-2024-0050')!;
  assert.equal(open.vulnerability.fixState, 'not-fixed');
  assert.deepEqual(open.vulnerability.fixedVersions, []);
  assert.equal(open.match.constraint, 'all versions');
  assert.equal(matches.find((m) => m.vulnerability.id === 'CVE-2024-0052')!.vulnerability.fixState, 'wont-fix');
});

test('Alpine: secfix "0" is not affected; a fix version is affected below it', async () => {
  const alpine = { id: 'alpine', versionId: '3.19.1', idLike: [], source: '/etc/os-release' };
  const apk = (name: string, version: string, origin: string): Package => ({
    name, version, type: 'apk', purl: `pkg:apk/alpine/${name}@${version}`, cpes: [], licenses: [], locations: [{ path: '/lib/apk/db/installed' }],
    sourceName: origin, sourceVersion: version, foundBy: 'apk',
  });
  const base = { source: 'alpine', namespace: 'alpine:3.19', scheme: 'apk' as const };
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ ...base, vulnId: 'CVE-2024-0060', name: 'openssl', state: 'not-affected', fixedVersions: ['0'] }),
      affected({ ...base, vulnId: 'CVE-2024-0061', name: 'openssl', fixedVersions: ['3.1.4-r5'] }),
      affected({ ...base, vulnId: 'CVE-2024-0062', name: 'openssl', fixedVersions: ['3.1.4-r1'] }),
    ],
  });
  const { matches } = await matchSbom(sbomOf([apk('libcrypto3', '3.1.4-r3', 'openssl')], alpine), lookup, opts);
  assert.deepEqual(ids(matches), ['libcrypto3:CVE-2024-0061']);
});

test('Red Hat module streams: modular records match only packages of that stream, non-modular only non-modular', async () => {
  const rhel = { id: 'rhel', versionId: '9.2', idLike: ['fedora'], source: '/etc/os-release' };
  const rpm = (name: string, version: string, label?: string): Package => ({
    name, version, type: 'rpm', purl: `pkg:rpm/rhel/${name}@${version}`, cpes: [], licenses: [], locations: [{ path: '/var/lib/rpm/rpmdb.sqlite' }],
    sourceName: name, sourceVersion: version, foundBy: 'rpm', ...(label ? { metadata: { modularityLabel: label } } : {}),
  });
  const base = { source: 'redhat', namespace: 'rhel:9', scheme: 'rpm' as const, fixedVersions: ['99:1'] };
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ ...base, vulnId: 'CVE-2024-0070', name: 'nodejs', moduleStream: 'nodejs:18' }),
      affected({ ...base, vulnId: 'CVE-2024-0071', name: 'nodejs', moduleStream: 'nodejs:20' }),
      affected({ ...base, vulnId: 'CVE-2024-0072', name: 'nodejs' }),
    ],
  });
  const modular = await matchSbom(sbomOf([rpm('nodejs', '1:18.16.0-1.module+el9.2.0', 'nodejs:18:9020020230613:abcdef')], rhel), lookup, opts);
  assert.deepEqual(ids(modular.matches), ['nodejs:CVE-2024-0070']);
  const plain = await matchSbom(sbomOf([rpm('nodejs', '1:16.20.2-3.el9')], rhel), lookup, opts);
  assert.deepEqual(ids(plain.matches), ['nodejs:CVE-2024-0072']);
});

test('one match per (vulnerability, package) when binary and source records both hit', async () => {
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ vulnId: 'CVE-2024-0080', name: 'openssl', fixedVersions: ['3.0.15-1'] }),
      affected({ vulnId: 'CVE-2024-0080', name: 'libssl3', nameKind: 'binary', fixedVersions: ['3.0.14-1'] }),
      affected({ vulnId: 'CVE-2024-0080', source: 'debian-osv', name: 'openssl', fixedVersions: ['3.0.15-1'] }),
    ],
  });
  const { matches } = await matchSbom(sbomOf([deb('libssl3', '3.0.11-1', 'openssl')]), lookup, opts);
  assert.equal(matches.length, 1);
  assert.deepEqual([...matches[0]!.vulnerability.fixedVersions].sort(), ['3.0.14-1', '3.0.15-1']);
});

test('OSV ranges: introduced inclusive, fixed exclusive, last_affected inclusive, versions[] explicit, introduced "0"', async () => {
  const base = { source: 'ghsa', namespace: 'npm', nameKind: 'binary' as const, scheme: 'semver' as const };
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ ...base, vulnId: 'GHSA-aaaa-aaaa-aaaa', name: 'a', ranges: [{ introduced: '1.0.0', fixed: '1.2.0' }], fixedVersions: ['1.2.0'] }),
      affected({ ...base, vulnId: 'GHSA-bbbb-bbbb-bbbb', name: 'b', ranges: [{ introduced: '0', lastAffected: '1.1.0' }], state: 'not-fixed' }),
      affected({ ...base, vulnId: 'GHSA-cccc-cccc-cccc', name: 'c', versions: ['2.0.0', '2.0.1'] }),
      affected({ ...base, vulnId: 'GHSA-dddd-dddd-dddd', name: 'd', ranges: [{ introduced: '0' }], state: 'not-fixed' }),
    ],
  });
  const cases: [string, string, boolean][] = [
    ['a', '0.9.0', false], ['a', '1.0.0', true], ['a', '1.1.9', true], ['a', '1.2.0', false],
    ['b', '0.0.1', true], ['b', '1.1.0', true], ['b', '1.1.1', false],
    ['c', '2.0.0', true], ['c', '2.0.1', true], ['c', '2.0.2', false],
    ['d', '0.0.1', true], ['d', '99.0.0', true],
  ];
  for (const [name, version, hit] of cases) {
    const { matches } = await matchSbom(sbomOf([npm(name, version)]), lookup, opts);
    assert.equal(matches.length, hit ? 1 : 0, `${name}@${version}`);
  }
  const a = (await matchSbom(sbomOf([npm('a', '1.1.0')]), lookup, opts)).matches[0]!;
  assert.equal(a.match.kind, 'language');
  assert.equal(a.match.constraint, '>= 1.0.0, < 1.2.0');
  assert.equal(a.vulnerability.fixState, 'fixed');
  assert.deepEqual(a.vulnerability.fixedVersions, ['1.2.0']);
  const b = (await matchSbom(sbomOf([npm('b', '1.0.0')]), lookup, opts)).matches[0]!;
  assert.equal(b.match.constraint, '<= 1.1.0');
  assert.equal(b.vulnerability.fixState, 'not-fixed');
  const c = (await matchSbom(sbomOf([npm('c', '2.0.1')]), lookup, opts)).matches[0]!;
  assert.equal(c.match.constraint, '= 2.0.1');
});

test('an advisory listing one package twice (one entry per range) is judged on every entry, and matches once', async () => {
  const base = { source: 'ghsa', namespace: 'npm', nameKind: 'binary' as const, scheme: 'semver' as const, vulnId: 'GHSA-eeee-eeee-eeee', name: 'left-pad' };
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ ...base, ranges: [{ introduced: '2.0.0', fixed: '2.1.0' }], fixedVersions: ['2.1.0'] }),
      affected({ ...base, ranges: [{ introduced: '0', fixed: '1.3.1' }], fixedVersions: ['1.3.1'] }),
      affected({ ...base, ranges: [{ introduced: '0', fixed: '1.3.2' }], fixedVersions: ['1.3.2'] }),
    ],
  });
  const cases: [string, number][] = [['2.0.5', 1], ['1.0.0', 1], ['1.3.1', 1], ['1.5.0', 0], ['2.1.0', 0]];
  for (const [version, n] of cases) {
    const { matches } = await matchSbom(sbomOf([npm('left-pad', version)]), lookup, opts);
    assert.equal(matches.length, n, `left-pad@${version}`);
  }
});

test('GHSA + OSV + NVD for one CVE become one match under the CVE id', async () => {
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ source: 'ghsa', namespace: 'pypi', nameKind: 'binary', scheme: 'pep440', vulnId: 'GHSA-jjjj-jjjj-jjjj', name: 'requests', ranges: [{ introduced: '0', fixed: '2.31.0' }], fixedVersions: ['2.31.0'] }),
      affected({ source: 'osv', namespace: 'pypi', nameKind: 'binary', scheme: 'pep440', vulnId: 'PYSEC-2023-74', name: 'requests', ranges: [{ introduced: '2.3.0', fixed: '2.31.0' }], fixedVersions: ['2.31.0'] }),
      // A different vulnerability of the same package stays separate.
      affected({ source: 'ghsa', namespace: 'pypi', nameKind: 'binary', scheme: 'pep440', vulnId: 'GHSA-kkkk-kkkk-kkkk', name: 'requests', ranges: [{ introduced: '0', fixed: '2.32.0' }], fixedVersions: ['2.32.0'] }),
    ],
    vulnerabilities: [
      vuln({ id: 'GHSA-jjjj-jjjj-jjjj', source: 'ghsa', aliases: ['CVE-2023-32681'], severity: 'Medium', summary: 'Proxy-Authorization leak', references: ['https://github.com/psf/requests/security/advisories/GHSA-jjjj-jjjj-jjjj'] }),
      vuln({ id: 'PYSEC-2023-74', source: 'osv', aliases: ['CVE-2023-32681', 'GHSA-jjjj-jjjj-jjjj'], references: ['https://github.com/psf/requests/releases/tag/v2.31.0'] }),
      vuln({ id: 'CVE-2023-32681', source: 'nvd', description: 'Requests leaks Proxy-Authorization headers to destination servers.',
        cvss: [{ source: 'nvd', version: '3.1', vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N', baseScore: 6.1, type: 'Primary' }],
        references: ['https://nvd.nist.gov/vuln/detail/CVE-2023-32681'] }),
      vuln({ id: 'GHSA-kkkk-kkkk-kkkk', source: 'ghsa', aliases: ['CVE-2024-35195'], severity: 'Medium' }),
    ],
  });
  const pkg: Package = { ...npm('requests', '2.28.1'), type: 'python', purl: 'pkg:pypi/requests@2.28.1', locations: [{ path: '/usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA' }] };
  const { matches } = await matchSbom(sbomOf([pkg]), lookup, opts);
  assert.deepEqual(matches.map((m) => m.vulnerability.id).sort(), ['CVE-2023-32681', 'CVE-2024-35195']);
  const m = matches.find((x) => x.vulnerability.id === 'CVE-2023-32681')!;
  assert.deepEqual(m.vulnerability.aliases, ['GHSA-jjjj-jjjj-jjjj', 'PYSEC-2023-74']);
  assert.deepEqual(m.vulnerability.fixedVersions, ['2.31.0']);
  assert.equal(m.vulnerability.description, 'Requests leaks Proxy-Authorization headers to destination servers.');
  assert.deepEqual(m.vulnerability.references.sort(), [
    'https://github.com/psf/requests/releases/tag/v2.31.0',
    'https://github.com/psf/requests/security/advisories/GHSA-jjjj-jjjj-jjjj',
    'https://nvd.nist.gov/vuln/detail/CVE-2023-32681',
  ]);
  assert.equal(m.vulnerability.cvss.length, 1);
  // The advisory's own rating comes before NVD's score.
  assert.equal(m.vulnerability.severity, 'Medium');
  assert.equal(m.vulnerability.severitySource, 'ghsa');
  assert.deepEqual(m.vulnerability.sources, ['ghsa:GHSA-jjjj-jjjj-jjjj', 'nvd:CVE-2023-32681', 'osv:PYSEC-2023-74']);
});

test('records naming different CVEs are not glued together by a shared advisory alias', async () => {
  const base = { source: 'osv', namespace: 'npm', nameKind: 'binary' as const, scheme: 'semver' as const, ranges: [{ introduced: '0', fixed: '2.0.0' }], fixedVersions: ['2.0.0'] };
  const lookup = new MemoryLookup().add({
    affected: [affected({ ...base, vulnId: 'CVE-2024-1000', name: 'x' }), affected({ ...base, vulnId: 'CVE-2024-1001', name: 'x' })],
    vulnerabilities: [
      vuln({ id: 'CVE-2024-1000', source: 'osv', aliases: ['BIT-x-2024-1'] }),
      vuln({ id: 'CVE-2024-1001', source: 'osv', aliases: ['BIT-x-2024-1'] }),
    ],
  });
  const { matches } = await matchSbom(sbomOf([npm('x', '1.0.0')]), lookup, opts);
  assert.deepEqual(matches.map((m) => m.vulnerability.id).sort(), ['CVE-2024-1000', 'CVE-2024-1001']);
});

test('severity precedence: distro vendor per-package, then the vendor record; language advisory, then NVD CVSS, then any CVSS; else Unknown', async () => {
  const nvd9 = [{ source: 'nvd', version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', baseScore: 9.8, type: 'Primary' as const }];
  const lang = { source: 'ghsa', namespace: 'npm', nameKind: 'binary' as const, scheme: 'semver' as const, state: 'not-fixed' as const };
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ vulnId: 'CVE-2024-2000', name: 'p', severity: 'Low' }),
      affected({ vulnId: 'CVE-2024-2001', name: 'p' }),
      affected({ vulnId: 'CVE-2024-2002', name: 'p' }),
      affected({ ...lang, vulnId: 'GHSA-2222-2222-2222', name: 'l' }),
      affected({ ...lang, vulnId: 'GHSA-3333-3333-3333', name: 'l' }),
      affected({ ...lang, vulnId: 'GHSA-4444-4444-4444', name: 'l' }),
      affected({ ...lang, vulnId: 'GHSA-5555-5555-5555', name: 'l' }),
    ],
    vulnerabilities: [
      vuln({ id: 'CVE-2024-2000', source: 'nvd', cvss: nvd9 }),
      vuln({ id: 'CVE-2024-2001', source: 'debian', severity: 'Medium' }),
      vuln({ id: 'CVE-2024-2001', source: 'nvd', cvss: nvd9 }),
      vuln({ id: 'CVE-2024-2002', source: 'nvd', cvss: nvd9 }),
      vuln({ id: 'GHSA-2222-2222-2222', source: 'ghsa', severity: 'Low', aliases: ['CVE-2024-2100'] }),
      vuln({ id: 'CVE-2024-2100', source: 'nvd', cvss: nvd9 }),
      vuln({ id: 'GHSA-3333-3333-3333', source: 'ghsa', aliases: ['CVE-2024-2101'] }),
      vuln({ id: 'CVE-2024-2101', source: 'nvd', cvss: [{ ...nvd9[0]!, baseScore: 7.5 }] }),
      vuln({ id: 'GHSA-4444-4444-4444', source: 'ghsa', cvss: [{ source: 'ghsa', version: '2.0', vector: 'AV:N/AC:L/Au:N/C:P/I:P/A:P', baseScore: 5.0 }] }),
    ],
  });
  const { matches } = await matchSbom(sbomOf([deb('p', '1.0-1'), npm('l', '1.0.0')]), lookup, opts);
  const sev = Object.fromEntries(matches.map((m) => [m.vulnerability.id, `${m.vulnerability.severity}/${m.vulnerability.severitySource}`]));
  assert.deepEqual(sev, {
    'CVE-2024-2000': 'Low/debian', // Affected.severity beats NVD's 9.8
    'CVE-2024-2001': 'Medium/debian', // the vendor's record
    'CVE-2024-2002': 'Critical/nvd', // nothing from the vendor: NVD
    'CVE-2024-2100': 'Low/ghsa', // the advisory's rating beats NVD
    'CVE-2024-2101': 'High/nvd', // NVD primary v3.1
    'GHSA-4444-4444-4444': 'Medium/ghsa', // any CVSS (v2)
    'GHSA-5555-5555-5555': 'Unknown/',
  });
});

test('KEV and EPSS attach by CVE id and by CVE alias', async () => {
  const lang = { source: 'ghsa', namespace: 'npm', nameKind: 'binary' as const, scheme: 'semver' as const, state: 'not-fixed' as const };
  const lookup = new MemoryLookup().add({
    affected: [affected({ vulnId: 'CVE-2021-44228', name: 'p', state: 'not-fixed' }), affected({ ...lang, vulnId: 'GHSA-6666-6666-6666', name: 'l' })],
    vulnerabilities: [vuln({ id: 'GHSA-6666-6666-6666', source: 'ghsa', aliases: ['CVE-2023-9999'] })],
    kev: [
      { cve: 'CVE-2021-44228', dateAdded: '2021-12-10', dueDate: '2021-12-24', knownRansomwareCampaignUse: 'Known' },
      { cve: 'CVE-2023-9999', dateAdded: '2024-01-01' },
    ],
    epss: [{ cve: 'CVE-2021-44228', score: 0.97, percentile: 0.9999, date: '2025-01-01' }, { cve: 'CVE-2023-9999', score: 0.1, percentile: 0.8, date: '2025-01-01' }],
  });
  const { matches } = await matchSbom(sbomOf([deb('p', '1.0-1'), npm('l', '1.0.0')]), lookup, opts);
  const log4 = matches.find((m) => m.vulnerability.id === 'CVE-2021-44228')!;
  assert.deepEqual(log4.vulnerability.kev, { dateAdded: '2021-12-10', dueDate: '2021-12-24', ransomware: 'Known' });
  assert.deepEqual(log4.vulnerability.epss, { score: 0.97, percentile: 0.9999, date: '2025-01-01' });
  const aliased = matches.find((m) => m.package.name === 'l')!;
  assert.equal(aliased.vulnerability.id, 'CVE-2023-9999');
  assert.deepEqual(aliased.vulnerability.kev, { dateAdded: '2024-01-01' });
  assert.equal(aliased.vulnerability.epss?.score, 0.1);
});

test('onlyFixed drops matches without a released fix', async () => {
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ vulnId: 'CVE-2024-3000', name: 'p', fixedVersions: ['2.0-1'] }),
      affected({ vulnId: 'CVE-2024-3001', name: 'p', state: 'not-fixed' }),
      affected({ vulnId: 'CVE-2024-3002', name: 'p', state: 'wont-fix' }),
    ],
  });
  const all = await matchSbom(sbomOf([deb('p', '1.0-1')]), lookup, opts);
  assert.equal(all.matches.length, 3);
  const fixed = await matchSbom(sbomOf([deb('p', '1.0-1')]), lookup, { ...opts, onlyFixed: true });
  assert.deepEqual(ids(fixed.matches), ['p:CVE-2024-3000']);
});

test('a release with no data at all gets a warning; one with data does not', async () => {
  const lookup = new MemoryLookup().add({ affected: [affected({ vulnId: 'CVE-2024-4000', name: 'openssl', state: 'not-affected' })] });
  const trixie = { id: 'debian', versionId: '13', idLike: [], source: '/etc/os-release' };
  const none = await matchSbom(sbomOf([deb('libssl3', '3.5.0-1', 'openssl', undefined, 'debian-13')], trixie), lookup, opts);
  assert.deepEqual(none.warnings, ['no vulnerability data for debian:13 (unsupported or end-of-life release?)']);
  // debian:12 has a record for openssl (even a not-affected one): data exists, nothing matched, no warning.
  const some = await matchSbom(sbomOf([deb('libssl3', '3.0.11-1', 'openssl')]), lookup, opts);
  assert.deepEqual(some.warnings, []);
  assert.deepEqual(some.matches, []);
  // No OS packages at all: nothing to warn about.
  const lang = await matchSbom(sbomOf([npm('x', '1.0.0')], trixie), lookup, opts);
  assert.deepEqual(lang.warnings, []);
  // OS packages but no distro: they cannot be matched, and a warning says so.
  const nodistro = await matchSbom(sbomOf([deb('p', '1.0-1')], null), lookup, opts);
  assert.match(nodistro.warnings.join('\n'), /distro is unknown/);
});

test('no warning when the release has data but none of the image\'s packages is named in it (issue 17)', async () => {
  const lookup = new MemoryLookup().add({ affected: [affected({ vulnId: 'CVE-2024-4001', name: 'openssl', fixedVersions: ['3.0.13-1'] })] });
  // base-files and tzdata: no advisory names them, but debian:12 is in the data
  const r = await matchSbom(sbomOf([deb('base-files', '12.4'), deb('tzdata', '2024a-0')]), lookup, opts);
  assert.deepEqual([r.warnings, r.matches], [[], []]);
  // a lookup that cannot say which namespaces it holds keeps the lookups' word
  const { hasNamespace: _h, ...plain } = { hasNamespace: undefined, affected: lookup.affected.bind(lookup), vulnerabilities: lookup.vulnerabilities.bind(lookup),
    kev: lookup.kev.bind(lookup), epss: lookup.epss.bind(lookup) };
  const old = await matchSbom(sbomOf([deb('base-files', '12.4')]), plain, opts);
  assert.deepEqual(old.warnings, ['no vulnerability data for debian:12 (unsupported or end-of-life release?)']);
});

test('a record withdrawn by its source does not match', async () => {
  const lookup = new MemoryLookup().add({
    affected: [affected({ source: 'osv', namespace: 'npm', nameKind: 'binary', scheme: 'semver', vulnId: 'GHSA-7777-7777-7777', name: 'w', state: 'not-fixed' })],
    vulnerabilities: [vuln({ id: 'GHSA-7777-7777-7777', source: 'osv', withdrawn: '2024-05-01T00:00:00Z' })],
  });
  assert.deepEqual((await matchSbom(sbomOf([npm('w', '1.0.0')]), lookup, opts)).matches, []);
});

test('with the real version schemes (src/versions): dpkg epochs and tildes, rpm, apk, semver, pep440', async () => {
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ vulnId: 'CVE-2024-5000', name: 'a', fixedVersions: ['1.3-1'] }),
      affected({ vulnId: 'CVE-2024-5001', name: 'b', fixedVersions: ['1:1.0-1'] }),
      affected({ vulnId: 'CVE-2024-5002', name: 'c', fixedVersions: ['3.0.15-1~deb12u1'] }),
      affected({ vulnId: 'CVE-2024-5003', name: 'c', fixedVersions: ['3.0.11-1~deb12u1'] }),
      affected({ source: 'ghsa', namespace: 'npm', nameKind: 'binary', scheme: 'semver', vulnId: 'GHSA-8888-8888-8888', name: 'n', ranges: [{ introduced: '1.0.0-beta.1', fixed: '1.10.0' }], fixedVersions: ['1.10.0'] }),
      affected({ source: 'osv', namespace: 'pypi', nameKind: 'binary', scheme: 'pep440', vulnId: 'PYSEC-2024-1', name: 'p', ranges: [{ introduced: '0', fixed: '2.0.0rc1' }], fixedVersions: ['2.0.0rc1'] }),
    ],
  });
  const py: Package = { ...npm('p', '2.0.0b3'), type: 'python', purl: 'pkg:pypi/p@2.0.0b3' };
  const { matches, warnings } = await matchSbom(sbomOf([deb('a', '1:1.2-1'), deb('b', '1.2-1'), deb('c', '3.0.11-1~deb12u1'), npm('n', '1.9.3'), py]), lookup);
  assert.deepEqual(warnings, []);
  assert.deepEqual(ids(matches), ['b:CVE-2024-5001', 'c:CVE-2024-5002', 'n:GHSA-8888-8888-8888', 'p:PYSEC-2024-1']);

  const rhel = { id: 'rhel', versionId: '9.4', idLike: ['fedora'], source: '/etc/os-release' };
  const rpm: Package = {
    name: 'openssl-libs', version: '1:3.0.7-27.el9', type: 'rpm', purl: 'pkg:rpm/rhel/openssl-libs@3.0.7-27.el9?epoch=1', cpes: [], licenses: [],
    locations: [{ path: '/var/lib/rpm/rpmdb.sqlite' }], sourceName: 'openssl', sourceVersion: '3.0.7-27.el9', epoch: 1, foundBy: 'rpm',
  };
  const r = new MemoryLookup().add({
    affected: [
      affected({ source: 'redhat', namespace: 'rhel:9', scheme: 'rpm', vulnId: 'CVE-2024-5010', name: 'openssl', fixedVersions: ['1:3.0.7-28.el9_4'] }),
      affected({ source: 'redhat', namespace: 'rhel:9', scheme: 'rpm', vulnId: 'CVE-2024-5011', name: 'openssl', fixedVersions: ['1:3.0.7-24.el9'] }),
    ],
  });
  assert.deepEqual(ids((await matchSbom(sbomOf([rpm], rhel), r)).matches), ['openssl-libs:CVE-2024-5010']);

  const alpine = { id: 'alpine', versionId: '3.19.1', idLike: [], source: '/etc/os-release' };
  const apk: Package = { name: 'libcrypto3', version: '3.1.4-r3', type: 'apk', purl: 'pkg:apk/alpine/libcrypto3@3.1.4-r3', cpes: [], licenses: [], locations: [{ path: '/lib/apk/db/installed' }], sourceName: 'openssl', sourceVersion: '3.1.4-r3', foundBy: 'apk' };
  const a = new MemoryLookup().add({
    affected: [
      affected({ source: 'alpine', namespace: 'alpine:3.19', scheme: 'apk', vulnId: 'CVE-2024-5020', name: 'openssl', fixedVersions: ['3.1.4-r5'] }),
      affected({ source: 'alpine', namespace: 'alpine:3.19', scheme: 'apk', vulnId: 'CVE-2024-5021', name: 'openssl', fixedVersions: ['3.1.4-r1'] }),
    ],
  });
  assert.deepEqual(ids((await matchSbom(sbomOf([apk], alpine), a)).matches), ['libcrypto3:CVE-2024-5020']);
});
