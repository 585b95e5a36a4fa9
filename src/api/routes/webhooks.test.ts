/**
 * The webhook routes on SQLite and PostgreSQL, against a real receiver on 127.0.0.1: the test
 * endpoint (admin only, one attempt, the result in the answer), the delivery log (account-scoped,
 * filters, pages, validation), and a notification stored by one service instance and delivered by
 * a second one started on the same database.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Notifier, startDeliveryCycle } from '../../services/notify.js';
import { startReceiver } from '../../services/notify/testing.js';
import { ADMIN as admin, apiClient, assertErrorBody, describeService, startTestService } from '../../testkit/service.js';

const receiver = await startReceiver();
after(() => receiver.close());

const team = { user: 'team-user', pass: 'team-password' } as const;
const config = {
  webhooks: {
    url: `${receiver.url}/general/<account>/<notification_type>`,
    username: 'hook',
    password: 'hook-password',
    types: {
      vuln_update: { url: `${receiver.url}/vuln/<userId>` },
      policy_eval: { url: 'http://169.254.169.254/latest/meta-data/' },
    },
  },
};

describeService('webhooks', { config }, (h) => {
  before(async () => {
    const { accounts } = h().svc;
    await accounts.createAccount({ name: 'team', email: 'team@example.com' });
    await accounts.createUser('team', { username: team.user, password: team.pass, role: 'read-write' });
  });

  test('POST /system/webhooks/{type}/test sends a synthetic notification and answers with the result', async () => {
    const { api } = h();
    receiver.reset();
    const r = await api('POST', '/v1/system/webhooks/general/test?notification_type=vuln_update', admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, 'delivered');
    assert.equal(r.body.test, true);
    assert.equal(r.body.notification_type, 'vuln_update');
    assert.equal(r.body.userId, 'admin');
    assert.equal(r.body.attempts, 1);
    assert.match(r.body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(r.body.delivery_log.length, 1);
    const log = r.body.delivery_log[0];
    assert.deepEqual({ attempt: log.attempt, target: log.target, url: log.url, status_code: log.status_code, error: log.error },
      { attempt: 1, target: 'general', url: `${receiver.url}/general/admin/test`, status_code: 200, error: null });
    // Exactly one POST, to the general destination only, with Anchore's envelope.
    assert.equal(receiver.received.length, 1);
    const got = receiver.received[0]!;
    assert.equal(got.path, '/general/admin/test');
    assert.equal(got.headers.authorization, `Basic ${Buffer.from('hook:hook-password').toString('base64')}`);
    assert.equal(got.body.queueId, 'vuln_update');
    assert.equal(got.body.dataId, r.body.notificationId);
    assert.equal(got.body.data.notification_type, 'vuln_update');
    assert.equal(got.body.data.notification_payload.notificationId, r.body.notificationId);
    assert.deepEqual(got.body.data.notification_payload.annotations, ['test']);
    assert.deepEqual(got.body, r.body.notification);

    // A failing receiver: still 200, the result says failed, no retry is scheduled.
    receiver.respondWith(503);
    const failed = await api('POST', '/system/webhooks/vuln_update/test', admin);
    assert.equal(failed.status, 200, JSON.stringify(failed.body));
    assert.equal(failed.body.status, 'failed');
    assert.equal(failed.body.notification_type, 'tag_update');
    assert.equal(failed.body.next_attempt_at, null);
    assert.equal(failed.body.delivery_log[0].status_code, 503);
    assert.equal(failed.body.delivery_log[0].url, `${receiver.url}/vuln/admin`);
    assert.equal(failed.body.last_error, 'vuln_update: HTTP 503');

    // A metadata address is refused, and the refusal is the logged attempt.
    const refused = await api('POST', '/v1/system/webhooks/policy_eval/test?notification_type=policy_eval', admin);
    assert.equal(refused.status, 200);
    assert.equal(refused.body.status, 'failed');
    assert.match(refused.body.delivery_log[0].error, /^refused: outbound connection to 169\.254\.169\.254 refused: a link-local or cloud metadata address/);
    assert.equal(receiver.received.length, 2);
  });

  test('test endpoint: admin only, parameters validated, unconfigured destination refused', async () => {
    const { api } = h();
    assertErrorBody(await api('POST', '/v1/system/webhooks/general/test', team), 403, /admin/);
    assertErrorBody(await api('POST', '/v1/system/webhooks/general/test'), 401);
    assertErrorBody(await api('POST', '/v1/system/webhooks/nonsense/test', admin), 400, /webhook_type: expected one of general, tag_update/);
    assertErrorBody(await api('POST', '/v1/system/webhooks/general/test?notification_type=repo_update', admin), 400, /notification_type/);
    assertErrorBody(await api('POST', '/v1/system/webhooks/tag_update/test', admin), 400, /no webhook is configured for type=tag_update/);
  });

  test('GET /system/webhooks/notifications: account-scoped, filtered, paged, validated', async () => {
    const { api, svc, config: cfg } = h();
    const notifier = new Notifier(svc.db, cfg.webhooks, svc.accounts);
    const mine = await notifier.notify('team', 'tag_update', 'registry.example/app:1', { curr_eval: ['sha256:1'], last_eval: [] });
    assert.ok(mine);

    const list = await api('GET', '/v1/system/webhooks/notifications', team);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body.results.map((n: any) => n.notificationId), [mine.id]);
    assert.equal(list.body.item_count, 1);
    assert.equal(list.body.next_page, false);
    const item = list.body.results[0];
    assert.equal(item.status, 'pending');
    assert.equal(item.subscription_key, 'registry.example/app:1');
    assert.deepEqual(item.pending_targets, ['general']);

    const one = await api('GET', `/v1/system/webhooks/notifications/${mine.id}`, team);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.delivery_log, []);
    assert.equal(one.body.notification.data.notification_user_email, 'team@example.com');
    assert.equal(one.body.notification.data.notification_payload.subscription_key, 'registry.example/app:1');

    // The admin's own (the test notifications) are not the team's, and the reverse.
    const adminList = await api('GET', '/system/webhooks/notifications?limit=1000', admin);
    assert.ok(adminList.body.results.length >= 3);
    assert.ok(adminList.body.results.every((n: any) => n.userId === 'admin'));
    assertErrorBody(await api('GET', `/v1/system/webhooks/notifications/${adminList.body.results[0].notificationId}`, team), 404);
    const asTeam = await api('GET', `/v1/system/webhooks/notifications/${mine.id}`, { ...admin, headers: { 'x-anchore-account': 'team' } });
    assert.equal(asTeam.body.notificationId, mine.id);
    assertErrorBody(await api('GET', '/v1/system/webhooks/notifications', { ...team, headers: { 'x-anchore-account': 'admin' } }), 403);

    const delivered = await api('GET', '/v1/system/webhooks/notifications?status=delivered&type=vuln_update', admin);
    assert.ok(delivered.body.results.length >= 1);
    assert.ok(delivered.body.results.every((n: any) => n.status === 'delivered' && n.notification_type === 'vuln_update'));
    const page1 = await api('GET', '/v1/system/webhooks/notifications?limit=1&page=1', admin);
    const page2 = await api('GET', '/v1/system/webhooks/notifications?limit=1&page=2', admin);
    assert.equal(page1.body.next_page, true);
    assert.equal(page2.body.page, 2);
    assert.notEqual(page1.body.results[0].notificationId, page2.body.results[0].notificationId);

    assertErrorBody(await api('GET', '/v1/system/webhooks/notifications?status=done', admin), 400, /status: expected one of pending, delivered, failed/);
    assertErrorBody(await api('GET', '/v1/system/webhooks/notifications?type=repo_update', admin), 400, /type/);
    assertErrorBody(await api('GET', '/v1/system/webhooks/notifications?page=0', admin), 400, /page/);
    assertErrorBody(await api('GET', '/v1/system/webhooks/notifications?limit=abc', admin), 400, /limit/);
    assertErrorBody(await api('GET', '/v1/system/webhooks/notifications/not-a-uuid', admin), 400, /notification id/);
    assertErrorBody(await api('GET', '/v1/system/webhooks/notifications/00000000-0000-4000-8000-000000000000', admin), 404);
  });

  test('a notification stored by one instance is delivered by a second one on the same database', async () => {
    const { svc, config: cfg, dbUrl, dir } = h();
    receiver.reset();
    const first = new Notifier(svc.db, cfg.webhooks, svc.accounts);
    const stored = (await first.notify('team', 'analysis_update', 'registry.example/app:2', { annotations: { restart: 'yes' } }))!;
    assert.ok(stored);
    // Nothing delivers it in the first instance here; a second process picks it up.
    const second = await startTestService(dbUrl, dir, { config, workers: 1 });
    const cycle = startDeliveryCycle(new Notifier(second.svc.db, second.config.webhooks, second.svc.accounts), 0.05);
    try {
      const seen = () => receiver.received.filter((r) => r.body.dataId === stored.id);
      for (let i = 0; i < 200 && seen().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      const mineGot = seen();
      assert.equal(mineGot.length, 1);
      assert.equal(mineGot[0]!.path, '/general/team/analysis_update');
      assert.deepEqual(mineGot[0]!.body.data.notification_payload.annotations, { restart: 'yes' });
      const api2 = apiClient(second.svc.url!);
      let view: any;
      for (let i = 0; i < 100; i++) {
        view = (await api2('GET', `/v1/system/webhooks/notifications/${stored.id}`, team)).body;
        if (view.status === 'delivered') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(view.status, 'delivered');
      assert.equal(view.delivery_log.length, 1);
      assert.equal(view.delivery_log[0].status_code, 200);
    } finally {
      await cycle.stop();
      await second.svc.close();
    }
  });
});
