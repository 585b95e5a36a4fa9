/** Test helper, run as a child process: analyze a fixture image several times into the cache at argv[2]; print a digest of each SBOM. */
import { createHash } from 'node:crypto';
import { buildImage } from '../../testkit/images.js';
import { memoryImage } from '../../testkit/memory-image.js';
import { analyzeImage } from '../analyze.js';
import { DiskCache } from './store.js';
import type { Sbom } from '../../sbom/model.js';
import { writeNative } from '../../sbom/formats/native.js';

export function fixtureImage(seed: number) {
  const files = Array.from({ length: 200 }, (_, i) => ({ type: 'file' as const, path: `data/${seed}/f${i}.txt`, content: `file ${i} of ${seed}\napi_key = "${'k'.repeat(24)}${i}"\n` }));
  return memoryImage(buildImage({ layers: [
    { entries: [{ type: 'dir', path: 'etc' }, { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' }] },
    { entries: files },
  ] }));
}

/** A digest of the SBOM's canonical document (writeNative: keys in a fixed order), its creation time blanked. */
export function sbomDigest(s: Sbom): string {
  return createHash('sha256').update(writeNative({ ...s, createdAt: '' })).digest('hex');
}

if (process.argv[1]?.endsWith('testing-writer-child.ts')) {
  const cache = new DiskCache(process.argv[2]!, Number(process.argv[3] ?? 2 * 1024 ** 3));
  for (let i = 0; i < 4; i++) {
    const sbom = await analyzeImage(fixtureImage(i % 2), { cache, onFallback: (e) => console.error(`fallback: ${String(e)}`) });
    console.log(sbomDigest(sbom));
  }
}
