/**
 * The layer-wise pipeline: layers read in parallel (bounded), each from the layer cache when all
 * its parts are there, else read once for exactly the parts that are missing; then assembled in
 * order into the squashed view and the SBOM. Any failure other than a cancel reruns the image
 * through the squash pass, so errors and edge cases come out exactly as that pass gives them.
 */
import { createHash } from 'node:crypto';
import { isLadingError } from '../../errors.js';
import { withLimits, type Limits } from '../../image/limits.js';
import type { ResolvedImage } from '../../image/types.js';
import type { Sbom } from '../../sbom/model.js';
import { VERSION } from '../../version.js';
import type { LayerCache } from '../cache/store.js';
import type { Analyzer } from '../types.js';
import { buildSbom } from '../sbom-build.js';
import { assemble } from './assemble.js';
import { analyzeLayer, type AnalyzerPart, type LayerAnalysis, type LayerBase } from './pass.js';
import { imageKey, readMemo, writeMemo } from './memo.js';

/** Bump when what a layer record holds changes shape or meaning. */
const RECORD_FORMAT = 1;

export interface LayeredOptions {
  limits?: Partial<Limits>;
  fileDigests?: boolean;
  scratchDir?: string;
  signal?: AbortSignal;
  onProgress?(layer: number, bytes: number): void;
  cache?: LayerCache | null;
  concurrency?: number;
  dockerfile?: string;
  /** Told when an image went through the squash pass instead (tests, logs). */
  onFallback?(reason: unknown): void;
}

const hash = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 40);

function baseKey(img: ResolvedImage, index: number, limits: Limits, digests: boolean): string {
  const d = img.layers[index]!;
  return 'b' + hash([RECORD_FORMAT, VERSION, d.diffId, d.digest, d.mediaType, index, digests, limits]);
}

export function partKey(base: string, a: Analyzer): string {
  return 'a-' + a.name.replace(/[^A-Za-z0-9_-]/g, '_') + '-' + hash([base, a.name, a.version ?? 1, a.config ?? '', a.perFile === true]);
}

/** Every layer's record key followed by its analyzer part keys, in layer order: what an image's result depends on. */
function layerKeys(img: ResolvedImage, analyzers: Analyzer[], limits: Limits, digests: boolean): string[][] {
  return img.layers.map((_, i) => {
    const base = baseKey(img, i, limits, digests);
    return [base, ...analyzers.map((a) => partKey(base, a))];
  });
}

function encodePart(p: AnalyzerPart): { meta: unknown; blobs: Buffer[] } {
  if (p.kind === 'file') return { meta: { kind: 'file', results: p.results }, blobs: [] };
  return { meta: { kind: 'whole', idx: [...p.contents.keys()] }, blobs: [...p.contents.values()] };
}

function decodePart(data: { meta: unknown; blobs: Buffer[] }): AnalyzerPart {
  const m = data.meta as { kind: 'file'; results: AnalyzerPart & { kind: 'file' } extends { results: infer R } ? R : never } | { kind: 'whole'; idx: number[] };
  if (m.kind === 'file') return { kind: 'file', results: m.results };
  return { kind: 'whole', contents: new Map(m.idx.map((i, n) => [i, data.blobs[n]!])) };
}

async function layerFor(img: ResolvedImage, index: number, analyzers: Analyzer[], limits: Limits, options: LayeredOptions): Promise<LayerAnalysis> {
  const cache = options.cache ?? null;
  const digests = options.fileDigests === true;
  const diffId = img.layers[index]!.diffId;
  const key = baseKey(img, index, limits, digests);
  const parts = new Map<string, AnalyzerPart>();
  let base: LayerBase | undefined;
  if (cache) {
    base = (await cache.get(diffId, key))?.meta as LayerBase | undefined;
    for (const a of analyzers) {
      const got = await cache.get(diffId, partKey(key, a));
      if (got) parts.set(a.name, decodePart(got));
    }
  }
  const missing = analyzers.filter((a) => !parts.has(a.name));
  if (base !== undefined && missing.length === 0) return { base, parts };
  const fresh = await analyzeLayer(img, index, missing, {
    limits, digests,
    ...(options.scratchDir ? { scratchDir: options.scratchDir } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: (bytes: number) => options.onProgress!(index, bytes) } : {}),
  });
  if (cache) {
    const writes: Promise<void>[] = [];
    if (base === undefined) writes.push(cache.put(diffId, key, { meta: fresh.base, blobs: [] }));
    for (const a of missing) writes.push(cache.put(diffId, partKey(key, a), encodePart(fresh.parts.get(a.name)!)));
    // A cache that cannot be written only costs speed.
    await Promise.all(writes.map((w) => w.catch(() => {})));
  }
  for (const [name, p] of fresh.parts) parts.set(name, p);
  return { base: fresh.base, parts };
}

/** A layer's own read failed (bad blob, limit, tar): for the first layer, that is exactly the squash pass's error too. */
class LayerFailure extends Error {
  constructor(readonly index: number, readonly reason: unknown) {
    super(`layer ${index}: ${String(reason)}`);
  }
}

/** Run `task` over 0..n-1 with at most `limit` at once; results in index order. */
async function pool<T>(n: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  return out;
}

async function layered(img: ResolvedImage, analyzers: Analyzer[], distro: Analyzer, options: LayeredOptions): Promise<Sbom> {
  const limits = withLimits(options.limits);
  if (img.layers.length > limits.maxLayers) throw new Error('over maxLayers');
  const inner = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, inner.signal]) : inner.signal;
  let layers: LayerAnalysis[];
  try {
    layers = await pool(img.layers.length, Math.max(1, options.concurrency ?? 3), (i) => layerFor(img, i, analyzers, limits, { ...options, signal })
      .catch((e: unknown) => {
        throw new LayerFailure(i, e);
      }));
  } catch (e) {
    inner.abort(e);
    throw e;
  }
  const { view, dispose } = await assemble(img, layers, analyzers, {
    limits, digests: options.fileDigests === true,
    ...(options.scratchDir ? { scratchDir: options.scratchDir } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    return await buildSbom(img, view, analyzers, distro, {
      ...(options.dockerfile !== undefined ? { dockerfile: options.dockerfile } : {}),
      ...(options.cache ? { results: options.cache } : {}),
    });
  } finally {
    await dispose();
  }
}

export async function analyzeLayered(img: ResolvedImage, analyzers: Analyzer[], distro: Analyzer, options: LayeredOptions,
  reference: () => Promise<Sbom>): Promise<Sbom> {
  // A synthetic layer (a directory) has no content digest to key anything by: nothing is cached.
  if (img.layers.some((l) => l.synthetic === true)) options = { ...options, cache: null };
  const cache = options.cache ?? null;
  const key = cache ? imageKey(layerKeys(img, analyzers, withLimits(options.limits), options.fileDigests === true)) : '';
  if (cache) {
    // A corrupt or unreadable entry is a miss.
    const hit = await readMemo(cache, key, img, options.dockerfile).catch(() => undefined);
    if (hit) return hit;
  }
  try {
    const sbom = await layeredOrReference(img, analyzers, distro, options, reference);
    if (cache) await writeMemo(cache, key, sbom).catch(() => {});
    return sbom;
  } finally {
    await cache?.trim().catch(() => {});
  }
}

async function layeredOrReference(img: ResolvedImage, analyzers: Analyzer[], distro: Analyzer, options: LayeredOptions,
  reference: () => Promise<Sbom>): Promise<Sbom> {
  try {
    return await layered(img, analyzers, distro, options);
  } catch (e) {
    options.signal?.throwIfAborted();
    if (e instanceof LayerFailure && e.index === 0 && isLadingError(e.reason)) throw e.reason;
    options.onFallback?.(e);
    return await reference();
  }
}
