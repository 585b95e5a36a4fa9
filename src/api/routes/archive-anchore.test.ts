/**
 * POST /import/images of archives laid out as Anchore Engine's archiver writes them
 * (services/testing-anchore-archive.ts), on SQLite and PostgreSQL: its analyzer output alone (no
 * syft_sbom), and with a syft_sbom; the image answers its packages and vulnerabilities, keeps the
 * archive's created/analyzed times and tag times, and its evaluation history with each evaluation's
 * time; a broken evaluation record is a 400 naming it; a form whose archive_file is streamed in
 * small chunks is read the same as one sent at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { request } from 'node:http';
import { ADMIN as admin, assertErrorBody, describeService, seedOpensslAdvisory } from '../../testkit/service.js';
import { anchoreArchive, type AnchoreArchiveInput } from '../../services/testing-anchore-archive.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const imageId = 'b'.repeat(64);
const T0 = Date.parse('2021-03-04T05:06:07Z') / 1000;

function evaluationDoc(fulltag: string, action: 'stop' | 'go', at: number): Record<string, unknown> {
  const policyId = 'anchore-default-bundle';
  const rows = action === 'stop' ? [[imageId, fulltag, 'abc123', 'vulnerabilities', 'package', 'HIGH Vulnerability found in os package type (dpkg) - libssl3 (CVE-2024-0001)', 'stop', false, policyId]] : [];
  return {
    user_id: 'admin', image_id: imageId, tag: fulltag,
    bundle: { id: policyId, name: 'Default bundle', version: '1_0', policies: [], whitelists: [], mappings: [] },
    matched_mapping_rule: { name: 'default', registry: '*', repository: '*', image: { type: 'tag', value: '*' } },
    matched_whitelisted_images_rule: false, matched_blacklisted_images_rule: false,
    result: {
      [imageId]: { result: { header: ['Image_Id', 'Repo_Tag', 'Trigger_Id', 'Gate', 'Trigger', 'Check_Output', 'Gate_Action', 'Whitelisted', 'Policy_Id'], row_count: rows.length, rows, final_action: action } },
      policy_data: [], whitelist_data: [], policy_name: '', whitelist_names: [],
    },
    created_at: at, last_modified: at, final_action: action, final_action_reason: 'policy_evaluation', evaluation_problems: [],
  };
}

function input(d: string, over: Partial<AnchoreArchiveInput> = {}): AnchoreArchiveInput {
  const tag = { registry: 'registry.example.com:5000', repo: 'team/app', tag: 'v1' };
  const fulltag = `${tag.registry}/${tag.repo}:${tag.tag}`;
  return {
    account: 'admin', imageDigest: d, imageId, tag,
    createdAt: T0, analyzedAt: T0 + 120, tagCreatedAt: T0, tagLastUpdated: T0 + 3600,
    debs: { libssl3: { version: '3.0.11-1~deb12u1', sourcepkg: 'openssl', arch: 'amd64' }, bash: { version: '5.2.15-2+b2', sourcepkg: 'bash', arch: 'amd64' } },
    npms: { '/app/node_modules/lodash/package.json': { name: 'lodash', version: '4.17.20' } },
    distro: { id: 'debian', version: '12' },
    evaluations: [
      { evalId: 'e1', policyId: 'anchore-default-bundle', finalAction: 'STOP', createdAt: T0 + 200, doc: evaluationDoc(fulltag, 'stop', T0 + 200) },
      { evalId: 'e2', policyId: 'anchore-default-bundle', finalAction: 'GO', createdAt: T0 + 7200, doc: evaluationDoc(fulltag, 'go', T0 + 7200) },
    ],
    ...over,
  };
}

const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

/** A raw POST whose body is written in small chunks (the server must not need it at once). */
function postChunked(url: string, path: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, url);
    const req = request(u, { method: 'POST', headers: { ...headers, authorization: `Basic ${Buffer.from(`admin:${admin.pass}`).toString('base64')}` } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    const chunks: Buffer[] = [];
    for (let at = 0; at < body.length; at += 7) chunks.push(body.subarray(at, at + 7));
    Readable.from(chunks).pipe(req);
  });
}

describeService('Anchore Engine analysis archives', { seed: seedOpensslAdvisory }, (h) => {
  test('its analyzer output and evaluation history, with the original times', async () => {
    const { api } = h();
    const d = digest('a');
    const r = await api('POST', '/v1/import/images', { ...admin, body: anchoreArchive(input(d)), headers: { 'content-type': 'application/gzip' } });
    assert.equal(r.status, 200, r.text);
    const img = r.body[0];
    assert.equal(img.imageDigest, d);
    assert.equal(img.analysis_status, 'analyzed');
    assert.equal(img.created_at, iso(T0));
    assert.equal(img.analyzed_at, iso(T0 + 120));
    assert.equal(img.image_detail[0].fulltag, 'registry.example.com:5000/team/app:v1');
    assert.equal(img.image_detail[0].imageId, imageId);
    assert.equal(img.image_detail[0].created_at, iso(T0));
    assert.equal(img.image_detail[0].last_updated, iso(T0 + 3600));
    assert.deepEqual(img.annotations, { owner: 'anchore' });

    const os = (await api('GET', `/v1/images/${d}/content/os`, admin)).body;
    assert.deepEqual(os.content.map((p: any) => `${p.package} ${p.version}`).sort(), ['bash 5.2.15-2+b2', 'libssl3 3.0.11-1~deb12u1']);
    const npm = (await api('GET', `/v1/images/${d}/content/npm`, admin)).body;
    assert.deepEqual(npm.content.map((p: any) => [p.package, p.version, p.location]), [['lodash', '4.17.20', '/app/node_modules/lodash/package.json']]);
    const vulns = (await api('GET', `/v1/images/${d}/vuln/all`, admin)).body;
    assert.deepEqual(vulns.vulnerabilities.map((v: any) => `${v.vuln} ${v.package}`), ['CVE-2024-0001 libssl3-3.0.11-1~deb12u1']);

    const history = await api('GET', `/v1/images/${d}/check?tag=registry.example.com:5000/team/app:v1&history=true&interactive=true&detail=true`, admin);
    assert.equal(history.status, 200, history.text);
    // The archive's two, at their times (today's automatic evaluation of the restored image may be there too, newer).
    const entries = history.body[0][d]['registry.example.com:5000/team/app:v1'].filter((e: any) => e.last_evaluation < '2022');
    assert.deepEqual(entries.map((e: any) => [e.last_evaluation, e.status]), [[iso(T0 + 7200), 'pass'], [iso(T0 + 200), 'fail']]);
    assert.equal(entries[1].detail.result.result[imageId].result.rows[0][2], 'abc123');
  });

  test('with a syft_sbom: its packages, completed by the analyzer output', async () => {
    const { api } = h();
    const d = digest('c');
    const syft = {
      artifacts: [{ name: 'libssl3', version: '3.0.11-1~deb12u1', type: 'deb', purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64', locations: [{ path: '/var/lib/dpkg/status' }], metadata: { source: 'openssl' } }],
      source: { type: 'image', target: { imageID: `sha256:${imageId}`, manifestDigest: d, tags: [] } },
      schema: { version: '1.0.0', url: 'https://raw.githubusercontent.com/anchore/syft/main/schema/json/schema-1.0.0.json' },
    };
    const r = await api('POST', '/v1/import/images', { ...admin, body: anchoreArchive(input(d, { syft, evaluations: [] })), headers: { 'content-type': 'application/gzip' } });
    assert.equal(r.status, 200, r.text);
    const os = (await api('GET', `/v1/images/${d}/content/os`, admin)).body;
    assert.deepEqual(os.content.map((p: any) => p.package), ['libssl3'], 'the syft SBOM is the analysis');
    const vulns = (await api('GET', `/v1/images/${d}/vuln/all`, admin)).body;
    assert.deepEqual(vulns.vulnerabilities.map((v: any) => v.vuln), ['CVE-2024-0001'], 'the distro came from the analyzer output');
  });

  test('a form streamed in small chunks; a broken evaluation record is a 400 naming it', async () => {
    const { api, svc } = h();
    const d = digest('e');
    const file = anchoreArchive(input(d));
    const boundary = 'xYz-boundary-chunked';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nfirst a field that is not the file\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="archive_file"; filename="a.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n`),
      file, Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const r = await postChunked(svc.url!, '/v1/import/images', body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
    assert.equal(r.status, 200, r.text);
    assert.equal(JSON.parse(r.text)[0].imageDigest, d);

    const broken = input(digest('f'));
    broken.evaluations[0]!.finalAction = 'MAYBE' as 'GO';
    assertErrorBody(await api('POST', '/v1/import/images', { ...admin, body: anchoreArchive(broken), headers: { 'content-type': 'application/gzip' } }),
      400, /artifact policy_evaluation-e1 metadata\.record: final_action: expected GO, WARN or STOP/);
    assertErrorBody(await api('GET', `/v1/images/${digest('f')}`, admin), 404);
  });
});
