/**
 * By hand, not a test (CI has no test bed): the layer-wise pipeline, without a cache, cold and
 * warm, against squash-then-analyze on the shared test bed's images. Prints one line per image;
 * exits 1 when any differs. `node --import tsx src/bench/layered-check.ts [REF...]`.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { openSource } from '../image/sources/index.js';
import { analyzeImage, analyzeImageSquashed, type AnalyzeOptions } from '../analyze/analyze.js';
import { DiskCache } from '../analyze/cache/store.js';
import type { Sbom } from '../sbom/model.js';

const TESTBED = process.env.TESTBED ?? '/var/tmp/testbed';
const DEFAULT_REFS = [
  'registry:127.0.0.1:5000/debian-app:latest', 'registry:127.0.0.1:5000/debian-base:latest',
  'registry:127.0.0.1:5000/rpm-app:latest', 'registry:127.0.0.1:5000/rpm-app:bdb',
  ...['debian-app', 'debian-base:latest', 'debian-base:multi', 'rpm-app:latest', 'rpm-app:bdb'].map((n) => `oci-dir:${TESTBED}/oci/${n}`),
  ...['debian-app', 'debian-base', 'rpm-app', 'rpm-app-bdb'].map((n) => `docker-archive:${TESTBED}/archives/${n}.tar`),
  ...['path-traversal', 'symlink-escape', 'symlink-escape-2layer', 'hardlink-escape', 'digest-mismatch', 'truncated-gzip', 'missing-blob']
    .map((n) => `oci-dir:${TESTBED}/evil/oci/${n}`),
];

function normal(s: Sbom): unknown {
  const copy = JSON.parse(JSON.stringify({ ...s, createdAt: '' })) as Sbom;
  copy.warnings.sort();
  return copy;
}

async function check(ref: string, options: AnalyzeOptions): Promise<string> {
  const source = await openSource(ref, { insecureRegistries: ['127.0.0.1:5000'] });
  const dir = mkdtempSync(join(tmpdir(), 'lading-check-'));
  try {
    const img = await source.resolve({});
    const failure = (e: unknown) => ({ error: (e as Error).message });
    const reference = await analyzeImageSquashed(img, options).then(normal, failure);
    if ('error' in (reference as object)) {
      const got = await analyzeImage(img, { ...options, cache: new DiskCache(dir) }).then(normal, failure);
      return `${isDeepStrictEqual(got, reference) ? 'same' : 'DIFFERENT'}  ${ref}: both fail: ${(reference as { error: string }).error.slice(0, 100)}`;
    }
    const cache = new DiskCache(dir);
    let fallbacks = 0;
    const opts = { ...options, cache, onFallback: () => fallbacks++ };
    const runs = { none: await analyzeImage(img, options), cold: await analyzeImage(img, opts), warm: await analyzeImage(img, opts) };
    const bad = Object.entries(runs).filter(([, s]) => !isDeepStrictEqual(normal(s), reference)).map(([k]) => k);
    const s = runs.warm;
    const what = `${img.layers.length} layers, ${s.packages.length} packages, ${s.files.length} files, ${s.secrets.length} secrets, ${s.warnings.length} warnings`;
    return `${bad.length === 0 ? 'same' : `DIFFERENT (${bad.join(', ')})`}  ${ref}: ${what}${fallbacks ? `, squash fallback ${fallbacks}x` : ''}`;
  } finally {
    await source.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync(TESTBED)) {
    console.log(`layered-check: no test bed at ${TESTBED}; skipped`);
    return;
  }
  const refs = process.argv.slice(2).length ? process.argv.slice(2) : DEFAULT_REFS;
  let failed = false;
  for (const ref of refs) {
    for (const options of [{}, { fileDigests: true, contentRules: ['ROOT=root:x'] }] as AnalyzeOptions[]) {
      try {
        const line = await check(ref, options);
        if (!line.startsWith('same')) failed = true;
        console.log(`${line}${options.fileDigests ? ' [digests, content rule]' : ''}`);
      } catch (e) {
        console.log(`error  ${ref}: ${(e as Error).message}`);
      }
    }
  }
  process.exitCode = failed ? 1 : 0;
}

await main();
