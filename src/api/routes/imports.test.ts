/**
 * The Imports routes over HTTP on both databases: operation shape and lifecycle, content uploads
 * of every type (digest = sha256 of the bytes sent, whatever their content type), validation and
 * size limits, invalidation, and account isolation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createHash } from 'node:crypto';
import { writers } from '../../sbom/formats/index.js';
import { exampleSbom } from '../../sbom/formats/testing.js';
import { buildImage, buildIndex } from '../../testkit/images.js';
import { ADMIN as admin, assertErrorBody, describeService, type ApiClient } from '../../testkit/service.js';

const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const hex = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const image = buildImage({ layers: [{ entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' }] }] });
const index = buildIndex([image]);
const cdx = writers['cyclonedx-json'].write(exampleSbom());
const spdx = writers['spdx-json'].write(exampleSbom());

async function newOperation(api: ApiClient, auth: Record<string, unknown> = admin): Promise<string> {
  const r = await api('POST', '/v1/imports/images', auth);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.uuid;
}

/** A POST whose Content-Length announces more than it sends: the answer comes before any body is read. */
function announce(url: string, length: number): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${admin.user}:${admin.pass}`).toString('base64')}`, 'content-type': 'application/json', 'content-length': String(length) },
    }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        req.destroy(); // the announced body never comes: drop the connection
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.write('{');
  });
}

describeService('imports API', {}, (h) => {
  test('operations: create, list, get, invalidate; Anchore\'s shape', async () => {
    const { api } = h();
    const created = await api('POST', '/imports/images', admin);
    assert.equal(created.status, 200);
    const op = created.body;
    assert.deepEqual(Object.keys(op).sort(), ['created_at', 'expires_at', 'last_updated', 'status', 'uuid']);
    assert.match(op.uuid, /^[0-9a-f-]{36}$/);
    assert.equal(op.status, 'pending');
    for (const k of ['created_at', 'expires_at', 'last_updated']) assert.match(op[k], ISO_Z);
    assert.equal(Date.parse(op.expires_at) - Date.parse(op.created_at), 24 * 3600 * 1000);

    assert.ok((await api('GET', '/v1/imports/images', admin)).body.some((o: { uuid: string }) => o.uuid === op.uuid));
    assert.deepEqual((await api('GET', `/v1/imports/images/${op.uuid}`, admin)).body, op);

    const gone = await api('DELETE', `/v1/imports/images/${op.uuid}`, admin);
    assert.equal(gone.status, 200);
    assert.equal(gone.body.status, 'invalidated');
    assert.equal((await api('GET', `/imports/images/${op.uuid}`, admin)).body.status, 'invalidated');
    assert.equal((await api('DELETE', `/v1/imports/images/${op.uuid}`, admin)).body.status, 'invalidated', 'invalidating again changes nothing');

    const unknown = '6f1c2a3b-0000-4000-8000-000000000000';
    assertErrorBody(await api('GET', `/v1/imports/images/${unknown}`, admin), 404, /no import operation/);
    assertErrorBody(await api('DELETE', `/v1/imports/images/${unknown}`, admin), 404);
    assertErrorBody(await api('GET', `/v1/imports/images/${unknown}/packages`, admin), 404);
    assertErrorBody(await api('POST', `/v1/imports/images/${unknown}/packages`, { ...admin, body: cdx }), 404);
    assertErrorBody(await api('GET', '/v1/imports/images/not-an-id', admin), 400, /operation_id: "not-an-id" is not an import operation id/);
    assertErrorBody(await api('GET', '/v1/imports/images'), 401);
    assertErrorBody(await api('POST', `/v1/imports/images/${unknown}/packages`, { body: cdx }), 401);

    const doc = (await api('GET', '/v1/swagger.json')).body;
    for (const t of ['packages', 'dockerfile', 'manifest', 'parent_manifest', 'image_config']) {
      assert.ok(doc.paths[`/imports/images/{operation_id}/${t}`]?.post && doc.paths[`/imports/images/{operation_id}/${t}`]?.get, t);
    }
  });

  test('uploads: every content type, stored under the sha256 of the bytes sent, listed per type', async () => {
    const { api } = h();
    const op = await newOperation(api);
    const send = async (type: string, body: string | Buffer, contentType?: string) => {
      const r = await api('POST', `/v1/imports/images/${op}/${type}`, { ...admin, body, ...(contentType ? { headers: { 'content-type': contentType } } : {}) });
      assert.equal(r.status, 200, `${type}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.digest, hex(body), type);
      assert.match(r.body.created_at, ISO_Z);
      return r.body;
    };
    const first = await send('packages', cdx, 'application/json');
    await send('packages', spdx, 'application/spdx+json');
    assert.deepEqual(await send('packages', cdx, 'application/json'), first, 'the same bytes again: the same record');
    await send('manifest', image.manifestBytes, 'application/vnd.oci.image.manifest.v1+json');
    await send('parent_manifest', index.bytes, 'application/vnd.oci.image.index.v1+json');
    await send('image_config', image.configBytes, 'application/json');
    await send('dockerfile', 'FROM debian:12\n', 'text/plain; charset=utf-8');
    await send('dockerfile', 'FROM debian:11\n');

    const list = async (type: string) => (await api('GET', `/v1/imports/images/${op}/${type}`, admin)).body;
    assert.deepEqual((await list('packages')).sort(), [hex(cdx), hex(spdx)].sort());
    assert.deepEqual(await list('manifest'), [hex(image.manifestBytes)]);
    assert.deepEqual(await list('parent_manifest'), [hex(index.bytes)]);
    assert.deepEqual(await list('image_config'), [hex(image.configBytes)]);
    assert.deepEqual((await list('dockerfile')).sort(), [hex('FROM debian:12\n'), hex('FROM debian:11\n')].sort());
    assertErrorBody(await api('GET', `/v1/imports/images/${op}/layers`, admin), 404);
  });

  test('uploads are checked: unreadable SBOMs, wrong documents, empty and oversized bodies', async () => {
    const { api } = h();
    const op = await newOperation(api);
    const post = (type: string, body: string | Buffer | object, contentType = 'application/json') =>
      api('POST', `/v1/imports/images/${op}/${type}`, { ...admin, body, headers: { 'content-type': contentType } });
    assertErrorBody(await post('packages', { artifacts_missing: true }), 400, /^packages: not a CycloneDX, SPDX or syft JSON document/);
    assertErrorBody(await post('packages', '{"spdxVersion": '), 400, /^packages: .*it is not JSON/);
    assertErrorBody(await post('packages', ''), 400, /the upload is empty/);
    assertErrorBody(await post('manifest', index.bytes), 400, /upload it as parent_manifest/);
    assertErrorBody(await post('parent_manifest', image.manifestBytes), 400, /upload it as manifest/);
    assertErrorBody(await post('image_config', { os: 'linux' }), 400, /^image_config: .*rootfs\.diff_ids/);
    assertErrorBody(await post('dockerfile', '   ', 'text/plain'), 400, /blank/);
    const big = await announce(`${h().svc.url}/v1/imports/images/${op}/packages`, 100 * 1024 * 1024 + 1);
    assert.equal(big.status, 400);
    assert.match(big.body.message, /over the limit of 104857600/);
    assert.deepEqual((await api('GET', `/v1/imports/images/${op}/packages`, admin)).body, [], 'nothing refused was stored');
  });

  test('an invalidated operation takes no content and no image; its content is dropped', async () => {
    const { api } = h();
    const op = await newOperation(api);
    const up = await api('POST', `/v1/imports/images/${op}/packages`, { ...admin, body: cdx, headers: { 'content-type': 'application/json' } });
    assert.equal(up.status, 200);
    assert.equal((await api('DELETE', `/v1/imports/images/${op}`, admin)).body.status, 'invalidated');
    assertErrorBody(await api('POST', `/v1/imports/images/${op}/packages`, { ...admin, body: cdx, headers: { 'content-type': 'application/json' } }), 400, /is invalidated/);
    assert.deepEqual((await api('GET', `/v1/imports/images/${op}/packages`, admin)).body, []);
    const add = await api('POST', '/v1/images', { ...admin, body: { source: { import: {
      digest: image.manifestDigest, tags: ['reg.example/team/inv:1'], operation_uuid: op, contents: { packages: up.body.digest },
    } } } });
    assertErrorBody(add, 400, /import operation .* is invalidated/);
    assertErrorBody(await api('GET', `/v1/images/${image.manifestDigest}`, admin), 404);
  });

  test('accounts see only their own operations and content; admins act in others with x-anchore-account', async () => {
    const { api, svc } = h();
    await svc.accounts.createAccount({ name: 'imp2' });
    await svc.accounts.createUser('imp2', { username: 'carol', password: 'carol-secret' });
    const carol = { user: 'carol', pass: 'carol-secret' };
    const mine = await newOperation(api);
    const theirs = await newOperation(api, carol);
    assert.deepEqual((await api('GET', '/v1/imports/images', carol)).body.map((o: { uuid: string }) => o.uuid), [theirs]);
    assertErrorBody(await api('GET', `/v1/imports/images/${mine}`, carol), 404);
    assertErrorBody(await api('DELETE', `/v1/imports/images/${mine}`, carol), 404);
    assertErrorBody(await api('POST', `/v1/imports/images/${mine}/packages`, { ...carol, body: cdx, headers: { 'content-type': 'application/json' } }), 404);
    assertErrorBody(await api('GET', `/v1/imports/images/${mine}/packages`, carol), 404);
    assert.equal((await api('GET', `/v1/imports/images/${mine}`, admin)).body.status, 'pending', 'untouched by the other account');
    assert.ok(!(await api('GET', '/v1/imports/images', admin)).body.some((o: { uuid: string }) => o.uuid === theirs));

    const asImp2 = { ...admin, headers: { 'x-anchore-account': 'imp2' } };
    assert.equal((await api('GET', `/v1/imports/images/${theirs}`, asImp2)).body.uuid, theirs);
    const up = await api('POST', `/v1/imports/images/${theirs}/packages`, { ...admin, body: spdx, headers: { 'x-anchore-account': 'imp2', 'content-type': 'application/json' } });
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.deepEqual((await api('GET', `/v1/imports/images/${theirs}/packages`, carol)).body, [hex(spdx)]);
    assertErrorBody(await api('GET', `/v1/imports/images/${mine}`, { ...carol, headers: { 'x-anchore-account': 'admin' } }), 403);
  });
});
