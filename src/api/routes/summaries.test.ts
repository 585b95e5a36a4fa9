/**
 * The web UI's summary routes on both databases, over real images analyzed from a local registry
 * and real vulnerability records: list filters, sorts and pages, counts that agree with
 * /vuln/all, verdicts from stored evaluations, a re-match reflected without re-analysis, the
 * trend, the dashboard, per-image packages and vulnerabilities, compare, SBOM downloads, account
 * isolation and bad input.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { buildImage } from '../../testkit/images.js';
import { pushImage } from '../../testkit/registry.js';
import { ADMIN as admin, assertErrorBody, describeService, seedOpensslAdvisory, waitAnalyzed, type ApiClient } from '../../testkit/service.js';
import { openVulnDb } from '../../store/db.js';
import { VulnDb } from '../../feeds/vulndb.js';
import { affected, vuln } from '../../vulns/testing.js';
import { Notifier } from '../../services/notify.js';
import { REMATCH_CYCLE } from '../../services/server.js';
const OS_RELEASE = { type: 'file' as const, path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' };
const dpkg = (...pkgs: [string, string, string][]) => ({
  type: 'file' as const, path: 'var/lib/dpkg/status',
  content: pkgs.map(([name, version, source]) => `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\nSource: ${source}\n`).join('\n'),
});
const leftPad = { type: 'file' as const, path: 'usr/lib/node_modules/left-pad/package.json', content: JSON.stringify({ name: 'left-pad', version: '1.1.0', license: 'MIT' }) };

/** A: vulnerable libssl3 (High, KEV) in the base layer, vulnerable left-pad (Critical) from a RUN layer. */
const imageA = buildImage({ layers: [
  { entries: [OS_RELEASE, dpkg(['libssl3', '3.0.11-1~deb12u1', 'openssl'])] },
  { entries: [leftPad], createdBy: '/bin/sh -c npm install -g left-pad' },
] });
/** B: A upgraded: libssl3 fixed, left-pad gone, libzstd1 added. */
const imageB = buildImage({ layers: [
  { entries: [OS_RELEASE, dpkg(['libssl3', '3.0.15-1~deb12u1', 'openssl'], ['libzstd1', '1.5.4+dfsg2-5', 'libzstd'])] },
  { entries: [{ type: 'file', path: 'app/README', content: 'b' }] },
] });
/** C: another repository; zlib1g with a Medium finding that has no fix. */
const imageC = buildImage({ layers: [{ entries: [OS_RELEASE, dpkg(['zlib1g', '1:1.2.13.dfsg-1', 'zlib'])] }] });

async function seed(dbUrl: string): Promise<void> {
  await seedOpensslAdvisory(dbUrl);
  const db = await openVulnDb(dbUrl);
  try {
    await db.apply('debian', {
      full: false,
      batches: [{
        vulnerabilities: [vuln({ id: 'CVE-2024-0003', source: 'debian' })],
        affected: [affected({ vulnId: 'CVE-2024-0003', name: 'zlib', state: 'not-fixed', severity: 'Medium' })],
      }],
    }, { kind: 'sync' });
    await db.apply('github', {
      full: true,
      batches: [{
        vulnerabilities: [vuln({ id: 'GHSA-aaaa-bbbb-cccc', source: 'github', aliases: ['CVE-2024-0002'], severity: 'Critical', cvss: [{ source: 'github', version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', baseScore: 9.8 }] })],
        affected: [affected({ vulnId: 'GHSA-aaaa-bbbb-cccc', source: 'github', namespace: 'npm', name: 'left-pad', nameKind: 'binary', scheme: 'semver', ranges: [{ introduced: '0', fixed: '1.3.0' }], fixedVersions: ['1.3.0'] })],
      }],
    }, { kind: 'sync' });
    await db.apply('kev', { full: true, batches: [{ kev: [{ cve: 'CVE-2024-0001', dateAdded: '2024-05-01' }], epss: [{ cve: 'CVE-2024-0001', score: 0.42, percentile: 0.97, date: '2024-05-02' }] }] }, { kind: 'sync' });
  } finally {
    await db.close();
  }
}

const digests = (r: { body: { items: { imageDigest: string }[] } }) => r.body.items.map((i) => i.imageDigest);
const sev = ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'] as const;

describeService('summaries API', {
  registry: true,
  seed,
  config: {
    cycle_timers: { vulnerability_scan: 86400, notifications: 86400 },
    webhooks: { url: 'http://127.0.0.1:9/hooks/<account>/<notification_type>', retry_deadline: 0 },
  },
  start: { cyclePollMs: 100 },
}, (h) => {
  let api: ApiClient;
  let host: string;
  const A = imageA.manifestDigest;
  const B = imageB.manifestDigest;
  const C = imageC.manifestDigest;
  const list = (query = '') => api('GET', `/v1/summaries/images${query}`, admin);

  before(async () => {
    api = h().api;
    host = h().registry!.host;
    await pushImage(host, 'team/app', '1.0', imageA);
    await pushImage(host, 'team/app', '2.0', imageB);
    await pushImage(host, 'tools/base', '1', imageC);
    for (const [tag, d] of [['team/app:1.0', A], ['team/app:2.0', B], ['tools/base:1', C]] as const) {
      const r = await api('POST', '/v1/images', { ...admin, body: { tag: `${host}/${tag}` } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await waitAnalyzed(api, d);
    }
    const made = await api('POST', '/v1/accounts', { ...admin, body: { name: 'other', email: 'o@example.com' } });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    assert.equal((await api('POST', '/v1/accounts/other/users', { ...admin, body: { username: 'olivia', password: 'olivia-pass1' } })).status, 200);
  });
  test('the list: rows built from the analyses, counts agreeing with /vuln/all', async () => {
    const r = await list('?sort=tag&order=asc');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.total, 3);
    assert.equal(r.body.page, 1);
    assert.equal(r.body.limit, 50);
    assert.deepEqual(digests(r), [A, B, C]);
    const a = r.body.items[0];
    assert.deepEqual(a.tags, [`${host}/team/app:1.0`]);
    assert.equal(a.registry, host);
    assert.equal(a.repository, 'team/app');
    assert.equal(a.imageId, imageA.configDigest.replace('sha256:', ''));
    assert.equal(a.analysis_status, 'analyzed');
    assert.equal(a.image_status, 'active');
    assert.equal(a.distro, 'debian 12');
    assert.equal(a.platform, 'linux/amd64');
    assert.equal(a.layer_count, 2);
    assert.equal(a.package_count, 2);
    assert.ok(a.image_size > 0);
    assert.deepEqual(a.vulnerabilities, { Critical: 1, High: 1, Medium: 0, Low: 0, Negligible: 0, Unknown: 0, total: 2, fixable: 2, kev: 1 });
    assert.equal(a.verdict, 'fail', 'evaluated with the active bundle right after analysis (services/auto-evaluate.ts)');
    assert.match(a.evaluated_at, /Z$/);
    for (const k of ['created_at', 'analyzed_at', 'last_updated']) assert.match(a[k], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(r.body.items[1].vulnerabilities, { Critical: 0, High: 0, Medium: 0, Low: 0, Negligible: 0, Unknown: 0, total: 0, fixable: 0, kev: 0 });
    assert.deepEqual(r.body.items[2].vulnerabilities, { Critical: 0, High: 0, Medium: 1, Low: 0, Negligible: 0, Unknown: 0, total: 1, fixable: 0, kev: 0 });

    for (const item of r.body.items) {
      const v = await api('GET', `/v1/images/${item.imageDigest}/vuln/all`, admin);
      const bySev = Object.fromEntries(sev.map((s) => [s, v.body.vulnerabilities.filter((x: { severity: string }) => x.severity === s).length]));
      assert.deepEqual(bySev, Object.fromEntries(sev.map((s) => [s, item.vulnerabilities[s]])), item.imageDigest);
      assert.equal(v.body.vulnerabilities.length, item.vulnerabilities.total);
      assert.equal(v.body.vulnerabilities.filter((x: { fix: string }) => x.fix !== 'None').length, item.vulnerabilities.fixable);
    }
  });

  test('every filter', async () => {
    const cases: [string, string[]][] = [
      ['?q=TOOLS/BASE', [C]],
      [`?q=${A.slice(10, 30)}`, [A]],
      ['?q=no-such', []],
      [`?registry=${encodeURIComponent(host)}`, [A, B, C]],
      ['?registry=docker.io', []],
      ['?repository=team/app', [A, B]],
      ['?analysis_status=analyzed', [A, B, C]],
      ['?analysis_status=not_analyzed', []],
      ['?verdict=none', []],
      ['?verdict=fail', [A]],
      ['?verdict=warn', [B, C]],
      ['?severity=Critical', [A]],
      ['?severity=High', [A]],
      ['?severity=Medium', [A, C]],
      ['?severity=Unknown', [A, C]],
      ['?fixable=true', [A]],
      ['?fixable=false', [B, C]],
      ['?package=zlib1g', [C]],
      ['?package=libzstd1', [B]],
      ['?package=left-pad', [A]],
      ['?package=left', []],
      ['?vulnerability=CVE-2024-0001', [A]],
      ['?vulnerability=CVE-2024-0002', [A]],
      ['?vulnerability=ghsa-aaaa-bbbb-cccc', [A]],
      ['?vulnerability=CVE-2024-0003', [C]],
      ['?repository=team/app&severity=Medium', [A]],
    ];
    for (const [q, want] of cases) {
      const r = await list(`${q}${q ? '&' : '?'}sort=tag&order=asc`);
      assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(digests(r), want, q);
      assert.equal(r.body.total, want.length, q);
    }
  });

  test('every sort, both orders, and pages', async () => {
    const all = (await list('?sort=tag&order=asc')).body.items as any[];
    const by = (key: (s: any) => number | string) => (order: 'asc' | 'desc') => [...all]
      .sort((x, y) => {
        const a = key(x);
        const b = key(y);
        const c = a < b ? -1 : a > b ? 1 : x.imageDigest < y.imageDigest ? -1 : x.imageDigest > y.imageDigest ? 1 : 0;
        return order === 'asc' ? c : -c;
      }).map((s) => s.imageDigest);
    const risk = (s: any) => [s.vulnerabilities.Critical, s.vulnerabilities.High, s.vulnerabilities.Medium, s.vulnerabilities.Low].map((n: number) => String(n).padStart(4, '0')).join('');
    const expected: Record<string, (o: 'asc' | 'desc') => string[]> = {
      created_at: by((s) => s.created_at), analyzed_at: by((s) => s.analyzed_at), tag: by((s) => s.tags[0]), risk: by(risk),
      critical: by((s) => s.vulnerabilities.Critical), high: by((s) => s.vulnerabilities.High), total: by((s) => s.vulnerabilities.total),
      packages: by((s) => s.package_count), size: by((s) => s.image_size),
    };
    for (const [sort, want] of Object.entries(expected)) {
      for (const order of ['asc', 'desc'] as const) {
        if (sort === 'created_at' || sort === 'analyzed_at') {
          // Seconds in the API, milliseconds stored: check the order of the values shown.
          const got = (await list(`?sort=${sort}&order=${order}`)).body.items.map((s: any) => s[sort]);
          assert.deepEqual(got, [...got].sort((a: string, b: string) => (order === 'asc' ? a.localeCompare(b) : b.localeCompare(a))), `${sort} ${order}`);
          continue;
        }
        assert.deepEqual(digests(await list(`?sort=${sort}&order=${order}`)), want(order), `${sort} ${order}`);
      }
    }
    assert.deepEqual(digests(await list('?sort=risk')), [A, C, B]);
    const created = await list();
    assert.deepEqual(created.body.items.map((s: any) => s.created_at), [...created.body.items.map((s: any) => s.created_at)].sort().reverse());

    const p2 = await list('?sort=tag&order=asc&limit=1&page=2');
    assert.deepEqual([p2.body.total, p2.body.page, p2.body.limit, digests(p2)], [3, 2, 1, [B]]);
    const p3 = await list('?sort=tag&order=asc&limit=2&page=2');
    assert.deepEqual(digests(p3), [C]);
    const past = await list('?limit=2&page=5');
    assert.deepEqual([past.body.total, past.body.items], [3, []]);
    assert.equal((await list('?limit=500')).body.items.length, 3);
  });

  test('bad query values are 400s naming the parameter', async () => {
    const bad: [string, string][] = [
      ['limit=0', 'limit'], ['limit=501', 'limit'], ['limit=ten', 'limit'], ['page=0', 'page'], ['page=-1', 'page'], ['sort=name', 'sort'],
      ['order=up', 'order'], ['severity=high', 'severity'], ['fixable=yes', 'fixable'], ['analysis_status=done', 'analysis_status'],
      ['verdict=maybe', 'verdict'], ['q=', 'q: '],
    ];
    for (const [q, name] of bad) {
      assertErrorBody(await list(`?${q}`), 400, new RegExp(name));
    }
    assertErrorBody(await api('GET', `/v1/summaries/images/${A}/packages?limit=1001`, admin), 400, /limit/);
    assertErrorBody(await api('GET', `/v1/summaries/images/${A}/packages?type=jar`, admin), 400, /type/);
    assertErrorBody(await api('GET', `/v1/summaries/images/${A}/packages?sort=size`, admin), 400, /sort/);
    assertErrorBody(await api('GET', `/v1/summaries/images/${A}/vulnerabilities?severity=bad`, admin), 400, /severity/);
    assertErrorBody(await api('GET', `/v1/summaries/images/${A}/vulnerabilities?kev=1`, admin), 400, /kev/);
    assertErrorBody(await api('GET', `/v1/summaries/images/${A}/vulnerabilities?sort=score`, admin), 400, /sort/);
    assertErrorBody(await api('GET', '/v1/summaries/images/sha256:nothex', admin), 400, /imageDigest/);
    assertErrorBody(await api('GET', `/v1/summaries/compare?base=${A}`, admin), 400, /target/);
    assertErrorBody(await api('GET', `/v1/summaries/compare?base=x&target=${B}`, admin), 400, /base/);
    const unknown = `sha256:${'0'.repeat(64)}`;
    for (const p of [`/v1/summaries/images/${unknown}`, `/v1/summaries/images/${unknown}/packages`, `/v1/summaries/images/${unknown}/vulnerabilities`, `/v1/summaries/compare?base=${A}&target=${unknown}`]) {
      assertErrorBody(await api('GET', p, admin), 404);
    }
  });

  test('one image: layers with their instructions, packages, vulnerabilities', async () => {
    const d = await api('GET', `/v1/summaries/images/${A}`, admin);
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(d.body.summary.imageDigest, A);
    assert.deepEqual(d.body.layers.map((l: any) => [l.index, l.digest, l.instruction, l.package_count]), [
      [0, imageA.layers[0]!.desc.digest, 'ADD file:layer0 in /', 1],
      [1, imageA.layers[1]!.desc.digest, 'RUN npm install -g left-pad', 1],
    ]);
    assert.ok(d.body.layers.every((l: any) => l.size > 0 && /Z$/.test(l.created)));
    assert.deepEqual(d.body.verdicts.map((v: any) => [v.final_action, v.verdict, v.tag]), [['stop', 'fail', `${host}/team/app:1.0`]], 'the evaluation made after analysis');
    assert.deepEqual(d.body.vuln_changes, []);

    const pk = await api('GET', `/v1/summaries/images/${A}/packages`, admin);
    assert.deepEqual([pk.body.total, pk.body.page, pk.body.limit], [2, 1, 100]);
    assert.deepEqual(pk.body.items.map((p: any) => p.name), ['left-pad', 'libssl3']);
    const lp = pk.body.items[0];
    assert.deepEqual({ ...lp, purl: undefined }, {
      name: 'left-pad', version: '1.1.0', type: 'npm', purl: undefined, licenses: ['MIT'], layer_index: 1, layer_digest: imageA.layers[1]!.desc.digest,
      instruction: 'RUN npm install -g left-pad', locations: ['/usr/lib/node_modules/left-pad/package.json'],
    });
    assert.match(lp.purl, /^pkg:npm\/left-pad@1\.1\.0/);
    const pkList = async (q: string) => (await api('GET', `/v1/summaries/images/${A}/packages?${q}`, admin)).body.items.map((p: any) => p.name);
    assert.deepEqual(await pkList('q=PAD'), ['left-pad']);
    assert.deepEqual(await pkList('type=deb'), ['libssl3']);
    assert.deepEqual(await pkList('sort=layer'), ['libssl3', 'left-pad']);
    assert.deepEqual(await pkList('sort=type'), ['libssl3', 'left-pad']);
    assert.deepEqual(await pkList('limit=1&page=2'), ['libssl3']);

    const v = await api('GET', `/v1/summaries/images/${A}/vulnerabilities`, admin);
    assert.equal(v.status, 200, JSON.stringify(v.body));
    assert.equal(v.body.total, 2);
    assert.deepEqual(v.body.items.map((x: any) => [x.id, x.severity, x.package_name]), [['CVE-2024-0002', 'Critical', 'left-pad'], ['CVE-2024-0001', 'High', 'libssl3']]);
    const high = v.body.items[1];
    assert.deepEqual(high, {
      id: 'CVE-2024-0001', severity: 'High', cvss: null, fix_state: 'fixed', fixed_versions: ['3.0.15-1~deb12u1'],
      package_name: 'libssl3', package_version: '3.0.11-1~deb12u1', package_type: 'deb', package_path: '/var/lib/dpkg/status',
      layer_index: 0, instruction: 'ADD file:layer0 in /', kev: true, epss: { score: 0.42, percentile: 0.97 },
      url: 'https://security-tracker.debian.org/tracker/CVE-2024-0001', namespace: 'debian:12',
    });
    assert.deepEqual(v.body.items[0].cvss, { score: 9.8, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', version: '3.1' });
    assert.equal(v.body.items[0].layer_index, 1);
    assert.equal(v.body.items[0].kev, false);
    const ids = async (digest: string, q: string) => (await api('GET', `/v1/summaries/images/${digest}/vulnerabilities?${q}`, admin)).body.items.map((x: any) => x.id);
    assert.deepEqual(await ids(A, 'severity=Critical'), ['CVE-2024-0002']);
    assert.deepEqual(await ids(A, 'severity=High'), ['CVE-2024-0002', 'CVE-2024-0001']);
    assert.deepEqual(await ids(A, 'kev=true'), ['CVE-2024-0001']);
    assert.deepEqual(await ids(A, 'kev=false'), ['CVE-2024-0002']);
    assert.deepEqual(await ids(A, 'fixable=false'), []);
    assert.deepEqual(await ids(C, 'fixable=false'), ['CVE-2024-0003']);
    assert.deepEqual(await ids(C, 'fixable=true'), []);
    assert.deepEqual(await ids(A, 'q=libssl'), ['CVE-2024-0001']);
    assert.deepEqual(await ids(A, 'q=cve-2024-0001'), ['CVE-2024-0001']);
    assert.deepEqual(await ids(A, 'sort=id'), ['CVE-2024-0001', 'CVE-2024-0002']);
    assert.deepEqual(await ids(A, 'sort=package'), ['CVE-2024-0002', 'CVE-2024-0001']);
    assert.deepEqual(await ids(A, 'sort=epss'), ['CVE-2024-0001', 'CVE-2024-0002']);
    assert.deepEqual(await ids(A, 'sort=cvss'), ['CVE-2024-0002', 'CVE-2024-0001']);
    assert.deepEqual(await ids(A, 'limit=1&page=2'), ['CVE-2024-0001']);
    assert.deepEqual(await ids(B, ''), []);
  });

  test('compare: a package upgraded, a vulnerability fixed', async () => {
    const r = await api('GET', `/v1/summaries/compare?base=${A}&target=${B}`, admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.base.imageDigest, A);
    assert.equal(r.body.target.imageDigest, B);
    assert.deepEqual(r.body.packages, {
      added: [{ name: 'libzstd1', type: 'deb', version: '1.5.4+dfsg2-5' }],
      removed: [{ name: 'left-pad', type: 'npm', version: '1.1.0' }],
      upgraded: [{ name: 'libssl3', type: 'deb', from: '3.0.11-1~deb12u1', to: '3.0.15-1~deb12u1' }],
      downgraded: [],
    });
    assert.deepEqual(r.body.vulnerabilities.introduced.map((f: any) => f.id), []);
    assert.deepEqual(r.body.vulnerabilities.fixed, [
      { id: 'CVE-2024-0002', severity: 'Critical', package_name: 'left-pad', package_version: '1.1.0', fixed_versions: ['1.3.0'] },
      { id: 'CVE-2024-0001', severity: 'High', package_name: 'libssl3', package_version: '3.0.11-1~deb12u1', fixed_versions: ['3.0.15-1~deb12u1'] },
    ]);
    assert.deepEqual([r.body.secrets, r.body.setuid, r.body.verdict], [{ added: [], removed: [] }, { added: [], removed: [] }, { base: 'fail', target: 'warn', changed: true }], 'both images evaluated when analyzed');
    const back = await api('GET', `/v1/summaries/compare?base=${B}&target=${A}`, admin);
    assert.deepEqual(back.body.packages.downgraded, [{ name: 'libssl3', type: 'deb', from: '3.0.15-1~deb12u1', to: '3.0.11-1~deb12u1' }]);
    assert.equal(back.body.vulnerabilities.introduced.length, 2);
  });

  test('check?advise=true: the upgrades that make A pass, on the current evaluation\'s entry (Anchore\'s shape otherwise)', async () => {
    const tagA = `${host}/team/app:1.0`;
    const r = await api('GET', `/v1/images/${A}/check?tag=${encodeURIComponent(tagA)}&interactive=true&advise=true`, admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const entry = r.body[0][A][tagA][0];
    assert.deepEqual(Object.keys(entry).sort(), ['advice', 'detail', 'last_evaluation', 'policyId', 'status']);
    assert.equal(entry.status, 'fail');
    const advice = entry.advice;
    assert.deepEqual([advice.status, advice.status_after, advice.verified_by, advice.remaining], ['fail', 'pass', 'rescan', []]);
    assert.deepEqual(advice.entries.map((e: any) => [e.kind, e.package.name, e.package.version, e.to, e.layer_index, e.instruction, e.vulnerabilities]), [
      ['upgrade', 'left-pad', '1.1.0', '1.3.0', 1, 'RUN npm install -g left-pad', ['CVE-2024-0002']],
      ['upgrade', 'libssl3', '3.0.11-1~deb12u1', '3.0.15-1~deb12u1', 0, 'ADD file:layer0 in /', ['CVE-2024-0001']],
    ]);
    assert.equal('advice' in (await api('GET', `/v1/images/${A}/check?tag=${encodeURIComponent(tagA)}&interactive=true`, admin)).body[0][A][tagA][0], false);
  });

  test('a stored policy evaluation shows as the verdict', async () => {
    const tagA = `${host}/team/app:1.0`;
    const check = await api('GET', `/v1/images/${A}/check?tag=${encodeURIComponent(tagA)}&detail=true`, admin);
    assert.equal(check.status, 200, JSON.stringify(check.body));
    assert.equal(check.body[0][A][tagA][0].detail.result.final_action, 'stop');
    const tagB = `${host}/team/app:2.0`;
    const checkB = await api('GET', `/v1/images/${B}/check?tag=${encodeURIComponent(tagB)}&detail=true`, admin);
    const verdictB = ({ go: 'pass', warn: 'warn', stop: 'fail' } as Record<string, string>)[checkB.body[0][B][tagB][0].detail.result.final_action];
    // interactive evaluations are not stored, so they change nothing
    await api('GET', `/v1/images/${C}/check?tag=${encodeURIComponent(`${host}/tools/base:1`)}&interactive=true`, admin);

    const a = (await api('GET', `/v1/summaries/images/${A}`, admin)).body;
    assert.equal(a.summary.verdict, 'fail');
    assert.match(a.summary.evaluated_at, /Z$/);
    assert.ok(a.verdicts.length >= 1 && a.verdicts.every((v: any) => v.final_action === 'stop' && v.verdict === 'fail' && v.tag === tagA && v.bundle_id.length > 0), JSON.stringify(a.verdicts));
    assert.deepEqual(digests(await list('?verdict=fail')), verdictB === 'fail' ? [B, A] : [A]);
    assert.deepEqual(digests(await list('?verdict=warn&sort=tag&order=asc')), verdictB === 'warn' ? [B, C] : [C], 'C keeps the verdict it got when analyzed');
    assert.deepEqual(digests(await list('?verdict=none')), []);
  });

  test('a re-match after new vulnerability data changes the list without re-analysis; the trend grows', async () => {
    const { svc } = h();
    const before = (await list('?sort=tag&order=asc')).body.items as any[];
    const trendBefore = (await api('GET', '/v1/summaries/dashboard', admin)).body.trend as any[];
    const db = new VulnDb(svc.db);
    await db.apply('debian', {
      full: false,
      batches: [{
        vulnerabilities: [vuln({ id: 'CVE-2024-0004', source: 'debian' })],
        affected: [affected({ vulnId: 'CVE-2024-0004', name: 'zlib', fixedVersions: ['1:1.3-1'], severity: 'Low' })],
      }],
    }, { kind: 'sync' });
    const runs = async () => (await svc.cycles.states()).find((c) => c.name === REMATCH_CYCLE)?.runs ?? 0;
    const start = await runs();
    await svc.cycles.trigger(REMATCH_CYCLE);
    const deadline = Date.now() + 20_000;
    while ((await runs()) <= start) {
      assert.ok(Date.now() < deadline, 'the vulnerability_scan cycle did not run');
      await new Promise((r) => setTimeout(r, 100));
    }
    const after = (await list('?sort=tag&order=asc')).body.items as any[];
    assert.deepEqual(after.map((s) => s.vulnerabilities.Low), [0, 0, 1]);
    assert.deepEqual(after.map((s) => s.vulnerabilities.fixable), [2, 0, 1]);
    assert.deepEqual(after.map((s) => s.analyzed_at), before.map((s) => s.analyzed_at));
    assert.deepEqual(digests(await list('?vulnerability=CVE-2024-0004&sort=tag&order=asc')), [C]);
    assert.deepEqual(digests(await list('?severity=Low&sort=tag&order=asc')), [A, C]);
    const vC = await api('GET', `/v1/images/${C}/vuln/all`, admin);
    assert.equal(vC.body.vulnerabilities.length, after[2].vulnerabilities.total);
    assert.equal(after[2].vulnerabilities.total, 2);
    assert.deepEqual((await api('GET', `/v1/summaries/images/${B}`, admin)).body.vuln_changes, []);

    const detail = (await api('GET', `/v1/summaries/images/${C}`, admin)).body;
    assert.equal(detail.vuln_changes.length, 1);
    assert.deepEqual([detail.vuln_changes[0].added, detail.vuln_changes[0].removed, detail.vuln_changes[0].updated], [1, 0, 0]);
    assert.equal(detail.vuln_changes[0].detail.added[0].CVE_ID, 'CVE-2024-0004');

    const dash = (await api('GET', '/v1/summaries/dashboard', admin)).body;
    assert.equal(dash.trend.length, trendBefore.length + 1);
    const last = dash.trend[dash.trend.length - 1];
    assert.deepEqual({ ...last, at: undefined }, { at: undefined, ...dash.vulnerabilities.by_severity, total: dash.vulnerabilities.total });
    assert.equal(last.Low, 1);
    assert.match(last.at, /Z$/);
  });

  test('the dashboard', async () => {
    const { svc, config } = h();
    // Deliver what is due to a closed port: every notification's attempt fails.
    await new Notifier(svc.db, config.webhooks, svc.accounts).deliverDue();
    const r = await api('GET', '/v1/summaries/dashboard', admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const d = r.body;
    assert.deepEqual(d.images, { total: 3, by_status: { not_analyzed: 0, analyzing: 0, analyzed: 3, analysis_failed: 0 } });
    const items = (await list()).body.items as any[];
    const sum = (f: (s: any) => number) => items.reduce((n, s) => n + f(s), 0);
    assert.deepEqual(d.vulnerabilities, {
      by_severity: Object.fromEntries(sev.map((s) => [s, sum((i) => i.vulnerabilities[s])])),
      total: sum((i) => i.vulnerabilities.total), fixable: sum((i) => i.vulnerabilities.fixable), kev: 1, images_affected: 2,
    });
    assert.equal(d.vulnerabilities.total, 4);
    assert.equal(d.verdicts.pass + d.verdicts.warn + d.verdicts.fail + d.verdicts.none, 3);
    assert.equal(d.verdicts.none, 0, 'every analyzed image was evaluated when analyzed');
    assert.deepEqual(d.worst_images.map((s: any) => s.imageDigest), [A, C]);
    const names = d.feeds.map((f: any) => f.name);
    assert.deepEqual(names, ['debian', 'github', 'kev']);
    const debian = d.feeds[0];
    assert.equal(debian.status, 'ok');
    assert.ok(debian.record_count > 0);
    assert.match(debian.last_sync, /Z$/);
    assert.equal(typeof debian.age_seconds, 'number');
    assert.ok(d.trend.length >= 2 && d.trend.length <= 30);
    assert.ok(d.recent_events.length > 0 && d.recent_events.length <= 10);
    assert.ok(d.recent_events.every((e: any) => /Z$/.test(e.timestamp) && ['INFO', 'ERROR'].includes(e.level) && typeof e.type === 'string'));
    const times = d.recent_events.map((e: any) => e.timestamp);
    assert.deepEqual(times, [...times].sort().reverse());
    assert.ok(d.failed_deliveries.length > 0 && d.failed_deliveries.length <= 10, JSON.stringify(d.failed_deliveries));
    const f = d.failed_deliveries[0];
    assert.equal(f.type, 'analysis_update');
    assert.match(f.url, /^http:\/\/127\.0\.0\.1:9\/hooks\/admin\/analysis_update/);
    assert.equal(f.attempts, 1);
    assert.ok(f.last_error.length > 0);
    assert.match(f.last_attempt_at, /Z$/);
  });

  test('feed counts and times agree: records stored, as /system/feeds counts them; a failed attempt is no last sync (issue 17)', async () => {
    // /system/feeds names Anchore's feeds; each lists its sources (Lading's drivers), which the dashboard shows.
    const byName = async () => new Map<string, any>(((await api('GET', '/v1/system/feeds', admin)).body as any[]).flatMap((f) => f.sources.map((s: any) => [s.name, s])));
    const feeds = await byName();
    const dash = (await api('GET', '/v1/summaries/dashboard', admin)).body;
    for (const f of dash.feeds) assert.equal(f.record_count, feeds.get(f.name)!.record_count, f.name);
    // debian's last sync brought 2 records (an incremental one, after the advisory): the dashboard counts what is stored
    assert.ok(dash.feeds.find((f: any) => f.name === 'debian').record_count > 2);

    const db = await openVulnDb(h().dbUrl);
    try {
      await db.apply('nvd', { full: true, batches: [{ vulnerabilities: [vuln({ id: 'CVE-2024-0009', source: 'nvd' })] }] }, { kind: 'sync' });
      await db.recordFailure('nvd', 'sync', 'nvd: HTTP 503', new Date(Date.now() + 60_000));
    } finally {
      await db.close();
    }
    const nvd = (await byName()).get('nvd')!;
    assert.deepEqual([nvd.status, nvd.record_count, nvd.last_error], ['failed', 1, 'nvd: HTTP 503']);
    assert.ok(Date.parse(nvd.last_sync) < Date.parse(nvd.last_attempt), `${nvd.last_sync} is the last success, before the failed attempt ${nvd.last_attempt}`);
    const dnvd = (await api('GET', '/v1/summaries/dashboard', admin)).body.feeds.find((f: any) => f.name === 'nvd');
    assert.deepEqual([dnvd.status, dnvd.record_count, dnvd.last_sync], ['failed', 1, nvd.last_sync]);
  });

  test('another account sees nothing; an admin may look at it with x-anchore-account', async () => {
    const olivia = { user: 'olivia', pass: 'olivia-pass1' };
    const r = await api('GET', '/v1/summaries/images', olivia);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.total, r.body.items], [0, []]);
    const d = await api('GET', '/v1/summaries/dashboard', olivia);
    assert.equal(d.body.images.total, 0);
    assert.equal(d.body.vulnerabilities.total, 0);
    assert.deepEqual([d.body.worst_images, d.body.trend, d.body.failed_deliveries], [[], [], []]);
    for (const p of [`/v1/summaries/images/${A}`, `/v1/summaries/images/${A}/packages`, `/v1/summaries/images/${A}/vulnerabilities`, `/v1/summaries/compare?base=${A}&target=${B}`]) {
      assertErrorBody(await api('GET', p, olivia), 404);
    }
    assert.equal((await api('GET', '/v1/summaries/images', { ...admin, headers: { 'x-anchore-account': 'other' } })).body.total, 0);
  });

  test('SBOM downloads in CycloneDX and SPDX', async () => {
    const cdx = await api('GET', `/v1/images/${A}/sboms/cyclonedx-json`, admin);
    assert.equal(cdx.status, 200, cdx.text);
    assert.match(cdx.headers.get('content-type') ?? '', /application\/vnd\.cyclonedx\+json/);
    assert.equal(cdx.headers.get('content-disposition'), `attachment; filename="team-app-${A.slice(7, 19)}.cdx.json"`);
    assert.equal(cdx.body.bomFormat, 'CycloneDX');
    assert.ok(cdx.body.components.some((c: { name: string }) => c.name === 'libssl3'));
    const spdx = await api('GET', `/images/${A}/sboms/spdx-json`, admin);
    assert.equal(spdx.status, 200, spdx.text);
    assert.match(spdx.headers.get('content-type') ?? '', /application\/spdx\+json/);
    assert.equal(spdx.headers.get('content-disposition'), `attachment; filename="team-app-${A.slice(7, 19)}.spdx.json"`);
    assert.equal(spdx.body.spdxVersion, 'SPDX-2.3');
    assert.ok(spdx.body.packages.some((p: { name: string }) => p.name === 'left-pad'));
    assertErrorBody(await api('GET', `/v1/images/${A}/sboms/spdx-json`, { user: 'olivia', pass: 'olivia-pass1' }), 404);
    const doc = (await api('GET', '/v1/swagger.json')).body;
    for (const p of ['/summaries/images', '/summaries/dashboard', '/summaries/images/{imageDigest}', '/summaries/images/{imageDigest}/packages',
      '/summaries/images/{imageDigest}/vulnerabilities', '/summaries/compare', '/images/{imageDigest}/sboms/cyclonedx-json', '/images/{imageDigest}/sboms/spdx-json']) {
      assert.ok(doc.paths[p]?.get, p);
    }
  });

  test('a deleted image leaves the list and the dashboard', async () => {
    assert.equal((await api('DELETE', `/v1/images/${C}`, admin)).status, 200);
    const r = await list('?sort=tag&order=asc');
    assert.deepEqual(digests(r), [A, B]);
    assert.equal((await api('GET', '/v1/summaries/dashboard', admin)).body.images.total, 2);
    assertErrorBody(await api('GET', `/v1/summaries/images/${C}`, admin), 404);
    const rows = await h().svc.db.kysely.selectFrom('image_summaries').select('image_digest').where('image_digest', '=', C).execute();
    assert.deepEqual(rows, []);
  });
});
