/**
 * For bench/cache.ts: one worker process analyzing its share of N images that share the test
 * bed's debian-base layer (each with a small top layer of its own), as the service's analyzer does
 * (file digests on), with the layer cache at argv[5] or none. `node cache-worker.js N INDEX PROCS [DIR]`.
 */
import { openSource } from '../image/sources/index.js';
import { analyzeImage } from '../analyze/analyze.js';
import { DiskCache } from '../analyze/cache/store.js';
import { buildImage, type BuiltImage } from '../testkit/images.js';
import { sha256 } from '../testkit/tar.js';
import { memoryImage } from '../testkit/memory-image.js';
import type { ResolvedImage } from '../image/types.js';

async function baseTar(): Promise<Buffer> {
  const source = await openSource('oci-dir:/var/tmp/testbed/oci/debian-base:latest');
  try {
    const img = await source.resolve({});
    const { openLayer } = await import('../image/layers.js');
    const { withLimits } = await import('../image/limits.js');
    const chunks: Buffer[] = [];
    for await (const c of await openLayer(img, 0, withLimits())) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  } finally {
    await source.close();
  }
}

/** Image i: the base image's gzip layer (compressed once) under a small top layer of its own. */
function image(base: BuiltImage, i: number): ResolvedImage {
  const top = buildImage({ layers: [{ entries: [{ type: 'dir', path: 'app' }, { type: 'file', path: `app/build-${i}.txt`, content: `build ${i}\n` }] }] });
  const layers = [base.layers[0]!, top.layers[0]!];
  const config = { ...base.config, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) }, history: [] };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = sha256(configBytes);
  const manifest = { ...base.manifest, config: { ...base.manifest.config, digest: configDigest, size: configBytes.length }, layers: layers.map((l) => l.desc) };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const blobs = new Map([...base.blobs, ...top.blobs, [configDigest, configBytes]]);
  return memoryImage({ ...base, manifest, manifestBytes, manifestDigest: sha256(manifestBytes), config, configBytes, configDigest, layers, blobs });
}

const [n, index, procs, dir] = [Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4]), process.argv[5] ?? ''];
const base = buildImage({ layers: [{ entries: [], tar: await baseTar() }] });
const cache = dir ? new DiskCache(dir) : null;
const start = performance.now();
for (let i = index; i < n; i += procs) await analyzeImage(image(base, i), { fileDigests: true, cache });
process.stdout.write(`${(performance.now() - start) / 1000}\n`);
