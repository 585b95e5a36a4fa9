import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LadingError } from '../errors.js';
import type { FixState } from '../feeds/model.js';
import type { Package } from '../sbom/model.js';
import { applyIgnoreRules, parseIgnoreFile } from './ignore.js';
import { matchedPackage } from './match.js';
import type { Match } from './model.js';
import { deb, npm } from './testing.js';

function finding(id: string, pkg: Package, fixState: FixState = 'fixed', aliases: string[] = []): Match {
  return {
    vulnerability: { id, aliases, severity: 'High', severitySource: 'debian', cvss: [], fixState, fixedVersions: fixState === 'fixed' ? ['9'] : [], references: [], sources: [] },
    package: matchedPackage(pkg),
    match: { kind: pkg.type === 'deb' ? 'distro' : 'language', namespace: pkg.type === 'deb' ? 'debian:12' : 'npm', name: pkg.name, nameKind: 'binary', version: pkg.version, constraint: '< 9', record: `x:${id}` },
  };
}

const ssl = deb('libssl3', '3.0.11-1~deb12u1', 'openssl');
const curl = deb('libcurl4', '7.88.1-10', 'curl');
const lodash = npm('lodash', '4.17.20');
const NOW = new Date('2025-06-15T12:00:00Z');

test('YAML rules by vulnerability (id or alias), package fields, fix-state, namespace, location glob', () => {
  const rules = parseIgnoreFile(`
ignore:
  - vulnerability: CVE-2024-0001
    reason: not reachable
  - vulnerability: GHSA-aaaa-bbbb-cccc
  - package: { name: libcurl4, version: 7.88.1-10, type: deb }
    fix-state: wont-fix
  - package: { upstream-name: openssl }
    namespace: debian:12
    vulnerability: CVE-2024-0003
  - package:
      location: "/app/**/package.json"
    vulnerability: CVE-2024-0004
`, '.lading.yaml');
  assert.equal(rules.length, 5);
  const findings = [
    finding('CVE-2024-0001', curl),
    finding('CVE-2024-0002', lodash, 'fixed', ['GHSA-aaaa-bbbb-cccc']),
    finding('CVE-2024-0010', curl, 'wont-fix'),
    finding('CVE-2024-0011', curl, 'not-fixed'),
    finding('CVE-2024-0003', ssl),
    finding('CVE-2024-0003', lodash),
    finding('CVE-2024-0004', lodash),
    finding('CVE-2024-0004', ssl),
  ];
  const { matches, suppressed, warnings } = applyIgnoreRules(findings, rules, NOW);
  assert.deepEqual(warnings, []);
  assert.deepEqual(suppressed.map((s) => `${s.vulnerability.id}/${s.package.name}`), [
    'CVE-2024-0001/libcurl4', 'CVE-2024-0002/lodash', 'CVE-2024-0010/libcurl4', 'CVE-2024-0003/libssl3', 'CVE-2024-0004/lodash',
  ]);
  assert.deepEqual(matches.map((s) => `${s.vulnerability.id}/${s.package.name}`), ['CVE-2024-0011/libcurl4', 'CVE-2024-0003/lodash', 'CVE-2024-0004/libssl3']);
  assert.equal(suppressed[0]!.reason, 'ignore: not reachable');
  assert.match(suppressed[1]!.reason, /^ignore: rule 2 \(GHSA-aaaa-bbbb-cccc\)$/);
});

test('expiry: a rule applies before its date and not from it; an expired rule warns', () => {
  const rules = parseIgnoreFile(`
ignore:
  - vulnerability: CVE-2024-0001
    reason: waiting for the vendor
    expires: 2025-07-01
  - vulnerability: CVE-2024-0002
    expires: 2025-06-15
  - vulnerability: CVE-2024-0003
    expires: 2025-01-01
`);
  const findings = [finding('CVE-2024-0001', ssl), finding('CVE-2024-0002', ssl), finding('CVE-2024-0003', ssl)];
  const r = applyIgnoreRules(findings, rules, NOW);
  assert.deepEqual(r.suppressed.map((s) => s.vulnerability.id), ['CVE-2024-0001']);
  assert.equal(r.suppressed[0]!.reason, 'ignore: waiting for the vendor (until 2025-07-01)');
  assert.deepEqual(r.matches.map((s) => s.vulnerability.id), ['CVE-2024-0002', 'CVE-2024-0003']);
  assert.deepEqual(r.warnings, [
    'ignore rule 2 (CVE-2024-0002) expired on 2025-06-15: it no longer suppresses anything',
    'ignore rule 3 (CVE-2024-0003) expired on 2025-01-01: it no longer suppresses anything',
  ]);
  // The day before its date the rule still applies.
  assert.equal(applyIgnoreRules(findings, rules, new Date('2025-06-14T23:59:59Z')).suppressed.length, 2);
});

test('JSON is accepted, a bare list too, and every scalar stays a string (1.10 is not 1.1)', () => {
  const json = parseIgnoreFile(JSON.stringify({ ignore: [{ vulnerability: 'CVE-2024-0001', package: { name: 'x', version: '1.10' } }] }));
  assert.deepEqual(json, [{ index: 1, vulnerability: 'CVE-2024-0001', package: { name: 'x', version: '1.10' } }]);
  const bare = parseIgnoreFile('- package: {name: x, version: 1.10}\n');
  assert.deepEqual(bare[0]?.package, { name: 'x', version: '1.10' });
  assert.deepEqual(parseIgnoreFile(''), []);
  assert.deepEqual(parseIgnoreFile('ignore:\n'), []);
});

test('a bad ignore file is a BAD_INPUT error naming the rule and key', () => {
  const cases: [string, RegExp][] = [
    ['ignore: [', /f\.yaml: not YAML or JSON/],
    ['ignore: 3', /"ignore" is not a list/],
    ['just text', /expected a mapping with an "ignore" list/],
    ['ignore:\n  - reason: everything\n', /rule 1 matches everything/],
    ['ignore:\n  - vulnerability: CVE-1\n    vulnerabilty: typo\n', /rule 1: unknown key "vulnerabilty"/],
    ['ignore:\n  - package: {nmae: x}\n', /rule 1: unknown key "package.nmae"/],
    ['ignore:\n  - vulnerability: CVE-1\n    fix-state: broken\n', /rule 1: "fix-state" "broken" is not one of/],
    ['ignore:\n  - vulnerability: CVE-1\n  - vulnerability: CVE-2\n    expires: 2025-02-30\n', /rule 2: "expires" "2025-02-30" is not a date/],
    ['ignore:\n  - vulnerability: [a, b]\n', /rule 1: "vulnerability" is not a single value/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseIgnoreFile(text, 'f.yaml'), (e: unknown) => e instanceof LadingError && e.code === 'BAD_INPUT' && message.test(e.message), text);
  }
});
