/**
 * The image routes beyond add/list/get (api.test.ts), on SQLite and PostgreSQL with a real local
 * registry: /images/by_id/..., metadata (base64 round trip of the manifest, history, Dockerfile),
 * the native SBOM, artifacts (retrieved files, content and secret search), stored policy
 * evaluations and check history, tag summaries, list filters (history, image_status) and bulk
 * delete.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { buildImage, type BuiltImage } from '../../testkit/images.js';
import { pushImage } from '../../testkit/registry.js';
import { ADMIN as admin, assertErrorBody, describeService, waitAnalyzed } from '../../testkit/service.js';
import { PolicyStore } from '../../store/policies.js';
import { DEFAULT_BUNDLE } from '../../policy/index.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n';
const ENV_FILE = 'MODE=prod\n# TODO: rotate this key\nAWS_KEY=AKIAIOSFODNN7EXAMPLE\n';

const imageA: BuiltImage = buildImage({
  layers: [
    { createdBy: '/bin/sh -c #(nop) ADD file:base in / ', entries: [
      { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
      { type: 'file', path: 'etc/passwd', content: PASSWD },
      { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\nSource: openssl\n' },
    ] },
    { createdBy: '/bin/sh -c #(nop) COPY file:env in /app/config.env ', entries: [{ type: 'file', path: 'app/config.env', content: ENV_FILE }] },
  ],
  emptyHistory: ['/bin/sh -c #(nop)  CMD ["sh"]'],
});
const imageB: BuiltImage = buildImage({ layers: [{ entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' }, { type: 'file', path: 'b.txt', content: 'b' }] }] });
const idA = imageA.configDigest.replace('sha256:', '');
const idB = imageB.configDigest.replace('sha256:', '');

function always(id: string, action: 'STOP' | 'WARN') {
  return {
    id, name: id, version: '1_0',
    policies: [{ id: `${id}-p`, version: '1_0', rules: [{ id: 'r1', gate: 'always', trigger: 'always', action, params: [] }] }],
    mappings: [{ name: 'all', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_id: `${id}-p`, whitelist_ids: [] }],
  };
}

const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

describeService('image routes: by_id, metadata, artifacts, check history, summaries, bulk delete', {
  registry: true,
  config: { analysis: { content_rules: ['TODO_MARK=TODO:.*'] } },
}, (h) => {
  let host = '';
  let tagA = '';
  let tagB = '';
  before(async () => {
    host = h().registry!.host;
    tagA = `${host}/team/extra:a`;
    tagB = `${host}/team/extra:b`;
    await pushImage(host, 'team/extra', 'a', imageA);
    await pushImage(host, 'team/extra', 'b', imageB);
    for (const tag of [tagA, tagB]) assert.equal((await h().api('POST', '/v1/images', { ...admin, body: { tag } })).status, 200);
    await waitAnalyzed(h().api, imageA.manifestDigest);
    await waitAnalyzed(h().api, imageB.manifestDigest);
  });

  test('by_id routes resolve the image id in the account', async () => {
    const { api, svc } = h();
    const byId = await api('GET', `/v1/images/by_id/${idA}`, admin);
    assert.equal(byId.status, 200, JSON.stringify(byId.body));
    assert.equal(byId.body[0].imageDigest, imageA.manifestDigest);
    assert.deepEqual((await api('GET', `/v1/images/by_id/${idA}/content`, admin)).body, (await api('GET', `/v1/images/${imageA.manifestDigest}/content`, admin)).body);
    const os = await api('GET', `/v1/images/by_id/${idA}/content/os`, admin);
    assert.equal(os.body.imageDigest, imageA.manifestDigest);
    assert.deepEqual(os.body.content.map((p: { package: string }) => p.package), ['libssl3']);
    assert.deepEqual((await api('GET', `/images/by_id/${idA}/vuln`, admin)).body, ['os', 'non-os', 'all']);
    const vulns = await api('GET', `/images/by_id/${idA}/vuln/all`, admin);
    assert.equal(vulns.status, 200);
    assert.equal(vulns.body.imageDigest, imageA.manifestDigest);
    const check = await api('GET', `/v1/images/by_id/${idA}/check?tag=${encodeURIComponent(tagA)}`, admin);
    assert.equal(check.status, 200, JSON.stringify(check.body));
    assert.equal(check.body[0][imageA.manifestDigest][tagA].length, 1);

    assertErrorBody(await api('GET', `/v1/images/by_id/${'0'.repeat(64)}`, admin), 404);
    assertErrorBody(await api('GET', '/v1/images/by_id/not-an-id', admin), 400);
    assertErrorBody(await api('GET', '/v1/images/not-a-digest', admin), 400);
    await svc.accounts.createAccount({ name: 'team-x' });
    await svc.accounts.createUser('team-x', { username: 'xena', password: 'xena-secret' });
    const xena = { user: 'xena', pass: 'xena-secret' };
    assertErrorBody(await api('GET', `/v1/images/by_id/${idA}`, xena), 404);
    assertErrorBody(await api('GET', `/v1/images/by_id/${idA}/check?tag=${encodeURIComponent(tagA)}`, xena), 404);
    assertErrorBody(await api('DELETE', `/v1/images/by_id/${idA}`, xena), 404);
    assertErrorBody(await api('GET', `/v1/images/${imageA.manifestDigest}/metadata/manifest`, xena), 404);
    assert.deepEqual((await api('GET', '/v1/summaries/imagetags', xena)).body, []);
  });

  test('metadata: manifest, docker_history and dockerfile round-trip through base64', async () => {
    const { api } = h();
    const d = imageA.manifestDigest;
    assert.deepEqual((await api('GET', `/v1/images/${d}/metadata`, admin)).body, ['manifest', 'docker_history', 'dockerfile']);
    const manifest = await api('GET', `/v1/images/${d}/metadata/manifest`, admin);
    assert.equal(manifest.status, 200, JSON.stringify(manifest.body));
    assert.equal(manifest.body.imageDigest, d);
    assert.equal(manifest.body.metadata_type, 'manifest');
    assert.deepEqual(JSON.parse(b64(manifest.body.metadata)), JSON.parse(imageA.manifestBytes.toString('utf8')));

    const history = JSON.parse(b64((await api('GET', `/v1/images/${d}/metadata/docker_history`, admin)).body.metadata));
    assert.deepEqual(history.map((e: { CreatedBy: string }) => e.CreatedBy), imageA.config.history!.map((e) => e.created_by));
    assert.deepEqual(history.map((e: { Id: string }) => e.Id), [imageA.layers[0]!.desc.digest, imageA.layers[1]!.desc.digest, '<missing>']);

    const dockerfile = b64((await api('GET', `/v1/images/${d}/metadata/dockerfile`, admin)).body.metadata);
    assert.equal(dockerfile, 'FROM scratch\nADD file:base /\nCOPY file:env /app/config.env\nCMD ["sh"]\n');
    const asContent = await api('GET', `/v1/images/${d}/content/dockerfile`, admin);
    assert.equal(b64(asContent.body.content), dockerfile);

    assertErrorBody(await api('GET', `/v1/images/${d}/metadata/nothing`, admin), 400, /metadata type/);
    assertErrorBody(await api('GET', `/v1/images/sha256:${'e'.repeat(64)}/metadata/manifest`, admin), 404);
  });

  test('native SBOM and artifacts from the stored analysis', async () => {
    const { api } = h();
    const d = imageA.manifestDigest;
    const sbom = await api('GET', `/v1/images/${d}/sboms/native`, admin);
    assert.equal(sbom.status, 200);
    assert.match(sbom.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(sbom.body.schema, 'lading-sbom/1');
    assert.equal(sbom.body.source.imageId, imageA.configDigest);
    assert.deepEqual(sbom.body.packages.map((p: { name: string }) => p.name), ['libssl3']);

    const retrieved = await api('GET', `/v1/images/${d}/artifacts/retrieved_files`, admin);
    const passwd = retrieved.body.find((f: { path: string }) => f.path === '/etc/passwd');
    assert.ok(passwd, JSON.stringify(retrieved.body));
    assert.equal(b64(passwd.b64_content), PASSWD);

    const secrets = await api('GET', `/v1/images/${d}/artifacts/secret_search`, admin);
    assert.deepEqual(secrets.body.map((s: { path: string }) => s.path), ['/app/config.env']);
    const aws = secrets.body[0].matches.find((m: { name: string }) => m.name === 'AWS_ACCESS_KEY');
    assert.deepEqual(aws.lines, [3]);
    assert.ok(aws.regex.length > 10 && aws.regex !== 'AWS_ACCESS_KEY', aws.regex);

    const content = await api('GET', `/v1/images/${d}/artifacts/file_content_search`, admin);
    assert.deepEqual(content.body, [{ path: '/app/config.env', matches: [{ name: 'TODO_MARK', regex: 'TODO:.*', lines: [2] }] }]);
    assertErrorBody(await api('GET', `/v1/images/sha256:${'e'.repeat(64)}/artifacts/secret_search`, admin), 404);
  });

  test('every check is stored; history=true lists them newest first; interactive is not stored', async () => {
    const { api, svc } = h();
    const d = imageA.manifestDigest;
    const q = `tag=${encodeURIComponent(tagA)}`;
    const store = new PolicyStore(svc.db.kysely);
    const before = (await store.listEvaluations('admin', d, tagA)).length;
    assert.equal(before, 2, 'the evaluation made right after analysis, and the by_id check');
    // a bundle that only warns, activated: checks pass under it
    for (const b of [always('warn-all', 'WARN'), always('stop-all', 'STOP')]) assert.equal((await api('POST', '/v1/policies', { ...admin, body: b })).status, 200);
    assert.equal((await api('PUT', '/v1/policies/warn-all?active=true', { ...admin, body: {} })).status, 200);
    for (let i = 0; i < 2; i++) {
      const r = await api('GET', `/v1/images/${d}/check?${q}&detail=true`, admin);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body[0][d][tagA].length, 1);
      assert.deepEqual([r.body[0][d][tagA][0].status, r.body[0][d][tagA][0].policyId], ['pass', 'warn-all']);
    }
    assert.equal((await store.listEvaluations('admin', d, tagA)).length, before + 2);

    // a bundle that stops everything, activated: the next check fails under it
    assert.equal((await api('PUT', '/v1/policies/stop-all?active=true', { ...admin, body: {} })).status, 200);
    const failed = await api('GET', `/v1/images/${d}/check?${q}&detail=true`, admin);
    const item = failed.body[0][d][tagA][0];
    assert.deepEqual([item.status, item.policyId, item.detail.result.final_action, item.detail.policy.id], ['fail', 'stop-all', 'stop', 'stop-all']);
    assert.match(item.last_evaluation, /Z$/);
    const latest = await store.latestEvaluation('admin', d, tagA);
    assert.deepEqual([latest?.status, latest?.policyId, latest?.finalAction], ['fail', 'stop-all', 'stop']);

    // a history request evaluates (and stores) too, then lists everything stored
    const history = await api('GET', `/v1/images/${d}/check?${q}&history=true`, admin);
    const evals = history.body[0][d][tagA];
    assert.equal(evals.length, before + 4);
    assert.deepEqual(evals.map((e: { policyId: string }) => e.policyId), ['stop-all', 'stop-all', 'warn-all', 'warn-all', ...Array(before).fill(DEFAULT_BUNDLE.id)]);
    assert.deepEqual(evals.slice(0, 4).map((e: { status: string }) => e.status), ['fail', 'fail', 'pass', 'pass']);
    const times = evals.map((e: { last_evaluation: string }) => e.last_evaluation);
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
    assert.deepEqual(evals[0].detail, {}, 'no detail unless asked');
    const onlyStop = await api('GET', `/v1/images/${d}/check?${q}&history=true&policyId=stop-all`, admin);
    assert.deepEqual(onlyStop.body[0][d][tagA].map((e: { policyId: string }) => e.policyId), ['stop-all', 'stop-all', 'stop-all']);

    const interactive = await api('GET', `/v1/images/${d}/check?${q}&interactive=true&policyId=${encodeURIComponent('stop-all')}`, admin);
    assert.equal(interactive.body[0][d][tagA][0].status, 'fail');
    assert.equal((await store.listEvaluations('admin', d, tagA)).length, before + 5, 'interactive added nothing');
    assert.equal((await api('GET', `/v1/images/${d}/check?${q}&interactive=true&policyId=warn-all`, admin)).body[0][d][tagA][0].status, 'pass');

    assertErrorBody(await api('GET', `/v1/images/${d}/check?${q}&policyId=nope`, admin), 404);
    // back to the default bundle for the other tests
    assert.equal((await api('PUT', `/v1/policies/${DEFAULT_BUNDLE.id}?active=true`, { ...admin, body: {} })).status, 200);
  });

  test('summaries/imagetags, and the list filters history and image_status', async () => {
    const { api } = h();
    const sums = await api('GET', '/v1/summaries/imagetags', admin);
    assert.equal(sums.status, 200);
    const a = sums.body.find((s: { fulltag: string }) => s.fulltag === tagA);
    assert.deepEqual([a.imageDigest, a.imageId, a.analysis_status, a.image_status, a.parentDigest], [imageA.manifestDigest, idA, 'analyzed', 'active', imageA.manifestDigest]);
    for (const k of ['created_at', 'analyzed_at', 'tag_detected_at']) {
      assert.equal(typeof a[k], 'number', k);
      assert.ok(Math.abs(a[k] - Date.now() / 1000) < 600, `${k}=${a[k]}`);
    }
    assert.deepEqual(sums.body.map((s: { fulltag: string }) => s.fulltag).sort(), [tagA, tagB].sort());
    assert.equal((await api('GET', '/v1/summaries/imagetags?image_status=all', admin)).body.length, 2);
    assert.deepEqual((await api('GET', '/v1/summaries/imagetags?image_status=inactive', admin)).body, []);
    assertErrorBody(await api('GET', '/v1/summaries/imagetags?image_status=bogus', admin), 400, /image_status/);

    // a tag that moved from A to B: history=false gives the image it names now, history=true both
    const moving = `${host}/team/extra:moving`;
    await pushImage(host, 'team/extra', 'moving', imageA);
    assert.equal((await api('POST', '/v1/images', { ...admin, body: { tag: moving } })).status, 200);
    await new Promise((r) => setTimeout(r, 20));
    await pushImage(host, 'team/extra', 'moving', imageB);
    assert.equal((await api('POST', '/v1/images', { ...admin, body: { tag: moving } })).status, 200);
    const now = await api('GET', `/v1/images?fulltag=${encodeURIComponent(moving)}`, admin);
    assert.deepEqual(now.body.map((i: { imageDigest: string }) => i.imageDigest), [imageB.manifestDigest]);
    const all = await api('GET', `/v1/images?fulltag=${encodeURIComponent(moving)}&history=true`, admin);
    assert.deepEqual(all.body.map((i: { imageDigest: string }) => i.imageDigest).sort(), [imageA.manifestDigest, imageB.manifestDigest].sort());
    assert.equal((await api('GET', '/v1/images?image_status=all', admin)).body.length, 2);
    assert.deepEqual((await api('GET', '/v1/images?image_status=disabled', admin)).body, []);
    assertErrorBody(await api('GET', '/v1/images?image_status=bogus', admin), 400, /image_status/);
  });

  test('bulk delete, and delete by image id; evaluations go with the image', async () => {
    const { api, svc } = h();
    const store = new PolicyStore(svc.db.kysely);
    assert.ok((await store.listEvaluations('admin', imageA.manifestDigest, tagA)).length > 0);
    assertErrorBody(await api('DELETE', '/v1/images', admin), 400, /imageDigests/);
    assertErrorBody(await api('DELETE', '/v1/images?imageDigests=nope', admin), 400, /imageDigests/);
    const missing = `sha256:${'f'.repeat(64)}`;
    const r = await api('DELETE', `/v1/images?imageDigests=${imageA.manifestDigest},${missing}`, admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.map((x: { digest: string; status: string }) => [x.digest, x.status]), [[imageA.manifestDigest, 'deleting'], [missing, 'not_found']]);
    assertErrorBody(await api('GET', `/v1/images/${imageA.manifestDigest}`, admin), 404);
    assert.deepEqual(await store.listEvaluations('admin', imageA.manifestDigest, tagA), []);

    const del = await api('DELETE', `/v1/images/by_id/${idB}`, admin);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.deepEqual(del.body, { digest: imageB.manifestDigest, status: 'deleting', detail: null });
    assert.deepEqual((await api('GET', '/v1/images', admin)).body, []);
  });
});
