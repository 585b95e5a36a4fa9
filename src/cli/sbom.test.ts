import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lading } from './testing.js';
import { buildImage, writeOciLayout } from '../testkit/images.js';
import { whiteout } from '../testkit/tar.js';
import { validateCycloneDx, validateSpdx } from '../sbom/validate.js';



const STATUS = (pkgs: [string, string, string?][]) => pkgs.map(([name, version, source]) =>
  `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\n${source ? `Source: ${source}\n` : ''}`).join('\n');

let dir: string;
let layout: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-sbom-'));
  layout = join(dir, 'layout');
  const image = buildImage({
    layers: [
      { entries: [
        { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' },
        { type: 'file', path: 'var/lib/dpkg/status', content: STATUS([['libssl3', '3.0.11-1~deb12u1', 'openssl'], ['zlib1g', '1:1.2.13.dfsg-1', 'zlib'], ['oldpkg', '1.0-1']]) },
        { type: 'file', path: 'app/node_modules/express/package.json', content: JSON.stringify({ name: 'express', version: '4.17.1', license: 'MIT' }) },
      ] },
      // A later layer upgrades libssl3 and removes oldpkg, and removes the npm package.
      { entries: [
        { type: 'file', path: 'var/lib/dpkg/status', content: STATUS([['libssl3', '3.0.15-1~deb12u1', 'openssl'], ['zlib1g', '1:1.2.13.dfsg-1', 'zlib']]) },
        whiteout('app/node_modules/express'),
        { type: 'file', path: 'srv/.env', content: 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n' },
      ] },
    ],
  });
  await writeOciLayout(layout, { v1: image });
});
after(async () => rm(dir, { recursive: true, force: true }));

test('sbom table: a later layer upgrades and removes packages', async () => {
  const r = await lading(['sbom', `oci-dir:${layout}:v1`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Distro: +Debian GNU\/Linux 12 \(bookworm\)/);
  assert.match(r.stdout, /Packages: 2 \(2 deb\)/);
  assert.match(r.stdout, /libssl3 +3\.0\.15-1~deb12u1 +deb/);
  assert.doesNotMatch(r.stdout, /oldpkg|express|3\.0\.11/);
  assert.match(r.stdout, /Secrets: +1 finding\(s\): AWS_ACCESS_KEY/);
});

test('sbom json carries what later steps need', async () => {
  const r = await lading(['sbom', `oci-dir:${layout}:v1`, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  const ssl = s.packages.find((p: { name: string }) => p.name === 'libssl3');
  assert.equal(ssl.purl, 'pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl');
  assert.equal(ssl.sourceName, 'openssl');
  assert.deepEqual(ssl.locations.map((l: { path: string; layer: number }) => [l.path, l.layer]), [['/var/lib/dpkg/status', 1]]);
  const zlib = s.packages.find((p: { name: string }) => p.name === 'zlib1g');
  assert.equal(zlib.epoch, 1);
  assert.equal(s.distro.id, 'debian');
  assert.equal(s.source.layers.length, 2);
  assert.match(s.source.dockerfile.text, /^FROM scratch\nADD file:layer0 \//);
  assert.equal(s.secrets[0].path, '/srv/.env');
  assert.ok(s.files.some((f: { path: string }) => f.path === '/etc/os-release'));
  assert.ok(!s.files.some((f: { path: string }) => f.path.startsWith('/app/node_modules/express')));
});

test('sbom CycloneDX and SPDX validate against the official schemas; --file writes the file', async () => {
  const cdx = await lading(['sbom', `oci-dir:${layout}:v1`, '-o', 'cyclonedx-json']);
  assert.equal(cdx.code, 0, cdx.stderr);
  assert.deepEqual(validateCycloneDx(JSON.parse(cdx.stdout)), []);
  const out = join(dir, 'bom.spdx.json');
  const spdx = await lading(['sbom', `oci-dir:${layout}:v1`, '-o', 'spdx-json', '--file', out]);
  assert.equal(spdx.code, 0, spdx.stderr);
  assert.equal(spdx.stdout, '');
  const doc = JSON.parse(await readFile(out, 'utf8'));
  assert.deepEqual(validateSpdx(doc), []);
  assert.ok(doc.packages.some((p: { name: string; versionInfo: string }) => p.name === 'libssl3' && p.versionInfo === '3.0.15-1~deb12u1'));
});

test('an actual Dockerfile is recorded; bad input is one error line', async () => {
  const df = join(dir, 'Dockerfile');
  await writeFile(df, 'FROM debian:12\nRUN apt-get install -y libssl3\n');
  const r = await lading(['sbom', `oci-dir:${layout}:v1`, '-o', 'json', '--dockerfile', df, '--no-secrets']);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(s.source.dockerfile, { mode: 'actual', text: 'FROM debian:12\nRUN apt-get install -y libssl3\n' });
  assert.deepEqual(s.secrets, []);
  const bad = await lading(['sbom', `oci-dir:${layout}:v1`, '-o', 'xml']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /argument 'xml' is invalid/);
});

test('sbom -o FORMAT=FILE, repeated: each format to its file, the one without a file to standard output; each valid', async () => {
  const cdx = join(dir, 'multi.cdx.json');
  const spdx = join(dir, 'multi.spdx.json');
  const xml = join(dir, 'multi.cdx.xml');
  const r = await lading(['sbom', `oci-dir:${layout}:v1`, '-o', `cyclonedx-json=${cdx}`, '-o', `spdx-json=${spdx}`, '-o', `cyclonedx-xml=${xml}`, '-o', 'syft-json', '--no-secrets']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(validateCycloneDx(JSON.parse(await readFile(cdx, 'utf8'))), []);
  assert.deepEqual(validateSpdx(JSON.parse(await readFile(spdx, 'utf8'))), []);
  assert.match(await readFile(xml, 'utf8'), /<bom xmlns="http:\/\/cyclonedx.org\/schema\/bom\/1.6"/);
  const syft = JSON.parse(r.stdout);
  assert.deepEqual(syft.artifacts.map((a: { name: string }) => a.name).sort(), ['libssl3', 'zlib1g']);

  const two = await lading(['sbom', `oci-dir:${layout}:v1`, '-o', 'json', '-o', 'spdx-json']);
  assert.equal(two.code, 2);
  assert.match(two.stderr, /only one output can go to standard output/);
  const bad = await lading(['sbom', `oci-dir:${layout}:v1`, '-o', 'cyclonedx=x.json']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown format "cyclonedx"; expected one of table, json, cyclonedx-json/);
});
