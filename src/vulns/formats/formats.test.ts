import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateCycloneDx, validateSarif } from '../../sbom/validate.js';
import { MemoryLookup } from '../lookup.js';
import type { ScanResult } from '../model.js';
import { scanSbom } from '../scan.js';
import { affected, deb, fakeSchemes, npm, sbomOf, vuln } from '../testing.js';
import { parseVex } from '../vex.js';
import { parseIgnoreFile } from '../ignore.js';
import { scanWriters, scanFormats } from './index.js';
import { scanCycloneDxDocument } from './cyclonedx.js';
import { sarifDocument } from './sarif.js';
import { scanJson } from './json.js';
import { writeScanTable } from './table.js';
import { markInherited } from '../inherited.js';
import { packageKey } from '../../sbom/base.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

async function scenario(): Promise<{ result: ScanResult; sbom: ReturnType<typeof sbomOf> }> {
  const nvd = (score: number, vector = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H') => ({ source: 'nvd', version: '3.1', vector, baseScore: score, type: 'Primary' as const });
  const lookup = new MemoryLookup().add({
    affected: [
      affected({ vulnId: 'CVE-2024-0001', name: 'openssl', fixedVersions: ['3.0.15-1~deb12u1'], severity: 'High' }),
      affected({ vulnId: 'CVE-2024-0002', name: 'openssl', state: 'wont-fix', severity: 'Low' }),
      affected({ vulnId: 'CVE-2024-0003', name: 'curl', state: 'not-fixed' }),
      affected({ vulnId: 'CVE-2024-0009', name: 'curl', state: 'not-fixed', severity: 'Negligible' }),
      affected({ source: 'ghsa', namespace: 'npm', nameKind: 'binary', scheme: 'semver', vulnId: 'GHSA-35jh-r3h4-6jhm', name: 'lodash', ranges: [{ introduced: '0', fixed: '4.17.21' }], fixedVersions: ['4.17.21'] }),
      affected({ source: 'ghsa', namespace: 'npm', nameKind: 'binary', scheme: 'semver', vulnId: 'GHSA-p6mc-m468-83gw', name: 'lodash', ranges: [{ introduced: '0', fixed: '4.17.19' }], fixedVersions: ['4.17.19'] }),
      affected({ source: 'ghsa', namespace: 'npm', nameKind: 'binary', scheme: 'semver', vulnId: 'GHSA-zzzz-zzzz-zzzz', name: 'left-pad', state: 'not-fixed' }),
    ],
    vulnerabilities: [
      vuln({ id: 'CVE-2024-0001', source: 'nvd', description: 'A buffer overread in X.509 name checks.', cvss: [nvd(7.5), { source: 'nvd', version: '2.0', vector: 'AV:N/AC:L/Au:N/C:P/I:N/A:N', baseScore: 5.0 }], references: ['https://www.openssl.org/news/secadv/20240101.txt'] }),
      vuln({ id: 'CVE-2024-0003', source: 'nvd', cvss: [{ source: 'nvd', version: '4.0', vector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N', baseScore: 9.3, type: 'Primary' }] }),
      vuln({ id: 'GHSA-35jh-r3h4-6jhm', source: 'ghsa', aliases: ['CVE-2021-23337'], severity: 'High', summary: 'Command Injection in lodash', references: ['https://github.com/advisories/GHSA-35jh-r3h4-6jhm', 'not a url'] }),
      vuln({ id: 'CVE-2021-23337', source: 'nvd', cvss: [nvd(7.2, 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H')] }),
      vuln({ id: 'GHSA-p6mc-m468-83gw', source: 'ghsa', aliases: ['CVE-2020-8203'], severity: 'High', summary: 'Prototype Pollution in lodash' }),
    ],
    kev: [{ cve: 'CVE-2021-23337', dateAdded: '2024-02-01' }],
    epss: [{ cve: 'CVE-2021-23337', score: 0.0123, percentile: 0.852, date: '2025-01-01' }],
  });
  const sbom = sbomOf([
    deb('libssl3', '3.0.11-1~deb12u1', 'openssl'),
    deb('libcurl4', '7.88.1-10+deb12u5', 'curl'),
    npm('lodash', '4.17.15', '/app/node_modules/lodash/package.json'),
    // The same package at two paths: two components, each affected.
    npm('lodash', '4.17.15', '/srv/my app/node_modules/lodash/package.json'),
    npm('left-pad', '1.3.0'),
  ], undefined, DIGEST);
  const vex = parseVex(JSON.stringify({
    '@context': 'https://openvex.dev/ns/v0.2.0',
    statements: [{ vulnerability: { name: 'CVE-2020-8203' }, products: [{ '@id': `pkg:oci/app@${encodeURIComponent(DIGEST)}`, subcomponents: [{ '@id': 'pkg:npm/lodash@4.17.15' }] }], status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' }],
  }), 'app.vex.json');
  const ignore = parseIgnoreFile('ignore:\n  - vulnerability: GHSA-zzzz-zzzz-zzzz\n    reason: left-pad is only used in tests\n');
  const result = await scanSbom(sbom, lookup, { input: 'example.com/app:1.0', vex: [vex], ignore, schemes: fakeSchemes, now: new Date('2025-06-01T00:00:00Z') });
  return { result, sbom };
}

test('the scenario: what was matched and suppressed', async () => {
  const { result } = await scenario();
  assert.deepEqual(result.matches.map((m) => `${m.vulnerability.severity} ${m.package.name} ${m.vulnerability.id}`), [
    'Critical libcurl4 CVE-2024-0003',
    'High libssl3 CVE-2024-0001',
    'High lodash CVE-2021-23337',
    'High lodash CVE-2021-23337',
    'Low libssl3 CVE-2024-0002',
    'Negligible libcurl4 CVE-2024-0009',
  ]);
  assert.deepEqual(result.suppressed.map((s) => `${s.vulnerability.id} ${s.package.name} ${s.reason}`).sort(), [
    'CVE-2020-8203 lodash vex:not_affected (vulnerable_code_not_in_execute_path) [app.vex.json]',
    'CVE-2020-8203 lodash vex:not_affected (vulnerable_code_not_in_execute_path) [app.vex.json]',
    'GHSA-zzzz-zzzz-zzzz left-pad ignore: left-pad is only used in tests',
  ]);
});

test('table: most severe first, the columns, EPSS and KEV, a summary and the suppressed count', async () => {
  const { result } = await scenario();
  const text = writeScanTable(result);
  const lines = text.split('\n');
  assert.match(lines[0]!, /^NAME +INSTALLED +FIXED-IN +TYPE +VULNERABILITY +SEVERITY +EPSS +KEV$/);
  assert.match(lines[1]!, /^libcurl4 +7\.88\.1-10\+deb12u5 +deb +CVE-2024-0003 +Critical$/);
  assert.match(lines[2]!, /^libssl3 +3\.0\.11-1~deb12u1 +3\.0\.15-1~deb12u1 +deb +CVE-2024-0001 +High$/);
  assert.match(lines[3]!, /^lodash +4\.17\.15 +4\.17\.21 +npm +CVE-2021-23337 +High +1\.2% \(85th\) +KEV$/);
  assert.match(text, /libssl3 +3\.0\.11-1~deb12u1 +\(won't fix\) +deb +CVE-2024-0002 +Low/);
  assert.match(text, /\n6 vulnerabilities \(3 fixable\): 1 critical, 3 high, 0 medium, 1 low, 1 negligible, 0 unknown\n/);
  assert.match(text, /\nsuppressed: 3\n$/);
  assert.equal(writeScanTable({ ...result, matches: [], suppressed: [] }), 'No vulnerabilities found\n\n0 vulnerabilities (0 fixable): 0 critical, 0 high, 0 medium, 0 low, 0 negligible, 0 unknown\nsuppressed: 0\n');
});

test('json: top-level matches of {vulnerability, package, match}, fix as {state, versions}, suppressed with reasons', async () => {
  const { result, sbom } = await scenario();
  const doc = JSON.parse(scanWriters.json.write(result, sbom));
  assert.equal(doc.schema, 'lading-scan/1');
  assert.equal(doc.matches.length, 6);
  const lodash = doc.matches.find((m: { vulnerability: { id: string } }) => m.vulnerability.id === 'CVE-2021-23337');
  assert.deepEqual(Object.keys(lodash), ['vulnerability', 'package', 'match', 'inherited_from_base']);
  assert.equal(lodash.inherited_from_base, false, 'no base known: the image\'s own');
  assert.deepEqual(lodash.vulnerability.fix, { state: 'fixed', versions: ['4.17.21'] });
  assert.deepEqual(lodash.vulnerability.aliases, ['GHSA-35jh-r3h4-6jhm']);
  assert.equal(lodash.vulnerability.severity, 'High');
  assert.deepEqual(lodash.vulnerability.kev, { dateAdded: '2024-02-01' });
  assert.equal(lodash.vulnerability.epss.percentile, 0.852);
  assert.equal(lodash.vulnerability.description, 'Command Injection in lodash');
  assert.equal(lodash.vulnerability.cvss[0].baseScore, 7.2);
  assert.equal(lodash.package.purl, 'pkg:npm/lodash@4.17.15');
  assert.equal(lodash.package.locations[0].path, '/app/node_modules/lodash/package.json');
  assert.equal(lodash.match.kind, 'language');
  assert.equal(doc.suppressed.length, 3);
  assert.match(doc.suppressed[0].reason, /^(vex|ignore):/);
  assert.deepEqual(scanJson(result).matches, doc.matches);
});

test('sarif: valid SARIF 2.1.0, one rule per vulnerability, one result per finding, levels and security-severity', async () => {
  const { result, sbom } = await scenario();
  const doc = JSON.parse(scanWriters.sarif.write(result, sbom));
  assert.deepEqual(validateSarif(doc), []);
  const run = doc.runs[0];
  assert.equal(run.tool.driver.name, 'lading');
  const rules = run.tool.driver.rules as { id: string; properties: Record<string, unknown>; helpUri?: string; help: { text: string } }[];
  assert.deepEqual(rules.map((r) => r.id), ['CVE-2024-0003', 'CVE-2021-23337', 'CVE-2024-0001', 'CVE-2024-0002', 'CVE-2024-0009']);
  assert.equal(run.results.length, 6);
  const byRule = (id: string) => rules.find((r) => r.id === id)!;
  assert.equal(byRule('CVE-2024-0003').properties['security-severity'], '9.3');
  assert.equal(byRule('CVE-2021-23337').properties['security-severity'], '7.2');
  // Debian rated it High, with no CVSS of its own: NVD's 7.5 is in the same band.
  assert.equal(byRule('CVE-2024-0001').properties['security-severity'], '7.5');
  // Debian rated it Low; no CVSS at all: a score standing for Low.
  assert.equal(byRule('CVE-2024-0002').properties['security-severity'], '2.0');
  assert.equal(byRule('CVE-2024-0001').helpUri, 'https://nvd.nist.gov/vuln/detail/CVE-2024-0001');
  assert.match(byRule('CVE-2021-23337').help.text, /Known exploited \(CISA KEV\) since 2024-02-01/);
  const levels = Object.fromEntries(run.results.map((r: { ruleId: string; level: string }) => [r.ruleId, r.level]));
  assert.deepEqual(levels, { 'CVE-2024-0003': 'error', 'CVE-2021-23337': 'error', 'CVE-2024-0001': 'error', 'CVE-2024-0002': 'note', 'CVE-2024-0009': 'note' });
  for (const r of run.results) assert.equal(rules[r.ruleIndex]!.id, r.ruleId);
  const uris = run.results.map((r: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }) => r.locations[0]!.physicalLocation.artifactLocation.uri);
  assert.ok(uris.includes('/var/lib/dpkg/status'));
  assert.ok(uris.includes('/srv/my%20app/node_modules/lodash/package.json'));
  // The validator really checks: a broken log is rejected.
  assert.notDeepEqual(validateSarif({ version: '2.1.0' }), []);
  assert.notDeepEqual(validateSarif({ ...doc, runs: [{ ...run, results: [{ ...run.results[0], level: 'fatal' }] }] }), []);
  // No findings is still a valid log.
  assert.deepEqual(validateSarif(sarifDocument({ ...result, matches: [] })), []);
});

test('cyclonedx-json: the SBOM plus vulnerabilities, valid CycloneDX 1.6, affects by bom-ref, ratings, analysis for suppressed', async () => {
  const { result, sbom } = await scenario();
  const doc = JSON.parse(scanWriters['cyclonedx-json'].write(result, sbom));
  assert.deepEqual(validateCycloneDx(doc), []);
  assert.equal(doc.specVersion, '1.6');
  const refs = new Set((doc.components as { 'bom-ref': string }[]).map((c) => c['bom-ref']));
  const vulns = doc.vulnerabilities as Record<string, any>[];
  for (const v of vulns) for (const a of v.affects) assert.ok(refs.has(a.ref), `${v.id} affects ${a.ref}`);
  const bomRefs = vulns.map((v) => v['bom-ref']);
  assert.equal(new Set(bomRefs).size, bomRefs.length);

  const lodash = vulns.find((v) => v.id === 'CVE-2021-23337' && !v.analysis)!;
  assert.equal(lodash.affects.length, 2, 'both copies of lodash');
  assert.deepEqual(lodash.source, { name: 'NVD', url: 'https://nvd.nist.gov/vuln/detail/CVE-2021-23337' });
  assert.deepEqual(lodash.references, [{ id: 'GHSA-35jh-r3h4-6jhm', source: { name: 'GitHub', url: 'https://github.com/advisories/GHSA-35jh-r3h4-6jhm' } }]);
  assert.deepEqual(lodash.ratings, [
    { source: { name: 'ghsa' }, severity: 'high' },
    { source: { name: 'nvd' }, score: 7.2, severity: 'high', method: 'CVSSv31', vector: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H' },
  ]);
  assert.deepEqual(lodash.advisories, [{ url: 'https://github.com/advisories/GHSA-35jh-r3h4-6jhm' }]);
  assert.equal(lodash.recommendation, 'Upgrade lodash to 4.17.21');
  assert.ok(lodash.properties.some((p: { name: string; value: string }) => p.name === 'lading:kev:dateAdded' && p.value === '2024-02-01'));

  const ssl = vulns.find((v) => v.id === 'CVE-2024-0001')!;
  assert.deepEqual(ssl.ratings.map((r: { method?: string }) => r.method ?? 'severity'), ['severity', 'CVSSv31', 'CVSSv2']);
  const curl = vulns.find((v) => v.id === 'CVE-2024-0003')!;
  assert.deepEqual(curl.ratings, [{ source: { name: 'nvd' }, severity: 'critical' }, { source: { name: 'nvd' }, score: 9.3, severity: 'critical', method: 'CVSSv4', vector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }]);
  assert.deepEqual(vulns.find((v) => v.id === 'CVE-2024-0002')!.analysis, { response: ['will_not_fix'] });

  const vexed = vulns.find((v) => v.id === 'CVE-2020-8203')!;
  assert.equal(vexed.analysis.state, 'not_affected');
  assert.equal(vexed.analysis.justification, 'code_not_reachable');
  assert.equal(vexed.affects.length, 2);
  assert.equal(vexed.affects[0].versions[0].status, 'unaffected');
  const ignored = vulns.find((v) => v.id === 'GHSA-zzzz-zzzz-zzzz')!;
  assert.deepEqual(ignored.analysis, { state: 'false_positive', detail: 'ignore: left-pad is only used in tests' });
  assert.deepEqual(ignored.source, { name: 'GitHub', url: 'https://github.com/advisories/GHSA-zzzz-zzzz-zzzz' });

  // No findings: still a valid document.
  assert.deepEqual(validateCycloneDx(scanCycloneDxDocument({ ...result, matches: [], suppressed: [] }, sbom)), []);
});

test('every format is in the map and writes', async () => {
  const { result, sbom } = await scenario();
  assert.deepEqual(scanFormats, ['table', 'json', 'sarif', 'cyclonedx-json', 'csv', 'template']);
  const template = { text: '{{range .}}{{.Vulnerability}}\n{{end}}', name: 't' };
  for (const f of scanFormats) assert.ok(scanWriters[f].write(result, sbom, { template }).length > 0, f);
});

/** Key paths of a documented shape such as `{a, b: {c}, d: [{e}]}` (`d[].e`). */
function documentedPaths(shape: string): string[] {
  let i = 0;
  const paths: string[] = [];
  const object = (prefix: string): void => {
    i++; // {
    while (shape[i] !== '}') {
      const key = /^\s*([A-Za-z_]+)/.exec(shape.slice(i))!;
      i += key[0].length;
      const path = prefix + key[1];
      if (shape.startsWith(': {', i)) { i += 2; object(`${path}.`); }
      else if (shape.startsWith(': [{', i)) { i += 3; object(`${path}[].`); i++; }
      else paths.push(path);
      if (shape[i] === ',') i++;
    }
    i++; // }
  };
  object('');
  return paths;
}

/** Key paths of the JSON, down to the fields the docs name (values such as cvss, locations, source or distro are leaves). */
function actualPaths(value: unknown, prefix = '', into = new Set<string>()): Set<string> {
  if (/(^|\.)(cvss|locations|source|distro|db|kev|epss)$/.test(prefix)) into.add(prefix);
  else if (Array.isArray(value)) {
    if (value.length && typeof value[0] === 'object') for (const v of value) actualPaths(v, `${prefix}[]`, into);
    else into.add(prefix);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) actualPaths(v, prefix ? `${prefix}.${k}` : k, into);
  } else into.add(prefix);
  return into;
}

test('docs/vulnerabilities.md names the JSON output\'s fields as they are (issue 17)', async () => {
  const doc = await readFile(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'vulnerabilities.md'), 'utf8');
  const shape = /^- `json`: `(\{.*?\})`/m.exec(doc)![1]!;
  const { result } = await scenario();
  // and a match through a source package whose version differs from the binary's (sourceVersion)
  const lookup = new MemoryLookup().add({ affected: [affected({ vulnId: 'CVE-2024-0001', name: 'openssl', fixedVersions: ['3.0.15-1'] })] });
  const withSource = await scanSbom(sbomOf([deb('libssl3', '3.0.11-1+b1', 'openssl', '3.0.11-1')]), lookup, { input: 'x', schemes: fakeSchemes });
  const paths = new Set<string>();
  for (const r of [result, withSource]) actualPaths(scanJson(r), '', paths);
  const actual = [...paths].map((p) => (p.startsWith('suppressed') ? 'suppressed' : p));
  assert.deepEqual([...new Set(actual)].sort(), documentedPaths(shape).sort());
});

test('inherited_from_base in every format: JSON per match, SARIF as a result property, CycloneDX as a vulnerability property', async () => {
  const { result, sbom } = await scenario();
  const lodash = result.matches.find((m) => m.package.name === 'lodash')!;
  const marked = markInherited(result, new Set([packageKey(lodash.package)]));
  assert.equal(result.matches.some((m) => m.inheritedFromBase !== undefined), false, 'the result marked is a copy');
  const json = scanJson(marked) as { matches: { inherited_from_base: boolean }[] };
  assert.deepEqual(json.matches.map((m) => m.inherited_from_base), result.matches.map((m) => packageKey(m.package) === packageKey(lodash.package)),
    'only the matches of that one package (same name, version and path)');
  const sarif = sarifDocument(marked) as { runs: { results: { ruleId: string; properties: { inherited_from_base: boolean } }[] }[] };
  assert.deepEqual(sarif.runs[0]!.results.filter((r) => r.properties.inherited_from_base).map((r) => r.ruleId), marked.matches.filter((m) => m.inheritedFromBase).map((m) => m.vulnerability.id));
  assert.deepEqual(validateSarif(sarif), []);
  const cdx = scanCycloneDxDocument(marked, sbom) as { vulnerabilities: { id: string; properties?: { name: string; value: string }[] }[] };
  const prop = (id: string) => cdx.vulnerabilities.find((v) => v.id === id)?.properties?.find((p) => p.name === 'lading:inherited_from_base')?.value;
  const sameVuln = marked.matches.filter((m) => m.vulnerability.id === lodash.vulnerability.id);
  assert.equal(prop(lodash.vulnerability.id), String(sameVuln.every((m) => m.inheritedFromBase)));
  assert.equal(prop(result.matches.find((m) => m.package.name !== 'lodash')!.vulnerability.id), 'false');
  assert.deepEqual(validateCycloneDx(cdx), []);
});
