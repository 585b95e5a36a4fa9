/**
 * GET /v1/images/{digest} names the image's base (issue 19): the analyzed image whose layers are
 * the longest proper prefix of this one's, kept current when the base is analyzed after the image
 * built on it, and given up when the base is deleted.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { buildImage, type LayerSpec } from '../../testkit/images.js';
import { pushImage } from '../../testkit/registry.js';
import { ADMIN as admin, describeService, waitAnalyzed } from '../../testkit/service.js';

const os: LayerSpec = { createdBy: '/bin/sh -c #(nop) ADD file:os in / ', entries: [
  { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
  { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n' },
] };
const tools: LayerSpec = { createdBy: '/bin/sh -c apt-get install -y curl', entries: [{ type: 'file', path: 'usr/bin/curl', content: 'curl' }] };
const app: LayerSpec = { createdBy: '/bin/sh -c #(nop) COPY file:app in /app ', entries: [{ type: 'file', path: 'app/run.sh', content: 'echo hi' }] };

const base = buildImage({ layers: [os] });
const middle = buildImage({ layers: [os, tools] });
const child = buildImage({ layers: [os, tools, app] });

describeService('GET /v1/images/{digest}: base_image', { registry: true, dialects: ['sqlite'] }, (h) => {
  let host = '';
  const baseOf = async (digest: string) => (await h().api('GET', `/v1/images/${digest}`, admin)).body[0].base_image;
  const add = async (repo: string, image: typeof base) => {
    await pushImage(host, repo, 'v1', image);
    assert.equal((await h().api('POST', '/v1/images', { ...admin, body: { tag: `${host}/${repo}:v1` } })).status, 200);
    await waitAnalyzed(h().api, image.manifestDigest);
  };
  before(() => {
    host = h().registry!.host;
  });

  test('a base analyzed after its child becomes the child\'s base; a longer prefix replaces it; deleting it falls back', async () => {
    await add('team/child', child);
    assert.equal(await baseOf(child.manifestDigest), null, 'no base in the catalog yet');
    await add('team/base', base);
    assert.deepEqual(await baseOf(child.manifestDigest), { digest: base.manifestDigest, tag: `${host}/team/base:v1`, shared_layers: 1 });
    await add('team/middle', middle);
    assert.deepEqual(await baseOf(child.manifestDigest), { digest: middle.manifestDigest, tag: `${host}/team/middle:v1`, shared_layers: 2 });
    assert.deepEqual(await baseOf(middle.manifestDigest), { digest: base.manifestDigest, tag: `${host}/team/base:v1`, shared_layers: 1 });
    assert.equal(await baseOf(base.manifestDigest), null, 'an image is never its own base');
    assert.equal((await h().api('DELETE', `/v1/images/${middle.manifestDigest}?force=true`, admin)).status, 200);
    assert.deepEqual(await baseOf(child.manifestDigest), { digest: base.manifestDigest, tag: `${host}/team/base:v1`, shared_layers: 1 });
  });
});
