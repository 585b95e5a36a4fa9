/**
 * The `lading` CLI as a client of a running service (started in process on SQLite, with a real
 * local registry holding a Debian-like image): image add → wait → list/get/vuln/content/del,
 * evaluate check exit codes, policy add/activate/list, and the errors (bad login, unreachable
 * service, not found) with their exit codes.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildImage, type BuiltImage } from '../../testkit/images.js';
import { pushImage } from '../../testkit/registry.js';
import { ADMIN, describeService, seedOpensslAdvisory } from '../../testkit/service.js';
import { lading, type CliRun } from '../testing.js';

const image: BuiltImage = buildImage({
  layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
    { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\nSource: openssl\nLicense: Apache-2.0\n' },
    { type: 'file', path: 'usr/lib/node_modules/left-pad/package.json', content: JSON.stringify({ name: 'left-pad', version: '1.1.0', license: 'MIT' }) },
  ] }],
});

/** A bundle whose only rule warns on the vulnerability: evaluate check passes. */
const WARN_BUNDLE = {
  id: 'warn-only',
  version: '1_0',
  name: 'warn only',
  policies: [{ id: 'p1', version: '1_0', name: 'warn', rules: [{ id: 'r1', gate: 'vulnerabilities', trigger: 'package', action: 'WARN', params: [{ name: 'package_type', value: 'all' }, { name: 'severity_comparison', value: '>=' }, { name: 'severity', value: 'high' }] }] }],
  whitelists: [],
  mappings: [{ id: 'm1', name: 'all', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_ids: ['p1'], whitelist_ids: [] }],
  whitelisted_images: [],
  blacklisted_images: [],
};

function ok(r: CliRun): CliRun {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

describeService('lading CLI against the service', { registry: true, seed: seedOpensslAdvisory, dialects: ['sqlite'] }, (h) => {
  let env: Record<string, string>;
  let tag: string;
  const cli = (...args: string[]) => lading(args, env);

  before(async () => {
    await pushImage(h().registry!.host, 'team/app', 'v1', image);
    tag = `${h().registry!.host}/team/app:v1`;
    // The service URL without /v1: the client appends it.
    // COLUMNS: rows never wrap, the tests read them whole
    env = { COLUMNS: '1000', LADING_URL: h().svc.url!, LADING_USER: ADMIN.user, LADING_PASS: ADMIN.pass, LADING_ACCOUNT: '', ANCHORE_CLI_URL: '', ANCHORE_CLI_USER: '', ANCHORE_CLI_PASS: '' };
  });

  test('image add, wait, list, get, vuln, content, metadata', async () => {
    const added = ok(await cli('image', 'add', tag, '--annotation', 'team=core'));
    assert.match(added.stdout, new RegExp(`^Image Digest: ${image.manifestDigest}$`, 'm'));
    assert.match(added.stdout, new RegExp(`^Full Tag: ${tag}$`, 'm'));

    const waited = ok(await cli('image', 'wait', tag, '--interval', '0.2', '--timeout', '60'));
    assert.match(waited.stdout, /^Analysis Status: analyzed$/m);
    assert.match(waited.stdout, /^Distro: debian$/m);
    assert.match(waited.stdout, /^Annotations: team=core$/m);
    assert.match(waited.stdout, new RegExp(`^Image ID: ${image.configDigest.replace('sha256:', '')}$`, 'm'));

    const list = ok(await cli('image', 'list'));
    const lines = list.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^Full Tag\s+Image Digest\s+Analysis Status$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)), [[tag, image.manifestDigest, 'analyzed']]);
    const full = ok(await cli('image', 'list', '--full'));
    assert.ok(full.stdout.includes(image.configDigest.replace('sha256:', '')));
    const listJson = JSON.parse(ok(await cli('image', 'list', '--json')).stdout);
    assert.equal(listJson.length, 1);
    assert.equal(listJson[0].imageDigest, image.manifestDigest);
    assert.deepEqual(listJson[0].annotations, { team: 'core' });

    // A tag as typed, the digest, repo@digest and the image id all name the same image.
    const args = [tag, image.manifestDigest, `${h().registry!.host}/team/app@${image.manifestDigest}`, image.configDigest.replace('sha256:', '')];
    const gets = await Promise.all(args.map((arg) => cli('image', 'get', arg, '--json')));
    gets.forEach((r, i) => assert.equal(JSON.parse(ok(r).stdout)[0].imageDigest, image.manifestDigest, args[i]));

    const types = ok(await cli('image', 'vuln', tag));
    assert.equal(types.stdout, 'os: available\nnon-os: available\nall: available\n\n');
    const vulns = ok(await cli('image', 'vuln', tag, 'all'));
    const [head, row] = vulns.stdout.trimEnd().split('\n');
    assert.match(head!, /^Vulnerability ID\s+Package\s+Severity\s+Fix\s+CVE Refs\s+Vulnerability URL\s+Type\s+Feed Group\s+Package Path$/);
    assert.deepEqual(row!.split(/\s+/), ['CVE-2024-0001', 'libssl3-3.0.11-1~deb12u1', 'High', '3.0.15-1~deb12u1', 'https://security-tracker.debian.org/tracker/CVE-2024-0001', 'dpkg', 'debian:12', '/var/lib/dpkg/status']);
    const nonOs = JSON.parse(ok(await cli('image', 'vuln', tag, 'non-os', '--json')).stdout);
    assert.deepEqual(nonOs.vulnerabilities, []);
    assert.equal(nonOs.vulnerability_type, 'non-os');

    const os = ok(await cli('image', 'content', tag, 'os'));
    assert.match(os.stdout, /^Package\s+Version\s+Licenses\nlibssl3\s+3\.0\.11-1~deb12u1\s+/);
    const npm = ok(await cli('image', 'content', image.manifestDigest, 'npm'));
    assert.match(npm.stdout, /^left-pad\s+1\.1\.0\s+\/usr\/lib\/node_modules\/left-pad\/package\.json$/m);
    const files = JSON.parse(ok(await cli('image', 'content', tag, 'files', '--json')).stdout);
    assert.ok(files.content.some((f: { filename: string }) => f.filename === '/var/lib/dpkg/status'));
    assert.match(ok(await cli('image', 'content', tag)).stdout, /^os: available$/m);

    const [mtypes, manifest] = await Promise.all([cli('image', 'metadata', tag), cli('image', 'metadata', tag, 'manifest')]);
    assert.match(ok(mtypes).stdout, /^manifest: available$/m);
    assert.equal(JSON.parse(ok(manifest).stdout).config.digest, image.configDigest);
  });

  test('evaluate check: 1 on fail (default bundle, High vulnerability), 0 on pass, 2 on error', async () => {
    ok(await cli('image', 'add', tag));
    ok(await cli('image', 'wait', tag, '--interval', '0.2', '--timeout', '60'));

    const fail = await cli('evaluate', 'check', tag, '--detail');
    assert.equal(fail.code, 1, fail.stderr);
    assert.match(fail.stdout, new RegExp(`^Image Digest: ${image.manifestDigest}$`, 'm'));
    assert.match(fail.stdout, new RegExp(`^Full Tag: ${tag}$`, 'm'));
    assert.match(fail.stdout, /^Status: fail$/m);
    assert.match(fail.stdout, /^Final Action: stop$/m);
    assert.match(fail.stdout, /^Gate\s+Trigger\s+Detail\s+Status$/m);
    assert.match(fail.stdout, /^vulnerabilities\s+package\s+.*CVE-2024-0001.*\s+stop$/m);

    const json = await cli('evaluate', 'check', image.manifestDigest, '--tag', tag, '--json');
    assert.equal(json.code, 1);
    assert.equal(JSON.parse(json.stdout)[0][image.manifestDigest][tag][0].status, 'fail');

    const missing = await cli('evaluate', 'check', tag, '--policy', 'no-such-bundle');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no-such-bundle/);

    // A stored bundle that only warns, activated: the same image passes.
    const file = join(h().dir, 'warn-bundle.json');
    await writeFile(file, JSON.stringify(WARN_BUNDLE));
    // A bundle the service refuses: every problem on a line of its own.
    const broken = join(h().dir, 'broken-bundle.json');
    await writeFile(broken, JSON.stringify({ ...WARN_BUNDLE, id: 'broken', policies: [{ id: 'p1', name: 'p1', version: '1_0', rules: [
      { id: 'r1', gate: 'nosuchgate', trigger: 'x', action: 'STOP', params: [] },
      { id: 'r2', gate: 'dockerfile', trigger: 'instruction', action: 'HALT', params: [{ name: 'instruction', value: 'HEALTHCHECK' }, { name: 'check', value: 'not_exists' }] },
    ] }] }));
    const refused = await cli('policy', 'add', broken);
    assert.equal(refused.code, 1, refused.stderr);
    const lines = refused.stderr.trimEnd().split('\n');
    assert.match(lines[0]!, /^lading: error: the service refused the bundle \(\d+ problems\):$/);
    assert.ok(lines.slice(1).every((l) => /^ {2}(error|warn): /.test(l)), refused.stderr);
    assert.ok(lines.some((l) => /^ {2}error: policies\[0\]\.rules\[0\]\.gate: .*nosuchgate/.test(l)), refused.stderr);
    assert.ok(lines.some((l) => /^ {2}error: policies\[0\]\.rules\[1\]\.action: .*HALT/.test(l)), refused.stderr);
    assert.equal(lines.length, 3, refused.stderr);

    const added = ok(await cli('policy', 'add', file));
    assert.match(added.stdout, /^Policy ID: warn-only$/m);
    assert.match(added.stdout, /^Active: False$/m);
    const activated = ok(await cli('policy', 'activate', 'warn-only'));
    assert.equal(activated.stdout, 'Success: warn-only activated\n');
    const list = ok(await cli('policy', 'list'));
    assert.match(list.stdout, /^Policy ID\s+Active\s+Created\s+Updated$/m);
    assert.match(list.stdout, /^warn-only\s+True\s+/m);
    const records = JSON.parse(ok(await cli('policy', 'list', '--json')).stdout);
    assert.equal(records.filter((p: { active: boolean }) => p.active).length, 1);
    const got = JSON.parse(ok(await cli('policy', 'get', 'warn-only', '--detail')).stdout);
    assert.equal(got.name, 'warn only');

    const pass = await cli('evaluate', 'check', tag);
    assert.equal(pass.code, 0, pass.stdout + pass.stderr);
    assert.match(pass.stdout, /^Status: pass$/m);
    assert.match(pass.stdout, /^Policy ID: warn-only$/m);
  });

  test('policy describe asks the service when one is named', async () => {
    const local = await lading(['policy', 'describe', '--gate', 'vulnerabilities', '-o', 'json'], { LADING_URL: '', ANCHORE_CLI_URL: '' });
    assert.equal(local.code, 0, local.stderr);
    const remote = ok(await cli('policy', 'describe', '--gate', 'vulnerabilities', '--json'));
    assert.deepEqual(JSON.parse(remote.stdout), JSON.parse(local.stdout));
    const unreachable = await lading(['policy', 'describe', '--url', 'http://127.0.0.1:9']);
    assert.equal(unreachable.code, 2);
  });

  test('errors: bad login and unreachable service exit 2, not found exits 1, each with one clear line', async () => {
    const bad = await cli('image', 'list', '--pass', 'wrong-password');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^lading: error: the Lading service at http:\/\/127\.0\.0\.1:\d+\/v1 refused the login \(user admin\): Unauthorized\n$/);
    const none = await lading(['image', 'list'], { ...env, LADING_USER: '', LADING_PASS: '' });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no user given/);

    const down = await lading(['image', 'list'], { ...env, LADING_URL: 'http://127.0.0.1:9/v1' });
    assert.equal(down.code, 2);
    assert.match(down.stderr, /^lading: error: cannot reach the Lading service at http:\/\/127\.0\.0\.1:9\/v1: ECONNREFUSED/);

    const unknownTag = await cli('image', 'get', `${h().registry!.host}/team/other:v9`);
    assert.equal(unknownTag.code, 1);
    assert.match(unknownTag.stderr, /is not in the catalog/);
    const unknownDigest = await cli('image', 'vuln', `sha256:${'0'.repeat(64)}`, 'all');
    assert.equal(unknownDigest.code, 1);
    assert.match(unknownDigest.stderr, /^lading: error: image sha256:0{64} not found\n$/);
    const notInRegistry = await cli('image', 'add', `${h().registry!.host}/team/app:missing`);
    assert.equal(notInRegistry.code, 1);
    assert.match(notInRegistry.stderr, /cannot fetch image/);
    const badJson = await cli('image', 'vuln', `sha256:${'0'.repeat(64)}`, 'all', '--json');
    assert.equal(JSON.parse(badJson.stdout).httpcode, 404);
  });

  test('connection options before the command, ANCHORE_CLI_* fallbacks, and image del', async () => {
    const base = `${h().svc.url!}/v1`;
    const global = await lading(['--url', base, '--u', ADMIN.user, '--p', ADMIN.pass, 'system', 'status'], { LADING_URL: '', LADING_USER: '', LADING_PASS: '' });
    assert.equal(global.code, 0, global.stderr);
    assert.match(global.stdout, /^Service api \(.*\): up$/m);
    assert.match(global.stdout, /^Engine Code Version: \d+\.\d+\.\d+$/m);
    const anchoreEnv = await lading(['image', 'list', '--json'], { LADING_URL: '', LADING_USER: '', LADING_PASS: '', ANCHORE_CLI_URL: base, ANCHORE_CLI_USER: ADMIN.user, ANCHORE_CLI_PASS: ADMIN.pass });
    assert.equal(anchoreEnv.code, 0, anchoreEnv.stderr);
    assert.ok(Array.isArray(JSON.parse(anchoreEnv.stdout)));

    ok(await cli('image', 'add', tag));
    ok(await cli('image', 'wait', tag, '--interval', '0.2', '--timeout', '60'));
    assert.equal(ok(await cli('image', 'del', tag)).stdout, 'Success\n');
    const gone = await cli('image', 'get', tag);
    assert.equal(gone.code, 1);
  });
});
