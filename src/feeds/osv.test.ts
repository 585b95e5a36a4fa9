import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { convertOsv, ecosystemTarget, parseOsvText, severityWord, type OsvConversion } from './osv.js';
import { openZip } from '../analyze/zip.js';
import { sample, skipWithoutSample as skipWithout } from '../testkit/vulndata.js';
import { ECOSYSTEMS, type Ecosystem } from '../sbom/ecosystems.js';
import { schemeForNamespace } from '../vulns/namespace.js';
import { DEFAULT_OSV_ECOSYSTEMS } from './drivers/osv.js';


function convertFile(relative: string, source = 'osv'): { result: OsvConversion | undefined; warnings: string[] } {
  const path = sample(relative);
  const warnings: string[] = [];
  const result = convertOsv(parseOsvText(readFileSync(path, 'utf8'), path), { source, warn: (m) => warnings.push(m) });
  return { result, warnings };
}

test('ecosystem strings map to namespaces; unknown ones are not matched', () => {
  const cases: [string, string | undefined, ('source' | 'binary')?][] = [
    ['Debian:12', 'debian:12', 'source'],
    ['Ubuntu:22.04:LTS', 'ubuntu:22.04', 'source'],
    ['Ubuntu:Pro:16.04:LTS', 'ubuntu:16.04', 'source'],
    ['Ubuntu:25.10', 'ubuntu:25.10', 'source'],
    ['Ubuntu:Pro:FIPS:22.04:LTS', undefined],
    ['Alpine:v3.20', 'alpine:3.20', 'source'],
    ['AlmaLinux:9', 'almalinux:9', 'binary'],
    ['Rocky Linux:8', 'rocky:8', 'binary'],
    ['Red Hat:enterprise_linux:9::appstream', 'rhel:9', 'binary'],
    ['Red Hat:rhel_eus:9.2::appstream', undefined],
    ['npm', 'npm', 'binary'],
    ['PyPI', 'pypi', 'binary'],
    ['Maven', 'maven', 'binary'],
    ['Go', 'go', 'binary'],
    ['RubyGems', 'gem', 'binary'],
    ['crates.io', 'cargo', 'binary'],
    ['NuGet', 'nuget', 'binary'],
    ['Packagist', 'composer', 'binary'],
    ['SwiftURL', undefined],
    ['Debian', undefined],
    ['Hex', undefined],
  ];
  for (const [eco, ns, kind] of cases) {
    const t = ecosystemTarget(eco);
    assert.equal(t?.namespace, ns, eco);
    if (kind) assert.equal(t?.nameKind, kind, eco);
  }
  assert.equal(severityWord('MODERATE'), 'Medium');
  assert.equal(severityWord('important'), 'High');
  assert.equal(severityWord('negligible'), 'Negligible');
  assert.equal(severityWord('whatever'), undefined);
});

test('a Go record converts field by field', { skip: skipWithout('osv/go/golang-vulndb/GO-2020-0001.json') }, () => {
  const { result, warnings } = convertFile('osv/go/golang-vulndb/GO-2020-0001.json');
  assert.deepEqual(warnings, []);
  assert.deepEqual(result!.vulnerability, {
    id: 'GO-2020-0001',
    source: 'osv',
    aliases: ['CVE-2020-36567', 'GHSA-6vm3-jj99-7229'],
    summary: 'Arbitrary log line injection in github.com/gin-gonic/gin',
    description: 'The default Formatter for the Logger middleware (LoggerConfig.Formatter), which is included in the Default engine, allows attackers to inject arbitrary log entries by manipulating the request path.',
    published: '2021-04-14T20:04:52Z',
    modified: '0001-01-01T00:00:00Z',
    cvss: [],
    references: ['https://github.com/gin-gonic/gin/pull/2237', 'https://github.com/gin-gonic/gin/commit/a71af9c144f9579f6dbe945341c1df37aaf09c0d'],
  });
  assert.deepEqual(result!.affected, [{
    vulnId: 'GO-2020-0001', source: 'osv', namespace: 'go', name: 'github.com/gin-gonic/gin', nameKind: 'binary', scheme: 'go',
    ranges: [{ introduced: '0', fixed: '1.6.0' }], versions: [], state: 'fixed', fixedVersions: ['1.6.0'],
  }]);
});

test('PyPI YAML: GIT ranges ignored, two ECOSYSTEM ranges, listed versions kept as written', { skip: skipWithout('osv/pypi/pypa-advisory-database/pillow/PYSEC-2014-10.yaml') }, () => {
  const { result, warnings } = convertFile('osv/pypi/pypa-advisory-database/pillow/PYSEC-2014-10.yaml');
  assert.deepEqual(warnings, []);
  const [a, ...rest] = result!.affected;
  assert.equal(rest.length, 0);
  assert.equal(a!.namespace, 'pypi');
  assert.equal(a!.scheme, 'pep440');
  assert.deepEqual(a!.ranges, [{ introduced: '0', fixed: '2.3.2' }, { introduced: '2.5', fixed: '2.5.2' }]);
  assert.equal(a!.state, 'fixed');
  assert.deepEqual(a!.fixedVersions, ['2.3.2', '2.5.2']);
  assert.deepEqual(a!.versions.slice(0, 8), ['1.0', '1.1', '1.2', '1.3', '1.4', '1.5', '1.6', '1.7.0']);
  assert.deepEqual(result!.vulnerability.aliases, ['CVE-2014-3589']);
  assert.equal(result!.vulnerability.modified, '2021-07-05T00:01:23.718339Z');
});

test('last_affected is an inclusive end with no fix: state not-fixed', { skip: skipWithout('osv/pypi/pypa-advisory-database/py/PYSEC-2022-42969.yaml') }, () => {
  const { result } = convertFile('osv/pypi/pypa-advisory-database/py/PYSEC-2022-42969.yaml');
  const [a] = result!.affected;
  assert.deepEqual(a!.ranges, [{ introduced: '0', lastAffected: '1.11.0' }]);
  assert.equal(a!.state, 'not-fixed');
  assert.deepEqual(a!.fixedVersions, []);
  assert.ok(a!.versions.includes('1.10.0') && a!.versions.includes('0.8.0-alpha2'));
  assert.deepEqual(result!.vulnerability.aliases, ['CVE-2022-42969', 'GHSA-w596-4wvx-j9j6']);
});

test('YAML scalars stay strings: unquoted 1.10 is not the number 1.1', () => {
  const text = [
    'id: PYSEC-0000-1',
    'modified: 2024-01-01T00:00:00Z',
    'affected:',
    '- package:',
    '    name: Some_Package.Name',
    '    ecosystem: PyPI',
    '  ranges:',
    '  - type: ECOSYSTEM',
    '    events:',
    '    - introduced: 0',
    '    - fixed: 1.10',
    '  versions:',
    '  - 1.0',
    '  - 1.9',
  ].join('\n');
  const result = convertOsv(parseOsvText(text, 'x.yaml'), { source: 'osv', warn: assert.fail });
  const [a] = result!.affected;
  assert.deepEqual(a!.ranges, [{ introduced: '0', fixed: '1.10' }]);
  assert.deepEqual(a!.versions, ['1.0', '1.9']);
  assert.equal(a!.name, 'some-package-name', 'PEP 503 normalised');
  assert.equal(result!.vulnerability.modified, '2024-01-01T00:00:00Z');
});

test('GHSA Maven record: severity word, CVSS scored, listed-version entry with no range', { skip: skipWithout('osv/ghsa/github-advisory-database/GHSA-6f9g-cxwr-q5jr.json') }, () => {
  const { result, warnings } = convertFile('osv/ghsa/github-advisory-database/GHSA-6f9g-cxwr-q5jr.json', 'ghsa');
  assert.deepEqual(warnings, []);
  const v = result!.vulnerability;
  assert.equal(v.severity, 'Critical');
  assert.deepEqual(v.cvss, [{ source: 'ghsa', version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', baseScore: 9.8 }]);
  assert.deepEqual(v.aliases, ['CVE-2024-23897']);
  assert.deepEqual(result!.affected.map((a) => [a.namespace, a.name, a.ranges, a.versions, a.state]), [
    ['maven', 'org.jenkins-ci.main:jenkins-core', [{ introduced: '1.606', fixed: '2.426.3' }], [], 'fixed'],
    ['maven', 'org.jenkins-ci.main:jenkins-core', [{ introduced: '2.427', fixed: '2.442' }], [], 'fixed'],
    ['maven', 'org.jenkins-ci.main:jenkins-core', [], ['2.441'], 'not-fixed'],
  ]);
});

test('GHSA: unknown ecosystems are skipped silently; NuGet names lower-cased', { skip: skipWithout('osv/ghsa/trivy-db-testdata') }, () => {
  const swift = convertFile('osv/ghsa/trivy-db-testdata/advisories/github-reviewed/2023/06/GHSA-7fj7-39wj-c64f/GHSA-7fj7-39wj-c64f.json', 'ghsa');
  assert.deepEqual(swift.warnings, []);
  assert.equal(swift.result!.affected.length, 0);
  assert.equal(swift.result!.vulnerability.severity, 'Medium');
  const nuget = convertFile('osv/ghsa/trivy-db-testdata/advisories/github-reviewed/2025/06/GHSA-266m-wp2v-x7mq/GHSA-266m-wp2v-x7mq.json', 'ghsa');
  assert.deepEqual(nuget.result!.affected.map((a) => [a.namespace, a.name, a.scheme]), [['nuget', 'microsoft.netcore.app.runtime.linux-arm', 'nuget']]);
});

test('AlmaLinux and Rocky errata: binary RPM names, release namespaces, impact from the title', { skip: skipWithout('osv/rocky-alma/vunnel-fixture') }, () => {
  const rocky = convertFile('osv/rocky-alma/vunnel-fixture/rocky/test-fixtures/osv/RLSA-2021_3891.json');
  assert.equal(rocky.result!.vulnerability.severity, 'High');
  assert.deepEqual(rocky.result!.vulnerability.cvss.map((c) => c.baseScore), [6.8]);
  assert.deepEqual(rocky.result!.affected.map((a) => [a.namespace, a.name, a.nameKind, a.scheme, a.fixedVersions]), [
    ['rocky:8', 'java-11-openjdk', 'binary', 'rpm', ['1:11.0.13.0.8-1.el8_4']],
  ]);
  const alma = convertFile('osv/almalinux/AlmaLinux-osv-database/almalinux8/ALSA-2026:47184.json');
  assert.deepEqual(alma.result!.affected.map((a) => [a.namespace, a.name]), [
    ['almalinux:8', 'libtiff'], ['almalinux:8', 'libtiff-devel'], ['almalinux:8', 'libtiff-tools'],
  ]);
  assert.equal(alma.result!.vulnerability.severity, 'High');
});

test('Ubuntu: Pro releases, Ubuntu priority, repeated vectors once, upstream as alias', { skip: skipWithout('ubuntu/vunnel-fixture/osv') }, () => {
  const { result, warnings } = convertFile('ubuntu/vunnel-fixture/osv/cve/2021/UBUNTU-CVE-2021-3782.json', 'ubuntu');
  assert.deepEqual(warnings, []);
  const v = result!.vulnerability;
  assert.equal(v.severity, 'Medium');
  assert.deepEqual(v.aliases, ['CVE-2021-3782']);
  assert.deepEqual(v.cvss, [{ source: 'ubuntu', version: '3.1', vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:H', baseScore: 6.6 }]);
  assert.deepEqual(result!.affected.map((a) => [a.namespace, a.name, a.nameKind, a.scheme, a.state, a.fixedVersions]), [
    ['ubuntu:16.04', 'wayland', 'source', 'dpkg', 'fixed', ['1.12.0-1~ubuntu16.04.3+esm1']],
    ['ubuntu:18.04', 'wayland', 'source', 'dpkg', 'fixed', ['1.16.0-1ubuntu1.1~18.04.4']],
    ['ubuntu:20.04', 'wayland', 'source', 'dpkg', 'fixed', ['1.18.0-1ubuntu0.1']],
    ['ubuntu:22.04', 'wayland', 'source', 'dpkg', 'fixed', ['1.20.0-1ubuntu0.1']],
  ]);
  const withdrawn = convertFile('ubuntu/vunnel-fixture/osv-esm-cases/cve/2014/UBUNTU-CVE-2014-2901.json', 'ubuntu').result!;
  assert.ok(withdrawn.vulnerability.withdrawn);
  assert.equal(withdrawn.affected.length, 0, 'a withdrawn record matches nothing');
  const notice = convertFile('ubuntu/vunnel-fixture/osv/usn/USN-5614-1.json', 'ubuntu').result!;
  assert.equal(notice.affected.length, 0, 'a USN restates UBUNTU-CVE records');
  assert.deepEqual(notice.vulnerability.aliases, ['UBUNTU-CVE-2021-3782']);
  const open = convertFile('ubuntu/vunnel-fixture/osv/cve/2026/UBUNTU-CVE-2026-1403.json', 'ubuntu').result!;
  assert.deepEqual(open.affected.map((a) => [a.namespace, a.name, a.state, a.ranges]), [['ubuntu:16.04', 'gitlab', 'not-fixed', [{ introduced: '0' }]]]);
});

test('the whole Go export converts with no warning and every record accounted for', { skip: skipWithout('osv/go/all.zip') }, () => {
  const zip = openZip(readFileSync(sample('osv/go/all.zip')));
  const warnings: string[] = [];
  let vulns = 0, affected = 0, expectedAffected = 0, withdrawn = 0;
  for (const e of zip.entries) {
    const record = JSON.parse(zip.read(e).toString('utf8')) as { withdrawn?: string; affected?: { package: { ecosystem: string } }[] };
    const r = convertOsv(record, { source: 'osv', warn: (m) => warnings.push(m) });
    if (!r) continue;
    vulns++;
    affected += r.affected.length;
    if (record.withdrawn) withdrawn++;
    else expectedAffected += (record.affected ?? []).filter((a) => a.package.ecosystem === 'Go').length;
  }
  assert.deepEqual(warnings, []);
  assert.equal(vulns, 4291);
  assert.ok(withdrawn > 0);
  assert.equal(affected, expectedAffected);
});

test('malformed records and entries are warned about and skipped, the rest kept', () => {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  assert.equal(convertOsv('nope', { source: 'osv', warn }), undefined);
  assert.equal(convertOsv({ summary: 'no id' }, { source: 'osv', warn }), undefined);
  assert.equal(convertOsv({ id: 'X-1', affected: 'bad' }, { source: 'osv', warn }), undefined);
  const r = convertOsv({
    id: 'X-2',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N' }],
    affected: [
      { package: { ecosystem: 'npm' } },
      { package: { ecosystem: 'npm', name: 'a' }, ranges: [{ type: 'SEMVER', events: [{ introduced: 1 }] }] },
      { package: { ecosystem: 'npm', name: 'b' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '2.0.0' }] }] },
      { package: { ecosystem: 'npm', name: 'c' }, ranges: [{ type: 'GIT', repo: 'x', events: [{ introduced: '0' }, { fixed: 'abc' }] }] },
    ],
  }, { source: 'osv', warn })!;
  assert.deepEqual(r.affected.map((a) => a.name), ['b']);
  assert.deepEqual(r.vulnerability.cvss, []);
  assert.equal(warnings.length, 6, warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('X-2') && w.includes('affected[1]') && w.includes('malformed ranges')));
  assert.ok(warnings.some((w) => w.includes('invalid CVSS_V3 vector')));
});

test('only errata titles give an impact: a summary starting with a severity word elsewhere does not', () => {
  const errata = convertOsv({ id: 'RHSA-2024:1234', summary: 'Moderate: curl security update' }, { source: 'osv', warn: assert.fail });
  assert.equal(errata!.vulnerability.severity, 'Medium');
  const other = convertOsv({ id: 'GO-2024-0001', summary: 'Critical: something in a Go module' }, { source: 'osv', warn: assert.fail });
  assert.equal(other!.vulnerability.severity, undefined);
});

test('every OSV ecosystem of the ecosystem table maps to its row\'s namespace, and the OSV driver syncs it', () => {
  for (const [type, e] of Object.entries(ECOSYSTEMS) as [string, Ecosystem][]) {
    if (!e.vulns?.osv) continue;
    assert.deepEqual(ecosystemTarget(e.vulns.osv), { namespace: e.vulns.namespace, nameKind: 'binary' }, type);
    assert.equal(schemeForNamespace(e.vulns.namespace), e.scheme, type);
    assert.ok(DEFAULT_OSV_ECOSYSTEMS.includes(e.vulns.osv), `${type}: ${e.vulns.osv} is synced`);
  }
  const languages = Object.values(ECOSYSTEMS as Record<string, Ecosystem>).flatMap((e) => (e.vulns?.osv ? [e.vulns.osv] : []));
  assert.deepEqual(DEFAULT_OSV_ECOSYSTEMS.filter((name) => !languages.includes(name)), ['Debian', 'Ubuntu', 'Alpine', 'AlmaLinux', 'Rocky Linux', 'Red Hat']);
});
