/**
 * `lading evaluate --advise`, in this process, on an image the test kit builds, with the real
 * matcher over real-format records and Lading's default bundle: the upgrade that makes it pass,
 * naming the history entry that installed the package, and the finding no upgrade removes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, writeOciLayout } from '../testkit/images.js';
import { MemoryLookup } from '../vulns/lookup.js';
import { scanSbom } from '../vulns/scan.js';
import { affected } from '../vulns/testing.js';
import { evaluateCommand } from './commands/evaluate.js';
import { runCommand } from './testing.js';

const lookup = new MemoryLookup().add({
  affected: [
    affected({ vulnId: 'CVE-2024-0001', name: 'openssl', fixedVersions: ['3.0.15-1~deb12u1'], ranges: [{ introduced: '0', fixed: '3.0.15-1~deb12u1' }], severity: 'High' }),
    affected({ vulnId: 'CVE-2024-0009', name: 'zlib', state: 'not-fixed', severity: 'Critical' }),
  ],
});

const status = (pkgs: [string, string, string][]) => ({
  type: 'file' as const, path: 'var/lib/dpkg/status',
  content: pkgs.map(([n, v, s]) => `Package: ${n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${v}\nSource: ${s}\n`).join('\n'),
});
const OS = { type: 'file' as const, path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' };
const fixable = buildImage({ layers: [
  { createdBy: '/bin/sh -c #(nop) ADD file:debian12 in / ', entries: [OS, status([['base-files', '12.4', 'base-files']])] },
  { createdBy: '/bin/sh -c apt-get install -y libssl3', entries: [status([['base-files', '12.4', 'base-files'], ['libssl3', '3.0.11-1~deb12u1', 'openssl']])] },
] });
const unfixable = buildImage({ layers: [{ entries: [OS, status([['libssl3', '3.0.11-1~deb12u1', 'openssl'], ['zlib1g', '1:1.2.13.dfsg-1', 'zlib']])] }] });

const evaluate = (args: string[]) => runCommand(evaluateCommand({ scan: (sbom) => scanSbom(sbom, lookup, { input: 'test' }) }), [...args, '--no-cache']);

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-advise-'));
  await writeOciLayout(join(dir, 'layout'), { fixable, unfixable });
});
after(async () => rm(dir, { recursive: true, force: true }));

test('evaluate --advise: the upgrade that makes the image pass, and the line that installed the package', async () => {
  const r = await evaluate([`oci-dir:${join(dir, 'layout')}:fixable`, '--advise']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^Advice: 1 change; with it the image would pass \(verified by re-matching the changed versions and evaluating again\)$/m);
  assert.match(r.stdout, /^ {2}1\. upgrade libssl3 \(deb\) 3\.0\.11-1~deb12u1 -> 3\.0\.15-1~deb12u1$/m);
  assert.match(r.stdout, /^ {5}installed by layer 1: RUN apt-get install -y libssl3$/m);
  assert.match(r.stdout, /^ {5}fixes CVE-2024-0001; removes 1 STOP row$/m);
});

test('evaluate --advise -o json: Anchore\'s document with an advice field; an unfixable finding is not removable', async () => {
  const r = await evaluate([`oci-dir:${join(dir, 'layout')}:unfixable`, '--advise', '-o', 'json']);
  assert.equal(r.code, 1, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.final_action, 'stop');
  assert.deepEqual(doc.advice.entries.map((e: { package: { name: string }; to: string }) => [e.package.name, e.to]), [['libssl3', '3.0.15-1~deb12u1']]);
  assert.equal(doc.advice.status_after, 'fail');
  assert.deepEqual(doc.advice.remaining.map((x: { trigger_id: string }) => x.trigger_id), ['CVE-2024-0009+zlib1g']);
  assert.match(doc.advice.remaining[0].remedy, /no fixed version is known/);
});

test('evaluate without --advise gives no advice', async () => {
  const r = await evaluate([`oci-dir:${join(dir, 'layout')}:fixable`, '-o', 'json']);
  assert.equal(JSON.parse(r.stdout).advice, undefined);
});
