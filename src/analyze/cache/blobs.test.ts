/** Image configs kept in the layer cache by digest: a warm resolve of a tag asks a real registry for its manifest only. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistrySource } from '../../image/sources/registry.js';
import { parseReference } from '../../image/reference.js';
import { withLimits } from '../../image/limits.js';
import { TokenCache } from '../../image/registry/auth.js';
import { encodeEntry } from './codec.js';
import { buildImage } from '../../testkit/images.js';
import { pushImage, registryAvailable, registrySkipReason, startProxy, startRegistry, type RunningServer } from '../../testkit/registry.js';
import { BLOB_BUCKET, blobCacheOf } from './blobs.js';
import { DiskCache } from './store.js';

const skip = registryAvailable() ? false : registrySkipReason;
const img = buildImage({ layers: [{ entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=test\n' }] }] });
const other = buildImage({ layers: [{ entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=other\n' }] }] });

describe('config blobs in the layer cache', { skip }, () => {
  let reg: RunningServer;
  let front: RunningServer;
  let dir: string;
  const seen: string[] = [];

  before(async () => {
    reg = await startRegistry();
    await pushImage(reg.host, 'app', 'v1', img);
    front = await startProxy(reg.host, (req) => {
      seen.push(`${req.method} ${req.url}`);
      return false;
    });
    dir = await mkdtemp(join(tmpdir(), 'lading-blobs-'));
  });

  after(async () => {
    await Promise.all([front?.stop(), reg?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  const resolve = async (cache: DiskCache) => {
    const s = new RegistrySource(parseReference(`${front.host}/app:v1`), {
      limits: withLimits(), credentialLookup: false, tokenCache: new TokenCache(), blobCache: blobCacheOf(cache),
    });
    try {
      return await s.resolve({});
    } finally {
      await s.close();
    }
  };

  it('the first resolve fetches and keeps the config; the next asks for the manifest only', async () => {
    const cache = new DiskCache(join(dir, 'warm'));
    seen.length = 0;
    const cold = await resolve(cache);
    assert.deepEqual(seen, ['GET /v2/app/manifests/v1', `GET /v2/app/blobs/${img.configDigest}`]);
    assert.deepEqual(await readdir(join(dir, 'warm', 'layers', BLOB_BUCKET)), [img.configDigest]);
    seen.length = 0;
    const warm = await resolve(new DiskCache(join(dir, 'warm')));
    assert.deepEqual(seen, ['GET /v2/app/manifests/v1']);
    assert.deepEqual(warm.config, cold.config);
    assert.deepEqual(warm.config, img.config);
    assert.equal((await cache.status()).layers, 0, 'a config is not a layer');
  });

  it('an entry whose bytes are not the digest\'s (another blob, a damaged file) is fetched again and replaced', async () => {
    const root = join(dir, 'wrong');
    const cache = new DiskCache(root);
    await cache.put(BLOB_BUCKET, img.configDigest, { meta: null, blobs: [other.configBytes] }); // intact entry, wrong content
    seen.length = 0;
    assert.deepEqual((await resolve(cache)).config, img.config);
    assert.deepEqual(seen, ['GET /v2/app/manifests/v1', `GET /v2/app/blobs/${img.configDigest}`]);
    assert.deepEqual((await cache.get(BLOB_BUCKET, img.configDigest))?.blobs, [img.configBytes]);

    const file = join(root, 'layers', BLOB_BUCKET, img.configDigest);
    const whole = Buffer.concat(encodeEntry({ meta: null, blobs: [img.configBytes] }));
    await writeFile(file, whole.subarray(0, whole.length - 5)); // truncated
    seen.length = 0;
    assert.deepEqual((await resolve(cache)).config, img.config);
    assert.equal(seen.length, 2);
  });

  it('a cache that cannot be written costs a request, not the run', async () => {
    await writeFile(join(dir, 'plain-file'), 'x');
    seen.length = 0;
    assert.deepEqual((await resolve(new DiskCache(join(dir, 'plain-file')))).config, img.config);
    assert.equal(seen.length, 2);
  });
});
