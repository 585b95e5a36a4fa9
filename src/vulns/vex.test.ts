import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LadingError } from '../errors.js';
import type { Distro } from '../sbom/model.js';
import { matchedPackage } from './match.js';
import type { Match } from './model.js';
import { deb, DEBIAN_12, npm } from './testing.js';
import { applyVex, parseVex, purlCovers, vexSubject, type VexSubject } from './vex.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const subject: VexSubject = { imageDigests: [DIGEST], distro: DEBIAN_12 };

function finding(id: string, pkg = npm('lodash', '4.17.20'), aliases: string[] = []): Match {
  return {
    vulnerability: { id, aliases, severity: 'High', severitySource: 'ghsa', cvss: [], fixState: 'fixed', fixedVersions: ['4.17.21'], references: [], sources: [] },
    package: matchedPackage(pkg),
    match: { kind: 'language', namespace: 'npm', name: pkg.name, nameKind: 'binary', version: pkg.version, constraint: '< 4.17.21', record: `ghsa:${id}` },
  };
}

function doc(statements: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ '@context': 'https://openvex.dev/ns/v0.2.0', '@id': 'https://example.com/vex/1', author: 'Example', timestamp: '2024-01-01T00:00:00Z', version: 1, statements, ...extra });
}

const notAffected = (products: unknown[], vulnerability: unknown = { name: 'CVE-2021-23337' }, extra: Record<string, unknown> = {}) => ({
  vulnerability, products, status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path', ...extra,
});

test('a not_affected statement for the package purl (no qualifiers, no version = any) suppresses the finding', () => {
  const vex = parseVex(doc([notAffected([{ '@id': 'pkg:npm/lodash' }])]), 'app.vex.json');
  const { matches, suppressed } = applyVex([finding('CVE-2021-23337'), finding('CVE-2020-8203')], [vex], subject);
  assert.deepEqual(matches.map((m) => m.vulnerability.id), ['CVE-2020-8203']);
  assert.equal(suppressed.length, 1);
  assert.equal(suppressed[0]!.reason, 'vex:not_affected (vulnerable_code_not_in_execute_path) [app.vex.json]');
});

test('vulnerability by alias, by @id URL, and the finding\'s aliases', () => {
  const byAlias = parseVex(doc([notAffected([{ '@id': 'pkg:npm/lodash@4.17.20' }], { name: 'GHSA-35jh-r3h4-6jhm' })]));
  assert.equal(applyVex([finding('CVE-2021-23337', undefined, ['GHSA-35jh-r3h4-6jhm'])], [byAlias], subject).suppressed.length, 1);
  const byUrl = parseVex(doc([notAffected([{ '@id': 'pkg:npm/lodash@4.17.20' }], { '@id': 'https://nvd.nist.gov/vuln/detail/CVE-2021-23337' })]));
  assert.equal(applyVex([finding('CVE-2021-23337')], [byUrl], subject).suppressed.length, 1);
  const statementAliases = parseVex(doc([notAffected([{ '@id': 'pkg:npm/lodash@4.17.20' }], { name: 'GHSA-35jh-r3h4-6jhm', aliases: ['CVE-2021-23337'] })]));
  assert.equal(applyVex([finding('CVE-2021-23337')], [statementAliases], subject).suppressed.length, 1);
  const other = parseVex(doc([notAffected([{ '@id': 'pkg:npm/lodash@4.17.20' }], { name: 'CVE-2000-0001' })]));
  assert.equal(applyVex([finding('CVE-2021-23337')], [other], subject).suppressed.length, 0);
});

test('purl matching: version and qualifiers the statement gives must agree; distro qualifiers by codename', () => {
  const pkg = matchedPackage(deb('libssl3', '3.0.11-1~deb12u1', 'openssl'));
  assert.equal(purlCovers('pkg:deb/debian/libssl3', pkg), true);
  assert.equal(purlCovers('pkg:deb/debian/libssl3@3.0.11-1~deb12u1', pkg), true);
  assert.equal(purlCovers('pkg:deb/debian/libssl3@3.0.11-1~deb12u2', pkg), false);
  assert.equal(purlCovers('pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64', pkg), true);
  assert.equal(purlCovers('pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=arm64', pkg), false);
  assert.equal(purlCovers('pkg:deb/debian/libssl3?distro=bookworm', pkg, DEBIAN_12), true);
  assert.equal(purlCovers('pkg:deb/debian/libssl3?distro=trixie', pkg, DEBIAN_12), false);
  assert.equal(purlCovers('pkg:deb/ubuntu/libssl3', pkg), false);
  assert.equal(purlCovers('pkg:npm/libssl3', pkg), false);
  // arch=source names the source package.
  assert.equal(purlCovers('pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=source', pkg), true);
  assert.equal(purlCovers('pkg:deb/debian/openssl@3.0.11-1~deb12u1', pkg), false);
});

test('the image as product: by pkg:oci purl, sha256 or repo@sha256, with subcomponents or as a whole', () => {
  const lodash = finding('CVE-2021-23337');
  const express = finding('CVE-2021-23337', npm('express', '4.17.1'));
  const withSub = parseVex(doc([notAffected([{ '@id': `pkg:oci/app@${encodeURIComponent(DIGEST)}?repository_url=example.com/app`, subcomponents: [{ '@id': 'pkg:npm/lodash@4.17.20' }] }])]));
  assert.deepEqual(applyVex([lodash, express], [withSub], subject).suppressed.map((s) => s.package.name), ['lodash']);
  const whole = parseVex(doc([notAffected([{ '@id': `example.com/app@${DIGEST}` }])]));
  assert.deepEqual(applyVex([lodash, express], [whole], subject).suppressed.map((s) => s.package.name), ['lodash', 'express']);
  const bare = parseVex(doc([notAffected([{ '@id': DIGEST, subcomponents: [{ '@id': 'pkg:npm/express' }] }])]));
  assert.deepEqual(applyVex([lodash, express], [bare], subject).suppressed.map((s) => s.package.name), ['express']);
  const hashes = parseVex(doc([notAffected([{ hashes: { 'sha-256': 'a'.repeat(64) } }])]));
  assert.equal(applyVex([lodash], [hashes], subject).suppressed.length, 1);
  const otherImage = parseVex(doc([notAffected([{ '@id': OTHER }])]));
  assert.equal(applyVex([lodash, express], [otherImage], subject).suppressed.length, 0);
  assert.deepEqual(vexSubject({ manifestDigest: DIGEST, imageId: OTHER }).imageDigests, [DIGEST, OTHER]);
});

test('statuses: fixed suppresses, affected and under_investigation do not, and the latest statement wins', () => {
  const p = [{ '@id': 'pkg:npm/lodash' }];
  const fixed = parseVex(doc([{ vulnerability: { name: 'CVE-2021-23337' }, products: p, status: 'fixed' }]), 'f.json');
  const s = applyVex([finding('CVE-2021-23337')], [fixed], subject).suppressed;
  assert.equal(s[0]?.reason, 'vex:fixed [f.json]');
  for (const status of ['affected', 'under_investigation']) {
    const d = parseVex(doc([{ vulnerability: { name: 'CVE-2021-23337' }, products: p, status }]));
    assert.equal(applyVex([finding('CVE-2021-23337')], [d], subject).suppressed.length, 0, status);
  }
  const history = parseVex(doc([
    notAffected(p, undefined, { timestamp: '2024-02-01T00:00:00Z' }),
    { vulnerability: { name: 'CVE-2021-23337' }, products: p, status: 'affected', timestamp: '2024-03-01T00:00:00Z' },
  ]));
  assert.equal(applyVex([finding('CVE-2021-23337')], [history], subject).suppressed.length, 0);
  const reversed = parseVex(doc([
    { vulnerability: { name: 'CVE-2021-23337' }, products: p, status: 'affected', timestamp: '2024-02-01T00:00:00Z' },
    notAffected(p, undefined, { timestamp: '2024-03-01T00:00:00Z', impact_statement: 'lodash.template is never called' }),
  ]));
  const r = applyVex([finding('CVE-2021-23337')], [reversed], subject).suppressed;
  assert.match(r[0]!.reason, /^vex:not_affected \(vulnerable_code_not_in_execute_path\): lodash.template is never called/);
});

test('the older v0.0.1 shapes (strings for vulnerability and products) are read too', () => {
  const old = parseVex(JSON.stringify({
    '@context': 'https://openvex.dev/ns', statements: [{ vulnerability: 'CVE-2021-23337', products: ['pkg:npm/lodash@4.17.20'], status: 'not_affected', justification: 'component_not_present' }],
  }));
  assert.equal(applyVex([finding('CVE-2021-23337')], [old], subject).suppressed.length, 1);
});

test('a bad VEX document is a BAD_INPUT error naming the problem', () => {
  const cases: [string, RegExp][] = [
    ['{nope', /x\.json: not JSON/],
    ['[]', /not a JSON object/],
    [JSON.stringify({ statements: [] }), /not an OpenVEX document: "@context"/],
    [JSON.stringify({ '@context': 'https://openvex.dev/ns/v0.2.0' }), /"statements" is missing/],
    [doc([{ products: [{ '@id': 'pkg:npm/a' }], status: 'fixed' }]), /statements\[0\]: "vulnerability" is missing/],
    [doc([{ vulnerability: {}, products: [{ '@id': 'pkg:npm/a' }], status: 'fixed' }]), /statements\[0\]\.vulnerability: has neither "name" nor "@id"/],
    [doc([{ vulnerability: { name: 'CVE-1' }, status: 'fixed' }]), /statements\[0\]: "products" is missing or empty/],
    [doc([{ vulnerability: { name: 'CVE-1' }, products: [{}], status: 'fixed' }]), /statements\[0\]\.products\[0\]: has no "@id"/],
    [doc([{ vulnerability: { name: 'CVE-1' }, products: [{ '@id': 'pkg:npm/a' }], status: 'fine' }]), /"status" "fine" is not one of not_affected, affected, fixed, under_investigation/],
    [doc([{ vulnerability: { name: 'CVE-1' }, products: [{ '@id': 'pkg:npm/a' }], status: 'not_affected' }]), /needs a "justification" or an "impact_statement"/],
    [doc([{ vulnerability: { name: 'CVE-1' }, products: [{ '@id': 'pkg:npm/a' }], status: 'not_affected', justification: 'trust_me' }]), /"justification" "trust_me" is not one of/],
    [doc([{ vulnerability: { name: 'CVE-1' }, products: [{ '@id': 'pkg:npm/a' }], status: 'fixed', timestamp: 'yesterday' }]), /"timestamp" "yesterday" is not a date-time/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseVex(text, 'x.json'), (e: unknown) => e instanceof LadingError && e.code === 'BAD_INPUT' && message.test(e.message), text);
  }
});

const UBUNTU_VEX = fileURLToPath(new URL('../../../shared/vulndata/ubuntu/vunnel-fixture/vex/cve/2023/CVE-2023-38545.json', import.meta.url));

test('Canonical\'s real OpenVEX for CVE-2023-38545: the fixed jammy curl is suppressed, an older one is not', { skip: existsSync(UBUNTU_VEX) ? false : 'shared vulndata not beside the repository' }, () => {
  const vex = parseVex(readFileSync(UBUNTU_VEX, 'utf8'), 'CVE-2023-38545.json');
  assert.ok(vex.statements.length >= 3);
  const jammy: Distro = { id: 'ubuntu', versionId: '22.04', versionCodename: 'jammy', idLike: ['debian'], source: '/etc/os-release' };
  const pkg = (version: string) => {
    const p = deb('libcurl4', version, 'curl', version, 'ubuntu-22.04');
    return { ...p, purl: p.purl.replace('pkg:deb/debian/', 'pkg:deb/ubuntu/') };
  };
  const f = (version: string) => ({ ...finding('CVE-2023-38545', pkg(version)) });
  const out = applyVex([f('7.81.0-1ubuntu1.24'), f('7.81.0-1ubuntu1.13')], [vex], { imageDigests: [], distro: jammy });
  assert.deepEqual(out.suppressed.map((s) => s.package.version), ['7.81.0-1ubuntu1.24']);
  assert.match(out.suppressed[0]!.reason, /^vex:fixed/);
});
