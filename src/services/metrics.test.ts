/**
 * Metrics and probes end to end, on SQLite and PostgreSQL: a real image analyzed through a real
 * local registry, webhook deliveries to a real receiver, a vulnerability-data apply; the scraped
 * text parsed as the Prometheus exposition format. Then /ready (200, and 503 with a closed or
 * exhausted database), a worker's probe listener (metrics.port), metrics.auth_required and
 * metrics.enabled false, each as a second service on the same database.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { buildImage } from '../testkit/images.js';
import { freePort, pushImage } from '../testkit/registry.js';
import { ADMIN as admin, apiClient, assertErrorBody, describeService, seedOpensslAdvisory, startTestService, waitAnalyzed, type ApiClient } from '../testkit/service.js';
import { startReceiver } from './notify/testing.js';
import { openVulnDb } from '../store/db.js';
import { affected, vuln } from '../vulns/testing.js';
import { latestSchema } from '../store/migrate.js';
import { VERSION } from '../version.js';

const receiver = await startReceiver();
after(() => receiver.close());

const image = buildImage({
  layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
    { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\nSource: openssl\n' },
  ] }],
});

interface Sample { name: string; labels: Record<string, string>; value: number }
interface Exposition { samples: Sample[]; types: Map<string, string> }

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

/** The text format, strictly: every line is `# HELP`, `# TYPE` or `name{labels} value`; each sample of a declared family. */
function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        assert.match(meta[3]!, /^(counter|gauge|histogram|summary|untyped)$/, line);
        types.set(meta[2]!, meta[3]!);
      }
      continue;
    }
    const m = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    assert.ok(m, `not a comment or a sample: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const l = LABEL.exec(body);
      assert.ok(l, `bad labels in: ${line}`);
      labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    // Prometheus reads values with Go's ParseFloat: NaN in any case (prom-client writes `Nan`), ±Inf.
    const nan = /^nan$/i.test(m[3]!);
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : nan ? NaN : Number(m[3]);
    assert.ok(nan || !Number.isNaN(value), `bad value in: ${line}`);
    const family = [m[1]!, m[1]!.replace(/_(bucket|sum|count)$/, '')].find((f) => types.has(f));
    assert.ok(family, `sample of an undeclared metric: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

/** The value of the one sample with exactly these labels; undefined when there is none. */
function valueOf(e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = e.samples.filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want);
  assert.ok(found.length <= 1, `${found.length} samples of ${name} ${want}`);
  return found[0]?.value;
}

async function scrape(api: ApiClient, auth = {}): Promise<Exposition> {
  const r = await api('GET', '/metrics', auth);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(r.text);
}

/** Scrape until `ready` holds (values written by another request may land a moment later). */
async function scrapeUntil(api: ApiClient, ready: (e: Exposition) => boolean, timeoutMs = 10_000): Promise<Exposition> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = await scrape(api);
    if (ready(e) || Date.now() > deadline) return e;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const IMAGE_ROUTE = { method: 'GET', route: '/v1/images/:imageDigest' };

describeService('metrics and probes', { registry: true, seed: seedOpensslAdvisory, config: { webhooks: { url: `${receiver.url}/hook/<notification_type>` } } }, (h) => {
  test('GET /metrics: images by status, analysis duration, HTTP requests by route template, queue, build, process', async () => {
    const { api, registry, svc } = h();
    const empty = await scrape(api);
    assert.equal(valueOf(empty, 'lading_images', { analysis_status: 'analyzed' }), 0);
    assert.equal(valueOf(empty, 'lading_database_up'), 1);

    await pushImage(registry!.host, 'metrics/app', 'v1', image);
    const fulltag = `${registry!.host}/metrics/app:v1`;
    const added = await api('POST', '/v1/images', { ...admin, body: { tag: fulltag } });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    await waitAnalyzed(api, image.manifestDigest);

    // The image reads analyzed before its job finishes (the after-analysis hooks run in between).
    const before = await scrapeUntil(api, (e) => valueOf(e, 'lading_analysis_duration_seconds_count', { outcome: 'analyzed' }) === 1
      && valueOf(e, 'lading_queue_jobs', { state: 'running' }) === 0);
    // Three known requests to one route template, one unknown path, one unauthenticated request.
    for (let i = 0; i < 3; i++) assert.equal((await api('GET', `/v1/images/${image.manifestDigest}`, admin)).status, 200);
    assert.equal((await api('GET', `/v1/images/sha256:${'0'.repeat(64)}`, admin)).status, 404);
    assert.equal((await api('GET', '/v1/no/such/path/abc123', admin)).status, 404);
    assert.equal((await api('GET', '/v1/images')).status, 401);
    // Jobs of a kind no worker takes: one waiting for 90 s, one not due for an hour.
    await svc.queue.enqueue('metrics-probe', {}, { runAt: Date.now() - 90_000 });
    await svc.queue.enqueue('metrics-probe', {}, { runAt: Date.now() + 3_600_000 });
    const e = await scrape(api);

    assert.equal(e.types.get('lading_images'), 'gauge');
    assert.equal(valueOf(e, 'lading_images', { analysis_status: 'analyzed' }), 1);
    assert.equal(valueOf(e, 'lading_images', { analysis_status: 'not_analyzed' }), 0);
    assert.equal(valueOf(e, 'lading_images', { analysis_status: 'analysis_failed' }), 0);

    assert.equal(e.types.get('lading_analysis_duration_seconds'), 'histogram');
    assert.equal(valueOf(e, 'lading_analysis_duration_seconds_count', { outcome: 'analyzed' }), 1);
    assert.equal(valueOf(e, 'lading_analysis_duration_seconds_bucket', { outcome: 'analyzed', le: '+Inf' }), 1);
    const took = valueOf(e, 'lading_analysis_duration_seconds_sum', { outcome: 'analyzed' })!;
    assert.ok(took > 0 && took < 60, `analysis took ${took} s`);

    assert.equal(e.types.get('lading_http_requests_total'), 'counter');
    const delta = (labels: Record<string, string>) => (valueOf(e, 'lading_http_requests_total', labels) ?? 0) - (valueOf(before, 'lading_http_requests_total', labels) ?? 0);
    assert.equal(delta({ ...IMAGE_ROUTE, status: '200' }), 3);
    assert.equal(delta({ ...IMAGE_ROUTE, status: '404' }), 1);
    assert.equal(delta({ method: 'GET', route: '<unmatched>', status: '404' }), 1);
    assert.equal(delta({ method: 'GET', route: '/v1/images', status: '401' }), 1);
    assert.ok(valueOf(e, 'lading_http_requests_total', { method: 'POST', route: '/v1/images', status: '200' })! >= 1);
    assert.ok(!e.samples.some((s) => /sha256:|abc123/.test(s.labels.route ?? '')), 'a raw URL became a route label');
    const durations = (valueOf(e, 'lading_http_request_duration_seconds_count', IMAGE_ROUTE) ?? 0) - (valueOf(before, 'lading_http_request_duration_seconds_count', IMAGE_ROUTE) ?? 0);
    assert.equal(durations, 4);

    assert.equal(valueOf(e, 'lading_queue_jobs', { state: 'queued' }), 2);
    assert.equal(valueOf(e, 'lading_queue_jobs', { state: 'running' }), 0);
    assert.ok(valueOf(e, 'lading_queue_jobs', { state: 'done' })! >= 1);
    const oldest = valueOf(e, 'lading_queue_oldest_job_age_seconds')!;
    assert.ok(oldest >= 90 && oldest < 150, `oldest job waited ${oldest} s`);

    assert.equal(valueOf(e, 'lading_build_info', { version: VERSION }), 1);
    assert.equal(e.types.get('process_cpu_user_seconds_total'), 'counter');
    assert.ok(valueOf(e, 'nodejs_heap_size_used_bytes')! > 0);
  });

  test('feed age and last sync per source, after applying vulnerability data', async () => {
    const { api, dbUrl } = h();
    const at = new Date(Date.now() - 7200_000);
    const db = await openVulnDb(dbUrl);
    try {
      await db.apply('alpine', {
        full: true,
        batches: [{
          vulnerabilities: [vuln({ id: 'CVE-2024-0002', source: 'alpine' })],
          affected: [affected({ vulnId: 'CVE-2024-0002', name: 'musl', source: 'alpine', namespace: 'alpine:3.19', nameKind: 'binary', scheme: 'apk', fixedVersions: ['1.2.4-r3'] })],
        }],
      }, { kind: 'import', at });
    } finally {
      await db.close();
    }
    const e = await scrape(api);
    assert.equal(valueOf(e, 'lading_feed_last_sync_timestamp_seconds', { source: 'alpine' }), at.getTime() / 1000);
    const age = valueOf(e, 'lading_feed_age_seconds', { source: 'alpine' })!;
    assert.ok(age >= 7200 && age < 7260, `alpine age ${age}`);
    // The seeded debian data: synced when the suite started.
    const debianAge = valueOf(e, 'lading_feed_age_seconds', { source: 'debian' })!;
    assert.ok(debianAge >= 0 && debianAge < 600, `debian age ${debianAge}`);
    assert.equal(valueOf(e, 'lading_feed_age_seconds', { source: 'nvd' }), undefined);
  });

  test('webhook deliveries by type and outcome', async () => {
    const { api } = h();
    receiver.reset();
    const ok = await api('POST', '/v1/system/webhooks/general/test?notification_type=vuln_update', admin);
    assert.equal(ok.body.status, 'delivered', JSON.stringify(ok.body));
    receiver.respondWith(503);
    const failed = await api('POST', '/v1/system/webhooks/general/test?notification_type=vuln_update', admin);
    assert.equal(failed.body.status, 'failed', JSON.stringify(failed.body));
    const e = await scrape(api);
    assert.equal(e.types.get('lading_webhook_deliveries_total'), 'counter');
    assert.equal(valueOf(e, 'lading_webhook_deliveries_total', { type: 'vuln_update', outcome: 'success' }), 1);
    assert.equal(valueOf(e, 'lading_webhook_deliveries_total', { type: 'vuln_update', outcome: 'http_error' }), 1);
    assert.equal(valueOf(e, 'lading_webhook_deliveries_total', { type: 'vuln_update', outcome: 'error' }), undefined);
  });

  test('GET /ready and /health without credentials; /ready is not under /v1', async () => {
    const { api } = h();
    const ready = await api('GET', '/ready');
    assert.equal(ready.status, 200, ready.text);
    assert.deepEqual(ready.body, { status: 'ready', db: 'ok', schema_version: latestSchema() });
    const health = await api('GET', '/health');
    assert.equal(health.status, 200);
    assert.equal(health.body, 'ok');
    assertErrorBody(await api('GET', '/v1/ready'), 404);
    assertErrorBody(await api('GET', '/v1/metrics'), 404);
  });

  test('/ready is 503 when the database does not answer in time or is closed', async () => {
    const { dbUrl, dir, dialect } = h();
    const { svc } = await startTestService(dbUrl, dir, { start: { roles: ['api'], log: () => {} } });
    try {
      const api = apiClient(svc.url!);
      assert.equal((await api('GET', '/ready')).status, 200);
      if (dialect === 'postgres') {
        // Every pooled connection busy for 4 s: readiness gives up after its 2 s timeout.
        const busy = Array.from({ length: 10 }, () => sql`select pg_sleep(4)`.execute(svc.db.kysely));
        const started = Date.now();
        const r = await api('GET', '/ready');
        assert.equal(r.status, 503, r.text);
        assert.deepEqual(r.body, { status: 'not ready', reason: 'the database did not answer within 2000 ms' });
        assert.ok(Date.now() - started < 3500, `the probe took ${Date.now() - started} ms`);
        await Promise.all(busy);
      }
      await svc.db.close();
      const r = await api('GET', '/ready');
      assert.equal(r.status, 503, r.text);
      assert.equal(r.body.status, 'not ready');
      assert.match(r.body.reason, /^database unavailable: /);
      // Metrics still answer, without the database-derived values.
      const e = await scrape(api);
      assert.equal(valueOf(e, 'lading_database_up'), 0);
      assert.equal(valueOf(e, 'lading_images', { analysis_status: 'analyzed' }), undefined);
      assert.equal(valueOf(e, 'lading_build_info', { version: VERSION }), 1);
    } finally {
      await svc.close();
    }
  });

  test('a worker process serves /health, /ready and /metrics on metrics.port, with auth when required', async () => {
    const { dbUrl, dir } = h();
    const port = await freePort();
    const { svc } = await startTestService(dbUrl, dir, {
      env: { LADING_METRICS_PORT: String(port), LADING_METRICS_AUTH_REQUIRED: 'true' },
      start: { roles: ['worker'], log: () => {} },
    });
    try {
      assert.equal(svc.url, undefined);
      assert.equal(svc.probeUrl, `http://127.0.0.1:${port}`);
      const probe = apiClient(svc.probeUrl!);
      assert.equal((await probe('GET', '/health')).body, 'ok');
      assert.deepEqual((await probe('GET', '/ready')).body, { status: 'ready', db: 'ok', schema_version: latestSchema() });
      assertErrorBody(await probe('GET', '/metrics'), 401);
      assertErrorBody(await probe('GET', '/v1/images', admin), 404);
      const e = await scrape(probe, admin);
      // Cluster-wide values come from the shared database; this process analyzed nothing.
      assert.equal(valueOf(e, 'lading_images', { analysis_status: 'analyzed' }), 1);
      assert.equal(valueOf(e, 'lading_analysis_duration_seconds_count', { outcome: 'analyzed' }), undefined);
      assert.equal(valueOf(e, 'lading_http_requests_total', { method: 'GET', route: '/ready', status: '200' }), 1);
    } finally {
      await svc.close();
    }
  });

  test('metrics.auth_required: the admin account\'s users only; metrics.enabled false: 404', async () => {
    const { dbUrl, dir, svc: main } = h();
    await main.accounts.createAccount({ name: 'metrics-team', email: 'team@example.com' });
    await main.accounts.createUser('metrics-team', { username: 'metrics-user', password: 'metrics-password', role: 'read-write' });
    const guarded = await startTestService(dbUrl, dir, { config: { metrics: { auth_required: true } }, start: { roles: ['api'], log: () => {} } });
    const disabled = await startTestService(dbUrl, dir, { env: { LADING_METRICS_ENABLED: 'false' }, start: { roles: ['api'], log: () => {} } });
    try {
      const api = apiClient(guarded.svc.url!);
      const denied = await api('GET', '/metrics');
      assertErrorBody(denied, 401);
      assert.equal(denied.headers.get('www-authenticate'), 'basic realm="Authentication required"');
      assertErrorBody(await api('GET', '/metrics', { user: 'metrics-user', pass: 'metrics-password' }), 403, /admin account/);
      assert.equal(valueOf(await scrape(api, admin), 'lading_images', { analysis_status: 'analyzed' }), 1);
      assert.equal((await api('GET', '/ready')).status, 200);

      const off = apiClient(disabled.svc.url!);
      assertErrorBody(await off('GET', '/metrics'), 404);
      assertErrorBody(await off('GET', '/metrics', admin), 404);
      assert.equal(disabled.svc.metrics, undefined);
      assert.equal((await off('GET', '/ready')).status, 200);
    } finally {
      await guarded.svc.close();
      await disabled.svc.close();
    }
  });
});
