/**
 * The watcher's policy_eval evaluation (services/watch.ts) marks findings inherited_from_base as
 * every other evaluation does (through the composition root's VulnReports): with a bundle that
 * gates only on what the image added, the finding in a package inherited from the base does not
 * fire, the one in the package the image upgraded does. Real analyses of fixture images
 * (analyze/testing-bases.ts), real stores on SQLite (and PostgreSQL with LADING_TEST_PG).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzed, baseFixtures, baseFixtureVulnData } from '../analyze/testing-bases.js';
import { loadConfig } from '../config/load.js';
import { JobQueue } from '../queue/queue.js';
import type { Sbom } from '../sbom/model.js';
import { AccountStore } from '../store/accounts.js';
import { EventStore } from '../store/events.js';
import { RegistryRows } from '../store/registries.js';
import { SubscriptionStore, subscriptionId } from '../store/subscriptions.js';
import { describeOnDatabases } from '../testkit/databases.js';
import { Announcer } from './announce.js';
import { Notifier } from './notify.js';
import { RegistryStore } from './registries.js';
import { composeImageStores, type ImageStores } from './root.js';
import { afterAnalysis, watcherCycles, type WatchDeps } from './watch.js';

const ACCOUNT = 'team';
let os: Sbom, app: Sbom, dir: string;
const digest = (s: Sbom) => s.source.manifestDigest!;

/** Stop on a High finding, only in what the image added (Anchore Enterprise's parameter). */
const OWN_ONLY = {
  id: 'own-only', version: '1_0', name: 'own findings only',
  policies: [{ id: 'p', version: '1_0', rules: [{ id: 'r1', gate: 'vulnerabilities', trigger: 'package', action: 'STOP', params: [
    { name: 'package_type', value: 'all' }, { name: 'severity_comparison', value: '>=' }, { name: 'severity', value: 'high' }, { name: 'inherited_from_base', value: 'false' },
  ] }] }],
  mappings: [{ name: 'all', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_id: 'p' }],
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-watch-bases-'));
  const f = baseFixtures();
  [os, app] = await Promise.all([analyzed(f.os, 'os'), analyzed(f.app, 'app')]);
});
after(async () => rm(dir, { recursive: true, force: true }));

describeOnDatabases('the watcher\'s policy_eval evaluation and base images', ({ db }) => {
  let s: ImageStores;
  let deps: WatchDeps;

  before(async () => {
    const h = db();
    // The automatic evaluation is off: the evaluations below are the watcher's own.
    s = composeImageStores(h, { autoEvaluate: false });
    const config = loadConfig({ yaml: '', env: {}, overrides: { data_dir: dir, encryption_key: 'watch-bases-key-0123456789' } });
    const accounts = new AccountStore(h.kysely);
    await accounts.createAccount({ name: ACCOUNT, email: 'team@example.com' });
    const subscriptions = new SubscriptionStore(h.kysely);
    const events = new EventStore(h.kysely, { source: { servicename: 'watcher' } });
    deps = {
      config, catalog: s.catalog, queue: new JobQueue(h), subscriptions, policies: s.policies, reports: s.reports,
      registries: new RegistryStore(new RegistryRows(h.kysely), config), announcer: new Announcer(subscriptions, events, new Notifier(h, config.webhooks, accounts)), events,
      sourceOptions: { credentialLookup: false }, analysisMaxAttempts: 2,
    };
    await s.vulndb.apply('debian', { full: true, batches: [baseFixtureVulnData()] }, { kind: 'sync' });
    const { record } = await s.policies.addBundle(ACCOUNT, OWN_ONLY);
    await s.policies.activateBundle(ACCOUNT, record.policyId);
    for (const [sbom, repo] of [[os, 'os'], [app, 'app']] as const) {
      await s.catalog.addImage(ACCOUNT, { imageDigest: digest(sbom), tag: { registry: 'reg.test', repo, tag: '1' } });
      await subscriptions.ensureTagSubscriptions(ACCOUNT, `reg.test/${repo}:1`, { autosubscribe: false });
      assert.equal(await s.catalog.saveAnalysis(ACCOUNT, digest(sbom), sbom), true);
    }
    assert.equal((await s.bases.get(ACCOUNT, digest(app)))?.digest, digest(os), 'app is built on os');
    assert.ok(await subscriptions.update(ACCOUNT, subscriptionId(ACCOUNT, 'reg.test/app:1', 'policy_eval'), { active: true }));
  });

  const stopped = async () => {
    const e = await s.policies.latestEvaluation(ACCOUNT, digest(app), 'reg.test/app:1');
    assert.ok(e, 'the watcher stored an evaluation');
    return { status: e.status, ids: [...JSON.stringify(e.doc).matchAll(/CVE-2024-\d/g)].map((m) => m[0]).filter((v, i, a) => a.indexOf(v) === i).sort() };
  };

  test('afterAnalysis: the inherited libc6 finding does not fire under inherited_from_base false; the upgraded zlib1g one does', async () => {
    await afterAnalysis(deps, ACCOUNT, digest(app));
    assert.deepEqual(await stopped(), { status: 'fail', ids: ['CVE-2024-1'] });
  });

  test('the policy_eval cycle evaluates with the same marking', async () => {
    const cycle = watcherCycles(deps).find((c) => c.name === 'policy_eval')!;
    assert.match(String(await cycle.run(new AbortController().signal)), /^1 tags evaluated/);
    assert.deepEqual(await stopped(), { status: 'fail', ids: ['CVE-2024-1'] });
  });
});
