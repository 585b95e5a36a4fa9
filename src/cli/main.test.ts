import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lading } from './testing.js';
import { buildImage, buildIndex, writeOciLayout, dockerArchiveBuffer, type BuiltImage } from '../testkit/images.js';
import { whiteout, opaque } from '../testkit/tar.js';
import { registryAvailable, registrySkipReason, startRegistry, pushImage } from '../testkit/registry.js';



let dir: string;
let app: BuiltImage;
let arm: BuiltImage;
const EXPECTED_FILES = ['/bin', '/etc', '/etc/os-release', '/etc/passwd', '/etc/skel', '/etc/skel/.new', '/opt', '/opt/app', '/opt/app/run.sh', '/usr', '/usr/bin', '/usr/bin/tool'];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-cli-'));
  app = buildImage({
    layers: [
      { entries: [
        { type: 'dir', path: 'etc' }, { type: 'file', path: 'etc/os-release', content: 'ID=debian\n' },
        { type: 'file', path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' }, { type: 'file', path: 'etc/issue', content: 'x' },
        { type: 'dir', path: 'etc/skel' }, { type: 'file', path: 'etc/skel/.old', content: 'old' },
        { type: 'file', path: 'usr/bin/tool', content: 'bin', mode: 0o4755 }, { type: 'symlink', path: 'bin', target: 'usr/bin' },
      ] },
      { entries: [whiteout('etc/issue'), opaque('etc/skel'), { type: 'file', path: 'etc/skel/.new', content: 'new' },
        { type: 'file', path: 'opt/app/run.sh', content: '#!/bin/sh\n', mode: 0o755, uid: 1000, gid: 1000 }] },
    ],
    config: { User: 'app', Entrypoint: ['/opt/app/run.sh'], ExposedPorts: { '8080/tcp': {} }, Labels: { team: 'core' } },
  });
  arm = buildImage({ layers: [{ entries: [{ type: 'file', path: 'arm.txt', content: 'arm' }] }], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
  await writeOciLayout(join(dir, 'layout'), { v1: app, multi: buildIndex([app, arm]) });
  await writeFile(join(dir, 'app.tar'), dockerArchiveBuffer(app, ['example.com/app:1.0']));
});
after(async () => rm(dir, { recursive: true, force: true }));

test('--version and --help at every level', async () => {
  const v = await lading(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
  for (const args of [['--help'], ['image', '--help'], ['image', 'inspect', '--help'], ['image', 'files', '--help']]) {
    const r = await lading(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, /Usage: lading/);
  }
});

test('image inspect, table and json', async () => {
  const t = await lading(['image', 'inspect', `oci-dir:${join(dir, 'layout')}:v1`]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, new RegExp(`Manifest digest: +${app.manifestDigest}`));
  assert.match(t.stdout, /Exposed ports: +8080\/tcp/);
  assert.match(t.stdout, /Layers \(2\):/);
  const j = await lading(['image', 'inspect', `oci-dir:${join(dir, 'layout')}:multi`, '--platform', 'linux/arm64', '-o', 'json']);
  assert.equal(j.code, 0, j.stderr);
  const doc = JSON.parse(j.stdout);
  assert.equal(doc.manifestDigest, arm.manifestDigest);
  assert.equal(doc.platform, 'linux/arm64/v8');
  assert.equal(doc.layers.length, 1);
});

test('image files lists the squashed tree in byte order (whiteouts and opaque dirs applied)', async () => {
  for (const input of [`docker-archive:${join(dir, 'app.tar')}`, join(dir, 'app.tar'), `oci-dir:${join(dir, 'layout')}:v1`]) {
    const r = await lading(['image', 'files', input]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), EXPECTED_FILES, input);
  }
  const j = await lading(['image', 'files', `docker-archive:${join(dir, 'app.tar')}`, '-o', 'json']);
  const files = JSON.parse(j.stdout) as { path: string; mode: string; uid: number; layer: number; type: string; linkTarget?: string }[];
  const run = files.find((f) => f.path === '/opt/app/run.sh')!;
  assert.equal(run.mode, '0755');
  assert.equal(run.uid, 1000);
  assert.equal(run.layer, 1);
  assert.equal(files.find((f) => f.path === '/usr/bin/tool')!.mode, '4755');
  assert.equal(files.find((f) => f.path === '/bin')!.linkTarget, 'usr/bin');
});

test('errors: one line on stderr, exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['image', 'inspect', 'Bad_Name'], /invalid image reference "Bad_Name": repository name must be lowercase/],
    [['image', 'files', `oci-dir:${join(dir, 'nope')}`], /is not a directory/],
    [['image', 'inspect', `oci-dir:${join(dir, 'layout')}:v1`, '--platform', 'linux'], /invalid platform "linux"/],
    [['image', 'inspect', 'docker:debian'], /container daemon, which Lading never talks to/],
    [['image', 'inspect', `oci-dir:${join(dir, 'layout')}:multi`, '--platform', 'linux/s390x'], /available: linux\/amd64, linux\/arm64\/v8/],
  ];
  for (const [args, re] of cases) {
    const r = await lading(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^lading: error: /);
  }
  // usage errors too are one line, naming the help to read instead of printing it
  const usageCases: [string[], string][] = [
    [['image', 'inspect'], "lading: error: missing required argument 'ref' (run lading image inspect --help)"],
    [['scan', 'x', '--fail-on'], "lading: error: option '--fail-on <severity>' argument missing (run lading scan --help)"],
    [['sbon'], "lading: error: unknown command 'sbon' (Did you mean sbom?) (run lading --help)"],
  ];
  for (const [args, line] of usageCases) {
    const usage = await lading(args);
    assert.equal(usage.code, 2, args.join(' '));
    assert.equal(usage.stdout, '');
    assert.equal(usage.stderr, `${line}\n`);
  }
});

test('image files from a real registry, with basic auth', { skip: registryAvailable() ? false : registrySkipReason }, async () => {
  const reg = await startRegistry({ htpasswd: { user: 'alice', pass: 's3cret' } });
  try {
    await pushImage(reg.host, 'team/app', 'v1', app, { user: 'alice', pass: 's3cret' });
    const denied = await lading(['image', 'files', `${reg.host}/team/app:v1`], { DOCKER_CONFIG: dir });
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /authentication required/);
    const ok = await lading(['image', 'files', `registry:${reg.host}/team/app:v1`, '--username', 'alice', '--password', 's3cret'], { DOCKER_CONFIG: dir });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(ok.stdout.trimEnd().split('\n'), EXPECTED_FILES);
    const cfgDir = join(dir, 'docker');
    await import('node:fs/promises').then((fs) => fs.mkdir(cfgDir, { recursive: true }));
    await writeFile(join(cfgDir, 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('alice:s3cret').toString('base64') } } }));
    const viaConfig = await lading(['image', 'inspect', `${reg.host}/team/app:v1`, '-o', 'json'], { DOCKER_CONFIG: cfgDir });
    assert.equal(viaConfig.code, 0, viaConfig.stderr);
    assert.equal(JSON.parse(viaConfig.stdout).manifestDigest, app.manifestDigest);
  } finally {
    await reg.stop();
  }
});

test('evaluate through the real CLI: exit 1 on a STOP, 0 on pass; policy validate names problems', async () => {
  const data = join(dir, 'empty-data');
  const fail = await lading(['evaluate', `oci-dir:${join(dir, 'layout')}:v1`], { LADING_DATA_DIR: data });
  assert.equal(fail.code, 1, fail.stderr);
  assert.match(fail.stdout, /Status: +fail \(final action STOP/);
  assert.match(fail.stdout, /Vulnerability data unavailable/);
  const bundle = join(dir, 'warn-only.json');
  await writeFile(bundle, JSON.stringify({
    id: 'warn-only', name: 'warn only', version: '1_0', comment: '',
    policies: [{ id: 'p1', name: 'p1', version: '1_0', comment: '', rules: [
      { id: 'r1', gate: 'dockerfile', trigger: 'instruction', action: 'WARN', params: [{ name: 'instruction', value: 'HEALTHCHECK' }, { name: 'check', value: 'not_exists' }] },
    ] }],
    whitelists: [], mappings: [{ id: 'm1', name: 'all', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_id: 'p1', whitelist_ids: [] }],
    whitelisted_images: [], blacklisted_images: [],
  }));
  const pass = await lading(['evaluate', `oci-dir:${join(dir, 'layout')}:v1`, '--bundle', bundle, '-o', 'json'], { LADING_DATA_DIR: data });
  assert.equal(pass.code, 0, pass.stderr);
  assert.match(pass.stdout, /HEALTHCHECK/);
  const badBundle = join(dir, 'bad-bundle.json');
  await writeFile(badBundle, JSON.stringify({ id: 'b', version: '1_0', policies: [{ id: 'p', version: '1_0', rules: [{ id: 'r', gate: 'vulnerabilities', trigger: 'package', action: 'STOP', params: [{ name: 'sevrity', value: 'high' }] }] }], mappings: [] }));
  const invalid = await lading(['policy', 'validate', badBundle]);
  assert.notEqual(invalid.code, 0);
  assert.match(invalid.stdout + invalid.stderr, /sevrity/);
});
