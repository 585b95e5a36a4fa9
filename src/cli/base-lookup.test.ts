/**
 * The base the OCI annotations name, fetched from a real local registry (testkit/registry.ts) by
 * `lading scan` and `lading evaluate` without `--base` (`lading sbom` only with `--base-lookup`): findings in packages the image inherited
 * from it are `inherited_from_base`; `--no-base-lookup` skips it; a base that cannot be fetched is
 * a warning. Then the base's tag moves to a newer digest: `evaluate --advise` says to rebuild on
 * it, listing the inherited findings that go away. Fixture images: analyze/testing-bases.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseFixtures } from '../analyze/testing-bases.js';
import { BASE_DIGEST_ANNOTATION, BASE_NAME_ANNOTATION } from '../sbom/base.js';
import type { Sbom } from '../sbom/model.js';
import { pushImage, registryAvailable, registrySkipReason, startRegistry, type RunningServer } from '../testkit/registry.js';
import { MemoryLookup } from '../vulns/lookup.js';
import { scanSbom } from '../vulns/scan.js';
import { affected } from '../vulns/testing.js';
import { evaluateCommand } from './commands/evaluate.js';
import { sbomCommand } from './commands/sbom.js';
import { scanCommand } from './commands/scan.js';
import { runCommand } from './testing.js';

const lookup = () => new MemoryLookup().add({
  affected: [
    affected({ vulnId: 'CVE-2024-1', name: 'zlib1g', ranges: [{ introduced: '0', fixed: '1:1.2.13.dfsg-3' }], fixedVersions: ['1:1.2.13.dfsg-3'], severity: 'High' }),
    affected({ vulnId: 'CVE-2024-2', name: 'libc6', ranges: [{ introduced: '0', fixed: '2.36-10' }], fixedVersions: ['2.36-10'], severity: 'High' }),
  ],
});

const scan = (args: string[]) => runCommand(scanCommand(async () => Object.assign(lookup(), { close: async () => {} })).exitOverride(), [...args, '--no-cache']);
const evaluate = (args: string[]) => {
  const db = lookup();
  return runCommand(evaluateCommand({ scan: (sbom: Sbom) => scanSbom(sbom, db, { input: 'test' }) }).exitOverride(), [...args, '--no-cache']);
};
/** `lading sbom ARGS -o json=FILE`: its JSON (the command writes files itself, not through the capture). */
const sbomJson = async (args: string[]) => {
  const dir = await mkdtemp(join(tmpdir(), 'lading-base-lookup-'));
  try {
    const r = await runCommand(sbomCommand().exitOverride(), [...args, '-o', `json=${join(dir, 'sbom.json')}`, '--no-cache']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(await readFile(join(dir, 'sbom.json'), 'utf8')) as Sbom;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
const flags = (stdout: string) => Object.fromEntries((JSON.parse(stdout).matches as { vulnerability: { id: string }; package: { name: string }; inherited_from_base: boolean }[])
  .map((m) => [`${m.package.name} ${m.vulnerability.id}`, m.inherited_from_base]));

if (!registryAvailable()) {
  test('base lookup needs a local registry', { skip: registrySkipReason }, () => {});
} else {
  let registry: RunningServer & { dir: string };
  let host: string;
  let osDigest: string, newerDigest: string;

  before(async () => {
    registry = await startRegistry();
    host = registry.host;
    const plain = baseFixtures();
    osDigest = plain.os.manifestDigest;
    newerDigest = plain.osNewer.manifestDigest;
    await pushImage(host, 'os', '12', plain.os);
    const annotated = baseFixtures({ [BASE_NAME_ANNOTATION]: `${host}/os:12`, [BASE_DIGEST_ANNOTATION]: osDigest });
    await pushImage(host, 'app', '1', annotated.app);
    const missing = baseFixtures({ [BASE_NAME_ANNOTATION]: `${host}/gone:12`, [BASE_DIGEST_ANNOTATION]: osDigest });
    await pushImage(host, 'app', 'missing-base', missing.app);
  });
  after(async () => registry?.stop());

  test('scan without --base: the annotated base is fetched; libc6 is inherited, the upgraded zlib1g is the image\'s own', async () => {
    const r = await scan([`${host}/app:1`, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /warning/);
    assert.deepEqual(flags(r.stdout), { 'libc6 CVE-2024-2': true, 'zlib1g CVE-2024-1': false });
  });

  test('sbom fetches the annotated base only with --base-lookup: an inventory pulls no second image unless asked', async () => {
    // Unfetched, the base is what the annotations say, with no layer known to be shared.
    assert.deepEqual((await sbomJson([`${host}/app:1`])).source.base, { digest: osDigest, sharedLayers: 0, tag: `${host}/os:12` });
    const looked = (await sbomJson([`${host}/app:1`, '--base-lookup'])).source.base;
    assert.equal(looked?.digest, osDigest);
    assert.ok(looked.sharedLayers > 0, 'fetched: its layers are the shared prefix');
  });

  test('--no-base-lookup: nothing is fetched, nothing is inherited', async () => {
    const r = await scan([`${host}/app:1`, '-o', 'json', '--no-base-lookup']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(flags(r.stdout), { 'libc6 CVE-2024-2': false, 'zlib1g CVE-2024-1': false });
  });

  test('a base that cannot be fetched: a warning naming it, and the scan goes on', async () => {
    const r = await scan([`${host}/app:missing-base`, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`warning: cannot fetch the base image ${host}/gone:12 named by the image's org\\.opencontainers\\.image\\.base annotations \\(${host}/gone@${osDigest}\\): .*--no-base-lookup`));
    assert.deepEqual(flags(r.stdout), { 'libc6 CVE-2024-2': false, 'zlib1g CVE-2024-1': false });
  });

  test('evaluate --advise while the tag names the base: no rebuild advice, only upgrades', async () => {
    const r = await evaluate([`${host}/app:1`, '--advise', '-o', 'json']);
    assert.equal(r.code, 1, r.stderr);
    const entries = JSON.parse(r.stdout).advice.entries as { kind: string; package: { name: string }; layer_index: number; inherited_from_base: boolean }[];
    assert.deepEqual(entries.map((e) => [e.kind, e.package.name, e.layer_index, e.inherited_from_base]), [['upgrade', 'libc6', 0, true], ['upgrade', 'zlib1g', 2, false]],
      'libc6 was installed by the base\'s layer (its dpkg info list), not by the last layer that rewrote the dpkg status');
    const text = await evaluate([`${host}/app:1`, '--advise']);
    assert.match(text.stdout, /^ {2}1\. upgrade libc6 \(deb\) 2\.36-9 -> 2\.36-10\n {5}installed by layer 0 \(the base image\)/m);
  });

  test('the base\'s tag moves to a newer digest: evaluate --advise says to rebuild on it, and which inherited findings go away', async () => {
    await pushImage(host, 'os', '12', baseFixtures().osNewer);
    const r = await evaluate([`${host}/app:1`, '--advise', '-o', 'json']);
    assert.equal(r.code, 1, r.stderr);
    const advice = JSON.parse(r.stdout).advice;
    assert.deepEqual(advice.entries.map((e: { kind: string }) => e.kind), ['rebuild-base', 'upgrade']);
    assert.deepEqual(advice.entries[0].to, { tag: `${host}/os:12`, digest: newerDigest });
    assert.deepEqual(advice.entries[0].fixed, [{ vulnerability: 'CVE-2024-2', package: 'libc6', version: '2.36-9', to: '2.36-10' }]);
    assert.equal(advice.status_after, 'pass');
    const text = await evaluate([`${host}/app:1`, '--advise']);
    assert.match(text.stdout, new RegExp(`^ {2}1\\. rebuild on ${host}/os:12@${newerDigest} \\(the image is built on sha256:`, 'm'));
    assert.match(text.stdout, /^ {5}removes 1 of 1 inherited finding and 1 STOP row:$/m);
    assert.match(text.stdout, /^ {7}CVE-2024-2 libc6 2\.36-9 -> 2\.36-10$/m);
  });
}
