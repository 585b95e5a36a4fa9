/**
 * The watcher cycles driven directly, on SQLite and PostgreSQL, against real local registries
 * (one open, one wanting a password): tag_watch (no change, a new digest, a new index whose
 * amd64 image changed, an inactive subscription, credentials, a registry that is down),
 * repo_watch (new tags added and subscribed, tagcount, a repository that cannot be listed),
 * policy_eval (a flip announced once) and afterAnalysis (a new digest evaluated and announced).
 * Notifications are the real Notifier's stored records; events the real EventStore's.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { LadingConfig, NotificationType } from '../config/schema.js';
import { VulnDb } from '../feeds/vulndb.js';
import { JobQueue } from '../queue/queue.js';
import { AccountStore } from '../store/accounts.js';
import { buildImage, buildIndex, type BuiltImage } from '../testkit/images.js';
import { describeOnDatabases } from '../testkit/databases.js';
import { freePort, pushImage, registryAvailable, registrySkipReason, startRegistry, type RunningServer } from '../testkit/registry.js';
import { startReceiver, type Receiver } from './notify/testing.js';
import { DEBIAN_12, deb, sbomOf } from '../vulns/testing.js';
import { ANALYZE_JOB, type AnalyzePayload } from './analyzer.js';
import { Announcer } from './announce.js';
import { CatalogStore } from '../store/catalog.js';
import type { CycleSpec } from './cycles.js';
import { EventStore } from '../store/events.js';
import { Notifier } from './notify.js';
import { PolicyStore } from '../store/policies.js';
import { RegistryStore } from './registries.js';
import { RegistryRows } from '../store/registries.js';
import { SubscriptionStore, subscriptionId } from '../store/subscriptions.js';
import { VulnReports } from './reports.js';
import { afterAnalysis, watcherCycles, type WatchDeps } from './watch.js';

const CREDS = { user: 'watcher', pass: 'watch-pass-s3cret' };
const ACCOUNT = 'team';

let serial = 0;
/** A distinct small image (its content differs by a counter). */
function image(label: string, platform?: { os: string; architecture: string }): BuiltImage {
  serial++;
  return buildImage({
    layers: [{ entries: [{ type: 'file', path: 'etc/build', content: `${label} ${serial}\n` }] }],
    ...(platform ? { platform } : {}),
  });
}

/** A bundle whose only rule gives `action` for every image. */
function bundle(id: string, action: 'GO' | 'STOP') {
  return {
    id, version: '1_0', name: id,
    policies: [{ id: `${id}-p`, version: '1_0', rules: [{ id: `${id}-r`, gate: 'always', trigger: 'always', action, params: [] }] }],
    whitelists: [],
    mappings: [{ id: `${id}-m`, name: 'all', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_id: `${id}-p`, whitelist_ids: [] }],
  };
}

describeOnDatabases('watchers', ({ db }) => {
  if (!registryAvailable()) {
    test('watchers need a local registry', { skip: registrySkipReason }, () => {});
    return;
  }
  let dir: string;
  let open: RunningServer & { dir: string };
  let locked: RunningServer & { dir: string };
  let receiver: Receiver;
  let config: LadingConfig;
  let deps: WatchDeps;
  let notifier: Notifier;
  let events: EventStore;
  let cycles: Record<string, CycleSpec>;
  const signal = new AbortController().signal;
  const run = async (name: string) => String(await cycles[name]!.run(signal));

  const tagOf = (host: string, repo: string, tag: string) => `${host}/${repo}:${tag}`;
  const notifications = async (type: NotificationType, key?: string) => (await notifier.list(ACCOUNT, { type }))
    .items.filter((n) => key === undefined || n.subscriptionKey === key);
  const jobsFor = async (imageDigest: string) => (await deps.queue.list({ kind: ANALYZE_JOB }))
    .filter((j) => (j.payload as AnalyzePayload).imageDigest === imageDigest);
  const current = async (fulltag: string, account = ACCOUNT) => (await deps.catalog.listImages(account, { fulltag, latestOnly: true }))[0];
  const activate = async (fulltag: string, type: 'policy_eval' | 'tag_update', account = ACCOUNT) => {
    assert.ok(await deps.subscriptions.update(account, subscriptionId(account, fulltag, type), { active: true }));
  };
  /** An image recorded as POST /images would (the tag's four subscriptions; tag_update active with autosubscribe). */
  const added = async (fulltag: string, img: BuiltImage, options: { autosubscribe: boolean; account?: string; parentDigest?: string; annotations?: Record<string, unknown> }) => {
    const account = options.account ?? ACCOUNT;
    const [registry, rest] = [fulltag.slice(0, fulltag.indexOf('/')), fulltag.slice(fulltag.indexOf('/') + 1)];
    const [repo, tag] = rest.split(':') as [string, string];
    await deps.catalog.addImage(account, {
      imageDigest: img.manifestDigest, imageId: img.configDigest.slice(7), tag: { registry, repo, tag },
      ...(options.parentDigest ? { parentDigest: options.parentDigest } : {}),
      ...(options.annotations ? { annotations: options.annotations } : {}),
    });
    await deps.subscriptions.ensureTagSubscriptions(account, fulltag, { autosubscribe: options.autosubscribe });
  };
  const analyzed = async (fulltag: string, img: BuiltImage, account = ACCOUNT) => {
    assert.ok(await deps.catalog.saveAnalysis(account, img.manifestDigest, sbomOf([deb('libssl3', '3.0.11-1~deb12u1', 'openssl')], DEBIAN_12, img.manifestDigest)));
    assert.equal((await current(fulltag, account))?.analysisStatus, 'analyzed');
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lading-watch-'));
    open = await startRegistry();
    locked = await startRegistry({ htpasswd: CREDS });
    receiver = await startReceiver();
    config = loadConfig({
      yaml: '', env: {},
      overrides: { data_dir: dir, encryption_key: 'watch-test-key-0123456789', webhooks: { url: `${receiver.url}/<account>/<notification_type>` } },
    });
    const h = db();
    const accounts = new AccountStore(h.kysely);
    await accounts.createAccount({ name: ACCOUNT, email: 'team@example.com' });
    const subscriptions = new SubscriptionStore(h.kysely);
    events = new EventStore(h.kysely, { source: { servicename: 'watcher' } });
    notifier = new Notifier(h, config.webhooks, accounts);
    deps = {
      config, catalog: new CatalogStore(h.kysely), queue: new JobQueue(h), subscriptions, policies: new PolicyStore(h.kysely),
      reports: new VulnReports(new VulnDb(h)), registries: new RegistryStore(new RegistryRows(h.kysely), config), announcer: new Announcer(subscriptions, events, notifier), events,
      sourceOptions: { credentialLookup: false }, analysisMaxAttempts: 2,
    };
    cycles = Object.fromEntries(watcherCycles(deps).map((c) => [c.name, c]));
  });
  after(async () => {
    await open?.stop();
    await locked?.stop();
    await receiver?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the cycles and their intervals come from the configuration', () => {
    assert.deepEqual(watcherCycles(deps).map((c) => [c.name, c.intervalMs]), [
      ['tag_watch', config.watchers.tag_interval * 1000], ['repo_watch', config.watchers.repo_interval * 1000], ['policy_eval', config.cycle_timers.policy_eval * 1000],
    ]);
  });

  test('tag_watch: nothing changed, nothing announced; a new digest is added, queued and announced once', async () => {
    const tag = tagOf(open.host, 'team/app', 'latest');
    const v1 = image('app v1');
    const v2 = image('app v2');
    await pushImage(open.host, 'team/app', 'latest', v1);
    await added(tag, v1, { autosubscribe: true, annotations: { owner: 'qa' } });

    assert.equal(await run('tag_watch'), '1 tags checked, 0 new digests, 0 lookups failed');
    assert.deepEqual(await notifications('tag_update'), []);
    assert.equal((await deps.catalog.listImages(ACCOUNT, { fulltag: tag })).length, 1);

    await pushImage(open.host, 'team/app', 'latest', v2);
    assert.equal(await run('tag_watch'), '1 tags checked, 1 new digests, 0 lookups failed');
    const now = await current(tag);
    assert.equal(now?.imageDigest, v2.manifestDigest);
    assert.equal(now?.analysisStatus, 'not_analyzed');
    assert.equal(now?.imageId, v2.configDigest.slice(7));
    assert.deepEqual(now?.annotations, { owner: 'qa' }, 'the tag\'s annotations carry over');
    const jobs = await jobsFor(v2.manifestDigest);
    assert.equal(jobs.length, 1);
    assert.deepEqual(jobs[0]!.payload, { account: ACCOUNT, imageDigest: v2.manifestDigest, fulltag: tag });
    assert.equal(jobs[0]!.maxAttempts, 2);
    const sent = await notifications('tag_update', tag);
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0]!.payload, { last_eval: [v1.manifestDigest], curr_eval: [v2.manifestDigest], annotations: { owner: 'qa' } });

    // Seen once: the next cycle finds the tag where the catalog has it.
    assert.equal(await run('tag_watch'), '1 tags checked, 0 new digests, 0 lookups failed');
    assert.equal((await notifications('tag_update', tag)).length, 1);
  });

  test('tag_watch: an index is resolved to the platform an add picks; inactive subscriptions are not polled', async () => {
    const tag = tagOf(open.host, 'team/multi', 'latest');
    const amd1 = image('multi amd64');
    const arm1 = image('multi arm64', { os: 'linux', architecture: 'arm64' });
    const index1 = buildIndex([amd1, arm1]);
    await pushImage(open.host, 'team/multi', 'latest', index1);
    await added(tag, amd1, { autosubscribe: true, parentDigest: index1.digest });
    const quiet = tagOf(open.host, 'team/quiet', 'latest');
    const q1 = image('quiet v1');
    await pushImage(open.host, 'team/quiet', 'latest', q1);
    await added(quiet, q1, { autosubscribe: false });

    assert.equal(await run('tag_watch'), '2 tags checked, 0 new digests, 0 lookups failed', 'the index digest matches the stored parent');

    const amd2 = image('multi amd64 v2');
    const index2 = buildIndex([amd2, arm1]);
    await pushImage(open.host, 'team/multi', 'latest', index2);
    await pushImage(open.host, 'team/quiet', 'latest', image('quiet v2'));
    assert.equal(await run('tag_watch'), '2 tags checked, 1 new digests, 0 lookups failed');
    const now = await current(tag);
    assert.equal(now?.imageDigest, amd2.manifestDigest);
    assert.equal(now?.parentDigest, index2.digest);
    assert.deepEqual((await notifications('tag_update', tag))[0]?.payload, { last_eval: [amd1.manifestDigest], curr_eval: [amd2.manifestDigest], annotations: {} });
    assert.equal((await current(quiet))?.imageDigest, q1.manifestDigest, 'tag_update inactive: not polled');
  });

  test('tag_watch: the account\'s registry credentials are used; a registry that is down is an error event and the others still run', async () => {
    const secured = tagOf(locked.host, 'team/private', 'v1');
    const s1 = image('private v1');
    await pushImage(locked.host, 'team/private', 'v1', s1, CREDS);
    await added(secured, s1, { autosubscribe: true });
    await deps.registries.add(ACCOUNT, { registry: locked.host, type: 'docker_v2', user: CREDS.user, pass: CREDS.pass, verify: false });
    // Sorted first (account "aaa"): its failure comes before the others.
    const dead = `127.0.0.1:${await freePort()}/team/gone:latest`;
    await added(dead, image('gone'), { autosubscribe: true, account: 'aaa' });
    const s2 = image('private v2');
    await pushImage(locked.host, 'team/private', 'v1', s2, CREDS);

    assert.equal(await run('tag_watch'), '4 tags checked, 1 new digests, 1 lookups failed');
    assert.equal((await current(secured))?.imageDigest, s2.manifestDigest);
    assert.deepEqual((await notifications('tag_update', secured))[0]?.payload.curr_eval, [s2.manifestDigest]);
    const failed = (await events.list('aaa', { eventType: 'system.image_analysis.registry_lookup_failed' })).results;
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.level, 'error');
    assert.deepEqual(failed[0]!.resource, { userId: 'aaa', type: 'image_reference', id: dead });
    assert.equal(failed[0]!.details.subscription_type, 'tag_update');
    assert.equal(failed[0]!.details.error_code, 'NETWORK');
    assert.match(String(failed[0]!.details.error), /cannot reach/);
    assert.deepEqual((await events.list(ACCOUNT, { level: 'error' })).results, [], 'nothing failed for the other account');
    assert.deepEqual(await notifier.list('aaa'), { items: [], nextPage: false });
  });

  test('repo_watch: new tags are added with their subscriptions; tagcount follows; an unlistable repository is an error event', async () => {
    const repoKey = `${open.host}/team/repo`;
    const r1 = image('repo r1');
    const r2 = image('repo r2');
    const r3 = image('repo r3');
    await pushImage(open.host, 'team/repo', 'r1', r1);
    await pushImage(open.host, 'team/repo', 'r2', r2);
    await added(`${repoKey}:r1`, r1, { autosubscribe: false });
    await deps.subscriptions.add(ACCOUNT, { key: repoKey, type: 'repo_update', value: JSON.stringify({ autosubscribe: true, lookuptag: 'latest', tagcount: 0 }), active: true });
    const inactiveKey = `${open.host}/team/idle`;
    await pushImage(open.host, 'team/idle', 't1', image('idle'));
    await deps.subscriptions.add(ACCOUNT, { key: inactiveKey, type: 'repo_update', value: '{"autosubscribe":false}', active: false });
    const deadKey = `127.0.0.1:${await freePort()}/team/none`;
    await deps.subscriptions.add(ACCOUNT, { key: deadKey, type: 'repo_update', value: null, active: true });

    assert.equal(await run('repo_watch'), '2 repositories listed (1 failed), 1 tags added, 0 tag lookups failed');
    const r2now = await current(`${repoKey}:r2`);
    assert.equal(r2now?.imageDigest, r2.manifestDigest);
    assert.equal(r2now?.analysisStatus, 'not_analyzed');
    assert.equal((await jobsFor(r2.manifestDigest)).length, 1);
    assert.deepEqual((await jobsFor(r1.manifestDigest)), [], 'a tag already in the catalog is left alone');
    const subs = await deps.subscriptions.list(ACCOUNT, { key: `${repoKey}:r2` });
    assert.deepEqual(subs.map((s) => `${s.type}:${s.active}`).sort(), ['analysis_update:true', 'policy_eval:false', 'tag_update:true', 'vuln_update:false']);
    const repoSub = await deps.subscriptions.get(ACCOUNT, subscriptionId(ACCOUNT, repoKey, 'repo_update'));
    assert.deepEqual(JSON.parse(repoSub!.value!), { autosubscribe: true, lookuptag: 'latest', tagcount: 2 });
    assert.equal(await current(`${inactiveKey}:t1`), undefined, 'inactive repo_update: nothing listed or added');
    const failed = (await events.list(ACCOUNT, { eventType: 'system.repository.list_tags_fail' })).results;
    assert.deepEqual(failed.map((e) => [e.resource.type, e.resource.id, e.level]), [['repository', deadKey, 'error']]);

    await pushImage(open.host, 'team/repo', 'r3', r3);
    assert.equal(await run('repo_watch'), '2 repositories listed (1 failed), 1 tags added, 0 tag lookups failed');
    assert.equal((await current(`${repoKey}:r3`))?.imageDigest, r3.manifestDigest);
    assert.equal(JSON.parse((await deps.subscriptions.get(ACCOUNT, repoSub!.subscriptionId))!.value!).tagcount, 3);
    assert.equal(await run('repo_watch'), '2 repositories listed (1 failed), 0 tags added, 0 tag lookups failed');
  });

  test('policy_eval: the first evaluation is the baseline; a flip is announced once; no change, no announcement', async () => {
    const tag = tagOf(open.host, 'team/pol', 'latest');
    const p1 = image('pol v1');
    await added(tag, p1, { autosubscribe: false, annotations: { team: 'pay' } });
    await analyzed(tag, p1);
    await deps.policies.addBundle(ACCOUNT, bundle('go-all', 'GO'));
    await deps.policies.addBundle(ACCOUNT, bundle('stop-all', 'STOP'));
    await deps.policies.activateBundle(ACCOUNT, 'go-all');
    const notYet = tagOf(open.host, 'team/pending', 'latest');
    await added(notYet, image('pending'), { autosubscribe: false });
    await activate(notYet, 'policy_eval');
    assert.match(await run('policy_eval'), /^0 tags evaluated, 0 changed, 1 not analyzed$/, 'the subscription of the tag is not active yet');
    await activate(tag, 'policy_eval');

    assert.equal(await run('policy_eval'), '1 tags evaluated, 0 changed, 1 not analyzed');
    assert.equal((await deps.policies.listEvaluations(ACCOUNT, p1.manifestDigest, tag)).length, 1);
    assert.equal(await run('policy_eval'), '1 tags evaluated, 0 changed, 1 not analyzed');
    assert.deepEqual(await notifications('policy_eval'), []);

    await deps.policies.activateBundle(ACCOUNT, 'stop-all');
    assert.equal(await run('policy_eval'), '1 tags evaluated, 1 changed, 1 not analyzed');
    const sent = await notifications('policy_eval', tag);
    assert.equal(sent.length, 1);
    const p = sent[0]!.payload as { last_eval: Record<string, unknown>; curr_eval: Record<string, unknown>; annotations: unknown };
    assert.deepEqual([p.last_eval.final_action, p.last_eval.status, p.last_eval.image_digest], ['go', 'pass', p1.manifestDigest]);
    assert.deepEqual([p.curr_eval.final_action, p.curr_eval.status, p.curr_eval.image_digest, p.curr_eval.tag], ['stop', 'fail', p1.manifestDigest, tag]);
    assert.equal((p.curr_eval.bundle as { id: string }).id, 'stop-all');
    assert.deepEqual(p.annotations, { team: 'pay' });
    const recorded = (await events.list(ACCOUNT, { eventType: 'user.checks.tag.policy_evaluation.update' })).results;
    assert.equal(recorded.length, 1);
    assert.deepEqual([recorded[0]!.resource.id, recorded[0]!.details.subscription_type, (recorded[0]!.details.curr_eval as { status: string }).status], [tag, 'policy_eval', 'fail']);

    assert.equal(await run('policy_eval'), '1 tags evaluated, 0 changed, 1 not analyzed');
    assert.equal((await notifications('policy_eval', tag)).length, 1, 'announced once');
    assert.equal((await deps.policies.listEvaluations(ACCOUNT, p1.manifestDigest, tag)).length, 4, 'every evaluation is stored');
  });

  test('afterAnalysis: a new digest of a subscribed tag is evaluated right away and announced; unsubscribed tags are not evaluated', async () => {
    const tag = tagOf(open.host, 'team/pol', 'latest');
    const p2 = image('pol v2');
    await added(tag, p2, { autosubscribe: false });
    await analyzed(tag, p2);
    await afterAnalysis(deps, ACCOUNT, p2.manifestDigest);
    const sent = await notifications('policy_eval', tag);
    assert.equal(sent.length, 2);
    const latest = sent.find((n) => (n.payload.curr_eval as { image_digest: string }).image_digest === p2.manifestDigest);
    assert.ok(latest, 'announced for the new digest');
    assert.equal((latest.payload.last_eval as { image_digest: string }).image_digest !== p2.manifestDigest, true, 'compared with the previous digest');
    assert.deepEqual([(latest.payload.last_eval as { status: string }).status, (latest.payload.curr_eval as { status: string }).status], ['fail', 'fail']);
    assert.equal((await deps.policies.listEvaluations(ACCOUNT, p2.manifestDigest, tag)).length, 1);

    const plain = tagOf(open.host, 'team/plain', 'latest');
    const x = image('plain');
    await added(plain, x, { autosubscribe: true });
    await analyzed(plain, x);
    await afterAnalysis(deps, ACCOUNT, x.manifestDigest);
    assert.deepEqual(await deps.policies.listEvaluations(ACCOUNT, x.manifestDigest, plain), []);
    // Not analyzed, or unknown: nothing to do.
    await afterAnalysis(deps, ACCOUNT, `sha256:${'9'.repeat(64)}`);
  });
});
