/**
 * Multi-arch images: POST /images?platform=… picks one platform of an index, ?all_platforms=true
 * adds (and analyzes) every platform's image, each recording the index as its parent.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { buildImage, buildIndex } from '../../testkit/images.js';
import { pushImage } from '../../testkit/registry.js';
import { ADMIN as admin, assertErrorBody, describeService, waitAnalyzed } from '../../testkit/service.js';

const layer = (arch: string) => ({ entries: [
  { type: 'file' as const, path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
  { type: 'file' as const, path: 'var/lib/dpkg/status', content: `Package: base-files\nStatus: install ok installed\nArchitecture: ${arch}\nVersion: 12.4\n` },
] });
const amd64 = buildImage({ layers: [layer('amd64')] });
const arm64 = buildImage({ platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layers: [layer('arm64')] });
const index = buildIndex([amd64, arm64]);

describeService('multi-arch image add', { registry: true }, (h) => {
  before(async () => pushImage(h().registry!.host, 'team/multi', '1', index));

  test('one platform by choice; every platform with all_platforms', async () => {
    const { api } = h();
    const tag = `${h().registry!.host}/team/multi:1`;
    const one = await api('POST', '/v1/images?platform=linux/arm64', { ...admin, body: { tag } });
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.deepEqual(one.body.map((i: { imageDigest: string }) => i.imageDigest), [arm64.manifestDigest]);
    assert.equal(one.body[0].parentDigest, index.digest);

    const all = await api('POST', '/v1/images?all_platforms=true', { ...admin, body: { tag } });
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.deepEqual(all.body.map((i: { imageDigest: string }) => i.imageDigest).sort(), [amd64.manifestDigest, arm64.manifestDigest].sort());
    for (const digest of [amd64.manifestDigest, arm64.manifestDigest]) {
      const img = await waitAnalyzed(api, digest);
      assert.equal(img.image_content.metadata.arch, digest === arm64.manifestDigest ? 'arm64' : 'amd64');
    }
  });

  test('a bad or missing platform is a 400 naming it', async () => {
    const { api } = h();
    const tag = `${h().registry!.host}/team/multi:1`;
    assertErrorBody(await api('POST', '/v1/images?platform=linux/s390x', { ...admin, body: { tag } }), 400, /s390x.*linux\/amd64/);
    assertErrorBody(await api('POST', '/v1/images?platform=%2F%2F', { ...admin, body: { tag } }), 400, /platform/);
  });
});
