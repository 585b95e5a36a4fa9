import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLadingError, type ErrorCode } from '../errors.js';
import { openDatabase, type DatabaseHandle } from './db.js';
import { migrateToLatest } from './migrate.js';
import { postgresAvailable, postgresSkipReason, startPostgres, type RunningPostgres } from '../testkit/postgres.js';
import { AccountStore, type AuthUser, type UserRole, type AccountType, type AccountState } from './accounts.js';
import { authorize, requireAuthorized, type Action } from './authorize.js';
import { checkPassword, hashPassword } from './credentials.js';
import { TOKEN_PREFIX } from './tokens.js';

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(isLadingError(e), String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('password hashes: scrypt with parameters and a per-hash salt in the string', async () => {
  const a = await hashPassword('correct horse');
  const b = await hashPassword('correct horse');
  assert.match(a, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
  assert.notEqual(a, b, 'a fresh salt each time');
  assert.equal(await checkPassword('correct horse', a), true);
  assert.equal(await checkPassword('correct horse', b), true);
  assert.equal(await checkPassword('correct horsE', a), false);
  assert.equal(await checkPassword('correct horse', 'plain'), false);
  const light = await hashPassword('x', { ln: 12, r: 8, p: 1 });
  assert.match(light, /^\$scrypt\$ln=12,r=8,p=1\$/);
  assert.equal(await checkPassword('x', light), true);
  await rejectsWith(hashPassword('x', { ln: 40, r: 8, p: 1 }), 'BAD_INPUT', /scrypt parameters out of range/);
});

const u = (role: UserRole, account = 'acme', accountType: AccountType = 'user', accountState: AccountState = 'enabled') =>
  ({ username: `${role}@${account}`, account, role, accountType, accountState });

test('authorize: the role rules and account isolation', () => {
  const admin = u('admin', 'admin', 'admin');
  const rw = u('read-write');
  const ro = u('read-only');
  const table: [ReturnType<typeof u>, Action, string | undefined, boolean, RegExp?][] = [
    [admin, 'read', undefined, true],
    [admin, 'write', 'acme', true],
    [admin, 'admin', 'other', true],
    [admin, 'write', 'other', true],
    [rw, 'read', undefined, true],
    [rw, 'write', undefined, true],
    [rw, 'write', 'acme', true],
    [rw, 'read', 'other', false, /may act only in account acme, not other/],
    [rw, 'write', 'other', false, /may act only in account acme/],
    [rw, 'admin', undefined, false, /does not have the admin role/],
    [ro, 'read', undefined, true],
    [ro, 'read', 'acme', true],
    [ro, 'write', undefined, false, /is read-only/],
    [ro, 'read', 'other', false, /may act only in account acme/],
    [ro, 'admin', 'acme', false, /admin role/],
    // an admin role outside an admin account grants nothing beyond its own account
    [u('admin', 'acme', 'user'), 'read', 'other', false, /may act only in account acme/],
    [u('admin', 'acme', 'user'), 'admin', undefined, false, /admin role/],
    // a read-write user of the admin account is still confined to it
    [u('read-write', 'admin', 'admin'), 'read', 'acme', false, /may act only in account admin/],
    // nobody acts from a disabled account
    [u('read-write', 'acme', 'user', 'disabled'), 'read', undefined, false, /account acme is disabled/],
    [u('admin', 'admin', 'admin', 'disabled'), 'read', undefined, false, /disabled/],
  ];
  for (const [user, action, target, allowed, reason] of table) {
    const d = authorize(user, action, target);
    assert.equal(d.allowed, allowed, `${user.username} ${action} in ${target ?? '(own)'}`);
    assert.equal(d.account, target ?? user.account);
    if (!d.allowed && reason) assert.match(d.reason, reason);
  }
  assert.equal(requireAuthorized(rw, 'write'), 'acme');
  assert.throws(() => requireAuthorized(ro, 'write'), (e) => isLadingError(e) && e.code === 'UNAUTHORIZED' && /read-only/.test(e.message));
});

function suite(name: string, open: () => Promise<DatabaseHandle>): void {
  describe(name, () => {
    let h: DatabaseHandle;
    let store: AccountStore;
    let nowMs = Date.parse('2025-01-01T00:00:00.000Z');
    const now = () => new Date(nowMs);

    before(async () => {
      h = await open();
      await migrateToLatest(h.kysely);
      store = new AccountStore(h.kysely, { now });
    });
    after(async () => h?.close());

    test('accounts: create, list, get, state, delete (admin refused), purge', async () => {
      const acme = await store.createAccount({ name: 'acme', email: 'ops@acme.test' });
      assert.deepEqual(acme, { name: 'acme', type: 'user', state: 'enabled', email: 'ops@acme.test', createdAt: now().toISOString(), updatedAt: now().toISOString() });
      await store.createAccount({ name: 'beta' });
      await store.createAccount({ name: 'svc', type: 'service' });
      await rejectsWith(store.createAccount({ name: 'acme' }), 'BAD_INPUT', /account acme already exists/);
      await rejectsWith(store.createAccount({ name: 'admin' }), 'BAD_INPUT', /reserved/);
      await rejectsWith(store.createAccount({ name: 'Anchore-System' }), 'BAD_INPUT', /reserved/);
      await rejectsWith(store.createAccount({ name: 'bad name' }), 'BAD_INPUT', /invalid account name "bad name"/);
      await rejectsWith(store.createAccount({ name: '-x' }), 'BAD_INPUT', /invalid account name/);
      await rejectsWith(store.createAccount({ name: 'x', type: 'root' as AccountType }), 'BAD_INPUT', /invalid account type/);
      await rejectsWith(store.createAccount({ name: 'y', email: 'nope' }), 'BAD_INPUT', /invalid email/);
      assert.deepEqual((await store.listAccounts()).map((a) => a.name), ['acme', 'beta', 'svc']);
      assert.equal((await store.getAccount('beta'))?.email, undefined);
      assert.equal(await store.getAccount('nobody'), undefined);

      nowMs += 1000;
      const disabled = await store.setAccountState('beta', 'disabled');
      assert.equal(disabled.state, 'disabled');
      assert.equal(disabled.updatedAt, now().toISOString());
      assert.deepEqual((await store.listAccounts({ state: 'disabled' })).map((a) => a.name), ['beta']);
      assert.equal((await store.setAccountState('beta', 'enabled')).state, 'enabled');
      await rejectsWith(store.setAccountState('svc', 'disabled'), 'BAD_INPUT', /service account svc cannot be disabled/);
      await rejectsWith(store.setAccountState('beta', 'deleting' as 'enabled'), 'BAD_INPUT', /delete the account/);
      await rejectsWith(store.setAccountState('nobody', 'enabled'), 'NOT_FOUND', /no account nobody/);

      await rejectsWith(store.deleteAccount('svc'), 'BAD_INPUT', /service account svc cannot be deleted/);
      await rejectsWith(store.purgeAccount('beta'), 'BAD_INPUT', /not being deleted/);
      await store.createUser('beta', { username: 'bob', password: 'bobs-password' });
      const tok = await store.createToken('bob');
      assert.equal((await store.deleteAccount('beta')).state, 'deleting');
      assert.equal((await store.deleteAccount('beta')).state, 'deleting', 'deleting twice is fine');
      await rejectsWith(store.setAccountState('beta', 'enabled'), 'BAD_INPUT', /being deleted/);
      await rejectsWith(store.createUser('beta', { username: 'bob2', password: 'bobs-password' }), 'BAD_INPUT', /being deleted/);
      assert.equal(await store.verifyPassword('bob', 'bobs-password'), undefined, 'users of a deleting account cannot log in');
      assert.equal(await store.verifyToken(tok.token), undefined);
      await store.purgeAccount('beta');
      assert.equal(await store.getAccount('beta'), undefined);
      assert.equal(await store.getUser('bob'), undefined, 'its users went with it');
      assert.deepEqual(await store.listTokens('bob'), []);
    });

    test('bootstrap: development mode generates a password once; the admin account cannot be deleted', async () => {
      const r = await store.bootstrapAdmin({ admin: {}, production_mode: false });
      assert.equal(r.created, true);
      assert.ok(r.generatedPassword && r.generatedPassword.length >= 20);
      const admin = await store.verifyPassword('admin', r.generatedPassword);
      assert.ok(admin);
      assert.equal(admin.role, 'admin');
      assert.equal(admin.accountType, 'admin');
      assert.deepEqual(await store.bootstrapAdmin({ admin: {}, production_mode: false }), { created: false });
      assert.deepEqual(await store.bootstrapAdmin({ admin: { password: 'other-password' }, production_mode: true }), { created: false, configuredPasswordMatches: false });
      assert.deepEqual(await store.bootstrapAdmin({ admin: { password: r.generatedPassword }, production_mode: true }), { created: false, configuredPasswordMatches: true });
      await rejectsWith(store.deleteAccount('admin'), 'BAD_INPUT', /admin account admin cannot be deleted/);
      await rejectsWith(store.setAccountState('admin', 'disabled'), 'BAD_INPUT', /cannot be disabled/);
      await rejectsWith(store.deleteUser('admin'), 'BAD_INPUT', /last admin user/);
      await store.createUser('admin', { username: 'root2', password: 'root2-password', role: 'admin' });
      await store.deleteUser('root2');
    });

    test('users and passwords: per-user salt, wrong password, unknown user, disabled account, roles', async () => {
      await store.createAccount({ name: 'corp' });
      const alice = await store.createUser('corp', { username: 'alice', password: 'same-password', role: 'read-write' });
      assert.deepEqual(alice, { username: 'alice', account: 'corp', role: 'read-write', createdAt: now().toISOString(), updatedAt: now().toISOString() });
      await store.createUser('corp', { username: 'carol@corp.test', password: 'same-password', role: 'read-only' });
      const rows = await h.kysely.selectFrom('users').select(['username', 'password_hash']).where('account', '=', 'corp').execute();
      assert.equal(rows.length, 2);
      assert.notEqual(rows[0]!.password_hash, rows[1]!.password_hash, 'same password, different hashes');
      for (const r of rows) assert.ok(!String(r.password_hash).includes('same-password'));

      const ok = await store.verifyPassword('alice', 'same-password');
      assert.deepEqual(ok, { ...alice, accountType: 'user', accountState: 'enabled' });
      assert.ok(!('password_hash' in ok!));
      assert.equal(await store.verifyPassword('alice', 'same-passwor'), undefined);
      assert.equal(await store.verifyPassword('alice', ''), undefined);
      assert.equal(await store.verifyPassword('alice', 'x'.repeat(5000)), undefined);
      assert.equal(await store.verifyPassword('nobody', 'same-password'), undefined);
      assert.equal(await store.verifyPassword('ALICE', 'same-password'), undefined, 'user names are case-sensitive');
      assert.equal((await store.verifyPassword('carol@corp.test', 'same-password'))?.role, 'read-only');

      assert.deepEqual((await store.listUsers('corp')).map((x) => x.username), ['alice', 'carol@corp.test']);
      assert.ok((await store.listUsers('corp')).every((x) => !('password_hash' in x) && !('passwordHash' in x)));
      await rejectsWith(store.listUsers('nope'), 'NOT_FOUND', /no account nope/);
      await rejectsWith(store.createUser('corp', { username: 'alice', password: 'whatever1' }), 'BAD_INPUT', /user alice already exists/);
      await store.createAccount({ name: 'corp2' });
      await rejectsWith(store.createUser('corp2', { username: 'alice', password: 'whatever1' }), 'BAD_INPUT', /already exists/);
      await rejectsWith(store.createUser('corp', { username: 'boss', password: 'whatever1', role: 'admin' }), 'BAD_INPUT', /admin role is only for users of an admin account/);
      await rejectsWith(store.createUser('corp', { username: 'admin', password: 'whatever1' }), 'BAD_INPUT', /reserved/);
      await rejectsWith(store.createUser('corp', { username: 'dave', password: 'short' }), 'BAD_INPUT', /6 to 128 characters/);
      await rejectsWith(store.createUser('corp', { username: 'dave', password: 'x'.repeat(129) }), 'BAD_INPUT', /6 to 128/);
      await rejectsWith(store.createUser('corp', { username: 'dave', password: 'whatever1', role: 'owner' as UserRole }), 'BAD_INPUT', /invalid role/);
      await rejectsWith(store.createUser('nope', { username: 'dave', password: 'whatever1' }), 'NOT_FOUND', /no account nope/);
      assert.equal(await store.getUser('dave'), undefined);

      await store.setPassword('alice', 'new-password');
      assert.equal(await store.verifyPassword('alice', 'same-password'), undefined);
      assert.ok(await store.verifyPassword('alice', 'new-password'));
      await rejectsWith(store.setPassword('nobody', 'new-password'), 'NOT_FOUND', /no user nobody/);
      await rejectsWith(store.setPassword('alice', 'abc'), 'BAD_INPUT', /6 to 128/);

      await store.setAccountState('corp', 'disabled');
      assert.equal(await store.verifyPassword('alice', 'new-password'), undefined, 'a disabled account cannot log in');
      await store.setAccountState('corp', 'enabled');
      assert.ok(await store.verifyPassword('alice', 'new-password'));

      await store.deleteUser('carol@corp.test');
      assert.equal(await store.getUser('carol@corp.test'), undefined);
      await rejectsWith(store.deleteUser('carol@corp.test'), 'NOT_FOUND', /no user/);
    });

    test('verification takes as long for an unknown user as for a wrong password', async () => {
      await store.createAccount({ name: 'timing' });
      await store.createUser('timing', { username: 'tim', password: 'tims-password' });
      const time = async (user: string) => {
        const t0 = process.hrtime.bigint();
        assert.equal(await store.verifyPassword(user, 'wrong-password'), undefined);
        return Number(process.hrtime.bigint() - t0) / 1e6;
      };
      await time('tim');
      await time('nobody-here');
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 5; i++) {
        known.push(await time('tim'));
        unknown.push(await time('nobody-here'));
      }
      const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const [k, n] = [median(known), median(unknown)];
      assert.ok(k > 10 && n > 10, `scrypt work is done both ways (known ${k} ms, unknown ${n} ms)`);
      assert.ok(n / k > 0.6 && n / k < 1.6, `known ${k.toFixed(1)} ms vs unknown ${n.toFixed(1)} ms`);
    });

    test('a hash with older parameters is upgraded on the next successful login', async () => {
      await store.createAccount({ name: 'legacy' });
      const weak = new AccountStore(h.kysely, { now, hashParams: { ln: 12, r: 8, p: 1 } });
      await weak.createUser('legacy', { username: 'old', password: 'old-password' });
      const before = await h.kysely.selectFrom('users').select('password_hash').where('username', '=', 'old').executeTakeFirstOrThrow();
      assert.match(before.password_hash, /^\$scrypt\$ln=12,/);
      assert.equal(await store.verifyPassword('old', 'bad-password'), undefined);
      assert.match((await h.kysely.selectFrom('users').select('password_hash').where('username', '=', 'old').executeTakeFirstOrThrow()).password_hash, /ln=12/, 'not on a failed login');
      assert.ok(await store.verifyPassword('old', 'old-password'));
      const after = await h.kysely.selectFrom('users').select('password_hash').where('username', '=', 'old').executeTakeFirstOrThrow();
      assert.match(after.password_hash, /^\$scrypt\$ln=15,r=8,p=1\$/);
      assert.ok(await store.verifyPassword('old', 'old-password'));
    });

    test('API tokens: shown once, stored hashed, expiry, revocation, last use', async () => {
      await store.createAccount({ name: 'tok' });
      await store.createUser('tok', { username: 'tina', password: 'tinas-password', role: 'read-only' });
      await store.createUser('tok', { username: 'tom', password: 'toms-password' });
      const forever = await store.createToken('tina', { name: 'ci' });
      assert.ok(forever.token.startsWith(TOKEN_PREFIX));
      assert.equal(Buffer.from(forever.token.slice(TOKEN_PREFIX.length), 'base64url').length, 32);
      assert.deepEqual(forever.record, { id: forever.record.id, username: 'tina', name: 'ci', createdAt: now().toISOString() });
      const stored = await h.kysely.selectFrom('api_tokens').selectAll().where('id', '=', forever.record.id).executeTakeFirstOrThrow();
      assert.equal(stored.token_hash, createHash('sha256').update(forever.token).digest('hex'));
      assert.ok(!JSON.stringify(stored).includes(forever.token));

      const viaToken = await store.verifyToken(forever.token) as AuthUser;
      assert.equal(viaToken.username, 'tina');
      assert.equal(viaToken.role, 'read-only');
      assert.equal(viaToken.tokenId, forever.record.id);
      assert.equal((await store.listTokens('tina'))[0]?.lastUsedAt, now().toISOString());
      assert.equal(await store.verifyToken(forever.token.slice(0, -1) + (forever.token.endsWith('A') ? 'B' : 'A')), undefined);
      assert.equal(await store.verifyToken('not-a-token'), undefined);
      assert.equal(await store.verifyToken(''), undefined);

      const shortLived = await store.createToken('tina', { ttlSeconds: 60 });
      assert.equal(shortLived.record.expiresAt, new Date(nowMs + 60_000).toISOString());
      assert.ok(await store.verifyToken(shortLived.token));
      nowMs += 59_000;
      assert.ok(await store.verifyToken(shortLived.token));
      nowMs += 1_000;
      assert.equal(await store.verifyToken(shortLived.token), undefined, 'expired at its expiry time');
      assert.ok(await store.verifyToken(forever.token), 'the other one still works');
      assert.equal(await store.pruneExpiredTokens(), 1);
      await rejectsWith(store.createToken('tina', { expiresAt: new Date(nowMs - 1) }), 'BAD_INPUT', /expire in the future/);
      await rejectsWith(store.createToken('tina', { ttlSeconds: -5 }), 'BAD_INPUT', /positive/);
      await rejectsWith(store.createToken('nobody'), 'NOT_FOUND', /no user nobody/);

      const toms = await store.createToken('tom', { expiresAt: new Date(nowMs + 3_600_000) });
      assert.equal(await store.revokeToken(toms.record.id, 'tina'), false, 'not another user\'s token');
      assert.ok(await store.verifyToken(toms.token));
      assert.equal(await store.revokeToken(toms.record.id, 'tom'), true);
      assert.equal(await store.verifyToken(toms.token), undefined);
      assert.equal(await store.revokeToken(toms.record.id), false);

      assert.deepEqual((await store.listTokens('tina')).map((t) => t.name), ['ci']);
      const again = await store.createToken('tina', { name: 'again' });
      await store.deleteUser('tina');
      assert.equal(await store.verifyToken(again.token), undefined);
      assert.deepEqual(await store.listTokens('tina'), []);

      // Disabling the account revokes its users' tokens: enabling it again does not bring them back.
      const tomsNext = await store.createToken('tom');
      await store.setAccountState('tok', 'disabled');
      assert.equal(await store.verifyToken(tomsNext.token), undefined, 'a disabled account\'s tokens do not work');
      await store.setAccountState('tok', 'enabled');
      assert.equal(await store.verifyToken(tomsNext.token), undefined);
      assert.deepEqual(await store.listTokens('tom'), []);
      // A password change revokes every token of the user but the one kept.
      const [keep, drop] = [await store.createToken('tom'), await store.createToken('tom')];
      await store.setPassword('tom', 'toms-new-password', { keepTokenId: keep.record.id });
      assert.ok(await store.verifyToken(keep.token));
      assert.equal(await store.verifyToken(drop.token), undefined);
      await store.removePassword('tom');
      assert.equal(await store.verifyToken(keep.token), undefined);
    });
  });
}

function bootstrapSuite(name: string, open: () => Promise<DatabaseHandle>): void {
  describe(`${name}: bootstrap`, () => {
    test('production mode without a password: refused, nothing half-made', async () => {
      const h = await open();
      try {
        await migrateToLatest(h.kysely);
        const store = new AccountStore(h.kysely);
        await rejectsWith(store.bootstrapAdmin({ admin: {}, production_mode: true }), 'BAD_INPUT', /admin\.password: required to create the admin user in production mode \(set LADING_ADMIN_PASSWORD\)/);
        assert.equal(await store.getUser('admin'), undefined);
        const r = await store.bootstrapAdmin({ admin: { password: 'configured-pw', email: 'root@example.com' }, production_mode: true });
        assert.deepEqual(r, { created: true });
        assert.equal((await store.getAccount('admin'))?.email, 'root@example.com');
        assert.equal((await store.getAccount('admin'))?.type, 'admin');
        assert.ok(await store.verifyPassword('admin', 'configured-pw'));
        // later starts need no password, even in production mode
        assert.deepEqual(await store.bootstrapAdmin({ admin: {}, production_mode: true }), { created: false });
      } finally {
        await h.close();
      }
    });

    test('concurrent bootstraps create one admin, and only the winner reports a generated password', async () => {
      const h = await open();
      try {
        await migrateToLatest(h.kysely);
        const stores = [new AccountStore(h.kysely), new AccountStore(h.kysely), new AccountStore(h.kysely)];
        const results = await Promise.all(stores.map((s) => s.bootstrapAdmin({ admin: {}, production_mode: false })));
        const generated = results.map((r) => r.generatedPassword).filter((p): p is string => p !== undefined);
        assert.equal(generated.length, 1, JSON.stringify(results));
        assert.ok(await stores[0]!.verifyPassword('admin', generated[0]!));
        assert.equal((await stores[0]!.listUsers('admin')).length, 1);
      } finally {
        await h.close();
      }
    });
  });
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-accounts-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

let n = 0;
const sqlite = async () => openDatabase(join(dir, `a${++n}.db`));
suite('SQLite', sqlite);
bootstrapSuite('SQLite', sqlite);

describe('PostgreSQL', { skip: postgresAvailable() ? false : postgresSkipReason }, () => {
  let server: RunningPostgres;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => server?.stop());
  const pg = async () => openDatabase(await server.createDatabase());
  suite('PostgreSQL', pg);
  bootstrapSuite('PostgreSQL', pg);
});
