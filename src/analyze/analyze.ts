/**
 * analyzeImage(): an image's SBOM. By default the layer-wise pipeline (layered/): each layer read
 * once, in parallel, analyzed on its own and kept in the layer cache when one is given, then the
 * layers applied in order. analyzeImageSquashed() is the single squash pass that the layer-wise
 * pipeline must equal exactly; it also serves the rare images the layer-wise one cannot take.
 */
import { squash } from '../image/squash.js';
import type { Limits } from '../image/limits.js';
import type { ResolvedImage } from '../image/types.js';
import type { Sbom } from '../sbom/model.js';
import type { Analyzer } from './types.js';
import { ANALYZERS, distroAnalyzer } from './analyzers/index.js';
import { secretsAnalyzer, contentSearchAnalyzer, retrievedFilesAnalyzer, DEFAULT_RETRIEVED_FILES } from './analyzers/secrets.js';
import { buildSbom, captureRequests } from './sbom-build.js';
import type { LayerCache } from './cache/store.js';
import { analyzeLayered } from './layered/pipeline.js';

export interface AnalyzeOptions {
  /** Ecosystem analyzers to run (default: all in the registry map). */
  analyzers?: Analyzer[];
  /** Search file contents for secrets (default true). */
  secrets?: boolean;
  /** User content rules, `NAME=regex`. */
  contentRules?: string[];
  /** Files kept verbatim for the policy step (default /etc/passwd, /etc/group, /etc/services, /etc/sudoers). */
  retrieveFiles?: string[];
  /** The Dockerfile the image was built from, when the user has it ("actual" instead of "guessed"). */
  dockerfile?: string;
  /** sha256 of every regular file in the file records (on in the service, optional in the CLI). */
  fileDigests?: boolean;
  limits?: Partial<Limits>;
  scratchDir?: string;
  signal?: AbortSignal;
  onProgress?(layer: number, bytes: number): void;
  /** The layer cache to read and fill (none: layers are still analyzed one by one, in parallel, but nothing is kept). */
  cache?: LayerCache | null;
  /** Layers read at once (default 3). */
  concurrency?: number;
  /** Told when the layer-wise pipeline handed the image to the squash pass (tests, logs). */
  onFallback?(reason: unknown): void;
}

/** Every analyzer a run uses, distro first. */
export function analyzerSet(options: AnalyzeOptions): Analyzer[] {
  const ecosystems = options.analyzers ?? ANALYZERS;
  const extras: Analyzer[] = [
    ...(options.secrets === false ? [] : [secretsAnalyzer()]),
    ...(options.contentRules?.length ? [contentSearchAnalyzer(options.contentRules)] : []),
    retrievedFilesAnalyzer(options.retrieveFiles ?? DEFAULT_RETRIEVED_FILES),
  ];
  return [distroAnalyzer, ...ecosystems.filter((a) => a !== distroAnalyzer), ...extras];
}

/** The reference pipeline: squash all layers in one pass, then analyze the final files. */
export async function analyzeImageSquashed(img: ResolvedImage, options: AnalyzeOptions = {}): Promise<Sbom> {
  const all = analyzerSet(options);
  const result = await squash(img, {
    captures: captureRequests(all),
    digests: options.fileDigests === true,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.scratchDir ? { scratchDir: options.scratchDir } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  try {
    const view = {
      records: result.files.list(),
      captured: result.captured,
      warnings: result.warnings,
      uncompressedSizes: result.layers.map((l) => l.uncompressedBytes),
    };
    return await buildSbom(img, view, all, distroAnalyzer, options.dockerfile !== undefined ? { dockerfile: options.dockerfile } : {});
  } finally {
    await result.dispose();
  }
}

export async function analyzeImage(img: ResolvedImage, options: AnalyzeOptions = {}): Promise<Sbom> {
  return analyzeLayered(img, analyzerSet(options), distroAnalyzer, options, () => analyzeImageSquashed(img, options));
}
