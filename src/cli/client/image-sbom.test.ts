/**
 * Client parity with the API, against a real in-process service and a real registry: `image add
 * --platform` and `--all-platforms` on a two-platform index, `image sbom -o FORMAT` downloading a
 * catalog image's SBOM, and `image import SBOM --tag T` uploading it through the import routes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, buildIndex } from '../../testkit/images.js';
import { pushImage } from '../../testkit/registry.js';
import { ADMIN, describeService } from '../../testkit/service.js';
import { lading, type CliRun } from '../testing.js';

const os = (arch: string) => ({ type: 'file' as const, path: 'etc/os-release', content: `ID=debian\nVERSION_ID="12"\nARCH=${arch}\n` });
const amd64 = buildImage({ platform: { os: 'linux', architecture: 'amd64' }, layers: [{ entries: [os('amd64')] }] });
const arm64 = buildImage({ platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layers: [{ entries: [os('arm64'), { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: zlib1g\nStatus: install ok installed\nArchitecture: arm64\nVersion: 1:1.2.13.dfsg-1\n' }] }] });
const index = buildIndex([amd64, arm64]);

function ok(r: CliRun): CliRun {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

describeService('lading image add --platform, sbom, import', { registry: true, dialects: ['sqlite'] }, (h) => {
  let env: Record<string, string>;
  let dir: string;
  const cli = (...args: string[]) => lading(args, env);
  const digests = (r: CliRun) => [...r.stdout.matchAll(/^Image Digest: (\S+)$/gm)].map((m) => m[1]);

  before(async () => {
    await pushImage(h().registry!.host, 'multi/app', 'v1', index);
    dir = await mkdtemp(join(tmpdir(), 'lading-sbom-cli-'));
    env = { LADING_URL: h().svc.url!, LADING_USER: ADMIN.user, LADING_PASS: ADMIN.pass, LADING_ACCOUNT: '', ANCHORE_CLI_URL: '', ANCHORE_CLI_USER: '', ANCHORE_CLI_PASS: '' };
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('image add --platform picks one platform; --all-platforms adds each; both together are refused', async () => {
    const tag = `${h().registry!.host}/multi/app:v1`;
    assert.deepEqual(digests(ok(await cli('image', 'add', tag, '--platform', 'linux/arm64/v8'))), [arm64.manifestDigest]);
    const all = ok(await cli('image', 'add', tag, '--all-platforms'));
    assert.deepEqual(digests(all).sort(), [amd64.manifestDigest, arm64.manifestDigest].sort());
    assert.match(all.stdout, new RegExp(`^Parent Digest: ${index.digest}$`, 'm'));
    const both = await cli('image', 'add', tag, '--platform', 'linux/arm64', '--all-platforms');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--platform and --all-platforms are exclusive/);
    const bad = await cli('image', 'add', tag, '--platform', 'linux/s390x');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /s390x/);
  });

  test('image sbom downloads the stored SBOM; image import uploads it as an analyzed image', async () => {
    ok(await cli('image', 'wait', arm64.manifestDigest, '--interval', '0.2', '--timeout', '60'));
    const cdx = JSON.parse(ok(await cli('image', 'sbom', arm64.manifestDigest, '-o', 'cyclonedx-json')).stdout);
    assert.equal(cdx.bomFormat, 'CycloneDX');
    assert.ok(cdx.components.some((c: { name: string }) => c.name === 'zlib1g'), JSON.stringify(cdx.components.map((c: { name: string }) => c.name)));
    const spdxFile = join(dir, 'app.spdx.json');
    ok(await cli('image', 'sbom', `${h().registry!.host}/multi/app:v1`, '-o', 'spdx-json', '--file', spdxFile));
    assert.equal(JSON.parse(await readFile(spdxFile, 'utf8')).spdxVersion, 'SPDX-2.3');

    const cdxFile = join(dir, 'app.cdx.json');
    await writeFile(cdxFile, JSON.stringify(cdx));
    const imported = ok(await cli('image', 'import', cdxFile, '--tag', 'imports.example/team/app:1.0'));
    assert.deepEqual(digests(imported), [arm64.manifestDigest], 'the digest the SBOM names');
    assert.match(imported.stdout, /^Analysis Status: analyzed$/m);
    const vuln = ok(await cli('image', 'content', 'imports.example/team/app:1.0', 'os'));
    assert.match(vuln.stdout, /zlib1g/);

    const notSbom = join(dir, 'x.json');
    await writeFile(notSbom, '{"hello": 1}');
    const bad = await cli('image', 'import', notSbom, '--tag', 'imports.example/team/app:2.0');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /x\.json: not a CycloneDX, SPDX or syft JSON document/);
  });
});
