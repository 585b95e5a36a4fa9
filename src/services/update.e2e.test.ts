/**
 * Update end to end: the service syncs a real-format feed (Alpine secdb from a local server) on
 * request, a stored image is re-matched from its SBOM without re-analysis, and the tag's
 * vuln_update subscriber gets a webhook with the exact diff; the event log shows the sync.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildImage } from '../testkit/images.js';
import { pushImage } from '../testkit/registry.js';
import { startFeedServer } from '../testkit/feed-server.js';
import { ADMIN as admin, describeService, waitAnalyzed } from '../testkit/service.js';
import { startReceiver } from './notify/testing.js';

const receiver = await startReceiver();
const feeds = await startFeedServer();
after(async () => {
  await receiver.close();
  await feeds.close();
});

const secdb = (fixes: Record<string, string[]>) => JSON.stringify({
  distroversion: 'v3.19', reponame: 'main', urlprefix: 'https://dl-cdn.alpinelinux.org/alpine', apkurl: '{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk', archs: ['x86_64'],
  packages: [{ pkg: { name: 'openssl', secfixes: fixes } }],
});
const serveSecdb = (fixes: Record<string, string[]>) => feeds.files.set('/v3.19/main.json', { body: secdb(fixes), headers: { 'content-type': 'application/json' } });

const image = buildImage({
  layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n' },
    { type: 'file', path: 'lib/apk/db/installed', content: 'C:Q1abc=\nP:libcrypto3\nV:3.1.4-r0\nA:x86_64\no:openssl\nL:Apache-2.0\n\n' },
  ] }],
});

describeService('feed updates reach subscribers', {
  registry: true,
  config: {
    feeds: { enabled: true, sources: ['alpine'], base_urls: { alpine: feeds.url }, sync_interval_seconds: 86400 },
    webhooks: { url: `${receiver.url}/hooks/<account>/<notification_type>` },
    cycle_timers: { notifications: 1, vulnerability_scan: 86400 },
  },
  start: { cyclePollMs: 100 },
}, (h) => {
  before(async () => {
    feeds.files.set('/', { body: '<a href="v3.19/">v3.19/</a>' });
    serveSecdb({ '3.1.4-r4': ['CVE-2024-0727'] });
    receiver.reset();
    await pushImage(h().registry!.host, 'team/alpine', '1', image);
  });

  test('sync → analyzed image re-matched → vuln_update webhook with the diff', async () => {
    const { api } = h();
    const sync = await api('POST', '/v1/system/feeds', admin);
    assert.equal(sync.status, 200, JSON.stringify(sync.body));
    assert.deepEqual(sync.body.map((r: { feed: string; status: string }) => [r.feed, r.status]), [['vulnerabilities', 'success']]);
    const feedList = await api('GET', '/v1/system/feeds', admin);
    assert.ok(feedList.body.some((f: { name: string; groups: { record_count: number }[] }) => f.name === 'vulnerabilities' && f.groups[0]!.record_count > 0));

    const tag = `${h().registry!.host}/team/alpine:1`;
    const added = await api('POST', '/v1/images', { ...admin, body: { tag } });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    await waitAnalyzed(api, image.manifestDigest);
    const vulns = await api('GET', `/v1/images/${image.manifestDigest}/vuln/all`, admin);
    assert.deepEqual(vulns.body.vulnerabilities.map((v: { vuln: string }) => v.vuln), ['CVE-2024-0727']);

    const subs = await api('GET', `/v1/subscriptions?subscription_type=vuln_update&subscription_key=${encodeURIComponent(tag)}`, admin);
    const sub = subs.body[0];
    assert.equal((await api('PUT', `/v1/subscriptions/${sub.subscription_id}`, { ...admin, body: { active: true, subscription_type: 'vuln_update', subscription_key: tag } })).status, 200);

    // The feed adds a second fix for the same package; the sync re-matches the stored image.
    serveSecdb({ '3.1.4-r4': ['CVE-2024-0727'], '3.1.4-r5': ['CVE-2024-2511'] });
    const again = await api('POST', '/v1/system/feeds', admin);
    assert.equal(again.status, 200, JSON.stringify(again.body));

    const deadline = Date.now() + 20_000;
    let hook;
    while (!(hook = receiver.received.find((r) => r.body?.queueId === 'vuln_update')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(hook, `no vuln_update webhook; received ${JSON.stringify(receiver.received.map((r) => r.body?.queueId))}`);
    assert.equal(hook.path, '/hooks/admin/vuln_update');
    const payload = hook.body.data.notification_payload;
    assert.equal(payload.subscription_key, tag);
    assert.equal(payload.imageDigest, image.manifestDigest);
    const diff = payload.diff_vulnerability_result;
    assert.deepEqual(diff.added.map((v: { CVE_ID: string; Package_Name: string; Fix_Available: string }) => [v.CVE_ID, v.Package_Name, v.Fix_Available]), [['CVE-2024-2511', 'libcrypto3', '3.1.4-r5']]);
    assert.deepEqual([diff.updated, diff.removed], [[], []]);

    const events = await api('GET', '/v1/events?event_type=user.checks.tag.vulnerabilities.update', admin);
    assert.equal(events.body.results.length, 1);
    const syncEvents = await api('GET', '/v1/events?event_type=system.feeds.*', admin);
    assert.ok(syncEvents.body.results.some((e: { event: { type: string } }) => e.event.type === 'system.feeds.sync.completed'));
    const sys = await api('GET', '/v1/system', admin);
    const cycles = sys.body.service_states[0].service_detail.detail.cycles as { name: string; last_status: string }[];
    assert.equal(cycles.find((c) => c.name === 'feed_sync')?.last_status, 'ok');
    assert.equal(cycles.find((c) => c.name === 'vulnerability_scan')?.last_status, 'ok');
  });
});
