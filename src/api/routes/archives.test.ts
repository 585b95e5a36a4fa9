/**
 * The /archives routes on SQLite and PostgreSQL: rule CRUD and validation, system_global rules
 * (admins only, seen by every account), account isolation, archiving images by digest (the
 * archived analysis stays readable after the live image is gone), deleting archived analyses, and
 * the summary.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { deb, sbomOf } from '../../vulns/testing.js';
import { ADMIN as admin, assertErrorBody, describeService } from '../../testkit/service.js';

const bob = { user: 'bob', pass: 'bob-secret-1' };
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

describeService('archives API', {}, (h) => {
  before(async () => {
    const { svc } = h();
    await svc.accounts.createAccount({ name: 'team2' });
    await svc.accounts.createUser('team2', { username: bob.user, password: bob.pass });
    for (const [account, d] of [['admin', D1], ['admin', D2], ['team2', D1]] as const) {
      await svc.catalog.addImage(account, { imageDigest: d, tag: { registry: 'reg.test', repo: 'team/app', tag: 'v1' }, annotations: { a: 1 } });
      await svc.catalog.saveAnalysis(account, d, sbomOf([deb('bash', '5.2-1')], undefined, d), { schemaVersion: 2 });
    }
  });

  test('rules: create, list, get, delete; validation; global rules; isolation', async () => {
    const { api } = h();
    const made = await api('POST', '/v1/archives/rules', { ...admin, body: { analysis_age_days: 30, tag_versions_newer: 1, transition: 'archive', selector: { repository: 'team/*' } } });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    const rule = made.body;
    assert.match(rule.rule_id, /^[0-9a-f]{32}$/);
    assert.deepEqual(rule.selector, { registry: '*', repository: 'team/*', tag: '*' });
    assert.equal(rule.analysis_age_days, 30);
    assert.equal(rule.tag_versions_newer, 1);
    assert.equal(rule.transition, 'archive');
    assert.equal(rule.system_global, false);
    assert.match(rule.created_at, ISO_Z);
    assert.deepEqual((await api('GET', `/v1/archives/rules/${rule.rule_id}`, admin)).body, rule);

    assertErrorBody(await api('POST', '/v1/archives/rules', { ...admin, body: { analysis_age_days: 1, tag_versions_newer: 0, transition: 'shred' } }), 400, /transition/);
    assertErrorBody(await api('POST', '/v1/archives/rules', { ...admin, body: { analysis_age_days: 'x', tag_versions_newer: 0, transition: 'archive' } }), 400, /analysis_age_days/);
    assertErrorBody(await api('POST', '/v1/archives/rules', { ...admin, body: { analysis_age_days: 1, tag_versions_newer: 0, transition: 'archive', max_images_per_account: 5 } }), 400, /system_global/);
    assertErrorBody(await api('GET', '/v1/archives/rules/nope', admin), 400, /rule id/);
    assertErrorBody(await api('POST', '/v1/archives/rules', { ...bob, body: { analysis_age_days: 1, tag_versions_newer: 0, transition: 'delete', system_global: true } }), 403);

    const global = await api('POST', '/v1/archives/rules', { ...admin, body: { analysis_age_days: 90, tag_versions_newer: 0, transition: 'delete', system_global: true, max_images_per_account: 100 } });
    assert.equal(global.status, 200, JSON.stringify(global.body));
    const bobsOwn = await api('POST', '/v1/archives/rules', { ...bob, body: { analysis_age_days: 5, tag_versions_newer: 2, transition: 'archive', exclude: { selector: { tag: 'latest' }, expiration_days: 7 } } });
    assert.equal(bobsOwn.status, 200, JSON.stringify(bobsOwn.body));
    assert.deepEqual(bobsOwn.body.exclude, { selector: { registry: '*', repository: '*', tag: 'latest' }, expiration_days: 7 });

    const bobs = await api('GET', '/v1/archives/rules', bob);
    assert.deepEqual(bobs.body.map((r: { rule_id: string }) => r.rule_id).sort(), [global.body.rule_id, bobsOwn.body.rule_id].sort(), 'own and global, not the admin account rule');
    assert.deepEqual((await api('GET', '/v1/archives/rules?system_global=true', bob)).body.map((r: { rule_id: string }) => r.rule_id), [global.body.rule_id]);
    assertErrorBody(await api('GET', `/v1/archives/rules/${rule.rule_id}`, bob), 404);
    assertErrorBody(await api('DELETE', `/v1/archives/rules/${rule.rule_id}`, bob), 404);
    assertErrorBody(await api('DELETE', `/v1/archives/rules/${global.body.rule_id}`, bob), 403);
    assertErrorBody(await api('GET', '/v1/archives/rules?system_global=maybe', bob), 400, /system_global/);

    const summary = await api('GET', '/v1/archives', bob);
    assert.equal(summary.body.rules.count, 2);
    assert.equal(summary.body.images.total_image_count, 0);

    for (const [id, who] of [[rule.rule_id, admin], [global.body.rule_id, admin], [bobsOwn.body.rule_id, bob]] as const) {
      assert.equal((await api('DELETE', `/v1/archives/rules/${id}`, who)).status, 200);
    }
    assertErrorBody(await api('GET', `/v1/archives/rules/${rule.rule_id}`, admin), 404);
    assert.deepEqual((await api('GET', '/v1/archives/rules', bob)).body, []);
  });

  test('images: archive by digest, read after the live image is gone, isolation, delete', async () => {
    const { api } = h();
    assertErrorBody(await api('POST', '/v1/archives/images', { ...admin, body: ['sha256:bad'] }), 400, /digest/);
    assertErrorBody(await api('POST', '/v1/archives/images', { ...admin, body: {} }), 400);
    const added = await api('POST', '/v1/archives/images', { ...admin, body: [D1, `sha256:${'9'.repeat(64)}`] });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.deepEqual(added.body.map((r: { status: string }) => r.status), ['archived', 'error']);

    assertErrorBody(await api('GET', `/v1/images/${D1}`, admin), 404);
    assert.equal((await api('GET', `/v1/images/${D2}`, admin)).status, 200, 'other images stay');
    assert.equal((await api('GET', `/v1/images/${D1}`, bob)).status, 200, "team2's copy of the same digest stays");

    const got = await api('GET', `/v1/archives/images/${D1}`, admin);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.equal(got.body.imageDigest, D1);
    assert.equal(got.body.status, 'archived');
    assert.deepEqual(got.body.annotations, { a: 1 });
    assert.deepEqual(got.body.image_detail.map((t: { pullstring: string }) => t.pullstring), ['reg.test/team/app:v1']);
    assert.ok(got.body.archive_size_bytes > 0);
    assert.match(got.body.analyzed_at, ISO_Z);
    assert.deepEqual((await api('GET', '/v1/archives/images', admin)).body.map((a: { imageDigest: string }) => a.imageDigest), [D1]);
    assert.deepEqual((await api('GET', '/v1/archives/images', bob)).body, []);
    assertErrorBody(await api('GET', `/v1/archives/images/${D1}`, bob), 404);
    assertErrorBody(await api('DELETE', `/v1/archives/images/${D1}`, bob), 404);

    const summary = (await api('GET', '/v1/archives', admin)).body;
    assert.equal(summary.images.total_image_count, 1);
    assert.equal(summary.images.total_tag_count, 1);
    assert.equal(summary.images.total_data_bytes, got.body.archive_size_bytes);
    assert.match(summary.images.last_updated, ISO_Z);

    assertErrorBody(await api('DELETE', `/v1/archives/images/${D1}?force=perhaps`, admin), 400, /force/);
    assert.equal((await api('DELETE', `/v1/archives/images/${D1}?force=true`, admin)).status, 200);
    assertErrorBody(await api('GET', `/v1/archives/images/${D1}`, admin), 404);
    assert.equal((await api('GET', '/v1/archives', admin)).body.images.total_image_count, 0);
  });
});
