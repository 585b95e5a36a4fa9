/**
 * `lading registry` beside a real service and real registries: `add --ca-cert FILE` for a registry
 * whose certificate the service does not trust (the TLS problem named first), and the local
 * `login`/`logout` that write docker's config.json (merged, mode 0600) which the standalone
 * commands then read, with `--password-stdin`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage } from '../../testkit/images.js';
import { opensslAvailable, pushImage, selfSignedCert, startRegistry, startTlsFront, type RunningServer } from '../../testkit/registry.js';
import { ADMIN, describeService } from '../../testkit/service.js';
import { lading, type CliRun } from '../testing.js';

const CREDS = { user: 'ci-bot', pass: 'r3gistry-token' };
const image = buildImage({ layers: [{ entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' }] }] });
const noOpenssl = !opensslAvailable() && 'openssl is not installed';

function ok(r: CliRun): CliRun {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

describeService('lading registry', { registry: true, dialects: ['sqlite'] }, (h) => {
  let env: Record<string, string>;
  let authReg: RunningServer;
  let front: RunningServer | undefined;
  let tls: Awaited<ReturnType<typeof selfSignedCert>> | undefined;
  let dockerDir: string;
  const cli = (args: string[], input?: string) => lading(args, env, input);

  before(async () => {
    authReg = await startRegistry({ htpasswd: CREDS });
    await pushImage(authReg.host, 'team/app', 'v1', image, CREDS);
    await pushImage(h().registry!.host, 'team/app', 'v1', image);
    if (!noOpenssl) {
      tls = await selfSignedCert();
      front = await startTlsFront(h().registry!.host, tls);
    }
    dockerDir = await mkdtemp(join(tmpdir(), 'lading-docker-config-'));
    env = {
      LADING_URL: h().svc.url!, LADING_USER: ADMIN.user, LADING_PASS: ADMIN.pass, LADING_ACCOUNT: '', ANCHORE_CLI_URL: '', ANCHORE_CLI_USER: '', ANCHORE_CLI_PASS: '',
      DOCKER_CONFIG: dockerDir, LADING_CACHE_DIR: join(dockerDir, 'cache'),
    };
  });
  after(async () => {
    await front?.stop();
    await authReg?.stop();
    if (tls) await rm(tls.dir, { recursive: true, force: true });
    if (dockerDir) await rm(dockerDir, { recursive: true, force: true });
  });

  test('registry add: an untrusted certificate is named as such; --ca-cert FILE stores the CA and the login passes', { skip: noOpenssl }, async () => {
    const untrusted = await cli(['registry', 'add', front!.host, 'u', 'p']);
    assert.equal(untrusted.code, 1, untrusted.stderr);
    assert.match(untrusted.stderr, /TLS: certificate signed by unknown authority for 127\.0\.0\.1 .*use --ca-cert FILE or --insecure/);
    assert.doesNotMatch(untrusted.stderr, /supplied credentials/);

    const notPem = join(dockerDir, 'not.pem');
    await writeFile(notPem, 'hello');
    const bad = await cli(['registry', 'add', front!.host, 'u', 'p', '--ca-cert', notPem]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--ca-cert: .*not\.pem holds no PEM certificate/);

    const added = ok(await cli(['registry', 'add', front!.host, 'u', 'p', '--ca-cert', tls!.certFile]));
    assert.match(added.stdout, /^CA Certificate: 1 certificate of its own$/m);
    const got = JSON.parse(ok(await cli(['registry', 'get', front!.host, '--json'])).stdout);
    assert.equal(got[0].registry_ca_cert, tls!.cert.toString('utf8'));
  });

  test('registry login --password-stdin writes config.json (merged, 0600); the standalone commands use it; logout removes it', async () => {
    const path = join(dockerDir, 'config.json');
    const before = { auths: { 'other.example:5000': { auth: Buffer.from('x:y').toString('base64') } }, HttpHeaders: { 'X-Team': 'core' } };
    await writeFile(path, JSON.stringify(before), { mode: 0o644 });
    const ref = `${authReg.host}/team/app:v1`;

    const anonymous = await cli(['sbom', ref, '-o', 'json']);
    assert.equal(anonymous.code, 2, 'no credentials yet');

    const wrong = await cli(['registry', 'login', authReg.host, '-u', CREDS.user, '--password-stdin'], 'not-the-password\n');
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /HTTP 401/);
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), before, 'a failed login leaves the file alone');

    const logged = ok(await cli(['registry', 'login', authReg.host, '-u', CREDS.user, '--password-stdin'], `${CREDS.pass}\n`));
    assert.match(logged.stdout, /^Login Succeeded: /);
    const doc = JSON.parse(await readFile(path, 'utf8'));
    assert.deepEqual(doc.auths[authReg.host], { auth: Buffer.from(`${CREDS.user}:${CREDS.pass}`).toString('base64') });
    assert.deepEqual(doc.auths['other.example:5000'], before.auths['other.example:5000']);
    assert.deepEqual(doc.HttpHeaders, before.HttpHeaders);
    assert.equal((await stat(path)).mode & 0o777, 0o600);

    const sbom = JSON.parse(ok(await cli(['sbom', ref, '-o', 'json'])).stdout);
    assert.equal(sbom.source.manifestDigest, image.manifestDigest);

    ok(await cli(['registry', 'logout', authReg.host]));
    const after = JSON.parse(await readFile(path, 'utf8'));
    assert.deepEqual(after, before);
    assert.match(ok(await cli(['registry', 'logout', authReg.host])).stdout, /^Not logged in to /);
  });

  test('--password-stdin for the standalone commands; an empty stdin is an error', async () => {
    const ref = `${authReg.host}/team/app:v1`;
    ok(await cli(['sbom', ref, '-o', 'json', '--username', CREDS.user, '--password-stdin'], `${CREDS.pass}\n`));
    const empty = await cli(['sbom', ref, '--username', CREDS.user, '--password-stdin'], '');
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /--password-stdin: nothing was read from stdin/);
  });
});
