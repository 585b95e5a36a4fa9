/**
 * squash(): one streaming pass over an image's layers, in order, that builds the final file tree
 * (whiteouts applied) and captures the contents analyzers asked for. Every layer is verified
 * (digest, size, diff_id) as it streams; a failure anywhere fails the whole squash and removes
 * the scratch directory before the error propagates. Nothing is extracted, nothing is executed.
 */
import { LadingError } from '../errors.js';
import { applyLayer } from './apply.js';
import { Captures, type CaptureRequest, type CapturedFile, type SkippedCapture } from './capture.js';
import type { Compression } from './decompress.js';
import { LayerReader } from './layers.js';
import { withLimits, type Limits } from './limits.js';
import { Tree, type FileTree } from './tree.js';
import type { ResolvedImage } from './types.js';

export type { CaptureRequest, CapturedFile, SkippedCapture } from './capture.js';
export type { FileRecord, FileTree, FileType } from './tree.js';

export interface SquashOptions {
  limits?: Partial<Limits>;
  captures?: CaptureRequest[];
  /** Parent of the private scratch directory for large captures (default: the OS temp dir). */
  scratchDir?: string;
  /** Compute the sha256 of every regular file (FileRecord.sha256). Costs one hash pass over the content. */
  digests?: boolean;
  signal?: AbortSignal;
  /** Raw (compressed) bytes of a layer read so far. */
  onProgress?(layerIndex: number, bytes: number): void;
}

export interface LayerSummary {
  index: number;
  digest: string;
  diffId: string;
  mediaType: string;
  compression: Compression;
  compressedBytes: number;
  uncompressedBytes: number;
  /** Tar entries in the layer (whiteouts included, PAX/GNU meta headers not). */
  entries: number;
}

export interface SquashResult {
  files: FileTree;
  /** The files captured for a request, by path in byte order. */
  captured(requestId: string): CapturedFile[];
  /** Files a request selected but did not get (too large, hardlink to content not read). */
  skipped(requestId: string): SkippedCapture[];
  warnings: string[];
  layers: LayerSummary[];
  /** Remove the scratch directory. Captured contents cannot be read afterwards. */
  dispose(): Promise<void>;
}

const MAX_WARNINGS = 1000;

/** A run's warnings, capped at MAX_WARNINGS with a closing count of the rest. */
export class Warnings {
  readonly list: string[] = [];
  private dropped = 0;
  add(message: string): void {
    if (this.list.length < MAX_WARNINGS) this.list.push(message);
    else this.dropped++;
  }
  done(): string[] {
    if (this.dropped > 0) this.list.push(`… and ${this.dropped} more warnings`);
    return this.list;
  }
}

export async function squash(image: ResolvedImage, options: SquashOptions = {}): Promise<SquashResult> {
  const limits = withLimits(options.limits);
  const { signal, onProgress } = options;
  if (image.layers.length > limits.maxLayers) {
    throw new LadingError('LIMIT_EXCEEDED', `the image has ${image.layers.length} layers, over maxLayers (${limits.maxLayers})`);
  }
  const warnings = new Warnings();
  const warn = (m: string): void => warnings.add(m);
  const tree = new Tree();
  const captures = options.captures && options.captures.length > 0 ? new Captures(options.captures, limits, options.scratchDir) : null;
  if (captures) tree.onDetach = (node) => captures.release(node);
  const counts = { entries: 0 };
  const layers: LayerSummary[] = [];
  let uncompressed = 0;
  try {
    for (let index = 0; index < image.layers.length; index++) {
      signal?.throwIfAborted();
      const reader = await LayerReader.open(image, index, limits, {
        priorUncompressedBytes: uncompressed,
        onWarning: warn,
        ...(signal ? { signal } : {}),
        ...(onProgress ? { onProgress: (bytes: number) => onProgress(index, bytes) } : {}),
      });
      let entries: number;
      try {
        ({ entries } = await applyLayer(reader.chunks(), {
          index, label: reader.label, tree, captures, limits, warn, counts, digests: options.digests === true, ...(signal ? { signal } : {}),
        }));
      } catch (e) {
        throw await reader.explain(e);
      } finally {
        reader.close();
      }
      uncompressed += reader.stats.uncompressedBytes;
      layers.push({ ...reader.stats, entries });
    }
    await captures?.settle();
  } catch (e) {
    await captures?.dispose().catch(() => {});
    throw e;
  }
  tree.freeze();
  const collected = captures?.collect(tree);
  const lookup = <T>(map: Map<string, T[]> | undefined, id: string): T[] => {
    const list = map?.get(id);
    if (list === undefined) throw new LadingError('INTERNAL', `no capture request has the id "${id}"`);
    return list.slice();
  };
  return {
    files: tree,
    captured: (id) => lookup(collected?.captured, id),
    skipped: (id) => lookup(collected?.skipped, id),
    warnings: warnings.done(),
    layers,
    dispose: async () => {
      await captures?.dispose();
    },
  };
}
