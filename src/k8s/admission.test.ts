/**
 * The admission webhook end to end, on SQLite and on PostgreSQL: a service with admission enabled
 * serving a self-signed certificate (made with openssl here), images in a real local registry
 * analyzed by the real worker, and AdmissionReview requests over HTTPS (verified against that
 * certificate) for every workload kind in each mode.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, type BuiltImage } from '../testkit/images.js';
import { pushImage } from '../testkit/registry.js';
import { ADMIN as admin, describeService, seedOpensslAdvisory, startTestService, waitAnalyzed, type ServiceHarness } from '../testkit/service.js';
import { WORKLOAD_KINDS, admissionReview, workloadObject, type PodImages, type WorkloadKind } from './testing.js';

const tlsDir = mkdtempSync(join(tmpdir(), 'lading-admission-tls-'));
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=lading-admission.lading.svc',
  '-addext', 'subjectAltName=DNS:lading-admission.lading.svc,IP:127.0.0.1',
  '-keyout', join(tlsDir, 'tls.key'), '-out', join(tlsDir, 'tls.crt'),
], { stdio: 'pipe' });
const ca = readFileSync(join(tlsDir, 'tls.crt'));
after(() => rmSync(tlsDir, { recursive: true, force: true }));

function debianImage(packages: [string, string, string][]): BuiltImage {
  const status = packages.map(([name, version, source]) => `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\nSource: ${source}\n`).join('\n');
  return buildImage({ layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
    { type: 'file', path: 'var/lib/dpkg/status', content: status },
  ] }] });
}
/** libssl3 3.0.11: CVE-2024-0001 (High, fixed in 3.0.15-1~deb12u1) stops it under the default bundle. */
const bad = debianImage([['libssl3', '3.0.11-1~deb12u1', 'openssl']]);
const good = debianImage([['bash', '5.2.15-2+b2', 'bash'], ['libssl3', '3.0.15-1~deb12u1', 'openssl']]);

interface Reply { status: number; body: any }

/** POST JSON over HTTPS, trusting only the test certificate. */
function post(url: string, body: unknown, path = '/validate'): Promise<Reply> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', ca, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const t = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(t) });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: t });
        }
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

function get(url: string, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    request(`${url}${path}`, { ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    }).on('error', reject).end();
  });
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeService('admission webhook', {
  registry: true,
  seed: seedOpensslAdvisory,
  config: {
    admission: {
      enabled: true,
      listen: { host: '127.0.0.1', port: 0 },
      tls_cert_file: join(tlsDir, 'tls.crt'),
      tls_key_file: join(tlsDir, 'tls.key'),
      mode: 'policy',
      unknown_images: 'deny',
      queue_unknown: true,
      rules: [
        { labels: { 'lading.io/breakglass': '^true$' }, mode: 'breakglass' },
        { namespace: '^breakglass-ns$', mode: 'breakglass' },
        { namespace: '^analysis-ns$', mode: 'analysis' },
        { namespace: '^lenient$', mode: 'policy', unknown_images: 'allow' },
        { namespace: '^strict$', mode: 'policy', bundle_id: 'no-such-bundle' },
        { image: '/team/vendored:', mode: 'analysis' },
      ],
    },
  },
}, (h) => {
  let host = '';
  let url = '';
  const admit = async (kind: WorkloadKind, namespace: string, images: PodImages, opts: { labels?: Record<string, string>; dryRun?: boolean } = {}) => {
    const review = admissionReview(workloadObject(kind, `${kind.toLowerCase()}-x`, namespace, images, opts.labels), { ...(opts.dryRun ? { dryRun: true } : {}) });
    const r = await post(url, review);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.apiVersion, 'admission.k8s.io/v1');
    assert.equal(r.body.kind, 'AdmissionReview');
    assert.equal(r.body.response.uid, review.request.uid);
    return r.body.response as { uid: string; allowed: boolean; status?: { code: number; message: string }; warnings?: string[] };
  };
  const catalogHas = async (h: ServiceHarness, fulltag: string) => {
    const r = await h.api('GET', `/v1/images?fulltag=${encodeURIComponent(fulltag)}`, admin);
    assert.equal(r.status, 200);
    return r.body.length ? r.body[0] : undefined;
  };

  before(async () => {
    host = h().registry!.host;
    url = h().svc.admissionUrl!;
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    await pushImage(host, 'team/bad', 'v1', bad);
    await pushImage(host, 'team/good', 'v1', good);
    await pushImage(host, 'team/vendored', 'v1', bad);
    await pushImage(host, 'team/new', 'v1', good);
    await pushImage(host, 'team/dry', 'v1', good);
    await pushImage(host, 'team/lenient', 'v1', good);
    for (const repo of ['team/bad', 'team/good', 'team/vendored']) {
      const r = await h().api('POST', '/v1/images', { ...admin, body: { tag: `${host}/${repo}:v1` } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    await waitAnalyzed(h().api, bad.manifestDigest);
    await waitAnalyzed(h().api, good.manifestDigest);
  });

  test('healthz over HTTPS with the configured certificate', async () => {
    assert.deepEqual(await get(url, '/healthz'), { status: 200, body: { status: 'ok' } });
  });

  test('policy mode, every kind: the passing image is admitted, the failing one denied with gates, trigger and fix', async () => {
    for (const kind of WORKLOAD_KINDS) {
      const ok = await admit(kind, 'prod', { containers: [`${host}/team/good:v1`] });
      assert.equal(ok.allowed, true, `${kind}: ${JSON.stringify(ok)}`);
      assert.equal(ok.status, undefined);
      const no = await admit(kind, 'prod', { containers: [`${host}/team/bad:v1`] });
      assert.equal(no.allowed, false, kind);
      assert.equal(no.status!.code, 403);
      const m = no.status!.message;
      assert.match(m, new RegExp(`^Lading denied ${kind} prod/${kind.toLowerCase()}-x: 1 of 1 image not admitted\\n`));
      assert.ok(m.includes(`- ${host}/team/bad:v1 (container app-0): mode policy, bundle "Lading default bundle" (7ec66a0a-3564-40ce-a5bb-c97ddba38d6d): failed the policy evaluation of `), m);
      assert.match(m, /vulnerabilities\/package \[trigger id CVE-2024-0001\+libssl3\]: HIGH Vulnerability found in os package type \(dpkg\) - libssl3/);
      assert.match(m, /3\.0\.15-1~deb12u1/);
      assert.match(m, /Fix: upgrade the named packages .*; or add the trigger ids to an allowlist of the bundle$/);
    }
  });

  test('the evaluation made for a review is stored, as the check route stores it', async () => {
    const fulltag = `${host}/team/bad:v1`;
    const r = await h().api('GET', `/v1/images/${bad.manifestDigest}/check?tag=${encodeURIComponent(fulltag)}&history=true&interactive=true`, admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const evals = r.body[0][bad.manifestDigest][fulltag];
    assert.ok(evals.length >= 1, JSON.stringify(r.body));
    assert.equal(evals[0].status, 'fail');
    // The image summaries (the web UI's lists) show that verdict at once.
    const s = await h().api('GET', `/v1/summaries/images/${bad.manifestDigest}`, admin);
    assert.equal(s.status, 200, JSON.stringify(s.body));
    assert.equal(s.body.summary.verdict, 'fail');
  });

  test('a mixed pod is denied naming only the failing image; digest references are found', async () => {
    const r = await admit('Pod', 'prod', { initContainers: [`${host}/team/good:v1`], containers: [`${host}/team/good:v1`, `${host}/team/bad@${bad.manifestDigest}`] });
    assert.equal(r.allowed, false);
    const m = r.status!.message;
    assert.match(m, /1 of 2 images not admitted/);
    assert.ok(m.includes(`- ${host}/team/bad@${bad.manifestDigest} (container app-1): mode policy`), m);
    assert.ok(m.includes(`as ${host}/team/bad:v1`), m);
    assert.ok(!m.includes('team/good'), m);
  });

  test('analysis mode admits analyzed images whatever the policy says; selected by namespace or by image', async () => {
    const byNs = await admit('Deployment', 'analysis-ns', { containers: [`${host}/team/bad:v1`] });
    assert.equal(byNs.allowed, true, JSON.stringify(byNs));
    const byImage = await admit('StatefulSet', 'prod', { containers: [`${host}/team/vendored:v1`] });
    assert.equal(byImage.allowed, true, JSON.stringify(byImage));
    const unknown = await admit('Job', 'analysis-ns', { containers: [`${host}/team/absent:v1`] });
    assert.equal(unknown.allowed, false);
    assert.match(unknown.status!.message, /team\/absent:v1 \(container app-0\): mode analysis \(admission\.rules\[2\]\): not analyzed by Lading \(not in the catalog of account admin\)\. Fix: it was queued for analysis/);
  });

  test('breakglass admits anything with a warning, by namespace or by object label', async () => {
    const byNs = await admit('DaemonSet', 'breakglass-ns', { containers: [`${host}/team/bad:v1`] });
    assert.equal(byNs.allowed, true);
    assert.deepEqual(byNs.warnings, [`breakglass: ${host}/team/bad:v1 admitted without checks`]);
    const byLabel = await admit('CronJob', 'prod', { containers: [`${host}/team/bad:v1`, 'Not/A:Valid:Ref'] }, { labels: { app: 'x', 'lading.io/breakglass': 'true' } });
    assert.equal(byLabel.allowed, true);
    assert.deepEqual(byLabel.warnings, [`breakglass: ${host}/team/bad:v1 admitted without checks`, 'breakglass: Not/A:Valid:Ref admitted without checks (not a valid image reference)']);
  });

  test('an unknown image is denied and queued; once analyzed it is judged by the policy', async () => {
    const fulltag = `${host}/team/new:v1`;
    assert.equal(await catalogHas(h(), fulltag), undefined);
    const r = await admit('ReplicaSet', 'prod', { containers: [fulltag] });
    assert.equal(r.allowed, false);
    assert.match(r.status!.message, /mode policy: not analyzed by Lading \(not in the catalog of account admin\)\. Fix: it was queued for analysis \(if the registry cannot supply it, GET \/v1\/events says why\): deploy again once it is analyzed/);
    const queued = await waitFor('the queued image', () => catalogHas(h(), fulltag));
    assert.equal(queued.imageDigest, good.manifestDigest);
    assert.deepEqual(queued.annotations, { requestor: 'lading-admission' });
    await waitAnalyzed(h().api, good.manifestDigest);
    const again = await admit('ReplicaSet', 'prod', { containers: [fulltag] });
    assert.equal(again.allowed, true, JSON.stringify(again));
  });

  test('unknown_images: allow (per rule) admits an unknown image with a warning and queues it', async () => {
    const fulltag = `${host}/team/lenient:v1`;
    const r = await admit('Pod', 'lenient', { containers: [fulltag] });
    assert.equal(r.allowed, true);
    assert.deepEqual(r.warnings, [`${fulltag} is not analyzed by Lading; admitted (unknown_images: allow); queued for analysis`]);
    await waitFor('the queued image', () => catalogHas(h(), fulltag));
  });

  test('a dry run queues nothing; an image missing from the registry stays denied', async () => {
    const dry = await admit('Pod', 'prod', { containers: [`${host}/team/dry:v1`] }, { dryRun: true });
    assert.equal(dry.allowed, false);
    assert.match(dry.status!.message, /Fix: add it with `lading image add .*team\/dry:v1`/);
    const ghost = await admit('Pod', 'prod', { containers: [`${host}/team/ghost:v1`] });
    assert.equal(ghost.allowed, false);
    assert.match(ghost.status!.message, /it was queued for analysis/);
    // the add fails in the background: an event names the tag and the reason
    const failure = await waitFor('the event of the failed add', async () => {
      const events = await h().api('GET', '/v1/events?event_type=system.image_analysis.registry_lookup_failed', admin);
      assert.equal(events.status, 200);
      return (events.body.results as any[]).find((e) => e.event.resource.id === `${host}/team/ghost:v1`);
    });
    assert.match(failure.event.message, new RegExp(`^Admission queued ${host.replace(/\./g, '\\.')}/team/ghost:v1 for analysis, but it cannot be added: .*(not found|unknown|MANIFEST_UNKNOWN)`, 'i'));
    assert.equal(failure.event.details.requestor, 'lading-admission');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await catalogHas(h(), `${host}/team/dry:v1`), undefined);
    assert.equal(await catalogHas(h(), `${host}/team/ghost:v1`), undefined);
  });

  test('a rule naming a missing bundle denies, saying what to fix', async () => {
    const r = await admit('Pod', 'strict', { containers: [`${host}/team/good:v1`] });
    assert.equal(r.allowed, false);
    assert.match(r.status!.message, /mode policy \(admission\.rules\[4\]\): policy bundle no-such-bundle does not exist in account admin\. Fix: add the bundle, or correct bundle_id/);
  });

  test('deletes and kinds without pods are admitted untouched', async () => {
    const del = admissionReview(workloadObject('Pod', 'p', 'prod', { containers: [`${host}/team/bad:v1`] }), { operation: 'DELETE' });
    const r = await post(url, del);
    assert.deepEqual(r.body.response, { uid: del.request.uid, allowed: true });
    const cm = admissionReview({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'prod' }, data: {} });
    assert.deepEqual((await post(url, cm)).body.response, { uid: cm.request.uid, allowed: true });
  });

  test('malformed reviews get 400 with a message, and the webhook keeps serving', async () => {
    const notJson = await post(url, '{"apiVersion":');
    assert.equal(notJson.status, 400);
    assert.match(notJson.body.message, /^expected an AdmissionReview JSON body: /);
    const noUid = admissionReview(workloadObject('Pod', 'p', 'prod', { containers: ['nginx'] }));
    delete noUid.request.uid;
    const r1 = await post(url, noUid);
    assert.equal(r1.status, 400);
    assert.match(r1.body.message, /^invalid AdmissionReview: request\.uid: /);
    const beta = { ...admissionReview(workloadObject('Pod', 'p', 'prod', { containers: ['nginx'] })), apiVersion: 'admission.k8s.io/v1beta1' };
    assert.match((await post(url, beta)).body.message, /expected admission\.k8s\.io\/v1/);
    const badSpec = admissionReview(workloadObject('Deployment', 'web', 'prod', { containers: ['nginx'] }));
    badSpec.request.object.spec.template.spec.containers = [{ image: 'nginx' }];
    const r2 = await post(url, badSpec);
    assert.equal(r2.status, 400);
    assert.match(r2.body.message, /^invalid Deployment: request\.object\.spec\.template\.spec\.containers\[0\]\.name: /);
    assert.equal((await post(url, '')).status, 400);
    assert.equal((await post(url, {}, '/other')).status, 404);
    assert.equal((await get(url, '/healthz')).status, 200);
  });
});

test('a missing certificate file stops start-up, naming the key and the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lading-admission-svc-'));
  try {
    const missing = join(dir, 'nope.crt');
    await assert.rejects(
      startTestService(join(dir, 'lading.db'), dir, { config: { admission: { enabled: true, listen: { port: 0 }, tls_cert_file: missing, tls_key_file: join(tlsDir, 'tls.key') } } }),
      (e: Error) => e.message.startsWith(`admission: cannot read the TLS certificate (admission.tls_cert_file) ${missing}: `),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
