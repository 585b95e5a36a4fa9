/**
 * The notifier against a real webhook receiver on 127.0.0.1, on a temporary SQLite file and on a
 * throwaway PostgreSQL: envelope per type, general + type destinations, placeholders, basic auth,
 * retries with backoff, the deadline, SSRF refusals, two deliverers on one database, a dead
 * deliverer's lease taken over.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema, NOTIFICATION_TYPES, type ConfigInput } from '../config/schema.js';
import { openDatabase, type DatabaseHandle } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import * as accountsMigration from '../store/migrations/0003-accounts.js';
import * as notificationsMigration from '../store/migrations/0010-notifications.js';
import { AccountStore } from '../store/accounts.js';
import { postgresAvailable, postgresSkipReason, startPostgres, type RunningPostgres } from '../testkit/postgres.js';
import { freePort } from '../testkit/registry.js';
import { Notifier, type NotifierOptions } from './notify.js';
import { OutboundGuard } from '../image/registry/guard.js';
import { startReceiver, type Receiver } from './notify/testing.js';

const T0 = Date.parse('2024-05-01T12:00:00.000Z');

function webhooks(input: NonNullable<ConfigInput['webhooks']>) {
  return configSchema.parse({ webhooks: input }).webhooks;
}

function basic(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`Notifier (${dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL'})`, { skip: dialect === 'postgres' && !postgresAvailable() ? postgresSkipReason : false }, () => {
    let dir: string;
    let pg: RunningPostgres | undefined;
    let dbUrl: string;
    let db: DatabaseHandle;
    let accounts: AccountStore;
    let receiver: Receiver;
    let now = T0;
    const clock = () => now;
    const extra: DatabaseHandle[] = [];

    const notifier = (input: NonNullable<ConfigInput['webhooks']>, options: NotifierOptions = {}, handle: DatabaseHandle = db) =>
      new Notifier(handle, webhooks(input), accounts, { clock, backoff: { baseMs: 1000, capMs: 60_000 }, ...options });

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'lading-notify-'));
      dbUrl = join(dir, 'lading.db');
      if (dialect === 'postgres') {
        pg = await startPostgres();
        dbUrl = await pg.createDatabase();
      }
      db = await openDatabase(dbUrl);
      await migrateToLatest(db.kysely, { '0003-accounts': accountsMigration, '0010-notifications': notificationsMigration });
      accounts = new AccountStore(db.kysely);
      await accounts.createAccount({ name: 'team', email: 'team@example.com' });
      receiver = await startReceiver();
    });
    beforeEach(async () => {
      now = T0;
      receiver.reset();
      await db.kysely.deleteFrom('notification_deliveries').execute();
      await db.kysely.deleteFrom('notifications').execute();
    });
    afterEach(async () => {
      while (extra.length) await extra.pop()!.close();
    });
    after(async () => {
      await receiver?.close();
      await db?.close();
      await pg?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    test('every type: the envelope goes to the general and the type URL, placeholders replaced, basic auth', async () => {
      const n = notifier({
        url: `${receiver.url}/all/<account>/<notification_type>`,
        username: 'hook',
        password: 'pw-general',
        types: Object.fromEntries(NOTIFICATION_TYPES.map((t) => [t, {
          url: `${receiver.url}/typed/<userId>/${t}`,
          ...(t === 'vuln_update' ? { username: 'vuln', password: 'pw-vuln' } : {}),
        }])),
      });
      const ids = new Map<string, string>();
      for (const type of NOTIFICATION_TYPES) {
        const stored = await n.notify('team', type, 'registry.example/app:1', { curr_eval: [`digest-${type}`], annotations: { team: 'core' }, userId: 'not-this' });
        assert.ok(stored);
        assert.deepEqual(stored.targets, [type, 'general']);
        ids.set(type, stored.id);
      }
      const summary = await n.deliverDue();
      assert.deepEqual(summary, { attempted: 5, delivered: 5, failed: 0, retrying: 0 });
      assert.equal(receiver.received.length, 10);
      for (const type of NOTIFICATION_TYPES) {
        const id = ids.get(type)!;
        const got = receiver.received.filter((r) => r.body.dataId === id);
        assert.deepEqual(got.map((r) => r.path).sort(), [`/all/team/${type}`, `/typed/team/${type}`]);
        for (const r of got) {
          assert.equal(r.method, 'POST');
          assert.equal(r.headers['content-type'], 'application/json');
          const typed = r.path.startsWith('/typed/');
          assert.equal(r.headers.authorization, typed && type === 'vuln_update' ? basic('vuln', 'pw-vuln') : basic('hook', 'pw-general'));
          assert.deepEqual(r.body, {
            queueId: type,
            userId: 'team',
            dataId: id,
            created_at: T0 / 1000,
            last_updated: T0 / 1000,
            record_state_key: 'active',
            record_state_val: null,
            tries: 0,
            max_tries: T0 / 1000 + 3600,
            data: {
              notification_user: 'team',
              notification_user_email: 'team@example.com',
              notification_type: type,
              notification_payload: {
                userId: 'team',
                subscription_key: 'registry.example/app:1',
                subscription_type: type,
                notificationId: id,
                curr_eval: [`digest-${type}`],
                annotations: { team: 'core' },
              },
            },
          });
        }
        const stored = await n.get('team', id);
        assert.equal(stored?.notification.status, 'delivered');
        assert.deepEqual(stored?.attempts.map((a) => [a.attempt, a.target, a.statusCode]).sort(), [[1, 'general', 200], [1, type, 200]].sort());
      }
      // Another account sees none of them.
      assert.equal(await n.get('other', ids.get('tag_update')!), undefined);
      assert.equal((await n.list('other')).items.length, 0);
      assert.equal((await n.list('team', { type: 'vuln_update' })).items.length, 1);
    });

    test('500, 500, 200: three attempts with backoff, logged without credentials, then delivered', async () => {
      const n = notifier({ url: `http://alice:s3cret@127.0.0.1:${receiver.port}/hook` });
      receiver.respondWith(500, 502);
      const stored = (await n.enqueue('team', 'analysis_update', 'r/a:1', { annotations: {} }))!;
      assert.deepEqual(await n.deliverDue(), { attempted: 1, delivered: 0, failed: 0, retrying: 1 });
      let state = (await n.get('team', stored.id))!;
      assert.equal(state.notification.status, 'pending');
      assert.equal(state.notification.nextAttemptAt, new Date(T0 + 1000).toISOString());
      assert.equal(state.notification.lastError, 'general: HTTP 500');
      // Not due yet.
      assert.equal((await n.deliverDue()).attempted, 0);
      now += 1000;
      await n.deliverDue();
      state = (await n.get('team', stored.id))!;
      assert.equal(state.notification.nextAttemptAt, new Date(now + 2000).toISOString());
      now += 2000;
      assert.deepEqual(await n.deliverDue(), { attempted: 1, delivered: 1, failed: 0, retrying: 0 });
      state = (await n.get('team', stored.id))!;
      assert.equal(state.notification.status, 'delivered');
      assert.equal(state.notification.attempts, 3);
      assert.deepEqual(state.attempts.map((a) => [a.attempt, a.statusCode, a.url]), [
        [1, 500, `http://127.0.0.1:${receiver.port}/hook`],
        [2, 502, `http://127.0.0.1:${receiver.port}/hook`],
        [3, 200, `http://127.0.0.1:${receiver.port}/hook`],
      ]);
      assert.deepEqual(receiver.received.map((r) => r.body.tries), [0, 1, 2]);
      assert.ok(receiver.received.every((r) => r.headers.authorization === basic('alice', 's3cret')));
      assert.equal((await n.deliverDue()).attempted, 0);
    });

    test('a destination that answered is not posted again while the other is retried', async () => {
      const closed = await freePort();
      const n = notifier({ url: `http://127.0.0.1:${closed}/down`, types: { tag_update: { url: `${receiver.url}/typed` } } });
      const stored = (await n.enqueue('team', 'tag_update', 'r/a:1', {}))!;
      await n.deliverDue();
      let state = (await n.get('team', stored.id))!;
      assert.deepEqual(state.notification.targets, ['general']);
      assert.match(state.notification.lastError!, /^general: .*ECONNREFUSED/);
      now += 1000;
      await n.deliverDue();
      state = (await n.get('team', stored.id))!;
      assert.equal(receiver.received.length, 1);
      assert.deepEqual(state.attempts.map((a) => [a.attempt, a.target, a.statusCode ?? null]), [[1, 'tag_update', 200], [1, 'general', null], [2, 'general', null]]);
    });

    test('past the deadline a failing notification is failed', async () => {
      const n = notifier({ url: `${receiver.url}/hook` }, { backoff: { baseMs: 2000, capMs: 60_000 } });
      receiver.respondWith(500, 500, 500, 500);
      const once = (await n.enqueue('team', 'policy_eval', 'r/a:1', {}, { retryDeadlineSeconds: 0 }))!;
      assert.deepEqual(await n.deliverDue(), { attempted: 1, delivered: 0, failed: 1, retrying: 0 });
      assert.equal((await n.get('team', once.id))!.notification.status, 'failed');

      const later = (await n.enqueue('team', 'policy_eval', 'r/a:1', {}, { retryDeadlineSeconds: 3 }))!;
      await n.deliverDue(); // t=0
      now += 2000;
      await n.deliverDue(); // t=2; the next would be t=6, past the deadline: t=3 instead
      assert.equal((await n.get('team', later.id))!.notification.nextAttemptAt, new Date(T0 + 3000).toISOString());
      now += 1000;
      assert.deepEqual(await n.deliverDue(), { attempted: 1, delivered: 0, failed: 1, retrying: 0 });
      const state = (await n.get('team', later.id))!;
      assert.equal(state.notification.status, 'failed');
      assert.equal(state.attempts.length, 3);
      assert.equal(state.notification.lastError, 'general: HTTP 500');
    });

    test('link-local and metadata targets are refused; loopback by name and address works', async () => {
      for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[fe80::1]:8080/hook', 'http://[::ffff:169.254.169.254]/']) {
        receiver.reset();
        const n = notifier({ url, types: { event_log: { url: `http://localhost:${receiver.port}/ok` } } });
        const stored = (await n.enqueue('team', 'event_log', 'error', { level: 'error' }, { retryDeadlineSeconds: 0 }))!;
        await n.deliverDue();
        const state = (await n.get('team', stored.id))!;
        assert.equal(state.notification.status, 'failed');
        const refused = state.attempts.find((a) => a.target === 'general')!;
        assert.match(refused.error!, /^refused: outbound connection to .* refused: a link-local or cloud metadata address/, url);
        assert.equal(refused.statusCode, undefined);
        assert.equal(state.attempts.find((a) => a.target === 'event_log')!.statusCode, 200);
        assert.deepEqual(receiver.received.map((r) => r.path), ['/ok']);
      }
      // Allowed by configuration: the check passes and a connection is tried (whatever answers or fails).
      const allowed = notifier({ url: 'http://169.254.169.254:9/', allow_private_targets: true, timeout: 0.3 });
      const stored = (await allowed.enqueue('team', 'event_log', 'error', {}, { retryDeadlineSeconds: 0 }))!;
      await allowed.deliverDue();
      const a = (await allowed.get('team', stored.id))!.attempts[0]!;
      assert.ok(a.statusCode !== undefined || (a.error !== undefined && !a.error.startsWith('refused')), JSON.stringify(a));
    });

    test("the service's outbound guard applies: loopback refused unless allowed, deny entries named", async () => {
      receiver.reset();
      const guarded = (guard: OutboundGuard) => notifier({ url: `http://localhost:${receiver.port}/hook` }, { guard });
      const refusedBy = async (n: Notifier) => {
        const stored = (await n.enqueue('team', 'event_log', 'error', {}, { retryDeadlineSeconds: 0 }))!;
        await n.deliverDue();
        return (await n.get('team', stored.id))!.attempts[0]!;
      };
      const loopback = await refusedBy(guarded(new OutboundGuard({ allow: [], deny: [], allowLoopback: false, allowPrivate: true })));
      assert.match(loopback.error!, /^refused: outbound connection to localhost refused: a loopback address \(set outbound.allow_loopback: true/);
      const denied = await refusedBy(guarded(new OutboundGuard({ allow: [], deny: ['127.0.0.0/8'], allowLoopback: true, allowPrivate: true })));
      assert.match(denied.error!, /matches outbound.deny entry "127.0.0.0\/8"/);
      assert.equal(receiver.received.length, 0);
      const allowed = await refusedBy(guarded(new OutboundGuard({ allow: ['localhost'], deny: [], allowLoopback: false, allowPrivate: true })));
      assert.equal(allowed.statusCode, 200);
    });

    test('two deliverers on one database: every notification delivered exactly once', async () => {
      const config = { url: `${receiver.url}/hook` };
      const second = await openDatabase(dbUrl);
      extra.push(second);
      const a = notifier(config, { batchSize: 4, owner: 'a' });
      const b = notifier(config, { batchSize: 4, owner: 'b' }, second);
      const ids = new Set<string>();
      for (let i = 0; i < 24; i++) ids.add((await a.enqueue('team', 'vuln_update', `r/a:${i}`, { i }))!.id);
      const [sa, sb] = await Promise.all([a.deliverDue(), b.deliverDue()]);
      assert.equal(sa.attempted + sb.attempted, 24);
      assert.equal(receiver.received.length, 24);
      assert.deepEqual(new Set(receiver.received.map((r) => r.body.dataId)), ids);
    });

    test('a dead deliverer\'s lease expires and another takes the notification over', async () => {
      const n = notifier({ url: `${receiver.url}/hook` });
      const stored = (await n.enqueue('team', 'tag_update', 'r/a:1', {}))!;
      await db.kysely.updateTable('notifications')
        .set({ lease_owner: 'dead', lease_until: new Date(T0 + 60_000).toISOString(), attempts: 1 })
        .where('id', '=', stored.id).execute();
      assert.equal((await n.deliverDue()).attempted, 0);
      now += 60_001;
      assert.equal((await n.deliverDue()).delivered, 1);
      const state = (await n.get('team', stored.id))!;
      assert.equal(state.notification.attempts, 2);
      assert.equal(receiver.received[0]!.body.tries, 1);
    });

    test('no destination: nothing stored; bad type refused', async () => {
      const n = notifier({ types: { tag_update: { url: `${receiver.url}/t` } } });
      assert.equal(await n.enqueue('team', 'vuln_update', 'r/a:1', {}), undefined);
      assert.equal((await n.list('team')).items.length, 0);
      await assert.rejects(n.enqueue('team', 'repo_update' as never, 'r/a', {}), /unknown notification type "repo_update"/);
    });
  });
}
