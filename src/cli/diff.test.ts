/**
 * `lading diff`, run in this process over images the test kit builds (an OCI layout) and an SBOM
 * file, with the real matcher over real-format records: packages added, removed and upgraded,
 * vulnerabilities fixed and introduced, a secret and a setuid file added, the verdicts under a
 * bundle; the table fits in 100 columns.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeImage } from '../analyze/analyze.js';
import { openSource } from '../image/sources/index.js';
import { DEFAULT_BUNDLE } from '../policy/default-bundle.js';
import { writeCycloneDxJson } from '../sbom/formats/cyclonedx.js';
import { buildImage, writeOciLayout, type BuiltImage } from '../testkit/images.js';
import { MemoryLookup } from '../vulns/lookup.js';
import { affected } from '../vulns/testing.js';
import { diffCommand } from './commands/diff.js';
import { runCommand } from './testing.js';

const OS_RELEASE = { type: 'file' as const, path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' };
const dpkg = (...pkgs: [string, string, string][]) => ({
  type: 'file' as const, path: 'var/lib/dpkg/status',
  content: pkgs.map(([name, version, source]) => `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\nSource: ${source}\n`).join('\n'),
});
const newgrp = { type: 'file' as const, path: 'usr/bin/newgrp', content: 'ELF', mode: 0o4755 };

/** Before: libssl3 with a High finding fixed later, zlib1g, a setuid newgrp. */
const imageA: BuiltImage = buildImage({ layers: [
  { createdBy: '/bin/sh -c #(nop) ADD file:debian12 in / ', entries: [OS_RELEASE, newgrp, dpkg(['libssl3', '3.0.11-1~deb12u1', 'openssl'], ['zlib1g', '1:1.2.13.dfsg-1', 'zlib'])] },
] });
/** After: libssl3 upgraded, zlib1g gone, curl added (a Medium finding), an AWS key, a setuid helper; newgrp unchanged. */
const imageB: BuiltImage = buildImage({ layers: [
  { createdBy: '/bin/sh -c #(nop) ADD file:debian12 in / ', entries: [OS_RELEASE, newgrp, dpkg(['libssl3', '3.0.11-1~deb12u1', 'openssl'], ['zlib1g', '1:1.2.13.dfsg-1', 'zlib'])] },
  { createdBy: '/bin/sh -c apt-get install -y curl', entries: [
    dpkg(['libssl3', '3.0.15-1~deb12u1', 'openssl'], ['curl', '7.88.1-10+deb12u5', 'curl']),
    { type: 'file', path: 'srv/.env', content: 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n' },
    { type: 'file', path: 'usr/local/bin/helper', content: 'ELF', mode: 0o4755 },
  ] },
] });

const lookup = () => new MemoryLookup().add({
  affected: [
    affected({ vulnId: 'CVE-2024-0001', name: 'openssl', fixedVersions: ['3.0.15-1~deb12u1'], ranges: [{ introduced: '0', fixed: '3.0.15-1~deb12u1' }], severity: 'High' }),
    affected({ vulnId: 'CVE-2024-0002', name: 'curl', state: 'not-fixed', severity: 'Medium' }),
  ],
});

/** `lading diff ARGS` in this process; `db` false: no vulnerability database. */
function diff(args: string[], db = true) {
  return runCommand(diffCommand({
    openLookup: async () => (db ? Object.assign(lookup(), { close: async () => {} }) : undefined),
  }), [...args, '--no-cache']);
}

let dir: string;
let layout: string;
let bundle: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-diff-'));
  layout = join(dir, 'layout');
  await writeOciLayout(layout, { a: imageA, b: imageB });
  bundle = join(dir, 'bundle.json');
  await writeFile(bundle, JSON.stringify(DEFAULT_BUNDLE));
});
after(async () => rm(dir, { recursive: true, force: true }));

test('diff: packages, vulnerabilities, secrets, setuid files and verdicts, as JSON', async () => {
  const r = await diff([`oci-dir:${layout}:a`, `oci-dir:${layout}:b`, '--bundle', bundle, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  assert.equal(d.base.digest, imageA.manifestDigest);
  assert.equal(d.target.digest, imageB.manifestDigest);
  assert.deepEqual(d.packages, {
    added: [{ name: 'curl', type: 'deb', version: '7.88.1-10+deb12u5' }],
    removed: [{ name: 'zlib1g', type: 'deb', version: '1:1.2.13.dfsg-1' }],
    upgraded: [{ name: 'libssl3', type: 'deb', from: '3.0.11-1~deb12u1', to: '3.0.15-1~deb12u1' }],
    downgraded: [],
  });
  assert.deepEqual(d.vulnerabilities.fixed.map((f: { id: string; package_name: string }) => [f.id, f.package_name]), [['CVE-2024-0001', 'libssl3']]);
  assert.deepEqual(d.vulnerabilities.introduced.map((f: { id: string; package_name: string }) => [f.id, f.package_name]), [['CVE-2024-0002', 'curl']]);
  assert.deepEqual(d.secrets.added.map((s: { rule_id: string; path: string }) => [s.rule_id, s.path]), [['AWS_ACCESS_KEY', '/srv/.env']]);
  assert.deepEqual(d.secrets.removed, []);
  assert.deepEqual(d.setuid, { added: [{ path: '/usr/local/bin/helper', mode: '04755', setuid: true, setgid: false, uid: 0, gid: 0, layer: 1 }], removed: [] });
  // High finding (STOP) before; only a Medium one (WARN) after.
  assert.deepEqual(d.verdict, { base: 'fail', target: 'warn', changed: true });
});

test('diff: the table names each change and fits in 100 columns; exit 0', async () => {
  const r = await diff([`oci-dir:${layout}:a`, `oci-dir:${layout}:b`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Packages: 1 added, 1 removed, 1 upgraded, 0 downgraded$/m);
  assert.match(r.stdout, /^added +curl +deb +- +7\.88\.1-10\+deb12u5$/m);
  assert.match(r.stdout, /^upgraded +libssl3 +deb +3\.0\.11-1~deb12u1 +3\.0\.15-1~deb12u1$/m);
  assert.match(r.stdout, /^introduced +CVE-2024-0002 +Medium +curl/m);
  assert.match(r.stdout, /^added +\/usr\/local\/bin\/helper +04755 +setuid$/m);
  assert.doesNotMatch(r.stdout, /^Verdict:/m);
  for (const line of r.stdout.split('\n')) assert.ok(line.length <= 100, `too wide: ${line}`);
});

test('diff: an SBOM file against an image; without vulnerability data the rest is still compared', async () => {
  const source = await openSource(`oci-dir:${layout}:b`);
  const sbom = await analyzeImage(await source.resolve({}), { cache: null });
  await source.close();
  const file = join(dir, 'b.cdx.json');
  await writeFile(file, writeCycloneDxJson(sbom));
  const r = await diff([`oci-dir:${layout}:a`, file, '-o', 'json'], false);
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  assert.deepEqual(d.packages.added.map((p: { name: string }) => p.name), ['curl']);
  assert.equal(d.vulnerabilities, null);
  assert.equal(d.verdict, undefined);
});

test('diff: a missing SBOM file is named', async () => {
  await assert.rejects(diff([`oci-dir:${layout}:a`, join(dir, 'nope.json')]), /nope\.json/);
});
