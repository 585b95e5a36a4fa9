/**
 * What a re-match's changed findings cause (services/finding-changes.ts), on both databases, with
 * the service's composition root: the image's stored evaluations re-done with the active bundle
 * (its summary verdict, `policy_eval` event and notification on a flip), and the `vuln_update`
 * event and notification, delivered from the outbox the re-match wrote in its own transaction,
 * also when the process that re-matched was killed right after its commit.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import type { Severity } from '../feeds/model.js';
import { describeOnDatabases } from '../testkit/databases.js';
import { scanSbom } from '../vulns/scan.js';
import { affected, deb, sbomOf, vuln } from '../vulns/testing.js';
import { checkImage } from './check.js';
import { rematchFindings } from './freshness.js';
import { composeRoot, type ServiceRoot } from './root.js';
import { killChildAt } from '../testkit/kill-child.js';
import { runQueuedEvaluations } from './testing-evaluate.js';

const child = fileURLToPath(new URL('../testkit/finding-changes-child.ts', import.meta.url));
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const A = digest('a');
const B = digest('b');
const TAG = 'reg.test/team/app:v1';
const ACCOUNT = 'admin';

/** Run the child re-match until its re-match committed, then SIGKILL it. */
function killAfterCommit(url: string): Promise<void> {
  return killChildAt(child, [url], 'committed').then(() => undefined);
}

/** Run the child re-match until every vuln_update announcement committed (before the re-evaluations), then SIGKILL it. */
function killAfterAnnounced(url: string): Promise<void> {
  return killChildAt(child, [url, 'announced'], 'announced').then(() => undefined);
}

/** A bundle whose only rule (the `always` gate) warns for every image: nothing in it reads vulnerabilities. */
const WARN_ALL = {
  id: 'warn-all', version: '1_0', name: 'warn-all',
  policies: [{ id: 'warn-all-p', version: '1_0', rules: [{ id: 'warn-all-r', gate: 'always', trigger: 'always', action: 'WARN', params: [] }] }],
  whitelists: [],
  mappings: [{ id: 'warn-all-m', name: 'all', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_id: 'warn-all-p', whitelist_ids: [] }],
};

describeOnDatabases('changed findings: re-evaluation and announcements from the outbox', ({ db, url }) => {
  let root: ServiceRoot;
  const setSeverity = async (severity: Severity) => {
    await root.vulndb.apply('debian', { full: true, batches: [{
      vulnerabilities: [vuln({ id: 'CVE-2024-1', source: 'debian', severity })],
      affected: [affected({ vulnId: 'CVE-2024-1', name: 'openssl', ranges: [{ introduced: '0', fixed: '3.0.15-1~deb12u1' }], fixedVersions: ['3.0.15-1~deb12u1'], severity })],
    }] }, { kind: 'sync' });
  };
  const notifications = async (type: string) => (await db().kysely.selectFrom('notifications').select(['subscription_key', 'payload']).where('type', '=', type).orderBy('created_at').execute())
    .map((n) => ({ key: n.subscription_key, payload: JSON.parse(n.payload) as Record<string, any> }));
  const events = async (type: string) => (await db().kysely.selectFrom('events').select('details').where('type', '=', type).execute()).length;
  const verdict = async (d: string) => (await db().kysely.selectFrom('image_summaries').select('verdict').where('account', '=', ACCOUNT).where('image_digest', '=', d).executeTakeFirst())?.verdict;

  before(async () => {
    const config = loadConfig({ yaml: '', env: {}, overrides: { webhooks: { url: 'http://127.0.0.1:9/hook' } } });
    root = composeRoot(db(), { config, role: 'all', hostId: 'test' });
    await setSeverity('Medium');
    for (const [d, t] of [[A, 'v1'], [B, 'v2']] as const) {
      await root.catalog.addImage(ACCOUNT, { imageDigest: d, tag: { registry: 'reg.test', repo: 'team/app', tag: t } });
      await root.catalog.saveAnalysis(ACCOUNT, d, sbomOf([deb('libssl3', '3.0.11-1~deb12u1', 'openssl')], undefined, d));
    }
    for (const type of ['vuln_update', 'policy_eval'] as const) await root.subscriptions.add(ACCOUNT, { key: TAG, type, active: true });
    assert.equal(await runQueuedEvaluations(db(), root.evaluation), 2, 'one evaluate job per stored analysis');
    // Both were evaluated as their own tags when analyzed; A is checked again as TAG (a Medium finding: the default bundle warns).
    assert.equal(await verdict(B), 'warn', 'a newly analyzed image has a verdict');
    const sbom = (await root.catalog.getSbom(ACCOUNT, A))!;
    const first = await checkImage(root.policies, ACCOUNT, { imageDigest: A, tag: TAG, sbom, scan: await scanSbom(sbom, root.vulndb, { input: A }) });
    assert.equal(first.finalAction, 'warn');
    assert.equal(await verdict(A), 'warn');
    const baseline = await rematchFindings(root);
    assert.equal(baseline.delivered, 0, 'the first sync is each image\'s baseline');
  });

  test('a severity raised by the data: the evaluated images are re-evaluated, their verdicts and a policy_eval flip of the subscribed tag follow', async () => {
    await setSeverity('Critical');
    const r = await rematchFindings(root);
    assert.deepEqual([r.delivered, r.evaluations, r.flipped], [2, 2, 2], 'both images were evaluated when analyzed (services/auto-evaluate.ts)');
    assert.equal((await root.policies.latestEvaluation(ACCOUNT, A, TAG))?.finalAction, 'stop');
    assert.equal(await verdict(A), 'fail', 'the image list and dashboard read the new verdict');
    assert.equal((await root.policies.latestEvaluation(ACCOUNT, B, 'reg.test/team/app:v2'))?.finalAction, 'stop', 'B, evaluated as its own tag when analyzed, too');
    assert.equal(await verdict(B), 'fail');
    const flips = await notifications('policy_eval');
    assert.equal(flips.length, 1);
    assert.equal(flips[0]!.key, TAG);
    assert.deepEqual([flips[0]!.payload.last_eval.status, flips[0]!.payload.curr_eval.status, flips[0]!.payload.curr_eval.image_digest], ['pass', 'fail', A]);
    assert.equal(await events('user.checks.tag.policy_evaluation.update'), 2, 'an event per flipped tag; a notification only for the subscribed one');
    const updates = await notifications('vuln_update');
    assert.equal(updates.length, 1, 'only the subscribed tag is notified');
    assert.deepEqual(updates[0]!.payload.diff_vulnerability_result.updated.map((f: { CVE_ID: string; Severity: string }) => `${f.CVE_ID} ${f.Severity}`), ['CVE-2024-1 Critical']);
    assert.equal(await events('user.checks.tag.vulnerabilities.update'), 2, 'an event per tag of each changed image');
    assert.equal(await root.changes.pending(), false);
  });

  test('a process killed after the re-match committed and before it announced: the next run delivers what it owed, once', async () => {
    await setSeverity('Medium');
    const before = { updates: (await notifications('vuln_update')).length, flips: (await notifications('policy_eval')).length, events: await events('user.checks.tag.vulnerabilities.update') };
    await killAfterCommit(url());
    const high = async (d: string) => Number((await db().kysely.selectFrom('image_summaries').select('critical').where('image_digest', '=', d).executeTakeFirst())?.critical);
    assert.deepEqual([await high(A), await high(B)], [0, 0], 'the counts moved with the re-match');
    assert.equal(await root.changes.pending(), true, 'its outbox rows were committed with it');
    assert.equal((await notifications('vuln_update')).length, before.updates, 'nothing was announced before the kill');

    const r = await rematchFindings(root);
    assert.equal(r.changes, 0, 'nothing left to re-match');
    assert.deepEqual([r.delivered, r.evaluations, r.flipped], [2, 2, 2]);
    const updates = await notifications('vuln_update');
    assert.equal(updates.length, before.updates + 1);
    assert.deepEqual(updates.at(-1)!.payload.diff_vulnerability_result.updated.map((f: { CVE_ID: string; Severity: string }) => `${f.CVE_ID} ${f.Severity}`), ['CVE-2024-1 Medium']);
    assert.equal(await events('user.checks.tag.vulnerabilities.update'), before.events + 2);
    assert.equal((await notifications('policy_eval')).length, before.flips + 1);
    assert.equal(await verdict(A), 'warn');
    assert.equal((await rematchFindings(root)).delivered, 0, 'delivered once');
    assert.equal((await notifications('vuln_update')).length, before.updates + 1);
  });

  test('a process killed after the announcements and before the re-evaluations: the next run re-evaluates, announcing nothing twice', async () => {
    await setSeverity('Critical');
    const before = { updates: (await notifications('vuln_update')).length, events: await events('user.checks.tag.vulnerabilities.update') };
    await killAfterAnnounced(url());
    assert.equal((await notifications('vuln_update')).length, before.updates + 1, 'the subscribed tag was notified before the kill');
    assert.equal(await events('user.checks.tag.vulnerabilities.update'), before.events + 2);
    assert.equal(await root.changes.pending(), true, 'the rows wait for their re-evaluations');
    assert.equal(await verdict(A), 'warn', 'not re-evaluated yet');

    const r = await rematchFindings(root);
    assert.deepEqual([r.announced, r.notified, r.delivered, r.evaluations, r.flipped], [0, 0, 2, 2, 2], 'only the re-evaluations were owed');
    assert.equal((await notifications('vuln_update')).length, before.updates + 1, 'no vuln_update twice');
    assert.equal(await events('user.checks.tag.vulnerabilities.update'), before.events + 2);
    assert.equal(await verdict(A), 'fail');
    assert.equal(await root.changes.pending(), false);
    const leftovers = await db().kysely.selectFrom('finding_change_diffs').select('batch').execute();
    assert.equal(leftovers.length, 0, 'the change sets go with the last row that needs them');
  });

  test('an active bundle without a vulnerabilities gate: the re-evaluations are skipped with the reason, the announcements still go', async () => {
    await root.policies.addBundle(ACCOUNT, WARN_ALL);
    await root.policies.activateBundle(ACCOUNT, 'warn-all');
    const evals = async () => (await db().kysely.selectFrom('policy_evals').select('eval_id').execute()).length;
    await setSeverity('Medium');
    const first = await rematchFindings(root);
    assert.deepEqual([first.evaluations, first.skipped], [2, 0], 'evaluations made under another bundle are re-done under the active one');
    assert.equal(await verdict(A), 'warn');
    const [updates, stored] = [(await notifications('vuln_update')).length, await evals()];
    await setSeverity('Critical');
    const r = await rematchFindings(root);
    assert.deepEqual([r.announced, r.notified, r.delivered, r.evaluations, r.skipped], [2, 1, 2, 0, 2]);
    assert.equal(r.skipReasons.length, 1);
    assert.match(r.skipReasons[0]!, /warn-all has no vulnerabilities gate/);
    assert.equal(await evals(), stored, 'no evaluation stored');
    assert.equal(await verdict(A), 'warn', 'the verdict stays (a Critical finding would fail it under a bundle reading vulnerabilities)');
    assert.equal((await notifications('vuln_update')).length, updates + 1);
  });
});
