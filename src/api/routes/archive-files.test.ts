/**
 * Analysis archive files (POST /import/images, GET /archives/images/{digest}/export) on SQLite and
 * PostgreSQL: an image analyzed from a real local registry is archived, exported, deleted from the
 * archive and imported back from the file, as a multipart form (anchore-cli's way) and as a raw
 * body, and answers the same vulnerabilities, content and tags without being analyzed again; a
 * second import is a 409; malformed archives (not gzip, a zip, no archive_manifest, a member
 * missing, a member or the analysis of another digest) get a 400 naming the problem.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { buildImage } from '../../testkit/images.js';
import { pushImage } from '../../testkit/registry.js';
import { tarBuffer } from '../../testkit/tar.js';
import { ADMIN as admin, assertErrorBody, describeService, seedOpensslAdvisory, waitAnalyzed } from '../../testkit/service.js';

const image = buildImage({
  layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
    { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\nSource: openssl\nMaintainer: Debian OpenSSL Team\nInstalled-Size: 6000\n' },
  ] }],
});

function multipart(file: Buffer, field = 'archive_file'): { body: Buffer; headers: Record<string, string> } {
  const boundary = '----lading-test-boundary';
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="archive.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** The members of a tar.gz as name → bytes (archives here hold only regular files). */
function members(file: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(file);
  const out = new Map<string, Buffer>();
  for (let at = 0; at + 512 <= tar.length;) {
    const name = tar.subarray(at, at + 100).toString('utf8').replace(/\0.*$/s, '');
    if (!name) break;
    const size = parseInt(tar.subarray(at + 124, at + 136).toString('ascii').replace(/\0.*$/s, ''), 8);
    out.set(name, tar.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

function repack(m: Map<string, Buffer>): Buffer {
  return gzipSync(tarBuffer([...m].map(([path, content]) => ({ type: 'file' as const, path, content }))));
}

describeService('analysis archive files', { registry: true, seed: seedOpensslAdvisory }, (h) => {
  let digest = '';
  let fulltag = '';
  let before1: { vulns: unknown; os: unknown; image: any };
  let file: Buffer;

  before(async () => {
    await pushImage(h().registry!.host, 'team/app', 'v1', image);
    fulltag = `${h().registry!.host}/team/app:v1`;
  });

  const snapshot = async () => {
    const { api } = h();
    const vulns = (await api('GET', `/v1/images/${digest}/vuln/all`, admin)).body;
    const os = (await api('GET', `/v1/images/${digest}/content/os`, admin)).body;
    const img = (await api('GET', `/v1/images/${digest}`, admin)).body[0];
    return { vulns, os, image: img };
  };

  test('archive, export, delete, import: the same analysis, not analyzed again', async () => {
    const { api, svc } = h();
    const added = await api('POST', '/v1/images', { ...admin, body: { tag: fulltag, annotations: { team: 'a' } } });
    assert.equal(added.status, 200, added.text);
    digest = added.body[0].imageDigest;
    await waitAnalyzed(api, digest);
    before1 = await snapshot();
    assert.ok((before1.vulns as any).vulnerabilities.some((v: any) => v.vuln === 'CVE-2024-0001'), JSON.stringify(before1.vulns));
    const checked = await api('GET', `/v1/images/${digest}/check?tag=${fulltag}`, admin);
    assert.equal(checked.status, 200, checked.text);
    const evaluatedAt = checked.body[0][digest][fulltag][0].last_evaluation;

    assert.equal((await api('POST', '/v1/archives/images', { ...admin, body: [digest] })).body[0].status, 'archived');
    assertErrorBody(await api('GET', `/v1/images/${digest}`, admin), 404);
    const r = await fetch(`${svc.url!}/v1/archives/images/${digest}/export`, { headers: { authorization: `Basic ${Buffer.from('admin:' + admin.pass).toString('base64')}` } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/gzip');
    file = Buffer.from(await r.arrayBuffer());
    const m = members(file);
    assert.deepEqual([...m.keys()].filter((k) => !k.startsWith('policy_evaluation-')).sort(), ['analysis', 'archive_manifest', 'image_manifest']);
    const manifest = JSON.parse(m.get('archive_manifest')!.toString());
    const evalArtifacts = manifest.artifacts.filter((a: any) => a.metadata.record_type === 'policy_evaluation');
    assert.ok(evalArtifacts.length >= 1, 'the evaluation history is in the archive');
    assert.ok(evalArtifacts.every((a: any) => m.has(a.dest.tarfile_path) && a.metadata.record.tag === fulltag));
    assert.equal(manifest.image_digest, digest);
    assert.equal(JSON.parse(manifest.metadata.image_record).image_detail[0].fulltag, fulltag);
    assert.equal((await api('DELETE', `/v1/archives/images/${digest}`, admin)).status, 200);

    const jobsBefore = (await svc.queue.list({ kind: 'analyze', limit: 1000 })).length;
    const form = multipart(file);
    const imported = await api('POST', '/v1/import/images', { ...admin, body: form.body, headers: form.headers });
    assert.equal(imported.status, 200, imported.text);
    assert.equal(imported.body[0].imageDigest, digest);
    assert.equal(imported.body[0].analysis_status, 'analyzed', 'restored analyzed, without a new analysis');
    assert.equal((await svc.queue.list({ kind: 'analyze', limit: 1000 })).length, jobsBefore, 'no analysis job was queued');
    const after1 = await snapshot();
    assert.deepEqual(after1.vulns, before1.vulns);
    assert.deepEqual(after1.os, before1.os);
    assert.deepEqual(after1.image.image_detail.map((d: any) => d.fulltag), [fulltag]);
    assert.deepEqual(after1.image.annotations, { team: 'a' });
    assert.equal(after1.image.image_detail[0].imageId, before1.image.image_detail[0].imageId);
    assert.equal(after1.image.created_at, before1.image.created_at, 'the original times');
    assert.equal(after1.image.analyzed_at, before1.image.analyzed_at);
    assert.equal(after1.image.image_detail[0].created_at, before1.image.image_detail[0].created_at);
    const history = await api('GET', `/v1/images/${digest}/check?tag=${fulltag}&history=true&interactive=true`, admin);
    assert.ok(history.body[0][digest][fulltag].some((e: any) => e.last_evaluation === evaluatedAt), `the evaluation of ${evaluatedAt} was restored: ${history.text}`);

    assertErrorBody(await api('POST', '/v1/import/images', { ...admin, body: form.body, headers: form.headers }), 409, /already exists/);
    // The same file as a raw body, into another account: the account is the caller's, not the archive's.
    await svc.accounts.createAccount({ name: 'team2' });
    await svc.accounts.createUser('team2', { username: 'bob', password: 'bob-secret-1' });
    const raw = await api('POST', '/import/images', { user: 'bob', pass: 'bob-secret-1', body: file, headers: { 'content-type': 'application/gzip' } });
    assert.equal(raw.status, 200, raw.text);
    assert.deepEqual((await api('GET', `/v1/images/${digest}/vuln/all`, { user: 'bob', pass: 'bob-secret-1' })).body, before1.vulns);
  });

  test('malformed archives: a 400 naming what is wrong', async () => {
    const { api } = h();
    const post = (body: Buffer, headers: Record<string, string> = { 'content-type': 'application/octet-stream' }) => api('POST', '/v1/import/images', { ...admin, body, headers });
    await api('DELETE', `/v1/images/${digest}?force=true`, admin);
    assertErrorBody(await post(Buffer.from('not an archive at all, just text that is long enough to be read as a tar header '.repeat(10))), 400, /not a readable tar|not a tar/);
    assertErrorBody(await post(Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5])), 400, /gzip/);
    assertErrorBody(await post(Buffer.from('PK\x03\x04rest-of-a-zip', 'latin1')), 400, /zip/);
    assertErrorBody(await post(Buffer.alloc(0)), 400, /empty/);
    const form = multipart(file, 'other_field');
    assertErrorBody(await post(form.body, form.headers), 400, /archive_file/);

    const m = members(file);
    const noManifest = new Map(m);
    noManifest.delete('archive_manifest');
    assertErrorBody(await post(repack(noManifest)), 400, /missing member archive_manifest/);
    const noAnalysis = new Map(m);
    noAnalysis.delete('analysis');
    assertErrorBody(await post(repack(noAnalysis)), 400, /no member analysis/);
    const tampered = new Map(m);
    tampered.set('analysis', Buffer.from(m.get('analysis')!.toString().replace('3.0.11-1~deb12u1', '3.0.99-1~deb12u1')));
    assertErrorBody(await post(repack(tampered)), 400, /member analysis has sha256 .* but archive_manifest says/);
    const other = new Map(m);
    const manifest = JSON.parse(m.get('archive_manifest')!.toString());
    other.set('archive_manifest', Buffer.from(JSON.stringify({ ...manifest, image_digest: `sha256:${'e'.repeat(64)}` })));
    assertErrorBody(await post(repack(other)), 400, /image_record is of sha256:[0-9a-f]{64}, but archive_manifest names image sha256:e{64}/);
    other.set('archive_manifest', Buffer.from(JSON.stringify({ ...manifest, image_digest: 'sha256:nope' })));
    assertErrorBody(await post(repack(other)), 400, /image_digest: expected an image digest/);
    assertErrorBody(await h().api('GET', `/v1/images/${digest}`, admin), 404, undefined);
  });
});
