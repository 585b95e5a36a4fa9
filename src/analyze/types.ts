/**
 * The analyzer contract. An analyzer names the files it wants; the single pass over the layers
 * captures exactly those (final, squashed versions) and hands them over afterwards.
 * Adding an ecosystem = one file in analyzers/ and one line in analyzers/index.ts.
 */
import type { ContentMatch, Distro, FileEntry, Package, RetrievedFile, SecretFinding } from '../sbom/model.js';

/** What an analyzer asks the squash pass to capture. All criteria are ORed. */
export interface FileWants {
  /** Exact absolute paths, e.g. `/var/lib/dpkg/status`. */
  paths?: string[];
  /** Any path for which this returns true, e.g. `(p) => p.endsWith('.jar')`. Called once per regular file: keep it cheap. */
  match?: (path: string) => boolean;
  /** Files whose first bytes equal one of these, e.g. ELF `\x7fELF`. */
  magic?: Buffer[];
  /**
   * With `magic`: of the files it selects, only those that contain one of these byte strings
   * somewhere (a build-info marker, a section name), searched as the layer streams by. For an
   * analyzer that finds nothing in a file without them: the others are then never kept or read.
   */
  contains?: Buffer[];
  /** Do not capture files larger than this (bytes). */
  maxBytes?: number;
  /** Only text files: no NUL byte in the first 8 KiB (binaries are then never copied out of the layer). */
  text?: boolean;
}

/** A captured file, as the analyzer receives it. */
export interface InputFile {
  path: string;
  /** Metadata of the final file (layer = the layer that last wrote it). */
  entry: FileEntry;
  read(): Promise<Buffer>;
}

/** Read-only view of the squashed filesystem, for analyzers that need to look around. */
export interface FileView {
  get(path: string): FileEntry | undefined;
  /** All entries, sorted by path. */
  list(): FileEntry[];
}

export interface AnalyzerContext {
  /** The files this analyzer asked for, sorted by path. */
  files: InputFile[];
  fs: FileView;
  /** Set for every analyzer except `distro` itself. */
  distro?: Distro;
  /** Record a harmless oddity (a malformed record skipped, ...). Never throw for one bad file. */
  warn(message: string): void;
}

export interface AnalyzerResult {
  packages?: Package[];
  distro?: Distro;
  secrets?: SecretFinding[];
  contentMatches?: ContentMatch[];
  retrievedFiles?: RetrievedFile[];
}

export interface Analyzer {
  /** Plain, stable name, e.g. `dpkg`, `npm`, `java`. Used as Package.foundBy. */
  name: string;
  /**
   * Bump when the analyzer's output for the same input changes: the layer cache keeps results
   * under name@version, so only this analyzer's part is recomputed. Default 1.
   */
  version?: number;
  /** A fingerprint of the options this instance was built with (rules, size caps), part of its cache key. */
  config?: string;
  /**
   * The result for a file depends only on that file (its path, entry and content), never on
   * ctx.fs, ctx.distro or other files, and results come in file order. Such analyzers run per
   * layer and the layer cache keeps their results per path instead of the files' contents.
   */
  perFile?: boolean;
  wants: FileWants;
  analyze(ctx: AnalyzerContext): Promise<AnalyzerResult>;
}
