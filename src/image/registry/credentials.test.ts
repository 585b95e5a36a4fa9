import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerConfigCredentials, lookupCredentials, normaliseAuthKey, runCredentialHelper, type CredentialLookupOptions } from './credentials.js';

let dir: string;
let binDir: string;
let env: NodeJS.ProcessEnv;
const b64 = (s: string) => Buffer.from(s).toString('base64');

const HELPER = `#!/bin/sh
[ "$1" = get ] || { echo "unknown action $1" >&2; exit 2; }
read -r server
case "$server" in
  reg.example.com) echo '{"ServerURL":"reg.example.com","Username":"helper-user","Secret":"helper-pass"}' ;;
  token.example.com) echo '{"ServerURL":"token.example.com","Username":"<token>","Secret":"refresh-token"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"https://index.docker.io/v1/","Username":"hubuser","Secret":"hubpass"}' ;;
  broken.example.com) echo 'not json' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-creds-'));
  binDir = join(dir, 'bin');
  await mkdir(binDir);
  await writeFile(join(binDir, 'docker-credential-fake'), HELPER);
  await writeFile(join(binDir, 'docker-credential-slow'), '#!/bin/sh\nexec sleep 5\n');
  await writeFile(join(binDir, 'docker-credential-angry'), '#!/bin/sh\necho "keychain is locked" >&2\nexit 3\n');
  for (const n of ['fake', 'slow', 'angry']) await chmod(join(binDir, `docker-credential-${n}`), 0o755);
  env = { PATH: `${binDir}:/usr/bin:/bin`, HOME: join(dir, 'home') };
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configDir(name: string, config: unknown): Promise<string> {
  const d = join(dir, name);
  await mkdir(d, { recursive: true });
  await writeFile(join(d, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return d;
}

test('config.json keys name a host in several ways', () => {
  assert.equal(normaliseAuthKey('https://index.docker.io/v1/'), 'docker.io');
  assert.equal(normaliseAuthKey('registry-1.docker.io'), 'docker.io');
  assert.equal(normaliseAuthKey('https://reg.one/v1/'), 'reg.one');
  assert.equal(normaliseAuthKey('http://Reg.Two:5000'), 'reg.two:5000');
  assert.equal(normaliseAuthKey('reg.three'), 'reg.three');
});

test('auths entries: base64 auth, username/password, identity token, docker hub key, empty entries', async () => {
  const d = await configDir('auths', {
    auths: {
      'https://reg.one/v1/': { auth: b64('one:pass:with:colon') },
      'reg.two:5000': { username: 'two', password: 'pw2' },
      'http://reg.three': { auth: b64('three:pw3') },
      'https://index.docker.io/v1/': { auth: b64('hub:hubpw') },
      'reg.oauth': { identitytoken: 'idtok' },
      'reg.empty': {},
    },
  });
  const o: CredentialLookupOptions = { dockerConfigDir: d, env, ecr: false };
  assert.deepEqual(await lookupCredentials('reg.one', o), { username: 'one', password: 'pass:with:colon' });
  assert.deepEqual(await lookupCredentials('reg.two:5000', o), { username: 'two', password: 'pw2' });
  assert.equal(await lookupCredentials('reg.two', o), undefined);
  assert.deepEqual(await lookupCredentials('reg.three', o), { username: 'three', password: 'pw3' });
  assert.deepEqual(await lookupCredentials('docker.io', o), { username: 'hub', password: 'hubpw' });
  assert.deepEqual(await lookupCredentials('reg.oauth', o), { identityToken: 'idtok' });
  assert.equal(await lookupCredentials('reg.empty', o), undefined);
  assert.equal(await lookupCredentials('unknown.example', o), undefined);
});

test('explicit credentials, then environment variables, come first', async () => {
  const d = await configDir('explicit', { auths: { 'reg.one': { auth: b64('file:pw') } } });
  assert.deepEqual(await lookupCredentials('reg.one', { dockerConfigDir: d, env, username: 'opt', password: 'optpw' }), { username: 'opt', password: 'optpw' });
  const withEnv = { ...env, LADING_REGISTRY_USERNAME: 'envuser', LADING_REGISTRY_PASSWORD: 'envpw' };
  assert.deepEqual(await lookupCredentials('reg.one', { dockerConfigDir: d, env: withEnv }), { username: 'envuser', password: 'envpw' });
  assert.deepEqual(await lookupCredentials('reg.one', { dockerConfigDir: d, env }), { username: 'file', password: 'pw' });
});

test('DOCKER_CONFIG and ~/.docker locate config.json; a broken file is reported', async () => {
  const d = await configDir('via-env', { auths: { 'reg.env': { auth: b64('e:pw') } } });
  assert.deepEqual(await lookupCredentials('reg.env', { env: { ...env, DOCKER_CONFIG: d }, ecr: false }), { username: 'e', password: 'pw' });
  const home = join(dir, 'home2');
  await configDir('home2/.docker', { auths: { 'reg.home': { auth: b64('h:pw') } } });
  assert.deepEqual(await lookupCredentials('reg.home', { env: { ...env, HOME: home }, ecr: false }), { username: 'h', password: 'pw' });
  assert.equal(await lookupCredentials('reg.home', { env: { ...env, HOME: join(dir, 'nowhere') }, ecr: false }), undefined);
  const bad = await configDir('bad', '{ not json');
  await assert.rejects(lookupCredentials('reg.home', { dockerConfigDir: bad, env }), { code: 'BAD_INPUT', message: /docker config .*bad\/config\.json is not valid JSON/ });
  const badAuth = await configDir('bad-auth', { auths: { 'reg.x': { auth: b64('no-colon') } } });
  await assert.rejects(lookupCredentials('reg.x', { dockerConfigDir: badAuth, env }), /auths\["reg\.x"\]: "auth" is not base64 of "username:password"/);
});

test('credHelpers and credsStore through the helper protocol', async () => {
  const d = await configDir('helpers', {
    credHelpers: { 'reg.example.com': 'fake', 'token.example.com': 'fake', 'missing.example.com': 'nosuchhelper' },
    credsStore: 'fake',
    auths: { 'reg.fallback': { auth: b64('fb:pw') }, 'reg.example.com': { auth: b64('ignored:pw') } },
  });
  const o: CredentialLookupOptions = { dockerConfigDir: d, env, ecr: false };
  assert.deepEqual(await lookupCredentials('reg.example.com', o), { username: 'helper-user', password: 'helper-pass' });
  assert.deepEqual(await lookupCredentials('token.example.com', o), { identityToken: 'refresh-token' });
  // credsStore answers for docker hub under its v1 URL, and has nothing for reg.fallback: auths is used
  assert.deepEqual(await lookupCredentials('docker.io', o), { username: 'hubuser', password: 'hubpass' });
  assert.deepEqual(await lookupCredentials('reg.fallback', o), { username: 'fb', password: 'pw' });
  assert.equal(await lookupCredentials('reg.nothing', o), undefined);
  await assert.rejects(lookupCredentials('missing.example.com', o), {
    code: 'UNAUTHORIZED',
    message: /docker credential helper "docker-credential-nosuchhelper" \(named in credHelpers of .*config\.json\) is not installed or not on PATH/,
  });
});

test('credential helper failures: garbage output, an error exit, a hang', async () => {
  await assert.rejects(runCredentialHelper('fake', 'broken.example.com', { env }), /printed something that is not JSON for broken\.example\.com/);
  await assert.rejects(runCredentialHelper('angry', 'reg.example.com', { env }), /"docker-credential-angry" failed for reg\.example\.com: keychain is locked/);
  await assert.rejects(runCredentialHelper('slow', 'reg.example.com', { env, timeoutMs: 200 }), /did not answer within 200 ms/);
  await assert.rejects(runCredentialHelper('../evil', 'x', { env }), /invalid credential helper name/);
  const d = await configDir('store-missing', { credsStore: 'desktop' });
  await assert.rejects(dockerConfigCredentials('reg.any', { dockerConfigDir: d, env }), /"docker-credential-desktop" \(named in credsStore of .*\) is not installed/);
});
