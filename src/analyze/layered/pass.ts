/**
 * One layer read on its own: its tar headers and stream warnings recorded in order (to be applied
 * to the image's tree later), the contents that whole-tree analyzers want kept, and the results of
 * per-file analyzers computed here, file by file, so their inputs need not be kept at all.
 */
import { readFile } from 'node:fs/promises';
import { applyLayer, type LayerEvent, type LayerRecorder, type TarHeader } from '../../image/apply.js';
import { Captures, ContentDropped } from '../../image/capture.js';
import type { CapturedFile } from '../../image/squash.js';
import { LayerReader, type LayerStats } from '../../image/layers.js';
import type { Limits } from '../../image/limits.js';
import { recordOf, Tree, type Node } from '../../image/tree.js';
import type { ResolvedImage } from '../../image/types.js';
import type { Analyzer, FileView, InputFile } from '../types.js';
import { captureRequests, inputsFor, toEntry, type FileResult } from '../sbom-build.js';

export interface LayerBase {
  stats: LayerStats;
  entries: number;
  events: RecordedEvent[];
}

/** A header as recorded: with `placed`, the final path a file or hardlink got when the layer was applied alone. */
export type RecordedEvent = LayerEvent & { placed?: string | null };

export type AnalyzerPart =
  | { kind: 'whole'; contents: Map<number, Buffer> }
  | { kind: 'file'; results: FileResult[] };

export interface LayerAnalysis {
  base: LayerBase;
  /** By analyzer name. */
  parts: Map<string, AnalyzerPart>;
}

export interface PassOptions {
  limits: Limits;
  digests: boolean;
  scratchDir?: string;
  signal?: AbortSignal;
  onProgress?(bytes: number): void;
}

/** Per-file analyzers see one file and nothing else. */
const NO_VIEW: FileView = {
  get: () => {
    throw new Error('a perFile analyzer may not read ctx.fs');
  },
  list: () => {
    throw new Error('a perFile analyzer may not read ctx.fs');
  },
};

class Recorder implements LayerRecorder {
  readonly events: RecordedEvent[] = [];
  readonly nodes: (Node | null)[] = [];

  header(h: TarHeader, node: Node | null, placed: string | null | undefined): void {
    const rec: RecordedEvent = placed === undefined ? { ...h } : { ...h, placed };
    delete rec.body;
    if (h.body === true) rec.body = true;
    this.events.push(rec);
    this.nodes.push(h.type === 'File' || h.type === 'OldFile' || h.type === 'ContiguousFile' ? node : null);
  }

  warn(message: string, counted: boolean): void {
    this.events.push(counted ? { warn: message, counted } : { warn: message });
    this.nodes.push(null);
  }
}

async function runOne(a: Analyzer, f: InputFile): Promise<FileResult> {
  const warnings: string[] = [];
  try {
    const result = await a.analyze({ files: [f], fs: NO_VIEW, warn: (m) => warnings.push(m) });
    return { path: f.path, result, warnings };
  } catch (e) {
    if (e instanceof ContentDropped) throw e;
    return { path: f.path, result: {}, warnings, error: (e as Error).message };
  }
}

/** Results computed while the layer streamed by, for the node and entry they were computed on. */
interface Early {
  entry: string;
  results: Map<string, Promise<FileResult>>;
}

/**
 * Per-file analyzers run on each file as soon as its content has been read, overlapping with the
 * rest of the layer's decompression; a file that only they want then gives its bytes back at
 * once, so a layer's text files are never all held together.
 */
function analyzeEarly(tree: Tree, captures: Captures, analyzers: Analyzer[], owner: string[], early: Map<Node, Early>): void {
  const byName = new Map(analyzers.filter((a) => a.perFile === true).map((a) => [a.name, a]));
  captures.onComplete = (node, content) => {
    const hits = node.capture!.hits;
    const names = [...new Set(hits.map((h) => owner[h]!).filter((n) => byName.has(n)))];
    if (names.length === 0) return;
    const path = tree.pathOf(node);
    const entry = toEntry(recordOf(node, path));
    const file: InputFile = { path, entry, read: async () => content.mem ?? readFile(content.file!) };
    const ready = content.closed;
    const results = new Map(names.map((n) => [n, ready.then(() => runOne(byName.get(n)!, file))]));
    // Unhandled until collected: a rejection is seen when the results are awaited.
    for (const r of results.values()) r.catch(() => {});
    early.set(node, { entry: JSON.stringify(entry), results });
    // Only text files wanted by per-file analyzers alone give their bytes back: binaries are often
    // hardlinked (bash and sh), and a hardlink to dropped bytes sends the image to the squash pass.
    if (hits.every((h) => byName.has(owner[h]!) && captures.isTextRequest(h))) {
      void Promise.allSettled(results.values()).then(() => {
        if (content.refs === 1) captures.dropBytes(content);
      });
    }
  };
}

/** A per-file analyzer's results for the files that survive the layer, in path order: taken from early runs where the file is unchanged. */
async function perFileResults(a: Analyzer, tree: Tree, captured: (id: string) => CapturedFile[], early: Map<Node, Early>): Promise<FileResult[]> {
  const out: FileResult[] = [];
  for (const f of inputsFor(a, captured)) {
    const node = tree.lookup(f.path);
    const got = node && early.get(node);
    const done = got && got.entry === JSON.stringify(f.entry) ? got.results.get(a.name) : undefined;
    out.push(await (done ?? runOne(a, f)));
  }
  return out;
}

export async function analyzeLayer(img: ResolvedImage, index: number, analyzers: Analyzer[], options: PassOptions): Promise<LayerAnalysis> {
  const recorder = new Recorder();
  const requests = captureRequests(analyzers);
  const tree = new Tree();
  const captures = requests.length > 0 ? new Captures(requests, options.limits, options.scratchDir) : null;
  if (captures) tree.onDetach = (node) => captures.release(node);
  const owner = requests.map((r) => r.id.replace(/#magic$/, ''));
  const early = new Map<Node, Early>();
  if (captures) analyzeEarly(tree, captures, analyzers, owner, early);
  try {
    const reader = await LayerReader.open(img, index, options.limits, {
      onWarning: (m) => recorder.warn(m, false),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    let entries: number;
    try {
      ({ entries } = await applyLayer(reader.chunks(), {
        index, label: reader.label, tree, captures, limits: options.limits, warn: () => {}, counts: { entries: 0 },
        digests: options.digests, recorder, ...(options.signal ? { signal: options.signal } : {}),
      }));
    } catch (e) {
      throw await reader.explain(e);
    } finally {
      reader.close();
    }
    await captures?.settle();
    tree.freeze();
    const { events, nodes } = recorder;
    if (options.digests) {
      for (let i = 0; i < events.length; i++) {
        const sha = nodes[i]?.sha256;
        if (sha !== undefined) (events[i] as TarHeader).sha256 = sha;
      }
    }
    const parts = new Map<string, AnalyzerPart>();
    const perFile = new Set(analyzers.filter((a) => a.perFile === true).map((a) => a.name));
    for (const a of analyzers) parts.set(a.name, a.perFile === true ? { kind: 'file', results: [] } : { kind: 'whole', contents: new Map() });
    for (let i = 0; i < nodes.length; i++) {
      const cap = nodes[i]?.capture;
      const c = cap?.content;
      if (!cap || !c || nodes[i]!.removed) continue;
      const names = new Set(cap.hits.map((h) => owner[h]!).filter((n) => !perFile.has(n)));
      if (names.size === 0) continue;
      const buf = c.mem ?? await readFile(c.file!);
      for (const n of names) (parts.get(n) as { contents: Map<number, Buffer> }).contents.set(i, buf);
    }
    if (captures && perFile.size > 0) {
      const collected = captures.collect(tree);
      const captured = (id: string) => collected.captured.get(id) ?? [];
      for (const a of analyzers) if (a.perFile === true) parts.set(a.name, { kind: 'file', results: await perFileResults(a, tree, captured, early) });
    }
    return { base: { stats: reader.stats, entries, events }, parts };
  } finally {
    await captures?.dispose();
  }
}
