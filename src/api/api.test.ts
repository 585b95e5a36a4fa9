/**
 * The service end to end, in process, on SQLite and on PostgreSQL (testkit/service.ts): a real
 * local registry holding a small Debian-like image with an npm package, and the v1 API over HTTP:
 * auth, add → analyzed, image shape, vulnerabilities, check, content, account isolation, delete,
 * errors.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { buildImage, type BuiltImage } from '../testkit/images.js';
import { pushImage } from '../testkit/registry.js';
import { ADMIN as admin, assertErrorBody, describeService, waitAnalyzed, type ApiClient, seedOpensslAdvisory } from '../testkit/service.js';

const image: BuiltImage = buildImage({
  layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
    { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\nSource: openssl\n' },
    { type: 'file', path: 'usr/lib/node_modules/left-pad/package.json', content: JSON.stringify({ name: 'left-pad', version: '1.1.0', license: 'MIT' }) },
  ] }],
});

/** Add → analyzed → shape → vuln → check → content → delete. */
async function coreFlow(api: ApiClient, host: string): Promise<void> {
  const fulltag = `${host}/team/app:v1`;
  const added = await api('POST', '/v1/images', { ...admin, body: { tag: fulltag, annotations: { team: 'core' } } });
  assert.equal(added.status, 200, JSON.stringify(added.body));
  assert.equal(added.body.length, 1);
  assert.equal(added.body[0].imageDigest, image.manifestDigest);
  assert.ok(['not_analyzed', 'analyzing', 'analyzed'].includes(added.body[0].analysis_status));

  const img = await waitAnalyzed(api, image.manifestDigest);
  assert.equal(img.imageDigest, image.manifestDigest);
  assert.equal(img.userId, 'admin');
  assert.deepEqual(img.annotations, { team: 'core' });
  assert.equal(img.image_detail.length, 1);
  assert.equal(img.image_detail[0].fulltag, fulltag);
  assert.equal(img.image_detail[0].imageId, image.configDigest.replace('sha256:', ''));
  assert.equal(img.image_detail[0].fulldigest, `${host}/team/app@${image.manifestDigest}`);
  assert.match(img.image_detail[0].created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(img.image_content.metadata.distro, 'debian');
  assert.equal(img.image_content.metadata.layer_count, 1);

  // Adding again does not re-analyze; the list and its filters see it.
  const again = await api('POST', '/images', { ...admin, body: { tag: fulltag } });
  assert.equal(again.body[0].analysis_status, 'analyzed');
  assert.equal((await api('GET', '/v1/images', admin)).body.length, 1);
  assert.equal((await api('GET', `/v1/images?fulltag=${encodeURIComponent(fulltag)}`, admin)).body.length, 1);
  assert.equal((await api('GET', '/v1/images?analysis_status=not_analyzed', admin)).body.length, 0);

  const types = await api('GET', `/v1/images/${image.manifestDigest}/vuln`, admin);
  assert.deepEqual(types.body, ['os', 'non-os', 'all']);
  const vulns = await api('GET', `/v1/images/${image.manifestDigest}/vuln/all`, admin);
  assert.equal(vulns.status, 200, JSON.stringify(vulns.body));
  assert.equal(vulns.body.imageDigest, image.manifestDigest);
  assert.equal(vulns.body.vulnerability_type, 'all');
  assert.equal(vulns.body.vulnerabilities.length, 1);
  const v = vulns.body.vulnerabilities[0];
  assert.deepEqual(
    { vuln: v.vuln, package: v.package, severity: v.severity, fix: v.fix, package_type: v.package_type, package_path: v.package_path, feed_group: v.feed_group },
    { vuln: 'CVE-2024-0001', package: 'libssl3-3.0.11-1~deb12u1', severity: 'High', fix: '3.0.15-1~deb12u1', package_type: 'dpkg', package_path: '/var/lib/dpkg/status', feed_group: 'debian:12' },
  );
  assert.equal(v.url, 'https://security-tracker.debian.org/tracker/CVE-2024-0001');
  assert.equal((await api('GET', `/images/${image.manifestDigest}/vuln/non-os`, admin)).body.vulnerabilities.length, 0);
  assert.equal((await api('GET', `/images/${image.manifestDigest}/vuln/os`, admin)).body.vulnerabilities.length, 1);

  const check = await api('GET', `/v1/images/${image.manifestDigest}/check?tag=${encodeURIComponent(fulltag)}&detail=true`, admin);
  assert.equal(check.status, 200, JSON.stringify(check.body));
  const evals = check.body[0][image.manifestDigest][fulltag];
  assert.equal(evals.length, 1);
  assert.equal(evals[0].status, 'fail'); // a High vulnerability: the default bundle stops it
  assert.equal(evals[0].detail.result.final_action, 'stop');
  assert.match(evals[0].last_evaluation, /Z$/);
  const doc = evals[0].detail.result.result;
  const table = (Object.values(doc).find((x: any) => x && typeof x === 'object' && 'result' in x) as any).result;
  assert.ok(table.rows.some((row: unknown[]) => row[3] === 'vulnerabilities' && String(row[5]).includes('CVE-2024-0001')));
  assertErrorBody(await api('GET', `/v1/images/${image.manifestDigest}/check`, admin), 400);
  assertErrorBody(await api('GET', `/v1/images/${image.manifestDigest}/check?tag=${encodeURIComponent(fulltag)}&policyId=nope`, admin), 404);

  assert.ok((await api('GET', `/v1/images/${image.manifestDigest}/content`, admin)).body.includes('os'));
  const os = await api('GET', `/v1/images/${image.manifestDigest}/content/os`, admin);
  assert.equal(os.body.content_type, 'os');
  assert.deepEqual(os.body.content.map((p: { package: string; version: string; sourcepkg: string }) => [p.package, p.version, p.sourcepkg]), [['libssl3', '3.0.11-1~deb12u1', 'openssl']]);
  const npm = await api('GET', `/v1/images/${image.manifestDigest}/content/npm`, admin);
  assert.deepEqual(npm.body.content.map((p: { package: string; type: string; location: string }) => [p.package, p.type, p.location]), [['left-pad', 'NPM', '/usr/lib/node_modules/left-pad/package.json']]);
  const files = await api('GET', `/v1/images/${image.manifestDigest}/content/files`, admin);
  const status = files.body.content.find((f: { filename: string }) => f.filename === '/var/lib/dpkg/status');
  assert.match(status.sha256, /^[0-9a-f]{64}$/);
  assert.match(status.mode, /^\d{5}$/);
  assertErrorBody(await api('GET', `/v1/images/${image.manifestDigest}/content/nothing`, admin), 400);

  const del = await api('DELETE', `/v1/images/${image.manifestDigest}`, admin);
  assert.equal(del.status, 200);
  assert.deepEqual(del.body, { digest: image.manifestDigest, status: 'deleting', detail: null });
  assertErrorBody(await api('GET', `/v1/images/${image.manifestDigest}`, admin), 404);
  assertErrorBody(await api('DELETE', `/v1/images/${image.manifestDigest}`, admin), 404);
}

describeService('v1 API', { registry: true, seed: seedOpensslAdvisory }, (h) => {
  before(async () => pushImage(h().registry!.host, 'team/app', 'v1', image));

  test('public endpoints, and authentication on everything else', async () => {
    const { api } = h();
    assert.equal((await api('GET', '/')).body, 'v1');
    assert.equal((await api('GET', '/v1')).body, 'v1');
    assert.equal((await api('GET', '/health')).body, 'ok');
    assert.equal((await api('GET', '/v1/version')).body.service.version.length > 0, true);
    for (const path of ['/swagger.json', '/v1/swagger.json']) {
      const doc = (await api('GET', path)).body;
      assert.equal(doc.info.version, '0.1.20');
      assert.ok(doc.paths['/images']?.post && doc.paths['/images/{imageDigest}/check']?.get, Object.keys(doc.paths).join(' '));
      assert.deepEqual(doc.paths['/health'].get.security, []);
    }
    const none = await api('GET', '/v1/images');
    assertErrorBody(none, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /basic realm=/i);
    assertErrorBody(await api('GET', '/images', { user: 'admin', pass: 'wrong-password' }), 401);
    assertErrorBody(await api('GET', '/images', { token: 'lading_nope' }), 401);
    assertErrorBody(await api('GET', '/v1/no/such/path', admin), 404);
    const sys = await api('GET', '/v1/system', admin);
    assert.equal(sys.status, 200);
    assert.ok(sys.body.service_states.some((s: { servicename: string; status: boolean }) => s.servicename === 'worker' && s.status));
    assert.equal((await api('GET', '/system/status', admin)).body.up, true);
    const workers = await api('GET', '/v1/system/services/worker', admin);
    assert.equal(workers.body.length, 1);
    assert.equal(workers.body[0].status, true);
    assertErrorBody(await api('DELETE', `/v1/system/services/worker/${encodeURIComponent(workers.body[0].hostid)}`, admin), 409);
    assertErrorBody(await api('DELETE', '/v1/system/services/worker/nohost', admin), 404);
  });

  test('core flow: add, analyzed, vulnerabilities, check, content, delete', async () => {
    await coreFlow(h().api, h().registry!.host);
  });

  test('a tag the registry does not have, and bad bodies: Anchore error bodies', async () => {
    const { api } = h();
    assertErrorBody(await api('POST', '/v1/images', { ...admin, body: { tag: `${h().registry!.host}/team/app:missing` } }), 404);
    assertErrorBody(await api('POST', '/v1/images', { ...admin, body: {} }), 400);
    assertErrorBody(await api('POST', '/v1/images', { ...admin, body: { tag: 'UPPER/case:1' } }), 400);
    assertErrorBody(await api('POST', '/v1/images', { ...admin, body: { tag: 'x', source: { tag: { pullstring: 'x' } } } }), 400);
  });

  test('accounts are isolated; x-anchore-account is for admins; bearer tokens work', async () => {
    const { api } = h();
    await h().svc.accounts.createAccount({ name: 'team2' });
    await h().svc.accounts.createUser('team2', { username: 'bob', password: 'bob-secret' });
    const bob = { user: 'bob', pass: 'bob-secret' };
    const added = await api('POST', '/v1/images', { ...admin, body: { tag: `${h().registry!.host}/team/app:v1` } });
    assert.equal(added.status, 200);
    await waitAnalyzed(api, image.manifestDigest);
    assert.deepEqual((await api('GET', '/v1/images', bob)).body, []);
    assertErrorBody(await api('GET', `/v1/images/${image.manifestDigest}`, bob), 404);
    assertErrorBody(await api('GET', '/v1/images', { ...bob, headers: { 'x-anchore-account': 'admin' } }), 403);
    // bob adds the same image in his account: a separate record
    const bobs = await api('POST', '/v1/images', { ...bob, body: { tag: `${h().registry!.host}/team/app:v1` } });
    assert.equal(bobs.status, 200);
    assert.equal(bobs.body[0].userId, 'team2');
    const { token } = await h().svc.accounts.createToken('bob');
    await waitAnalyzed(api, image.manifestDigest, { token });
    // the admin sees team2's image through the header
    const asTeam2 = await api('GET', '/v1/images', { ...admin, headers: { 'x-anchore-account': 'team2' } });
    assert.equal(asTeam2.body.length, 1);
    assert.equal(asTeam2.body[0].userId, 'team2');
    assertErrorBody(await api('GET', '/v1/images', { ...admin, headers: { 'x-anchore-account': 'nobody' } }), 404);
    assert.equal((await api('DELETE', `/v1/images/${image.manifestDigest}`, { token })).status, 200);
    assert.equal((await api('GET', `/v1/images/${image.manifestDigest}`, admin)).status, 200);
  });
});
