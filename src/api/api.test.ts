/**
 * The service end to end, in process: `startService` on a temp SQLite file (and once on
 * PostgreSQL), a real local registry holding a small Debian-like image with an npm package, and
 * the v1 API over HTTP: auth, add → analyzed, image shape, vulnerabilities, check, content,
 * account isolation, delete, errors.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { openVulnDb } from '../store/db.js';
import { startService, type RunningService } from '../services/server.js';
import { buildImage, type BuiltImage } from '../testkit/images.js';
import { registryAvailable, registrySkipReason, startRegistry, pushImage } from '../testkit/registry.js';
import { postgresAvailable, postgresSkipReason, startPostgres } from '../testkit/postgres.js';
import { affected, vuln } from '../vulns/testing.js';

const ADMIN_PASSWORD = 'admin-secret';
const FAST_HASH = { hashParams: { ln: 10, r: 8, p: 1 } };

let dir: string;
let reg: Awaited<ReturnType<typeof startRegistry>> | undefined;
let image: BuiltImage;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-api-'));
  image = buildImage({
    layers: [{ entries: [
      { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
      { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\nSource: openssl\n' },
      { type: 'file', path: 'usr/lib/node_modules/left-pad/package.json', content: JSON.stringify({ name: 'left-pad', version: '1.1.0', license: 'MIT' }) },
    ] }],
  });
  if (registryAvailable()) {
    reg = await startRegistry();
    await pushImage(reg.host, 'team/app', 'v1', image);
  }
});

after(async () => {
  await reg?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function seedVulnDb(dbUrl: string): Promise<void> {
  const db = await openVulnDb(dbUrl);
  try {
    await db.apply('debian', {
      full: true,
      batches: [{
        vulnerabilities: [vuln({ id: 'CVE-2024-0001', source: 'debian', references: ['https://security-tracker.debian.org/tracker/CVE-2024-0001'] })],
        affected: [affected({ vulnId: 'CVE-2024-0001', name: 'openssl', fixedVersions: ['3.0.15-1~deb12u1'], severity: 'High' })],
      }],
    }, { kind: 'sync' });
  } finally {
    await db.close();
  }
}

async function start(dbUrl: string): Promise<RunningService> {
  const loaded = loadConfig({ yaml: '', env: {}, overrides: { data_dir: dir, db_url: dbUrl, admin: { password: ADMIN_PASSWORD } } });
  const config = { ...loaded, listen: { host: '127.0.0.1', port: 0 } } as typeof loaded;
  return startService({ config, workers: 1, pollMs: 50, accountOptions: FAST_HASH });
}

interface Res { status: number; body: any; headers: Headers }

function client(base: string) {
  return async (method: string, path: string, opts: { user?: string; pass?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Res> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.user !== undefined) headers.authorization = `Basic ${Buffer.from(`${opts.user}:${opts.pass ?? ''}`).toString('base64')}`;
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(`${base}${path}`, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
    const text = await r.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch { /* not JSON */ }
    return { status: r.status, body, headers: r.headers };
  };
}

const admin = { user: 'admin', pass: ADMIN_PASSWORD };

function assertErrorBody(r: Res, status: number) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.httpcode, status);
  assert.equal(typeof r.body.message, 'string');
  assert.ok(Array.isArray(r.body.detail.error_codes));
}

async function waitAnalyzed(api: ReturnType<typeof client>, digest: string, opts: object = admin): Promise<any> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await api('GET', `/v1/images/${digest}`, opts);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const s = r.body[0].analysis_status;
    if (s === 'analyzed') return r.body[0];
    if (s === 'analysis_failed') assert.fail(`analysis failed: ${r.body[0].analysis_error}`);
    if (Date.now() > deadline) assert.fail(`still ${s} after 30 s`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Add → analyzed → shape → vuln → check → content → delete. */
async function coreFlow(api: ReturnType<typeof client>, host: string): Promise<void> {
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

describe('v1 API on SQLite', { skip: registryAvailable() ? false : registrySkipReason }, () => {
  let svc: RunningService;
  let api: ReturnType<typeof client>;
  before(async () => {
    const dbUrl = join(dir, 'lading.db');
    await seedVulnDb(dbUrl);
    svc = await start(dbUrl);
    api = client(svc.url!);
  });
  after(async () => svc?.close());

  test('public endpoints, and authentication on everything else', async () => {
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
  });

  test('core flow: add, analyzed, vulnerabilities, check, content, delete', async () => {
    await coreFlow(api, reg!.host);
  });

  test('a tag the registry does not have, and bad bodies: Anchore error bodies', async () => {
    assertErrorBody(await api('POST', '/v1/images', { ...admin, body: { tag: `${reg!.host}/team/app:missing` } }), 404);
    assertErrorBody(await api('POST', '/v1/images', { ...admin, body: {} }), 400);
    assertErrorBody(await api('POST', '/v1/images', { ...admin, body: { tag: 'UPPER/case:1' } }), 400);
    assertErrorBody(await api('POST', '/v1/images', { ...admin, body: { tag: 'x', source: { tag: { pullstring: 'x' } } } }), 400);
  });

  test('accounts are isolated; x-anchore-account is for admins; bearer tokens work', async () => {
    await svc.accounts.createAccount({ name: 'team2' });
    await svc.accounts.createUser('team2', { username: 'bob', password: 'bob-secret' });
    const bob = { user: 'bob', pass: 'bob-secret' };
    const added = await api('POST', '/v1/images', { ...admin, body: { tag: `${reg!.host}/team/app:v1` } });
    assert.equal(added.status, 200);
    await waitAnalyzed(api, image.manifestDigest);
    assert.deepEqual((await api('GET', '/v1/images', bob)).body, []);
    assertErrorBody(await api('GET', `/v1/images/${image.manifestDigest}`, bob), 404);
    assertErrorBody(await api('GET', '/v1/images', { ...bob, headers: { 'x-anchore-account': 'admin' } }), 403);
    // bob adds the same image in his account: a separate record
    const bobs = await api('POST', '/v1/images', { ...bob, body: { tag: `${reg!.host}/team/app:v1` } });
    assert.equal(bobs.status, 200);
    assert.equal(bobs.body[0].userId, 'team2');
    const { token } = await svc.accounts.createToken('bob');
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

describe('v1 API on PostgreSQL', { skip: !registryAvailable() ? registrySkipReason : !postgresAvailable() ? postgresSkipReason : false }, () => {
  test('core flow', async () => {
    const pg = await startPostgres();
    let svc: RunningService | undefined;
    try {
      const url = await pg.createDatabase();
      await seedVulnDb(url);
      svc = await start(url);
      await coreFlow(client(svc.url!), reg!.host);
    } finally {
      await svc?.close();
      await pg.stop();
    }
  });
});
