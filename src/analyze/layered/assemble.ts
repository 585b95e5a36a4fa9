/**
 * An image's view from its layers' records: each layer's headers applied to one tree in order
 * (whiteouts, opaque dirs and replacements as in the squash pass), whole-tree analyzers' inputs
 * fed from the kept contents, and per-file analyzers' results taken for the paths that survive,
 * from the layer that last wrote them. A layer whose files land elsewhere than they did when it
 * was read alone (a path through a lower layer's symlink, a hardlink to a lower layer) makes the
 * replay give up with ReplayGap: the caller then falls back to the squash pass.
 */
import { replayLayer, ReplayGap } from '../../image/apply.js';
import { Captures } from '../../image/capture.js';
import { LadingError } from '../../errors.js';
import type { Limits } from '../../image/limits.js';
import { Warnings, type CapturedFile } from '../../image/squash.js';
import { Tree } from '../../image/tree.js';
import type { ResolvedImage } from '../../image/types.js';
import type { Analyzer } from '../types.js';
import { captureRequests, type AnalysisView, type FileResult } from '../sbom-build.js';
import type { LayerAnalysis } from './pass.js';

export interface AssembleOptions {
  limits: Limits;
  digests: boolean;
  scratchDir?: string;
  signal?: AbortSignal;
}

function keptContents(layer: LayerAnalysis): Map<number, Buffer> {
  const all = new Map<number, Buffer>();
  for (const part of layer.parts.values()) if (part.kind === 'whole') for (const [i, b] of part.contents) all.set(i, b);
  return all;
}

export async function assemble(img: ResolvedImage, layers: LayerAnalysis[], analyzers: Analyzer[], options: AssembleOptions):
  Promise<{ view: AnalysisView; dispose(): Promise<void> }> {
  const { limits } = options;
  const total = layers.reduce((n, l) => n + l.base.stats.uncompressedBytes, 0);
  if (total > limits.maxUncompressedBytes) throw new ReplayGap('over maxUncompressedBytes');
  const requests = captureRequests(analyzers.filter((a) => a.perFile !== true));
  const tree = new Tree();
  const captures = requests.length > 0 ? new Captures(requests, limits, options.scratchDir) : null;
  if (captures) tree.onDetach = (node) => captures.release(node);
  const warnings = new Warnings();
  const counts = { entries: 0 };
  try {
    for (let index = 0; index < layers.length; index++) {
      const { events } = layers[index]!.base;
      const contents = keptContents(layers[index]!);
      await replayLayer({
        events,
        content: (i) => contents.get(i),
        placed: (i, path) => {
          if ((events[i] as { placed?: string | null }).placed !== path) throw new ReplayGap(`layer ${index}: ${path} was placed elsewhere when the layer was read alone`);
        },
      }, {
        index, label: `layer ${index} (${img.layers[index]!.digest})`, tree, captures, limits, counts,
        warn: (m) => warnings.add(m), digests: options.digests, ...(options.signal ? { signal: options.signal } : {}),
      });
    }
    await captures?.settle();
  } catch (e) {
    await captures?.dispose().catch(() => {});
    throw e;
  }
  tree.freeze();
  const records = tree.list();
  const collected = captures?.collect(tree);
  const view: AnalysisView = {
    records,
    captured: (id: string): CapturedFile[] => {
      const list = collected?.captured.get(id);
      if (list === undefined) throw new LadingError('INTERNAL', `no capture request has the id "${id}"`);
      return list.slice();
    },
    warnings: warnings.done(),
    uncompressedSizes: layers.map((l) => l.base.stats.uncompressedBytes),
    fileResults: fileResults(records, layers, analyzers.filter((a) => a.perFile === true)),
  };
  return { view, dispose: async () => captures?.dispose() };
}

/** Per-file analyzers' results for the files that survive, in path order. */
function fileResults(records: AnalysisView['records'], layers: LayerAnalysis[], perFile: Analyzer[]): Map<string, FileResult[]> {
  const out = new Map<string, FileResult[]>();
  for (const a of perFile) {
    const byLayer = layers.map((l) => {
      const part = l.parts.get(a.name);
      return new Map(part?.kind === 'file' ? part.results.map((r) => [r.path, r] as const) : []);
    });
    const list: FileResult[] = [];
    for (const r of records) {
      if (r.type !== 'file' && r.type !== 'hardlink') continue;
      const found = byLayer[r.layer]?.get(r.path);
      if (found) list.push(found);
    }
    out.set(a.name, list);
  }
  return out;
}
