/**
 * /query over HTTP on SQLite and PostgreSQL: images by package and by vulnerability (the package
 * index narrows, the matcher decides: a fixed version is not reported), account isolation,
 * pagination, and the vulnerability records of the database.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { openVulnDb } from '../../store/db.js';
import { buildImage, type BuiltImage } from '../../testkit/images.js';
import { pushImage } from '../../testkit/registry.js';
import { ADMIN as admin, assertErrorBody, describeService, waitAnalyzed, type ApiClient, type RequestOptions } from '../../testkit/service.js';
import { affected, vuln } from '../../vulns/testing.js';

const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const GHSA = 'GHSA-1111-2222-3333';

function debianImage(opensslVersion: string, withLeftPad: boolean): BuiltImage {
  return buildImage({
    layers: [{ entries: [
      { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
      { type: 'file', path: 'var/lib/dpkg/status', content: `Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${opensslVersion}\nSource: openssl\n` },
      ...(withLeftPad ? [{ type: 'file' as const, path: 'usr/lib/node_modules/left-pad/package.json', content: JSON.stringify({ name: 'left-pad', version: '1.1.0' }) }] : []),
    ] }],
  });
}

/** libssl3 before the fix, and left-pad: affected by everything below. */
const vulnerable = debianImage('3.0.11-1~deb12u1', true);
/** libssl3 at the fix version: the index names it, the matcher clears it of CVE-2024-0001. */
const patched = debianImage('3.0.15-1~deb12u1', false);

async function seedVulnDb(dbUrl: string): Promise<void> {
  const db = await openVulnDb(dbUrl);
  try {
    await db.apply('debian', {
      full: true,
      batches: [{
        vulnerabilities: [
          vuln({ id: 'CVE-2024-0001', source: 'debian', description: 'openssl overflow', references: ['https://security-tracker.debian.org/tracker/CVE-2024-0001'] }),
          vuln({ id: 'CVE-2024-0003', source: 'debian', references: [] }),
        ],
        affected: [
          affected({ vulnId: 'CVE-2024-0001', name: 'openssl', fixedVersions: ['3.0.15-1~deb12u1'], severity: 'High' }),
          affected({ vulnId: 'CVE-2024-0003', name: 'openssl', state: 'wont-fix', severity: 'Low' }),
        ],
      }],
    }, { kind: 'sync' });
    await db.apply('nvd', {
      full: true,
      batches: [{ vulnerabilities: [vuln({ id: 'CVE-2024-0001', source: 'nvd', cvss: [{ source: 'nvd', version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', baseScore: 9.8, type: 'Primary' }] })] }],
    }, { kind: 'sync' });
    await db.apply('ghsa', {
      full: true,
      batches: [{
        vulnerabilities: [vuln({ id: GHSA, source: 'ghsa', aliases: ['CVE-2024-0002'], severity: 'Medium', references: ['https://github.com/advisories/GHSA-1111-2222-3333'] })],
        affected: [affected({ vulnId: GHSA, source: 'ghsa', namespace: 'npm', name: 'left-pad', nameKind: 'binary', scheme: 'semver', ranges: [{ introduced: '0', fixed: '1.2.0' }] })],
      }],
    }, { kind: 'sync' });
  } finally {
    await db.close();
  }
}

async function add(api: ApiClient, auth: RequestOptions, tag: string, digest: string): Promise<void> {
  const r = await api('POST', '/v1/images', { ...auth, body: { tag } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await waitAnalyzed(api, digest, auth);
}

const digests = (body: { images: { image: { imageDigest: string } }[] }) => body.images.map((i) => i.image.imageDigest);

describeService('query API', { registry: true, seed: seedVulnDb }, (h) => {
  const bob = { user: 'bob', pass: 'bob-secret' };

  before(async () => {
    const { api, registry } = h();
    await pushImage(registry!.host, 'team/app', 'v1', vulnerable);
    await pushImage(registry!.host, 'team/app', 'v2', patched);
    await add(api, admin, `${registry!.host}/team/app:v1`, vulnerable.manifestDigest);
    await add(api, admin, `${registry!.host}/team/app:v2`, patched.manifestDigest);
    // Another account holds only the patched image.
    assert.equal((await api('POST', '/v1/accounts', { ...admin, body: { name: 'team2' } })).status, 200);
    assert.equal((await api('POST', '/v1/accounts/team2/users', { ...admin, body: { username: 'bob', password: 'bob-secret' } })).status, 200);
    await add(api, bob, `${registry!.host}/team/app:v2`, patched.manifestDigest);
  });

  test('images by package: shape, filters, pagination, account isolation', async () => {
    const { api, registry } = h();
    const r = await api('GET', '/v1/query/images/by_package?name=libssl3', admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const sorted = [vulnerable.manifestDigest, patched.manifestDigest].sort();
    assert.deepEqual(digests(r.body), sorted);
    assert.deepEqual([r.body.page, r.body.returned_count, r.body.total_count, r.body.next_page], ['1', 2, 2, undefined]);
    const v1 = r.body.images.find((i: { image: { imageDigest: string } }) => i.image.imageDigest === vulnerable.manifestDigest);
    assert.deepEqual(v1.packages, [{ name: 'libssl3', version: '3.0.11-1~deb12u1', type: 'dpkg' }]);
    assert.equal(v1.image.imageId, vulnerable.configDigest.replace('sha256:', ''));
    assert.match(v1.image.analyzed_at, ISO_Z);
    assert.equal(v1.image.tag_history.length, 1);
    assert.deepEqual({ ...v1.image.tag_history[0], tag_detected_at: 'x' }, { registry: registry!.host, repo: 'team/app', tag: 'v1', fulltag: `${registry!.host}/team/app:v1`, tag_detected_at: 'x' });
    assert.match(v1.image.tag_history[0].tag_detected_at, ISO_Z);

    const byVersion = await api('GET', '/query/images/by_package?name=libssl3&version=3.0.15-1~deb12u1', admin);
    assert.deepEqual(digests(byVersion.body), [patched.manifestDigest]);
    const npm = await api('GET', '/v1/query/images/by_package?name=left-pad&package_type=npm', admin);
    assert.deepEqual(digests(npm.body), [vulnerable.manifestDigest]);
    assert.deepEqual(npm.body.images[0].packages, [{ name: 'left-pad', version: '1.1.0', type: 'npm' }]);
    assert.equal((await api('GET', '/v1/query/images/by_package?name=left-pad&package_type=dpkg', admin)).body.total_count, 0);
    assert.equal((await api('GET', '/v1/query/images/by_package?name=libssl3&package_type=deb', admin)).body.total_count, 2);
    assert.equal((await api('GET', '/v1/query/images/by_package?name=nothing-here', admin)).body.total_count, 0);

    // Pagination.
    const p1 = await api('GET', '/v1/query/images/by_package?name=libssl3&limit=1', admin);
    assert.deepEqual([p1.body.page, p1.body.next_page, p1.body.returned_count, p1.body.total_count], ['1', '2', 1, 2]);
    assert.deepEqual(digests(p1.body), [sorted[0]]);
    const p2 = await api('GET', '/v1/query/images/by_package?name=libssl3&limit=1&page=2', admin);
    assert.deepEqual([p2.body.page, p2.body.next_page, p2.body.returned_count], ['2', undefined, 1]);
    assert.deepEqual(digests(p2.body), [sorted[1]]);
    assert.equal((await api('GET', '/v1/query/images/by_package?name=libssl3&limit=1&page=3', admin)).body.returned_count, 0);

    // bob sees his own image only; the admin sees bob's through the header.
    assert.deepEqual(digests((await api('GET', '/v1/query/images/by_package?name=libssl3', bob)).body), [patched.manifestDigest]);
    assert.equal((await api('GET', '/v1/query/images/by_package?name=left-pad', bob)).body.total_count, 0);
    const asTeam2 = await api('GET', '/v1/query/images/by_package?name=libssl3', { ...admin, headers: { 'x-anchore-account': 'team2' } });
    assert.deepEqual(digests(asTeam2.body), [patched.manifestDigest]);

    assertErrorBody(await api('GET', '/v1/query/images/by_package', admin), 400, /name/);
    assertErrorBody(await api('GET', '/v1/query/images/by_package?name=libssl3&limit=0', admin), 400, /limit/);
    assertErrorBody(await api('GET', '/v1/query/images/by_package?name=libssl3&page=x', admin), 400, /page/);
    assertErrorBody(await api('GET', '/v1/query/images/by_package?name=libssl3&package_type=cobol', admin), 400, /package_type/);
    assertErrorBody(await api('GET', '/v1/query/images/by_package?name=libssl3'), 401);
  });

  test('images by vulnerability: the matcher decides, aliases, filters, vendor_only, isolation', async () => {
    const { api, registry } = h();
    const r = await api('GET', '/v1/query/images/by_vulnerability?vulnerability_id=CVE-2024-0001', admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(digests(r.body), [vulnerable.manifestDigest]);
    assert.deepEqual([r.body.page, r.body.returned_count, r.body.total_count], ['1', 1, 1]);
    assert.deepEqual(r.body.images[0].vulnerable_packages, [{ name: 'libssl3', version: '3.0.11-1~deb12u1', type: 'dpkg', namespace: 'debian:12', severity: 'High' }]);
    assert.equal(r.body.images[0].image.tag_history[0].fulltag, `${registry!.host}/team/app:v1`);

    // bob's only image holds the fixed version.
    assert.equal((await api('GET', '/v1/query/images/by_vulnerability?vulnerability_id=CVE-2024-0001', bob)).body.total_count, 0);

    // By alias: the GHSA record names CVE-2024-0002.
    const alias = await api('GET', '/v1/query/images/by_vulnerability?vulnerability_id=CVE-2024-0002', admin);
    assert.deepEqual(digests(alias.body), [vulnerable.manifestDigest]);
    assert.deepEqual(alias.body.images[0].vulnerable_packages, [{ name: 'left-pad', version: '1.1.0', type: 'npm', namespace: 'github:npm', severity: 'Medium' }]);
    assert.equal((await api('GET', `/v1/query/images/by_vulnerability?vulnerability_id=${GHSA}`, admin)).body.total_count, 1);
    assert.equal((await api('GET', '/v1/query/images/by_vulnerability?vulnerability_id=CVE-2024-0002&namespace=github:npm', admin)).body.total_count, 1, 'Anchore\'s group name selects the namespace');

    // Filters.
    const q = '/v1/query/images/by_vulnerability?vulnerability_id=CVE-2024-0001';
    assert.equal((await api('GET', `${q}&severity=high`, admin)).body.total_count, 1);
    assert.equal((await api('GET', `${q}&severity=Low`, admin)).body.total_count, 0);
    assert.equal((await api('GET', `${q}&namespace=debian:12`, admin)).body.total_count, 1);
    assert.equal((await api('GET', `${q}&namespace=debian:11`, admin)).body.total_count, 0);
    assert.equal((await api('GET', `${q}&affected_package=libssl3`, admin)).body.total_count, 1);
    assert.equal((await api('GET', `${q}&affected_package=openssl`, admin)).body.total_count, 0);

    // A will-not-fix vulnerability: left out by default (vendor_only), in with vendor_only=false.
    const wontFix = '/v1/query/images/by_vulnerability?vulnerability_id=CVE-2024-0003';
    assert.equal((await api('GET', wontFix, admin)).body.total_count, 0);
    const all = await api('GET', `${wontFix}&vendor_only=false&limit=1`, admin);
    assert.deepEqual([all.body.total_count, all.body.returned_count, all.body.next_page], [2, 1, '2']);
    assert.equal(all.body.images[0].vulnerable_packages[0].severity, 'Low');
    assert.equal((await api('GET', `${wontFix}&vendor_only=false`, bob)).body.total_count, 1);

    assert.equal((await api('GET', '/v1/query/images/by_vulnerability?vulnerability_id=CVE-1999-9999', admin)).body.total_count, 0);
    assertErrorBody(await api('GET', '/v1/query/images/by_vulnerability', admin), 400, /vulnerability_id/);
    assertErrorBody(await api('GET', `${q}&severity=dire`, admin), 400, /severity/);
    assertErrorBody(await api('GET', `${q}&vendor_only=maybe`, admin), 400, /vendor_only/);
  });

  test('vulnerability records: per namespace, NVD data, package filters', async () => {
    const { api } = h();
    const r = await api('GET', '/v1/query/vulnerabilities?id=CVE-2024-0001', admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.page, r.body.returned_count, r.body.total_count], ['1', 2, 2]);
    const [deb, nvd] = r.body.vulnerabilities;
    assert.deepEqual({ ...deb, nvd_data: undefined }, {
      id: 'CVE-2024-0001',
      namespace: 'debian:12',
      severity: 'High',
      link: 'https://security-tracker.debian.org/tracker/CVE-2024-0001',
      affected_packages: [{ name: 'openssl', version: '< 3.0.15-1~deb12u1', type: 'dpkg', will_not_fix: false }],
      description: 'openssl overflow',
      references: [{ source: 'debian', url: 'https://security-tracker.debian.org/tracker/CVE-2024-0001' }],
      nvd_data: undefined,
      vendor_data: [],
    });
    assert.deepEqual(deb.nvd_data, [{ id: 'CVE-2024-0001', cvss_v2: { base_score: -1, exploitability_score: -1, impact_score: -1 }, cvss_v3: { base_score: 9.8, exploitability_score: 3.9, impact_score: 5.9 } }]);
    assert.deepEqual([nvd.namespace, nvd.affected_packages, nvd.link], ['nvd', [], 'https://nvd.nist.gov/vuln/detail/CVE-2024-0001']);

    const wontFix = (await api('GET', '/v1/query/vulnerabilities?id=CVE-2024-0003', admin)).body.vulnerabilities;
    assert.deepEqual(wontFix[0].affected_packages, [{ name: 'openssl', version: '*', type: 'dpkg', will_not_fix: true }]);

    const ghsa = (await api('GET', '/v1/query/vulnerabilities?id=CVE-2024-0002', admin)).body.vulnerabilities;
    assert.deepEqual(ghsa.map((v: { id: string; namespace: string }) => [v.id, v.namespace]), [[GHSA, 'github:npm']]);
    assert.deepEqual(ghsa[0].affected_packages, [{ name: 'left-pad', version: '< 1.2.0', type: 'semver', will_not_fix: false }]);

    // Several ids, a namespace, a package and a version it does or does not affect.
    assert.equal((await api('GET', '/v1/query/vulnerabilities?id=CVE-2024-0001,CVE-2024-0003', admin)).body.total_count, 3);
    assert.equal((await api('GET', '/v1/query/vulnerabilities?id=CVE-2024-0001&namespace=debian:12', admin)).body.total_count, 1);
    const pkg = '/v1/query/vulnerabilities?id=CVE-2024-0001&affected_package=openssl';
    assert.equal((await api('GET', pkg, admin)).body.total_count, 1);
    assert.equal((await api('GET', `${pkg}&affected_package_version=3.0.11-1~deb12u1`, admin)).body.total_count, 1);
    assert.equal((await api('GET', `${pkg}&affected_package_version=3.0.15-1~deb12u1`, admin)).body.total_count, 0);
    const paged = await api('GET', '/v1/query/vulnerabilities?id=CVE-2024-0001&limit=1', admin);
    assert.deepEqual([paged.body.next_page, paged.body.vulnerabilities[0].namespace], ['2', 'debian:12']);
    assert.equal((await api('GET', '/v1/query/vulnerabilities?id=CVE-1999-9999', bob)).body.total_count, 0);

    assertErrorBody(await api('GET', '/v1/query/vulnerabilities', admin), 400, /id/);
    assertErrorBody(await api('GET', '/v1/query/vulnerabilities?id=CVE-2024-0001&affected_package_version=1', admin), 400, /affected_package/);
  });

  test('deleting an image removes it from the package index', async () => {
    const { api, svc } = h();
    assert.equal((await api('DELETE', `/v1/images/${patched.manifestDigest}`, bob)).status, 200);
    assert.equal((await api('GET', '/v1/query/images/by_package?name=libssl3', bob)).body.total_count, 0);
    const rows = await svc.db.kysely.selectFrom('image_packages').select('name').where('account', '=', 'team2').execute();
    assert.deepEqual(rows, []);
    assert.equal((await api('GET', '/v1/query/images/by_package?name=libssl3', admin)).body.total_count, 2);
  });
});
