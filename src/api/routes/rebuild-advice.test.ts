/**
 * `GET /v1/images/{digest}/check?advise=true` with a newer digest of the base's tag in the catalog,
 * end to end: a real local registry, the service analyzing the base, the image built on it, then
 * the base's tag moved to a newer digest and added again; the advice's first entry is the rebuild
 * on that digest, listing the inherited finding it removes (fixture images: analyze/testing-bases.ts).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { baseFixtures } from '../../analyze/testing-bases.js';
import { openVulnDb } from '../../store/db.js';
import { pushImage } from '../../testkit/registry.js';
import { ADMIN as admin, describeService, waitAnalyzed, type ApiClient } from '../../testkit/service.js';
import { affected, vuln } from '../../vulns/testing.js';

async function seed(dbUrl: string): Promise<void> {
  const db = await openVulnDb(dbUrl);
  try {
    await db.apply('debian', { full: true, batches: [{
      vulnerabilities: [vuln({ id: 'CVE-2024-1', source: 'debian', severity: 'High' }), vuln({ id: 'CVE-2024-2', source: 'debian', severity: 'High' })],
      affected: [
        affected({ vulnId: 'CVE-2024-1', name: 'zlib1g', ranges: [{ introduced: '0', fixed: '1:1.2.13.dfsg-3' }], fixedVersions: ['1:1.2.13.dfsg-3'], severity: 'High' }),
        affected({ vulnId: 'CVE-2024-2', name: 'libc6', ranges: [{ introduced: '0', fixed: '2.36-10' }], fixedVersions: ['2.36-10'], severity: 'High' }),
      ],
    }] }, { kind: 'sync' });
  } finally {
    await db.close();
  }
}

describeService('check?advise=true: rebuild on a newer base digest', { registry: true, seed, dialects: ['sqlite'] }, (h) => {
  const f = baseFixtures();
  let api: ApiClient;
  let host: string;
  const add = async (tag: string, digest: string) => {
    const r = await api('POST', '/v1/images', { ...admin, body: { tag: `${host}/${tag}` } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitAnalyzed(api, digest);
  };
  const advice = async () => {
    const tag = `${host}/app:1`;
    const r = await api('GET', `/v1/images/${f.app.manifestDigest}/check?tag=${encodeURIComponent(tag)}&interactive=true&advise=true`, admin);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body[0][f.app.manifestDigest][tag][0].advice;
  };

  before(async () => {
    api = h().api;
    host = h().registry!.host;
    await pushImage(host, 'os', '12', f.os);
    await pushImage(host, 'app', '1', f.app);
    await add('os:12', f.os.manifestDigest);
    await add('app:1', f.app.manifestDigest);
  });

  test('while the base\'s tag names the base: upgrades only', async () => {
    const a = await advice();
    assert.deepEqual(a.entries.map((e: { kind: string }) => e.kind), ['upgrade', 'upgrade']);
  });

  test('the tag moved to a newer, analyzed digest: rebuild on it first, removing the inherited libc6 finding', async () => {
    await pushImage(host, 'os', '12', f.osNewer);
    await add('os:12', f.osNewer.manifestDigest);
    const a = await advice();
    assert.deepEqual(a.entries.map((e: { kind: string }) => e.kind), ['rebuild-base', 'upgrade'], JSON.stringify(a.entries));
    assert.deepEqual(a.entries[0].base, { tag: `${host}/os:12`, digest: f.os.manifestDigest });
    assert.deepEqual(a.entries[0].to, { tag: `${host}/os:12`, digest: f.osNewer.manifestDigest });
    assert.deepEqual(a.entries[0].fixed, [{ vulnerability: 'CVE-2024-2', package: 'libc6', version: '2.36-9', to: '2.36-10' }]);
    assert.equal(a.entries[1].package.name, 'zlib1g');
    assert.deepEqual([a.status_after, a.verified_by], ['pass', 'rescan']);
  });
});
