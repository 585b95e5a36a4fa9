/**
 * End to end: images with known contents are built, written as OCI layouts, analysed, and judged
 * by Anchore-format bundles read from files (Anchore's own default bundle among them); every row
 * and the final action are stated.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeOciLayout } from '../testkit/images.js';
import { openSource } from '../image/sources/index.js';
import { analyzeImage } from '../analyze/analyze.js';
import type { Sbom } from '../sbom/model.js';
import type { ScanResult } from '../vulns/model.js';
import { loadBundle } from './bundle.js';
import { evaluateBundle, type Evaluation } from './evaluate.js';
import { checkRows, evaluationDoc } from './result.js';
import { md5TriggerId } from './gate.js';
import { NO_VULNERABILITY_DATA } from './gates/vulnerabilities.js';
import { appImage, appScan, cleanImage } from './e2e-images.js';

const NOW = new Date('2024-06-01T12:00:00Z');
let dir: string;
let app: Sbom;
let clean: Sbom;
let scan: ScanResult;

async function analyze(layout: string, name: string): Promise<Sbom> {
  const source = await openSource(`oci-dir:${layout}:${name}`);
  try {
    return await analyzeImage(await source.resolve({}), { retrieveFiles: ['/etc/passwd', '/etc/app.conf'] });
  } finally {
    await source.close();
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-policy-'));
  await writeOciLayout(join(dir, 'layout'), { app: appImage(), clean: cleanImage() });
  app = await analyze(join(dir, 'layout'), 'app');
  clean = await analyze(join(dir, 'layout'), 'clean');
  scan = appScan(app, '2024-06-01T06:00:00Z');
});
after(async () => rm(dir, { recursive: true, force: true }));

async function bundle(name: string) {
  return loadBundle(JSON.parse(await readFile(new URL(`./testdata/${name}`, import.meta.url), 'utf8')));
}

/** [trigger id, gate, trigger, message, action, allowlist item or false, policy] */
type Row = [string, string, string, string, string, string | false, string];
const rows = (e: Evaluation): Row[] => checkRows(e).map((r) => [r[2], r[3], r[4], r[5], r[6], r[7] === false ? false : r[7].matched_rule_id ?? '', r[8]]);
const md5 = (gate: string, trigger: string, msg: string): Row => [md5TriggerId(gate, trigger, msg), gate, trigger, msg, '', false, ''];
const row = (r: Row, action: string, policy: string, allowlisted: string | false = false): Row => [r[0], r[1], r[2], r[3], action, allowlisted, policy];

const AWS_RULE = 'AWS_ACCESS_KEY=(?i).*aws_access_key_id( *=+ *).*(?<![A-Z0-9])[A-Z0-9]{20}(?![A-Z0-9]).*';
const OPENSSL: Row = ['CVE-2024-0001+openssl', 'vulnerabilities', 'package', 'CRITICAL Vulnerability found in os package type (dpkg) - openssl (fixed in: 3.0.13-1~deb12u1)(CVE-2024-0001 - https://nvd.nist.gov/vuln/detail/CVE-2024-0001)', '', false, ''];
const EXPRESS: Row = ['GHSA-rv95-896h-c2vc+express', 'vulnerabilities', 'package', 'HIGH Vulnerability found in non-os package type (npm) - /app/node_modules/express/package.json (fixed in: 4.19.2)(GHSA-rv95-896h-c2vc - https://github.com/advisories/GHSA-rv95-896h-c2vc)', '', false, ''];
const ZLIB: Row = ['CVE-2024-0002+zlib1g', 'vulnerabilities', 'package', 'MEDIUM Vulnerability found in os package type (dpkg) - zlib1g (CVE-2024-0002 - https://nvd.nist.gov/vuln/detail/CVE-2024-0002)', '', false, ''];
const PORT22 = md5('dockerfile', 'exposed_ports', 'Dockerfile exposes port (22/tcp) which is in policy file DENIEDPORTS list');
const HEALTH: Row = ['41cb7cdf04850e33a11f80c42bf660b3', 'dockerfile', 'instruction', "Dockerfile directive 'HEALTHCHECK' not found, matching condition 'not_exists' check", '', false, ''];

function everyGateRows(): Row[] {
  return [
    row(PORT22, 'stop', 'full'),
    row(HEALTH, 'warn', 'full'),
    row(md5('dockerfile', 'effective_user', 'User root found as effective user, which is explicity not allowed'), 'stop', 'full'),
    row(md5('dockerfile', 'no_dockerfile_provided', 'Image was not analyzed with an actual Dockerfile'), 'warn', 'full'),
    row(['bcd159901fe47efddae5c095b4b0d7fd', 'files', 'suid_or_guid_set', 'SUID or SGID found set on file /usr/bin/passwd. Mode: 0o104755', '', false, ''], 'go', 'full', 'passwd-suid'),
    row(md5('files', 'name_match', 'Application of regex matched file found in container: file=/etc/ssl/private/server.key regexp=.*\\.key$'), 'warn', 'full'),
    row(md5('passwd_file', 'blacklist_usernames', "Blacklisted user 'ftp' found in image's /etc/passwd: pentry=ftp:x:14:50:FTP User:/srv/ftp:/usr/sbin/nologin"), 'warn', 'full'),
    row(md5('packages', 'blacklist', 'Package is blacklisted: openssh-server'), 'stop', 'full'),
    row(md5('packages', 'required_package', 'Required input package (ca-certificates) is not present in container image'), 'warn', 'full'),
    row(md5('packages', 'verify', "VERIFY check against package db for package 'openssl' failed on entry '/usr/bin/openssl' with status: 'missing'"), 'warn', 'full'),
    row(OPENSSL, 'stop', 'full'),
    row(EXPRESS, 'go', 'full', 'express-until-2999'),
    row(ZLIB, 'go', 'full', 'zlib-accepted'),
    row(md5('licenses', 'blacklist_partial_match', 'LICSUBMATCH Packages are installed that have blacklisted licenses: left-pad(WTFPL)'), 'warn', 'full'),
    row(md5('ruby_gems', 'blacklist', 'Gem Package is blacklisted: rake-13.0.6'), 'stop', 'full'),
    row(md5('ruby_gems', 'feed_data_unavailable', 'Gem packages are present but the anchore gem feed is not available - will be unable to perform checks that require feed data'), 'warn', 'full'),
    row(md5('npms', 'blacklisted_name_version', 'NPM Package is blacklisted: left-pad'), 'warn', 'full'),
    row(['evaluation_error', 'npms', 'newer_version_in_feed', "Not evaluated: Lading has no npm package feed (Anchore's legacy feed of published versions), so 2 npm package name(s) could not be checked", '', false, ''], 'warn', 'full'),
    row(md5('secret_scans', 'content_regex_checks', `Secret content search analyzer found regexp match in container: file=/srv/.env regexp=${AWS_RULE}`), 'stop', 'full'),
    row(md5('metadata', 'attribute', "Attribute check for attribute: 'layer_count' check: '>=' check_value: '2' matched image value: '2'"), 'warn', 'full'),
    row(['rf-debug+file:///etc/app.conf', 'retrieved_files', 'content_regex', "Content regex 'debug=true' check 'match' found in retrieved file '/etc/app.conf'", '', false, ''], 'stop', 'full'),
    row(md5('retrieved_files', 'content_not_available', 'Cannot locate file in the image analysis'), 'warn', 'full'),
    row(md5('malware', 'scan_not_run', 'No malware scans found for image'), 'warn', 'full'),
  ];
}

test('every gate on the application image: exact rows, allowlists with and without expiry, STOP', async () => {
  const e = evaluateBundle(await bundle('every-gate.json'), { sbom: app, scan }, { tag: 'docker.io/myorg/app:1.0', now: NOW });
  assert.equal(e.mapping?.name, 'default');
  assert.deepEqual(rows(e), everyGateRows());
  assert.deepEqual([e.policyAction, e.finalAction, e.reason, e.status], ['stop', 'stop', 'policy_evaluation', 'fail']);
  assert.deepEqual(e.problems.map((p) => `${p.severity} ${p.type} ${p.location}`), [
    'warn EndOfLifedError policies[0].rules[29].gate',
    'warn DataUnavailable policies[0].rules[23]',
  ]);
  const doc = evaluationDoc(e);
  assert.equal(doc.image_id, app.source.imageId.slice('sha256:'.length));
  assert.equal(doc.image_digest, app.source.manifestDigest);
  assert.deepEqual(doc.matched_mapping_rule, { id: 'm-default', name: 'default', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_id: 'full', whitelist_ids: ['global', 'temporary'] });
});

test('development builds map to the lenient policy, whose allowlist clears the critical vulnerability', async () => {
  const e = evaluateBundle(await bundle('every-gate.json'), { sbom: app, scan }, { tag: 'localhost:5000/myorg/app:dev-7', now: NOW });
  assert.equal(e.mapping?.name, 'development builds');
  assert.deepEqual(rows(e), [row(OPENSSL, 'go', 'lenient', 'openssl-dev')]);
  assert.deepEqual([e.finalAction, e.status], ['go', 'pass']);
});

test('legacy repositories are blocked by an always rule', async () => {
  const e = evaluateBundle(await bundle('every-gate.json'), { sbom: app, scan }, { tag: 'docker.io/legacy/app:1.0', now: NOW });
  assert.deepEqual(rows(e), [['always', 'always', 'always', 'Unconditional trigger match', 'stop', false, 'block']]);
  assert.deepEqual([e.finalAction, e.status], ['stop', 'fail']);
});

test('a whitelisted image passes whatever its policy says; a blacklisted tag fails even when whitelisted', async () => {
  const b = await bundle('every-gate.json');
  const trusted = evaluateBundle(b, { sbom: app, scan }, { tag: 'docker.io/vendor/app:2.1', now: NOW });
  assert.deepEqual(rows(trusted), everyGateRows());
  assert.deepEqual([trusted.policyAction, trusted.finalAction, trusted.reason, trusted.status], ['stop', 'go', 'whitelisted', 'pass']);
  const matched = evaluationDoc(trusted).matched_whitelisted_images_rule;
  assert.equal(matched && matched.id, 'wi-vendor');
  const banned = evaluateBundle(b, { sbom: app, scan }, { tag: 'docker.io/vendor/app:2.1-banned', now: NOW });
  assert.deepEqual([banned.finalAction, banned.reason, banned.status], ['stop', 'blacklisted', 'fail']);
});

test('an allowlist item stops applying when it expires', async () => {
  const e = evaluateBundle(await bundle('every-gate.json'), { sbom: app, scan }, { tag: 'docker.io/myorg/app:1.0', now: new Date('3000-01-01T00:00:00Z') });
  const express = rows(e).find((r) => r[0] === EXPRESS[0]);
  assert.deepEqual(express, row(EXPRESS, 'stop', 'full'));
});

test('Anchore\'s default bundle, unchanged: the application image fails', async () => {
  const e = evaluateBundle(await bundle('anchore-default.json'), { sbom: app, scan }, { tag: 'docker.io/myorg/app:1.0', now: NOW });
  const P = '48e6f7d6-1765-11e8-b5f9-8b6f228548b6';
  assert.deepEqual(rows(e), [row(PORT22, 'stop', P), row(HEALTH, 'warn', P), row(ZLIB, 'warn', P), row(OPENSSL, 'stop', P), row(EXPRESS, 'stop', P)]);
  assert.deepEqual([e.finalAction, e.status, e.problems.length], ['stop', 'fail', 0]);
});

test('Anchore\'s default bundle: the clean image passes with no rows', async () => {
  const e = evaluateBundle(await bundle('anchore-default.json'), { sbom: clean, scan: appScan(clean, '2024-06-01T06:00:00Z', false) }, { tag: 'docker.io/myorg/base:1', now: NOW });
  assert.deepEqual(rows(e), []);
  assert.deepEqual([e.finalAction, e.reason, e.status], ['go', 'policy_evaluation', 'pass']);
});

test('Anchore\'s default bundle without a vulnerability database: the vulnerability rules say so', async () => {
  const e = evaluateBundle(await bundle('anchore-default.json'), { sbom: app, scan: undefined }, { tag: 'docker.io/myorg/app:1.0', now: NOW });
  const P = '48e6f7d6-1765-11e8-b5f9-8b6f228548b6';
  assert.deepEqual(rows(e), [
    row(PORT22, 'stop', P),
    row(HEALTH, 'warn', P),
    row(md5('vulnerabilities', 'stale_feed_data', 'The vulnerability feed for this image distro is older than MAXAGE (2) days'), 'warn', P),
    row(md5('vulnerabilities', 'vulnerability_data_unavailable', 'Distro-specific feed data not found for distro namespace: debian:12. Cannot perform CVE scan OS/distro packages'), 'warn', P),
    row(md5('vulnerabilities', 'package', NO_VULNERABILITY_DATA), 'warn', P),
    row(md5('vulnerabilities', 'package', NO_VULNERABILITY_DATA), 'stop', P),
  ]);
  assert.equal(e.finalAction, 'stop');
});
