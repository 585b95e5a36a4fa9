/**
 * The watcher end to end in a full service (SQLite and PostgreSQL) with a real registry and a real
 * webhook receiver: an image added with autosubscribe and its policy_eval subscription activated;
 * a new image pushed to the tag is found by tag_watch, added, analyzed, evaluated, and the
 * tag_update, analysis_update and policy_eval notifications arrive with Anchore's payloads.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startReceiver, type Received } from './notify/testing.js';
import { buildImage } from '../testkit/images.js';
import { pushImage } from '../testkit/registry.js';
import { ADMIN as admin, describeService, waitAnalyzed } from '../testkit/service.js';

const receiver = await startReceiver();
after(() => receiver.close());

function debianImage(version: string) {
  return buildImage({
    layers: [{ entries: [
      { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
      { type: 'file', path: 'var/lib/dpkg/status', content: `Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\nSource: openssl\n` },
    ] }],
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const config = {
  watchers: { tag_interval: 1 },
  cycle_timers: { policy_eval: 1, notifications: 1 },
  webhooks: { url: `${receiver.url}/hooks/<account>/<notification_type>` },
};

describeService('watchers end to end', { registry: true, config }, (h) => {
  const v1 = debianImage('3.0.11-1~deb12u1');
  const v2 = debianImage('3.0.15-1~deb12u1');
  let tag: string;

  before(async () => {
    receiver.reset();
    tag = `${h().registry!.host}/team/app:latest`;
    await pushImage(h().registry!.host, 'team/app', 'latest', v1);
  });

  test('a new digest pushed to a watched tag is added, analyzed, evaluated and notified', async () => {
    const { api, svc } = h();
    const add = await api('POST', '/v1/images?autosubscribe=true', { ...admin, body: { tag } });
    assert.equal(add.status, 200, JSON.stringify(add.body));
    const d1 = add.body[0].imageDigest;
    assert.equal(d1, v1.manifestDigest);
    await waitAnalyzed(api, d1);

    const subs = await api('GET', `/v1/subscriptions?subscription_key=${encodeURIComponent(tag)}`, admin);
    assert.deepEqual(subs.body.map((s: { subscription_type: string; active: boolean }) => `${s.subscription_type}:${s.active}`).sort(),
      ['analysis_update:true', 'policy_eval:false', 'tag_update:true', 'vuln_update:false']);
    const policyEval = subs.body.find((s: { subscription_type: string }) => s.subscription_type === 'policy_eval');
    const put = await api('PUT', `/v1/subscriptions/${policyEval.subscription_id}`, { ...admin, body: { active: true } });
    assert.equal(put.body[0].active, true);
    // The policy_eval cycle's first evaluation of the tag is the baseline.
    await waitFor('the baseline evaluation', async () => {
      const s = (await svc.cycles.states()).find((c) => c.name === 'policy_eval');
      return s?.lastSummary?.startsWith('1 tags evaluated') ? s : undefined;
    });

    await pushImage(h().registry!.host, 'team/app', 'latest', v2);
    const d2 = v2.manifestDigest;
    const payloadOf = (type: string, match: (p: any) => boolean) => () => {
      const r = receiver.received.find((x: Received) => x.path === `/hooks/admin/${type}` && match(x.body.data.notification_payload));
      return r?.body;
    };
    const tagUpdate = await waitFor('tag_update', payloadOf('tag_update', () => true));
    const analysisUpdate = await waitFor('analysis_update of the new digest', payloadOf('analysis_update', (p) => p.curr_eval.imageDigest === d2));
    const policyUpdate = await waitFor('policy_eval of the new digest', payloadOf('policy_eval', (p) => p.curr_eval.image_digest === d2));

    assert.equal(tagUpdate.queueId, 'tag_update');
    assert.equal(tagUpdate.userId, 'admin');
    assert.deepEqual(tagUpdate.data.notification_payload.last_eval, [d1]);
    assert.deepEqual(tagUpdate.data.notification_payload.curr_eval, [d2]);
    assert.equal(tagUpdate.data.notification_payload.subscription_key, tag);
    assert.equal(tagUpdate.data.notification_payload.subscription_type, 'tag_update');

    const a = analysisUpdate.data.notification_payload;
    assert.deepEqual([a.subscription_key, a.last_eval.analysis_status, a.curr_eval.analysis_status], [tag, 'analyzing', 'analyzed']);

    const p = policyUpdate.data.notification_payload;
    assert.equal(p.subscription_key, tag);
    assert.equal(p.last_eval.image_digest, d1);
    assert.equal(p.curr_eval.image_digest, d2);
    assert.ok(['pass', 'fail'].includes(p.curr_eval.status));
    assert.equal(p.curr_eval.tag, tag);
    assert.ok(['go', 'warn', 'stop'].includes(p.curr_eval.final_action));

    // The catalog: the tag now names the new digest, analyzed; the old one is kept.
    const images = await api('GET', `/v1/images?fulltag=${encodeURIComponent(tag)}`, admin);
    assert.deepEqual(images.body.map((i: { imageDigest: string; analysis_status: string }) => [i.imageDigest, i.analysis_status]), [[d2, 'analyzed']]);
    const history = await api('GET', `/v1/images?fulltag=${encodeURIComponent(tag)}&history=true`, admin);
    assert.deepEqual(history.body.map((i: { imageDigest: string }) => i.imageDigest).sort(), [d1, d2].sort());
    // The change was recorded as an event too.
    const events = await api('GET', '/v1/events?event_type=user.checks.tag.policy_evaluation.update', admin);
    assert.ok(events.body.results.some((e: any) => e.event.resource.id === tag && e.event.details.curr_eval.image_digest === d2), JSON.stringify(events.body));
    // One tag_update for the one change.
    assert.equal(receiver.received.filter((x) => x.path === '/hooks/admin/tag_update').length, 1);
  });
});
