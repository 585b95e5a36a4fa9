/**
 * The feed operations over HTTP: Anchore's feed and group names in /system/feeds and in
 * vulnerability items, `enabled` as it is (feed sync is off in tests), CVSS sub-scores from the
 * vectors, and PUT / DELETE /system/feeds/{feed}[/{group}]: a disabled group or feed drops out of
 * the image's vulnerabilities, deleting is refused while enabled, then removes the data.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openVulnDb } from '../../store/db.js';
import { buildImage } from '../../testkit/images.js';
import { pushImage } from '../../testkit/registry.js';
import { ADMIN as admin, assertErrorBody, describeService, waitAnalyzed } from '../../testkit/service.js';
import { affected, vuln } from '../../vulns/testing.js';

const GHSA = 'GHSA-1111-2222-3333'; // shown by its CVE alias, CVE-2024-0002
const V3 = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';
const V2 = 'AV:N/AC:L/Au:N/C:P/I:P/A:P';

const image = buildImage({
  layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
    { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\nSource: openssl\n' },
    { type: 'file', path: 'usr/lib/node_modules/left-pad/package.json', content: JSON.stringify({ name: 'left-pad', version: '1.1.0' }) },
  ] }],
});

async function seed(dbUrl: string): Promise<void> {
  const db = await openVulnDb(dbUrl);
  try {
    await db.apply('debian', {
      full: true,
      batches: [{
        vulnerabilities: [vuln({ id: 'CVE-2024-0001', source: 'debian', references: [] })],
        affected: [affected({ vulnId: 'CVE-2024-0001', name: 'openssl', fixedVersions: ['3.0.15-1~deb12u1'], severity: 'High' })],
      }],
    }, { kind: 'sync' });
    await db.apply('nvd', {
      full: true,
      batches: [{ vulnerabilities: [vuln({ id: 'CVE-2024-0001', source: 'nvd', cvss: [
        { source: 'nvd', version: '3.1', vector: V3, baseScore: 9.8, type: 'Primary' },
        { source: 'nvd', version: '2.0', vector: V2, baseScore: 7.5, type: 'Primary' },
      ] })] }],
    }, { kind: 'sync' });
    await db.apply('ghsa', {
      full: true,
      batches: [{
        vulnerabilities: [vuln({ id: GHSA, source: 'ghsa', aliases: ['CVE-2024-0002'], severity: 'Medium', references: [] })],
        affected: [affected({ vulnId: GHSA, source: 'ghsa', namespace: 'npm', name: 'left-pad', nameKind: 'binary', scheme: 'semver', ranges: [{ introduced: '0', fixed: '1.2.0' }] })],
      }],
    }, { kind: 'sync' });
  } finally {
    await db.close();
  }
}

interface VulnItem { vuln: string; feed: string; feed_group: string; nvd_data: { cvss_v2: Record<string, number>; cvss_v3: Record<string, number> }[] }
interface Group { name: string; record_count: number; enabled: boolean; disabled?: boolean }
interface Feed { name: string; enabled: boolean; synced: boolean; disabled: boolean; groups: Group[] }

describeService('feed operations', { registry: true, seed, dialects: ['sqlite'] }, (h) => {
  const vulns = async (): Promise<VulnItem[]> => {
    const r = await h().api('GET', `/v1/images/${image.manifestDigest}/vuln/all`, admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body as { vulnerabilities: VulnItem[] }).vulnerabilities;
  };
  const feeds = async (): Promise<Feed[]> => (await h().api('GET', '/v1/system/feeds', admin)).body as Feed[];

  before(async () => {
    const { api, registry } = h();
    await pushImage(registry!.host, 'team/app', 'v1', image);
    const r = await api('POST', '/v1/images', { ...admin, body: { tag: `${registry!.host}/team/app:v1` } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitAnalyzed(api, image.manifestDigest, admin);
  });

  test('Anchore\'s names everywhere; enabled is false while this service does not sync; sub-scores from the vectors', async () => {
    const list = await feeds();
    assert.deepEqual(list.map((f) => [f.name, f.enabled, f.synced, f.groups.map((g) => `${g.name}=${g.record_count}`)]), [
      ['vulnerabilities', false, false, ['debian:12=1', 'github:npm=1']],
      ['nvdv2', false, false, ['nvdv2:cves=1']],
    ]);
    const items = await vulns();
    assert.deepEqual(items.map((v) => [v.vuln, v.feed, v.feed_group]).sort(), [['CVE-2024-0001', 'vulnerabilities', 'debian:12'], ['CVE-2024-0002', 'vulnerabilities', 'github:npm']]);
    const nvd = items.find((v) => v.vuln === 'CVE-2024-0001')!.nvd_data[0]!;
    assert.deepEqual(nvd.cvss_v3, { base_score: 9.8, exploitability_score: 3.9, impact_score: 5.9 });
    assert.deepEqual(nvd.cvss_v2, { base_score: 7.5, exploitability_score: 10, impact_score: 6.4 });
  });

  test('a disabled group drops out of matching; its data is deleted only once disabled', async () => {
    const { api } = h();
    const put = await api('PUT', '/v1/system/feeds/vulnerabilities/github:npm?enabled=false', admin);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const group = (put.body as Feed[])[0]!.groups.find((g) => g.name === 'github:npm')!;
    assert.deepEqual([group.disabled, group.enabled, group.record_count], [true, false, 1]);
    assert.deepEqual((await vulns()).map((v) => v.vuln), ['CVE-2024-0001']);

    const refused = await api('DELETE', '/v1/system/feeds/vulnerabilities/debian:12', admin);
    assertErrorBody(refused, 409, /group debian:12 is enabled: disable it first/);
    const del = await api('DELETE', '/v1/system/feeds/vulnerabilities/github:npm', admin);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.equal((del.body as Feed).groups.find((g) => g.name === 'github:npm')!.record_count, 0);
    // A JSON body works as well as the query parameter.
    const on = await api('PUT', '/v1/system/feeds/vulnerabilities/github:npm', { ...admin, body: { enabled: true } });
    assert.equal(on.status, 200, JSON.stringify(on.body));
    assert.deepEqual((await feeds())[0]!.groups.map((g) => g.name), ['debian:12'], 'no data and enabled: no group');
    assert.deepEqual((await vulns()).map((v) => v.vuln), ['CVE-2024-0001'], 'its data is gone');
  });

  test('a disabled feed drops out of matching (nvdv2: no NVD scores); deleting an enabled feed is refused', async () => {
    const { api } = h();
    const off = await api('PUT', '/v1/system/feeds/nvdv2?enabled=false', admin);
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal((off.body as Feed).disabled, true);
    assert.deepEqual((await vulns())[0]!.nvd_data, []);
    assert.equal((await api('PUT', '/v1/system/feeds/nvdv2?enabled=true', admin)).status, 200);
    assert.equal((await vulns())[0]!.nvd_data.length, 1);
    assertErrorBody(await api('DELETE', '/v1/system/feeds/vulnerabilities', admin), 409, /feed vulnerabilities is enabled: disable it first/);
  });

  test('bad requests: enabled missing or not a boolean, unknown feed or group', async () => {
    const { api } = h();
    assertErrorBody(await api('PUT', '/v1/system/feeds/vulnerabilities', admin), 400, /enabled is required/);
    assertErrorBody(await api('PUT', '/v1/system/feeds/vulnerabilities?enabled=maybe', admin), 400, /invalid enabled: "maybe" is not true or false/);
    assertErrorBody(await api('PUT', '/v1/system/feeds/nope?enabled=false', admin), 404, /no feed "nope"/);
    assertErrorBody(await api('PUT', '/v1/system/feeds/vulnerabilities/ubuntu:99.04?enabled=false', admin), 404, /no group "ubuntu:99.04"/);
    assertErrorBody(await api('DELETE', '/v1/system/feeds/nvdv2/other', admin), 404, /its one group is nvdv2:cves/);
  });
});
