import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnDatabases } from '../testkit/databases.js';
import { startFeedServer, type FeedServer } from '../testkit/feed-server.js';
import { VulnDb } from '../feeds/vulndb.js';
import { DRIVERS } from '../feeds/drivers/index.js';
import { loadConfig } from '../config/load.js';
import { CycleRunner } from './cycles.js';
import { FEED_SYNC_CYCLE, anchoreSyncResults, feedSyncCycle, syncFeeds, type ServiceEvent } from './feeds.js';

const secdb = (fixed: string) => JSON.stringify({
  distroversion: 'v3.19', reponame: 'main', urlprefix: 'https://dl-cdn.alpinelinux.org/alpine', apkurl: '{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk', archs: ['x86_64'],
  packages: [{ pkg: { name: 'openssl', secfixes: { [fixed]: ['CVE-2024-0727'] } } }],
});

let server: FeedServer;
before(async () => {
  server = await startFeedServer();
  server.files.set('/', { body: '<html><a href="v3.19/">v3.19/</a></html>', headers: { 'content-type': 'text/html' } });
});
after(async () => server.close());

describeOnDatabases('feed sync in the service', ({ db }) => {
  before(() => {
    server.files.set('/v3.19/main.json', { body: secdb('3.1.4-r4'), headers: { 'content-type': 'application/json' } });
  });
  const config = () => loadConfig({ yaml: '', env: {}, overrides: { feeds: { sources: ['alpine'], base_urls: { alpine: server.url } } } });

  test('a sync applies the real secdb format, emits Anchore\'s events and answers in FeedSyncResults shape', async () => {
    const events: ServiceEvent[] = [];
    const vulndb = new VulnDb(db());
    const report = await syncFeeds({ vulndb, config: config(), drivers: DRIVERS, emit: async (e) => { events.push(e); } });
    assert.equal(report.results.length, 1);
    assert.equal(report.results[0]!.ok, true, report.results[0]!.error);
    const aff = await vulndb.affected('alpine:3.19', 'openssl');
    assert.deepEqual(aff.map((a) => [a.vulnId, a.fixedVersions]), [['CVE-2024-0727', ['3.1.4-r4']]]);
    assert.deepEqual(events.map((e) => e.type), ['system.feeds.sync.started', 'system.feeds.sync.feed_started', 'system.feeds.sync.feed_completed', 'system.feeds.sync.completed']);
    const [r] = anchoreSyncResults(report) as { feed: string; status: string; groups: { group: string; updated_record_count: number }[] }[];
    assert.equal(r!.feed, 'vulnerabilities', 'Anchore\'s feed name');
    assert.equal(r!.status, 'success');
    assert.equal(r!.groups[0]!.group, 'alpine:3.19');
    assert.ok(r!.groups[0]!.updated_record_count >= 1);
  });

  test('a failing source is reported and the previous data stays; an unknown source is refused', async () => {
    const events: ServiceEvent[] = [];
    const vulndb = new VulnDb(db());
    server.files.set('/v3.19/main.json', { body: 'upstream broke', status: 500 });
    try {
      const report = await syncFeeds({ vulndb, config: config(), drivers: DRIVERS, emit: async (e) => { events.push(e); } });
      assert.equal(report.results[0]!.ok, false);
      assert.match(report.results[0]!.error!, /500/);
      assert.deepEqual(events.slice(-2).map((e) => [e.type, e.level]), [['system.feeds.sync.feed_failed', 'error'], ['system.feeds.sync.failed', 'error']]);
      assert.equal((await vulndb.affected('alpine:3.19', 'openssl')).length, 1);
    } finally {
      server.files.set('/v3.19/main.json', { body: secdb('3.1.4-r5'), headers: { 'content-type': 'application/json' } });
    }
    await assert.rejects(syncFeeds({ vulndb, config: config(), drivers: DRIVERS }, { only: ['nope'] }), /unknown feed source nope/);
  });

  test('as a cycle: runs once across runners, then the re-match hook; the result is recorded', async () => {
    const vulndb = new VulnDb(db());
    let after = 0;
    const spec = feedSyncCycle({ vulndb, config: config(), drivers: DRIVERS }, 3_600_000, async () => { after++; });
    const a = new CycleRunner(db().kysely, { owner: 'a' });
    const b = new CycleRunner(db().kysely, { owner: 'b' });
    const [ra, rb] = await Promise.all([a.runNow(spec), b.runNow(spec)]);
    assert.equal([ra, rb].filter(Boolean).length, 1, 'exactly one runner synced');
    assert.equal(after, 1);
    const state = (await a.states()).find((s) => s.name === FEED_SYNC_CYCLE)!;
    assert.equal(state.lastStatus, 'ok');
    assert.match(state.lastSummary!, /^alpine: \d+ records$/);
    assert.deepEqual((await vulndb.affected('alpine:3.19', 'openssl'))[0]!.fixedVersions, ['3.1.4-r5']);
  });

  test('a disabled feed is not synced; a disabled group is left out of a sync and its stored rows stay', async () => {
    const vulndb = new VulnDb(db());
    await syncFeeds({ vulndb, config: config(), drivers: DRIVERS });
    assert.deepEqual((await vulndb.affected('alpine:3.19', 'openssl'))[0]!.fixedVersions, ['3.1.4-r5']);
    server.files.set('/v3.19/main.json', { body: secdb('3.1.4-r6'), headers: { 'content-type': 'application/json' } });
    try {
      await vulndb.setFeedEnabled('feed', 'vulnerabilities', false);
      const skipped = await syncFeeds({ vulndb, config: config(), drivers: DRIVERS });
      assert.deepEqual([skipped.results.length, skipped.skipped], [0, ['alpine']]);
      assert.deepEqual(await vulndb.affected('alpine:3.19', 'openssl'), [], 'the matcher ignores a disabled feed');
      await vulndb.setFeedEnabled('feed', 'vulnerabilities', true);

      await vulndb.setFeedEnabled('group', 'alpine:3.19', false);
      const report = await syncFeeds({ vulndb, config: config(), drivers: DRIVERS });
      assert.equal(report.results[0]!.ok, true, report.results[0]!.error);
      assert.deepEqual(await vulndb.affected('alpine:3.19', 'openssl'), [], 'nor a disabled group');
      await vulndb.setFeedEnabled('group', 'alpine:3.19', true);
      assert.deepEqual((await vulndb.affected('alpine:3.19', 'openssl'))[0]!.fixedVersions, ['3.1.4-r5'], 'the group was not synced while disabled; its rows stayed');
      await syncFeeds({ vulndb, config: config(), drivers: DRIVERS });
      assert.deepEqual((await vulndb.affected('alpine:3.19', 'openssl'))[0]!.fixedVersions, ['3.1.4-r6'], 'enabled again, it syncs');
    } finally {
      server.files.set('/v3.19/main.json', { body: secdb('3.1.4-r5'), headers: { 'content-type': 'application/json' } });
    }
  });
});
