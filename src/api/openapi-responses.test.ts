/**
 * Every route of the v1 API, driven once against a real in-process service (SQLite, a real local
 * registry holding an analyzed image with Debian, npm and Java packages and a secret, a local feed
 * server, a webhook receiver), and every JSON answer validated with ajv against the schema
 * /swagger.json declares for its operation and status (testing-openapi.ts). Anchore clients
 * deserialize with those schemas: required fields and types must match. Fields a response carries
 * beyond its schema must be documented as Lading extensions (openapi/lading-fields.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeZip } from '../analyze/testing-zip.js';
import { writers } from '../sbom/formats/index.js';
import { exampleSbom } from '../sbom/formats/testing.js';
import { startReceiver } from '../services/notify/testing.js';
import { startFeedServer } from '../testkit/feed-server.js';
import { buildImage, buildIndex } from '../testkit/images.js';
import { pushImage } from '../testkit/registry.js';
import { ADMIN as admin, describeService, seedOpensslAdvisory, waitAnalyzed, type ApiResponse, type RequestOptions } from '../testkit/service.js';
import { ResponseValidator } from './testing-openapi.js';
import { PENDING_ANCHORE_OPERATIONS } from './openapi/testing-pending.js';

const receiver = await startReceiver();
const feeds = await startFeedServer();
feeds.files.set('/', { body: '<a href="v3.19/">v3.19/</a>' });
feeds.files.set('/v3.19/main.json', {
  body: JSON.stringify({ distroversion: 'v3.19', reponame: 'main', urlprefix: 'https://dl-cdn.alpinelinux.org/alpine', apkurl: '{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk', archs: ['x86_64'], packages: [{ pkg: { name: 'openssl', secfixes: { '3.1.4-r4': ['CVE-2024-0727'] } } }] }),
  headers: { 'content-type': 'application/json' },
});
after(async () => {
  await receiver.close();
  await feeds.close();
});

const pomProps = 'version=2.14.1\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\n';
const jar = writeZip([
  { name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\r\nImplementation-Title: log4j-core\r\nImplementation-Version: 2.14.1\r\n\r\n' },
  { name: 'META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties', data: pomProps },
]);
const image = buildImage({
  layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
    { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\nSource: openssl\nMaintainer: Debian OpenSSL Team\nInstalled-Size: 6000\n' },
    { type: 'file', path: 'usr/lib/node_modules/left-pad/package.json', content: JSON.stringify({ name: 'left-pad', version: '1.1.0', license: 'MIT' }) },
    { type: 'file', path: 'opt/app/log4j-core-2.14.1.jar', content: jar },
    { type: 'file', path: 'etc/app.env', content: 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n' },
  ], createdBy: '/bin/sh -c #(nop) COPY dir:abc in / ' }],
});

const config = {
  feeds: { enabled: true, sources: ['alpine' as const], base_urls: { alpine: feeds.url }, sync_interval_seconds: 86400 },
  webhooks: { url: `${receiver.url}/hooks/<account>/<notification_type>` },
};

describeService('every route answers as /swagger.json says', { registry: true, seed: seedOpensslAdvisory, dialects: ['sqlite'], config }, (h) => {
  let validator: ResponseValidator;
  /** operationId → the statuses whose answers were validated. */
  const driven = new Map<string, Set<number>>();
  const undocumented = new Map<string, Set<string>>();
  let digest = '';
  let imageId = '';
  let fulltag = '';

  /** One request; its answer must have the expected status and validate against the document. */
  async function call(method: string, path: string, expect: number, opts: RequestOptions = admin): Promise<ApiResponse> {
    const r = await h().api(method, path, opts);
    assert.equal(r.status, expect, `${method} ${path}: ${r.text.slice(0, 2000)}`);
    const c = validator.check(method, path, r.status, r.text === '' ? undefined : r.body);
    assert.deepEqual(c.errors, [], `${method} ${path} (${c.operationId}) → ${r.status}: ${r.text.slice(0, 3000)}`);
    (driven.get(c.operationId) ?? driven.set(c.operationId, new Set()).get(c.operationId)!).add(r.status);
    const u = undocumented.get(c.operationId) ?? undocumented.set(c.operationId, new Set()).get(c.operationId)!;
    for (const f of c.undocumented) u.add(f);
    return r;
  }
  const get = (path: string, opts?: RequestOptions) => call('GET', path, 200, opts);

  before(async () => {
    await pushImage(h().registry!.host, 'team/app', 'v1', image);
    validator = new ResponseValidator((await h().api('GET', '/v1/swagger.json')).body);
    fulltag = `${h().registry!.host}/team/app:v1`;
  });

  test('system, health, version, status, feeds, services, policy spec, error codes', async () => {
    for (const p of ['/v1', '/v1/health', '/v1/version', '/v1/swagger.json']) await call('GET', p, 200, {});
    for (const p of ['/v1/status', '/v1/system/status', '/v1/system', '/v1/system/services', '/v1/system/policy_spec', '/v1/system/error_codes']) await get(p);
    const services = (await get('/v1/system/services/worker')).body;
    await get(`/v1/system/services/worker/${encodeURIComponent(services[0].hostid)}`);
    await call('DELETE', `/v1/system/services/worker/${encodeURIComponent(services[0].hostid)}`, 409);
    await call('DELETE', '/v1/system/services/worker/gone-host', 404);
    await h().svc.root.services.register('old-host', ['worker'], '0.0.1');
    await h().svc.root.services.stopped('old-host');
    await call('DELETE', '/v1/system/services/worker/old-host', 200);
    await call('POST', '/v1/system/feeds', 200);
    const feeds = (await get('/v1/system/feeds')).body as { name: string; groups: { name: string }[] }[];
    const feed = feeds.find((f) => f.groups.length) ?? feeds[0]!;
    const path = `/v1/system/feeds/${encodeURIComponent(feed.name)}`;
    const group = feed.groups[0] ? `${path}/${encodeURIComponent(feed.groups[0].name)}` : undefined;
    if (group) {
      await call('PUT', `${group}?enabled=false`, 200);
      await call('DELETE', group, 200);
    }
    await call('PUT', `${path}?enabled=false`, 200);
    await call('DELETE', path, 200);
    await call('PUT', `${path}?enabled=true`, 200);
  });

  test('images: add, list, get, content, metadata, artifacts, SBOMs, vulnerabilities, check', async () => {
    const added = await call('POST', '/v1/images?autosubscribe=true', 200, { ...admin, body: { tag: fulltag, annotations: { team: 'core' } } });
    digest = added.body[0].imageDigest;
    imageId = (await waitAnalyzed(h().api, digest)).image_detail[0].imageId;
    const d = `/v1/images/${digest}`;
    const byId = `/v1/images/by_id/${imageId}`;
    for (const p of ['/v1/images', `/v1/images?fulltag=${encodeURIComponent(fulltag)}&history=true`, d, byId, '/v1/summaries/imagetags']) await get(p);
    for (const base of [d, byId]) {
      for (const t of ['', '/os', '/files', '/java', '/npm']) await get(`${base}/content${t}`);
      for (const t of ['', '/all', '/os', '/non-os']) await get(`${base}/vuln${t}`);
      await get(`${base}/check?tag=${encodeURIComponent(fulltag)}&detail=true`);
    }
    await get(`${d}/content/malware`);
    await get(`${d}/check?tag=${encodeURIComponent(fulltag)}&history=true`);
    for (const t of ['', '/manifest', '/docker_history']) await get(`${d}/metadata${t}`);
    for (const t of ['retrieved_files', 'file_content_search', 'secret_search']) await get(`${d}/artifacts/${t}`);
    for (const t of ['native', 'cyclonedx-json', 'spdx-json']) await get(`${d}/sboms/${t}`);
    await call('GET', `${d}/check`, 400);
    await call('GET', '/v1/images/sha256:' + 'f'.repeat(64), 404);
  });

  test('summaries, queries, events, subscriptions, repositories', async () => {
    for (const p of ['/v1/summaries/images', '/v1/summaries/dashboard', `/v1/summaries/images/${digest}`, `/v1/summaries/images/${digest}/packages`,
      `/v1/summaries/images/${digest}/vulnerabilities`, `/v1/summaries/compare?base=${digest}&target=${digest}`]) await get(p);
    await get('/v1/query/images/by_vulnerability?vulnerability_id=CVE-2024-0001');
    await get('/v1/query/images/by_package?name=libssl3');
    await get('/v1/query/vulnerabilities?id=CVE-2024-0001');
    await get('/v1/event_types');
    const events = (await get('/v1/events')).body;
    const eventId = events.results[0].generated_uuid;
    await get(`/v1/events/${eventId}`);
    await call('DELETE', `/v1/events/${eventId}`, 200);
    await call('DELETE', '/v1/events?level=info', 200);
    const subs = (await get('/v1/subscriptions')).body;
    const added = await call('POST', '/v1/subscriptions', 200, { ...admin, body: { subscription_key: `${h().registry!.host}/team/app:v2`, subscription_type: 'vuln_update' } });
    const id = added.body[0].subscription_id;
    await get(`/v1/subscriptions/${id}`);
    await call('PUT', `/v1/subscriptions/${id}`, 200, { ...admin, body: { active: true } });
    await call('DELETE', `/v1/subscriptions/${id}`, 200);
    assert.ok(subs.length > 0);
    await call('POST', `/v1/repositories?repository=${encodeURIComponent(`${h().registry!.host}/team/app`)}&dryrun=true`, 200);
    await call('POST', `/v1/repositories?repository=${encodeURIComponent(`${h().registry!.host}/team/app`)}`, 200);
  });

  test('policies, registries, webhooks', async () => {
    const list = (await get('/v1/policies?detail=true')).body;
    const bundle = { ...list[0].policybundle, id: 'second', name: 'second' };
    await call('POST', '/v1/policies', 200, { ...admin, body: bundle });
    const record = (await get('/v1/policies/second')).body[0];
    await call('PUT', '/v1/policies/second', 200, { ...admin, body: { ...record, active: true } });
    await call('PUT', `/v1/policies/${list[0].policyId}`, 200, { ...admin, body: { ...list[0], active: true } });
    await call('DELETE', '/v1/policies/second', 200);
    const reg = { registry: 'reg.example.com', registry_user: 'u', registry_pass: 'p', registry_type: 'docker_v2', registry_verify: true };
    await call('POST', '/v1/registries?validate=false', 200, { ...admin, body: reg });
    await get('/v1/registries');
    await get('/v1/registries/reg.example.com');
    await call('PUT', '/v1/registries/reg.example.com?validate=false', 200, { ...admin, body: { ...reg, registry_name: 'example' } });
    await call('DELETE', '/v1/registries/reg.example.com', 200);
    const sent = await call('POST', '/v1/system/webhooks/general/test?notification_type=policy_eval', 200);
    await get('/v1/system/webhooks/notifications');
    await get(`/v1/system/webhooks/notifications/${sent.body.notificationId}`);
  });

  test('accounts, users, credentials, tokens', async () => {
    await get('/v1/accounts');
    await call('POST', '/v1/accounts', 200, { ...admin, body: { name: 'team2', email: 'team2@example.com' } });
    await get('/v1/accounts/team2');
    await call('POST', '/v1/accounts/team2/users', 200, { ...admin, body: { username: 'bob', password: 'bob-secret-1' } });
    await get('/v1/accounts/team2/users');
    await get('/v1/accounts/team2/users/bob');
    await get('/v1/accounts/team2/users/bob/credentials');
    await call('POST', '/v1/accounts/team2/users/bob/credentials', 200, { ...admin, body: { type: 'password', value: 'bob-secret-2' } });
    const bob = { user: 'bob', pass: 'bob-secret-2' };
    for (const p of ['/v1/account', '/v1/user', '/v1/user/credentials']) await get(p, bob);
    await call('POST', '/v1/user/credentials', 200, { ...bob, body: { type: 'password', value: 'bob-secret-3' } });
    const form = { grant_type: 'password', username: 'bob', password: 'bob-secret-3', client_id: 'anonymous' };
    const token = await call('POST', '/v1/oauth/token', 200, { body: new URLSearchParams(form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await call('DELETE', '/v1/oauth/token', 204, { token: token.body.access_token });
    await call('DELETE', '/v1/accounts/team2/users/bob/credentials?credential_type=password', 204);
    await call('DELETE', '/v1/accounts/team2/users/bob', 204);
    await call('PUT', '/v1/accounts/team2/state', 200, { ...admin, body: { state: 'disabled' } });
    await call('DELETE', '/v1/accounts/team2', 204);
  });

  test('imports and archives', async () => {
    const op = (await call('POST', '/v1/imports/images', 200)).body.uuid;
    await get('/v1/imports/images');
    await get(`/v1/imports/images/${op}`);
    const uploads: Record<string, string> = {
      packages: writers['cyclonedx-json'].write(exampleSbom()), dockerfile: 'FROM debian:12\n',
      manifest: image.manifestBytes.toString(), parent_manifest: buildIndex([image]).bytes.toString(), image_config: image.configBytes.toString(),
    };
    for (const [type, body] of Object.entries(uploads)) {
      await call('POST', `/v1/imports/images/${op}/${type}`, 200, { ...admin, body, headers: { 'content-type': type === 'dockerfile' ? 'text/plain' : 'application/json' } });
      await get(`/v1/imports/images/${op}/${type}`);
    }
    await call('DELETE', `/v1/imports/images/${op}`, 200);
    await get('/v1/archives');
    const rule = (await call('POST', '/v1/archives/rules', 200, { ...admin, body: { analysis_age_days: 30, tag_versions_newer: 1, transition: 'archive' } })).body;
    await get('/v1/archives/rules');
    await get(`/v1/archives/rules/${rule.rule_id}`);
    await call('DELETE', `/v1/archives/rules/${rule.rule_id}`, 200);
    await call('POST', '/v1/archives/images', 200, { ...admin, body: [digest] });
    await get('/v1/archives/images');
    await get(`/v1/archives/images/${digest}`);
    await get(`/v1/archives/images/${digest}/export`);
    const exported = await fetch(`${h().svc.url!}/v1/archives/images/${digest}/export`, { headers: { authorization: `Basic ${Buffer.from(`${admin.user}:${admin.pass}`).toString('base64')}` } });
    const file = Buffer.from(await exported.arrayBuffer());
    await call('DELETE', `/v1/archives/images/${digest}`, 200);
    await call('POST', '/v1/import/images', 200, { ...admin, body: file, headers: { 'content-type': 'application/gzip' } });
  });

  test('deletes', async () => {
    const deletes = [`/v1/images/by_id/${imageId}?force=true`, `/v1/images?imageDigests=${digest}&force=true`, `/v1/images/${digest}?force=true`];
    for (const path of deletes) {
      await call('POST', '/v1/images', 200, { ...admin, body: { tag: fulltag } });
      await call('DELETE', path, 200);
    }
    await call('DELETE', `/v1/images/${digest}`, 404);
  });

  test('every operation was driven, and every field answered is documented', () => {
    const doc = (validator as unknown as { doc: { paths: Record<string, Record<string, { operationId: string }>> } }).doc;
    const all = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    const notDriven = all.filter((id) => ![...(driven.get(id) ?? [])].some((s) => s < 300) && !PENDING_ANCHORE_OPERATIONS.includes(id));
    assert.deepEqual(notDriven, [], 'operations without a successful, validated answer');
    const fields = Object.fromEntries([...undocumented].filter(([, f]) => f.size).map(([id, f]) => [id, [...f].sort()]));
    assert.deepEqual(fields, {}, `fields not in the schemas (document them in openapi/lading-fields.ts): ${JSON.stringify(fields)}`);
  });
});
