/**
 * Registry credentials: Anchore's matching rules as a table, the store on a real SQLite database
 * (encryption at rest, isolation, keys), login checks against a real htpasswd registry and a
 * bearer-token front, and awsecr access keys through the real AWS SDK against a local endpoint.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type DatabaseHandle } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { registryAvailable, registrySkipReason, startHttpServer, startRegistry, startTokenProxy, type RunningServer } from '../testkit/registry.js';
import { RegistryStore, checkLogin, matchRegistry, registryHost, registryProblem, withRegistryAccess } from './registries.js';
import { RegistryRows } from '../store/registries.js';

const KEY = 'registry-test-key-0123456789';

describe('matchRegistry (Anchore get_creds_by_registry)', () => {
  const records = [
    { registry: '127.0.0.1:5000' },
    { registry: '127.0.0.1:5000/team/app' },
    { registry: '127.0.0.1:5000/team*' },
    { registry: '127.0.0.1:5000/team/special*' },
    { registry: 'ghcr.io' },
    { registry: 'docker.io/library*' },
    { registry: 'quay.io*' },
  ];
  const cases: [string, string, string | undefined][] = [
    // registry, repository, the record used
    ['127.0.0.1:5000', 'other/thing', '127.0.0.1:5000'], // host:port equals
    ['127.0.0.1:5000', 'team/app', '127.0.0.1:5000/team/app'], // host/repo equals, longer than the team* wildcard
    ['127.0.0.1:5000', 'team/app2', '127.0.0.1:5000/team*'], // wildcard prefix
    ['127.0.0.1:5000', 'teams/x', '127.0.0.1:5000/team*'], // a wildcard is a string prefix, not a path prefix
    ['127.0.0.1:5000', 'team/special/one', '127.0.0.1:5000/team/special*'], // longest first
    ['127.0.0.1:5001', 'team/app', undefined], // another port is another registry
    ['ghcr.io', 'org/app', 'ghcr.io'],
    ['docker.io', 'library/debian', 'docker.io/library*'],
    ['docker.io', 'someone/app', undefined],
    ['quay.io', 'org/app', 'quay.io*'],
    ['quay.io.evil.com', 'org/app', 'quay.io*'], // what a trailing * on a host means, as in Anchore
  ];
  for (const [registry, repo, expected] of cases) {
    test(`${registry}/${repo} → ${expected ?? 'none'}`, () => {
      assert.equal(matchRegistry(records, registry, repo)?.registry, expected);
    });
  }

  test('a record with "/" matches only the exact repository, never as a prefix', () => {
    assert.equal(matchRegistry([{ registry: 'r.example.com/team' }], 'r.example.com', 'team/app'), undefined);
    assert.equal(matchRegistry([{ registry: 'r.example.com/team' }], 'r.example.com', 'team')?.registry, 'r.example.com/team');
  });

  test('registry strings: host part, and what is refused', () => {
    assert.equal(registryHost('127.0.0.1:5000/team*'), '127.0.0.1:5000');
    assert.equal(registryHost('quay.io*'), 'quay.io');
    assert.equal(registryProblem('127.0.0.1:5000/team*'), undefined);
    assert.match(registryProblem('https://r.example.com')!, /URL scheme/);
    assert.match(registryProblem('r.example.com/')!, /cannot end with '\/'/);
    assert.match(registryProblem('r.*.com')!, /may only end/);
    assert.match(registryProblem(' ')!, /empty/);
    assert.match(registryProblem('a b')!, /whitespace/);
  });

  test('withRegistryAccess keeps the base options and adds credentials and the insecure host', () => {
    const base = { credentialLookup: false as const, insecureRegistries: ['a:1'] };
    assert.equal(withRegistryAccess(base, undefined), base);
    assert.deepEqual(withRegistryAccess(base, { registry: 'b:2', credentials: { username: 'u', password: 'p' }, insecureRegistries: ['b:2'] }),
      { credentialLookup: false, insecureRegistries: ['a:1', 'b:2'], credentials: { username: 'u', password: 'p' } });
  });
});

describe('RegistryStore on SQLite', () => {
  let dir: string;
  let db: DatabaseHandle;
  let store: RegistryStore;
  const config = () => ({ encryption_key: KEY, previous_encryption_keys: [], production_mode: true, data_dir: dir });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lading-registries-'));
    db = await openDatabase(join(dir, 'lading.db'));
    await migrateToLatest(db.kysely);
    store = new RegistryStore(new RegistryRows(db.kysely), config());
  });
  after(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('passwords are stored encrypted, bound to account and registry, and used only by their account', async () => {
    const added = await store.add('acme', { registry: 'r.example.com/team*', type: 'docker_v2', user: 'bob', pass: 'plain-secret-1', verify: false });
    assert.deepEqual({ ...added!, createdAt: undefined, lastUpdated: undefined },
      { account: 'acme', registry: 'r.example.com/team*', name: 'r.example.com/team*', type: 'docker_v2', user: 'bob', verify: false, createdAt: undefined, lastUpdated: undefined });
    assert.equal(await store.add('acme', { registry: 'r.example.com/team*', type: 'docker_v2', user: 'x', pass: 'y', verify: true }), undefined, 'a duplicate is refused');
    const row = await db.kysely.selectFrom('registries').selectAll().where('account', '=', 'acme').executeTakeFirstOrThrow();
    assert.match(row.registry_pass, /^v1:/);
    assert.ok(!JSON.stringify(row).includes('plain-secret-1'));

    const access = await store.registryCredentialsFor('acme', { registry: 'r.example.com', repository: 'team/app' });
    assert.deepEqual(access, { registry: 'r.example.com/team*', credentials: { username: 'bob', password: 'plain-secret-1' }, insecureRegistries: ['r.example.com'] });
    assert.equal(await store.registryCredentialsFor('other', { registry: 'r.example.com', repository: 'team/app' }), undefined);
    assert.deepEqual(await store.list('other'), []);

    // The ciphertext copied to another account's row does not open there.
    await store.add('other', { registry: 'r.example.com', type: 'docker_v2', user: 'eve', pass: 'eve-pass', verify: true });
    await db.kysely.updateTable('registries').set({ registry_pass: row.registry_pass }).where('account', '=', 'other').execute();
    await assert.rejects(store.registryCredentialsFor('other', { registry: 'r.example.com', repository: 'team/app' }), /cannot decrypt a stored secret/);
  });

  test('update keeps the registry string; delete removes only that account\'s record', async () => {
    const updated = await store.update('acme', { registry: 'r.example.com/team*', name: 'Team', type: 'docker_v2', user: 'bob2', pass: 'plain-secret-2', verify: true });
    assert.equal(updated?.name, 'Team');
    assert.equal(updated?.user, 'bob2');
    assert.equal(updated?.verify, true);
    assert.equal(await store.password('acme', 'r.example.com/team*'), 'plain-secret-2');
    assert.equal(await store.update('acme', { registry: 'nope.example.com', type: 'docker_v2', user: 'a', pass: 'b', verify: true }), undefined);
    assert.equal(await store.delete('acme', 'r.example.com'), false, "another account's registry");
    assert.equal(await store.delete('acme', 'r.example.com/team*'), true);
    assert.deepEqual(await store.list('acme'), []);
    assert.equal((await store.list('other')).length, 1);
  });

  test('with another key the stored passwords do not open; production mode without a key stores nothing', async () => {
    await store.add('keys', { registry: 'k.example.com', type: 'docker_v2', user: 'u', pass: 'p', verify: true });
    const other = new RegistryStore(new RegistryRows(db.kysely), { ...config(), encryption_key: 'a-completely-different-key' });
    await assert.rejects(other.password('keys', 'k.example.com'), /encryption_key was changed/);
    const rotated = new RegistryStore(new RegistryRows(db.kysely), { ...config(), encryption_key: 'a-completely-different-key', previous_encryption_keys: [KEY] });
    assert.equal(await rotated.password('keys', 'k.example.com'), 'p');
    const none = new RegistryStore(new RegistryRows(db.kysely), { previous_encryption_keys: [], production_mode: true, data_dir: dir });
    assert.throws(() => none.requireEncryption(), /encryption_key/);
    await assert.rejects(none.add('keys', { registry: 'n.example.com', type: 'docker_v2', user: 'u', pass: 'p', verify: true }), /encryption_key/);
  });

  test('awsauto is refused unless allowed; awsecr needs an ECR host', () => {
    const ecrHost = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    assert.deepEqual(store.usageProblem({ registry: ecrHost, type: 'awsecr', user: 'awsauto', pass: 'awsauto' })?.status, 'forbidden');
    const allowed = new RegistryStore(new RegistryRows(db.kysely), config(), { allowAwsAuto: true });
    assert.equal(allowed.usageProblem({ registry: ecrHost, type: 'awsecr', user: 'awsauto', pass: 'awsauto' }), undefined);
    assert.equal(allowed.usageProblem({ registry: 'r.example.com', type: 'docker_v2', user: 'awsauto', pass: 'x' })?.status, 'forbidden');
    assert.match(store.usageProblem({ registry: 'r.example.com', type: 'awsecr', user: 'AKIA', pass: 's' })!.message, /Amazon ECR host/);
  });

  test('awsecr with an access key: the pull gets an ECR token fetched with that key (real SDK, local endpoint)', async () => {
    const seen: string[] = [];
    const srv: RunningServer = await startHttpServer(async (req, res) => {
      for await (const _ of req) { /* drain */ }
      seen.push(String(req.headers.authorization));
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ authorizationData: [{ authorizationToken: Buffer.from('AWS:ecr-token-pass').toString('base64'), expiresAt: Math.floor(Date.now() / 1000) + 3600 }] }));
    });
    try {
      const ecrStore = new RegistryStore(new RegistryRows(db.kysely), config(), { ecr: { endpoint: `http://${srv.host}` } });
      const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
      await ecrStore.add('aws', { registry: host, type: 'awsecr', user: 'AKIAKEYOFACCOUNTAWS0', pass: 'aws-secret-key', verify: true });
      const access = await ecrStore.registryCredentialsFor('aws', { registry: host, repository: 'team/app' });
      assert.deepEqual(access?.credentials, { username: 'AWS', password: 'ecr-token-pass' });
      assert.equal(seen.length, 1);
      assert.match(seen[0]!, /^AWS4-HMAC-SHA256 Credential=AKIAKEYOFACCOUNTAWS0\/\d{8}\/eu-west-1\/ecr\/aws4_request/);
      await ecrStore.registryCredentialsFor('aws', { registry: host, repository: 'team/app' });
      assert.equal(seen.length, 1, 'the token is cached');
      await ecrStore.validate({ registry: host, type: 'awsecr', user: 'AKIAKEYOFACCOUNTAWS0', pass: 'aws-secret-key', verify: true });
    } finally {
      await srv.stop();
    }
  });
});

describe('checkLogin against real registries', { skip: registryAvailable() ? false : registrySkipReason }, () => {
  const creds = { user: 'puller', pass: 'pull-pass-123' };
  let registry: RunningServer;
  before(async () => {
    registry = await startRegistry({ htpasswd: creds });
  });
  after(async () => registry?.stop());

  test('htpasswd (Basic): the right password logs in, a wrong one gets the registry\'s 401', async () => {
    await checkLogin(registry.host, { username: creds.user, password: creds.pass }, { insecure: false });
    await assert.rejects(checkLogin(registry.host, { username: creds.user, password: 'wrong' }, { insecure: false }),
      (e: Error & { code?: string }) => e.code === 'UNAUTHORIZED' && /HTTP 401/.test(e.message) && /authentication required/.test(e.message) && !e.message.includes('wrong'));
  });

  test('token service (Bearer): the credentials are checked by the token endpoint', async () => {
    const open = await startRegistry();
    const proxy = await startTokenProxy(open.host, { user: 'tok', pass: 'tok-pass' });
    try {
      await checkLogin(proxy.host, { username: 'tok', password: 'tok-pass' }, { insecure: false });
      assert.ok(proxy.tokenRequests >= 1);
      await assert.rejects(checkLogin(proxy.host, { username: 'tok', password: 'nope' }, { insecure: false }), /refused the credentials \(HTTP 401\)/);
    } finally {
      await proxy.stop();
      await open.stop();
    }
  });

  test('an unreachable registry is a network error', async () => {
    await assert.rejects(checkLogin('127.0.0.1:1', { username: 'a', password: 'b' }, { insecure: false, http: { maxAttempts: 1 } }), { code: 'NETWORK' });
  });
});
