import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fire, makeSbom, makeScan, match, oneRuleBundle } from '../testing.js';
import { NO_VULNERABILITY_DATA } from './vulnerabilities.js';
import { md5TriggerId } from '../gate.js';
import type { Match, ScanResult } from '../../vulns/model.js';

const NVD_CRITICAL = { source: 'nvd', version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', baseScore: 9.8 };
const NVD_LOCAL = { source: 'nvd', version: '3.1', vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', baseScore: 7.8 };
const VENDOR = { source: 'debian', version: '3.1', vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N', baseScore: 5.9 };

const openssl = match('CVE-2024-0001', 'High', 'openssl', { vulnerability: { fixState: 'fixed', fixedVersions: ['3.0.13-1', '3.1.5-1'], cvss: [NVD_CRITICAL, VENDOR] } });
const zlib = match('CVE-2024-0002', 'Medium', 'zlib1g', { vulnerability: { cvss: [NVD_LOCAL] } });
const tar = match('CVE-2024-0003', 'Low', 'tar', { vulnerability: { fixState: 'wont-fix' } });
const log4j = match('GHSA-jfh8-c2jp-5v3q', 'Critical', 'log4j-core', {
  vulnerability: { aliases: ['CVE-2021-44228'], fixState: 'fixed', fixedVersions: ['2.15.0'] },
  package: { type: 'java-archive', version: '2.14.1', locations: [{ path: '/app/lib/log4j-core-2.14.1.jar' }] },
});
const lodash = match('GHSA-p6mc-m468-83gw', 'High', 'lodash', { package: { type: 'npm', version: '4.17.15', locations: [{ path: '/app/node_modules/lodash/package.json' }] } });
const requests = match('GHSA-j8r2-6x86-q33q', 'Medium', 'requests', { package: { type: 'python', version: '2.25.0', locations: [{ path: '/usr/lib/python3/dist-packages/requests-2.25.0.dist-info/METADATA' }] } });
const rake = match('CVE-2020-8130', 'High', 'rake', { package: { type: 'gem', version: '12.3.2', locations: [{ path: '/usr/lib/ruby/gems/2.7.0/specifications/rake-12.3.2.gemspec' }] } });
const testJar = match('GHSA-xxxx-yyyy-zzzz', 'High', 'junit', { package: { type: 'java-archive', version: '4.12', locations: [{ path: '/app/test/junit-4.12.jar' }] } });
const scan = makeScan([openssl, zlib, tar, log4j, lodash, requests, rake, testJar]);

const OPENSSL_MSG = 'HIGH Vulnerability found in os package type (dpkg) - openssl (fixed in: 3.0.13-1, 3.1.5-1)(CVE-2024-0001 - https://nvd.nist.gov/vuln/detail/CVE-2024-0001)';

const cases: { name: string; params: Record<string, string>; scan?: ScanResult; want: [string, string][] }[] = [
  { name: 'above medium, every package class', params: { package_type: 'all', severity_comparison: '>', severity: 'medium' }, want: [
    ['CVE-2024-0001+openssl', OPENSSL_MSG],
    ['GHSA-jfh8-c2jp-5v3q+log4j-core-2.14.1.jar', 'CRITICAL Vulnerability found in non-os package type (java) - /app/lib/log4j-core-2.14.1.jar (fixed in: 2.15.0)(GHSA-jfh8-c2jp-5v3q - https://github.com/advisories/GHSA-jfh8-c2jp-5v3q)'],
    ['GHSA-p6mc-m468-83gw+lodash', 'HIGH Vulnerability found in non-os package type (npm) - /app/node_modules/lodash/package.json (GHSA-p6mc-m468-83gw - https://github.com/advisories/GHSA-p6mc-m468-83gw)'],
    ['CVE-2020-8130+rake-12.3.2.gemspec', 'HIGH Vulnerability found in non-os package type (gem) - /usr/lib/ruby/gems/2.7.0/specifications/rake-12.3.2.gemspec (CVE-2020-8130 - https://nvd.nist.gov/vuln/detail/CVE-2020-8130)'],
    ['GHSA-xxxx-yyyy-zzzz+junit-4.12.jar', 'HIGH Vulnerability found in non-os package type (java) - /app/test/junit-4.12.jar (GHSA-xxxx-yyyy-zzzz - https://github.com/advisories/GHSA-xxxx-yyyy-zzzz)'],
  ] },
  { name: 'exactly medium: python packages are named name-version', params: { package_type: 'all', severity_comparison: '=', severity: 'medium' }, want: [
    ['CVE-2024-0002+zlib1g', 'MEDIUM Vulnerability found in os package type (dpkg) - zlib1g (CVE-2024-0002 - https://nvd.nist.gov/vuln/detail/CVE-2024-0002)'],
    ['GHSA-j8r2-6x86-q33q+requests-2.25.0', 'MEDIUM Vulnerability found in non-os package type (python) - /usr/lib/python3/dist-packages/requests-2.25.0.dist-info/METADATA (GHSA-j8r2-6x86-q33q - https://github.com/advisories/GHSA-j8r2-6x86-q33q)'],
  ] },
  { name: 'OS packages only', params: { package_type: 'os', severity_comparison: '>=', severity: 'high' }, want: [['CVE-2024-0001+openssl', OPENSSL_MSG]] },
  { name: 'non-OS packages only, excluding a path', params: { package_type: 'non-os', severity: 'high', severity_comparison: '>=', package_path_exclude: '.*/test/.*' },
    want: [['GHSA-jfh8-c2jp-5v3q+log4j-core-2.14.1.jar', 'CRITICAL Vulnerability found in non-os package type (java) - /app/lib/log4j-core-2.14.1.jar (fixed in: 2.15.0)(GHSA-jfh8-c2jp-5v3q - https://github.com/advisories/GHSA-jfh8-c2jp-5v3q)'],
      ['GHSA-p6mc-m468-83gw+lodash', 'HIGH Vulnerability found in non-os package type (npm) - /app/node_modules/lodash/package.json (GHSA-p6mc-m468-83gw - https://github.com/advisories/GHSA-p6mc-m468-83gw)'],
      ['CVE-2020-8130+rake-12.3.2.gemspec', 'HIGH Vulnerability found in non-os package type (gem) - /usr/lib/ruby/gems/2.7.0/specifications/rake-12.3.2.gemspec (CVE-2020-8130 - https://nvd.nist.gov/vuln/detail/CVE-2020-8130)']] },
  { name: 'won\'t-fix skipped by default (vendor_only)', params: { package_type: 'os', severity: 'low', severity_comparison: '=' }, want: [] },
  { name: 'won\'t-fix included with vendor_only=false', params: { package_type: 'os', severity: 'low', severity_comparison: '=', vendor_only: 'false' },
    want: [['CVE-2024-0003+tar', 'LOW Vulnerability found in os package type (dpkg) - tar (CVE-2024-0003 - https://nvd.nist.gov/vuln/detail/CVE-2024-0003)']] },
  { name: 'fix available', params: { package_type: 'os', fix_available: 'true' }, want: [['CVE-2024-0001+openssl', OPENSSL_MSG]] },
  { name: 'no fix available', params: { package_type: 'os', fix_available: 'false' },
    want: [['CVE-2024-0002+zlib1g', 'MEDIUM Vulnerability found in os package type (dpkg) - zlib1g (CVE-2024-0002 - https://nvd.nist.gov/vuln/detail/CVE-2024-0002)']] },
  { name: 'NVD CVSS v3 base score (default >=), shown in the message', params: { package_type: 'os', cvss_v3_base_score: '9.8' },
    want: [['CVE-2024-0001+openssl', 'HIGH Vulnerability found in os package type (dpkg) - openssl (fixed in: 3.0.13-1, 3.1.5-1)(cvss_v3_base_score=9.8)(CVE-2024-0001 - https://nvd.nist.gov/vuln/detail/CVE-2024-0001)']] },
  { name: 'NVD exploitability and impact sub-scores from the vector', params: { package_type: 'os', cvss_v3_exploitability_score_comparison: '<', cvss_v3_exploitability_score: '3', cvss_v3_impact_score: '5.9' },
    want: [['CVE-2024-0002+zlib1g', 'MEDIUM Vulnerability found in os package type (dpkg) - zlib1g (cvss_v3_exploitability_score=1.8 cvss_v3_impact_score=5.9)(CVE-2024-0002 - https://nvd.nist.gov/vuln/detail/CVE-2024-0002)']] },
  { name: 'no CVSS v3 score counts as -1', params: { package_type: 'os', cvss_v3_base_score_comparison: '<', cvss_v3_base_score: '0', vendor_only: 'false' },
    want: [['CVE-2024-0003+tar', 'LOW Vulnerability found in os package type (dpkg) - tar (cvss_v3_base_score=-1.0)(CVE-2024-0003 - https://nvd.nist.gov/vuln/detail/CVE-2024-0003)']] },
  { name: 'vendor CVSS v3 score', params: { package_type: 'all', vendor_cvss_v3_base_score_comparison: '>', vendor_cvss_v3_base_score: '5', vendor_cvss_v3_impact_score: '3.6' },
    want: [['CVE-2024-0001+openssl', 'HIGH Vulnerability found in os package type (dpkg) - openssl (fixed in: 3.0.13-1, 3.1.5-1)(vendor_cvss_v3_base_score=5.9 vendor_cvss_v3_impact_score=3.6)(CVE-2024-0001 - https://nvd.nist.gov/vuln/detail/CVE-2024-0001)']] },
  { name: 'detected less than max_days_since_creation ago', params: { package_type: 'os', max_days_since_creation: '7' }, want: [] },
  { name: 'detected more than max_days_since_creation ago', params: { package_type: 'os', severity: 'high', severity_comparison: '=', max_days_since_creation: '7' },
    scan: makeScan([openssl], { createdAt: '2024-05-01T00:00:00Z' }),
    want: [['CVE-2024-0001+openssl', 'HIGH Vulnerability found in os package type (dpkg) - openssl (fixed in: 3.0.13-1, 3.1.5-1)(max_days_since_creation=2024-05-01)(CVE-2024-0001 - https://nvd.nist.gov/vuln/detail/CVE-2024-0001)']] },
  { name: 'fix seen more than max_days_since_fix ago', params: { package_type: 'os', fix_available: 'true', max_days_since_fix: '30' },
    scan: makeScan([openssl], { createdAt: '2024-04-01T00:00:00Z' }),
    want: [['CVE-2024-0001+openssl', 'HIGH Vulnerability found in os package type (dpkg) - openssl (fixed in: 3.0.13-1, 3.1.5-1)(max_days_since_fix=2024-04-01)(CVE-2024-0001 - https://nvd.nist.gov/vuln/detail/CVE-2024-0001)']] },
  { name: 'fix seen less than max_days_since_fix ago', params: { package_type: 'os', fix_available: 'true', max_days_since_fix: '90' },
    scan: makeScan([openssl], { createdAt: '2024-04-01T00:00:00Z' }), want: [] },
];

const pairs = (ms: { id: string; msg: string }[]) => ms.map((m) => [m.id, m.msg]);

for (const c of cases) {
  test(`vulnerabilities/package: ${c.name}`, () => {
    assert.deepEqual(pairs(fire('vulnerabilities', 'package', c.params, { scan: c.scan ?? scan })), c.want);
  });
}

const noData = [md5TriggerId('vulnerabilities', 'package', NO_VULNERABILITY_DATA), NO_VULNERABILITY_DATA];

test('vulnerabilities/package and blacklist without a vulnerability database fire, saying so', () => {
  assert.deepEqual(pairs(fire('vulnerabilities', 'package', { package_type: 'all' }, { scan: undefined })), [noData]);
  assert.deepEqual(fire('vulnerabilities', 'blacklist', { vulnerability_ids: 'CVE-2021-44228' }, { scan: undefined }).map((f) => f.msg), [NO_VULNERABILITY_DATA]);
});

const blacklistCases: { name: string; params: Record<string, string>; want: string[] }[] = [
  { name: 'by id and by alias, in parameter order', params: { vulnerability_ids: 'CVE-2021-44228, CVE-2024-0001, CVE-1999-0001' },
    want: ["Blacklisted vulnerabilities detected: ['CVE-2021-44228', 'CVE-2024-0001']"] },
  { name: 'won\'t-fix skipped by default', params: { vulnerability_ids: 'CVE-2024-0003' }, want: [] },
  { name: 'won\'t-fix with vendor_only=false', params: { vulnerability_ids: 'CVE-2024-0003', vendor_only: 'false' }, want: ["Blacklisted vulnerabilities detected: ['CVE-2024-0003']"] },
];
for (const c of blacklistCases) {
  test(`vulnerabilities/blacklist: ${c.name}`, () => {
    assert.deepEqual(fire('vulnerabilities', 'blacklist', c.params, { scan }).map((f) => f.msg), c.want);
  });
}

const STALE = 'The vulnerability feed for this image distro is older than MAXAGE (2) days';
const staleCases: { name: string; scan: ScanResult | undefined; want: string[] }[] = [
  { name: 'fresh data', scan: makeScan([]), want: [] },
  { name: 'a source older than the limit', scan: makeScan([], { db: { sources: [{ source: 'debian', lastSync: '2024-06-01T00:00:00Z' }, { source: 'nvd', lastSync: '2024-05-20T00:00:00Z' }] } }), want: [STALE] },
  { name: 'the build time when sources have no sync time', scan: makeScan([], { db: { built: '2024-05-01T00:00:00Z', sources: [{ source: 'osv' }] } }), want: [STALE] },
  { name: 'no time known', scan: makeScan([], { db: { sources: [] } }), want: [STALE] },
  { name: 'no database', scan: undefined, want: [STALE] },
];
for (const c of staleCases) {
  test(`vulnerabilities/stale_feed_data: ${c.name}`, () => {
    assert.deepEqual(fire('vulnerabilities', 'stale_feed_data', { max_days_since_sync: '2' }, { scan: c.scan }).map((f) => f.msg), c.want);
  });
}

const unavailable = (ns: string) => `Distro-specific feed data not found for distro namespace: ${ns}. Cannot perform CVE scan OS/distro packages`;
const dataCases: { name: string; distro?: { id: string; versionId?: string }; scan: ScanResult | undefined; want: string[]; sbomFile?: boolean }[] = [
  { name: 'data for the release', scan: makeScan([]), want: [] },
  { name: 'the scan found no data for the release', scan: makeScan([], { warnings: ['no vulnerability data for debian:12 (unsupported or end-of-life release?)'] }), want: [unavailable('debian:12')] },
  { name: 'a warning about another release', distro: { id: 'debian', versionId: '1' }, scan: makeScan([], { warnings: ['no vulnerability data for debian:12 (unsupported or end-of-life release?)'] }), want: [] },
  { name: 'no database', scan: undefined, want: [unavailable('debian:12')] },
  { name: 'no distribution', distro: undefined, scan: makeScan([]), want: [unavailable('None')] },
  { name: 'the release named as the scan names its namespace', distro: { id: 'rocky', versionId: '9.3' }, scan: makeScan([], { warnings: ['no vulnerability data for rocky:9 (unsupported or end-of-life release?)'] }), want: [unavailable('rocky:9')] },
  { name: 'an SBOM file without a distribution', distro: undefined, scan: makeScan([]), sbomFile: true, want: [unavailable('(no distro in SBOM)')] },
];
for (const c of dataCases) {
  test(`vulnerabilities/vulnerability_data_unavailable: ${c.name}`, () => {
    const distro = 'distro' in c ? (c.distro ? { ...c.distro, idLike: [], source: '/etc/os-release' } : undefined) : makeSbom().distro;
    const base = makeSbom();
    const sbom = { ...base, distro, ...(c.sbomFile ? { source: { ...base.source, imageId: '' } } : {}) };
    assert.deepEqual(fire('vulnerabilities', 'vulnerability_data_unavailable', {}, { sbom, scan: c.scan }).map((f) => f.msg), c.want);
  });
}

test('vulnerabilities/package: severity Unknown counts as the lowest', () => {
  const m: Match = match('CVE-2024-0009', 'Unknown', 'x');
  assert.equal(fire('vulnerabilities', 'package', { package_type: 'all', severity: 'unknown', severity_comparison: '=' }, { scan: makeScan([m]) }).length, 1);
  assert.equal(fire('vulnerabilities', 'package', { package_type: 'all' }, { scan: makeScan([m]) }).length, 0);
});

test('vulnerabilities/package: inherited_from_base gates only on what came from the base (true) or what the image added (false)', () => {
  const fromBase = { ...openssl, inheritedFromBase: true };
  const own = { ...zlib, inheritedFromBase: false };
  const unknown = { ...lodash };
  const baseScan = makeScan([fromBase, own, unknown]);
  const ids = (params: Record<string, string>) => fire('vulnerabilities', 'package', { package_type: 'all', ...params }, { scan: baseScan }).map((f) => f.msg.replace(/.*\((CVE|GHSA)/, '$1').split(' ')[0]!);
  assert.deepEqual(ids({}), ['CVE-2024-0001', 'CVE-2024-0002', 'GHSA-p6mc-m468-83gw'], 'without the parameter, every finding');
  assert.deepEqual(ids({ inherited_from_base: 'true' }), ['CVE-2024-0001']);
  assert.deepEqual(ids({ inherited_from_base: 'false' }), ['CVE-2024-0002', 'GHSA-p6mc-m468-83gw'], 'a finding with no base known is the image\'s own');
  const bad = oneRuleBundle('vulnerabilities', 'package', { package_type: 'all', inherited_from_base: 'maybe' }).problems.filter((p) => p.severity === 'error');
  assert.equal(bad.length, 1);
  assert.match(`${bad[0]!.location} ${bad[0]!.message}`, /inherited_from_base/);
});
