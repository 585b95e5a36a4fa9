/**
 * From a squashed view of an image (file records, captured contents, warnings) to the SBOM: runs
 * the analyzers on what they asked for and puts distro, packages, files with owners, secrets and
 * metadata together. Both pipelines end here: squash-then-analyze and the layer-wise one.
 */
import type { CapturedFile, CaptureRequest, FileRecord } from '../image/squash.js';
import type { ResolvedImage } from '../image/types.js';
import type { Distro, FileEntry, Package, Sbom } from '../sbom/model.js';
import type { Analyzer, AnalyzerResult, InputFile } from './types.js';
import { imageMetadata } from './metadata.js';
import { memoized, type ResultMemo } from './results.js';
import { VERSION } from '../version.js';

/** Results an analyzer gave for single files (perFile analyzers in the layer-wise pipeline). */
export interface FileResult {
  path: string;
  result: AnalyzerResult;
  warnings: string[];
  /** The analyzer threw on this file (a run over all files would have stopped here). */
  error?: string;
}

export interface AnalysisView {
  /** Every record, sorted by path in byte order. */
  records: FileRecord[];
  /** The files captured for a request id, by path in byte order. */
  captured(requestId: string): CapturedFile[];
  warnings: string[];
  uncompressedSizes: number[];
  /** Per analyzer name: its results file by file, in path order, instead of running it here. */
  fileResults?: Map<string, FileResult[]>;
}

export function toEntry(r: FileRecord): FileEntry {
  return {
    path: r.path,
    type: r.type,
    mode: r.mode,
    uid: r.uid,
    gid: r.gid,
    size: r.size,
    ...(r.linkTarget !== undefined ? { linkTarget: r.linkTarget } : {}),
    layer: r.layer,
    ...(r.sha256 !== undefined ? { sha256: r.sha256 } : {}),
    ...(r.type === 'file' || r.type === 'hardlink' ? {
      ...(r.mode & 0o4000 ? { setuid: true } : {}),
      ...(r.mode & 0o2000 ? { setgid: true } : {}),
    } : {}),
  };
}

/** Each analyzer's wants become one or two capture requests (path-selected, and magic-selected). */
export function captureRequests(analyzers: Analyzer[]): CaptureRequest[] {
  const out: CaptureRequest[] = [];
  for (const a of analyzers) {
    const w = a.wants;
    if (w.paths?.length || w.match) {
      out.push({
        id: a.name, ...(w.paths ? { paths: w.paths } : {}), ...(w.match ? { match: w.match } : {}),
        ...(w.maxBytes !== undefined ? { maxBytes: w.maxBytes } : {}), ...(w.text ? { text: true } : {}),
      });
    }
    if (w.magic?.length) {
      out.push({
        id: `${a.name}#magic`, magic: w.magic, ...(w.contains?.length ? { contains: w.contains } : {}),
        ...(w.maxBytes !== undefined ? { maxBytes: w.maxBytes } : {}),
      });
    }
  }
  return out;
}

/** The request ids of an analyzer (see captureRequests). */
export function requestIds(a: Analyzer): string[] {
  return [...(a.wants.paths?.length || a.wants.match ? [a.name] : []), ...(a.wants.magic?.length ? [`${a.name}#magic`] : [])];
}

export function inputsFor(a: Analyzer, captured: (id: string) => CapturedFile[]): InputFile[] {
  const byPath = new Map<string, InputFile>();
  for (const id of requestIds(a)) {
    for (const c of captured(id)) {
      if (!byPath.has(c.path)) byPath.set(c.path, { path: c.path, entry: toEntry(c.record), read: () => c.read() });
    }
  }
  return [...byPath.values()].sort((x, y) => Buffer.compare(Buffer.from(x.path), Buffer.from(y.path)));
}

/** One package per identity: same type, name, version and evidence path. */
function dedupe(packages: Package[]): Package[] {
  const seen = new Map<string, Package>();
  for (const p of packages) {
    const key = `${p.type}\0${p.name}\0${p.version}\0${p.locations.map((l) => l.path).join('\0')}`;
    const prev = seen.get(key);
    if (!prev) seen.set(key, p);
    else for (const c of p.cpes) if (!prev.cpes.includes(c)) prev.cpes.push(c);
  }
  return [...seen.values()];
}

/** An analyzer's results for single files, joined in file order, as one run over them all gives. */
export function joinFileResults(name: string, list: FileResult[], warnings: string[]): AnalyzerResult {
  const out: Required<Omit<AnalyzerResult, 'distro'>> = { packages: [], secrets: [], contentMatches: [], retrievedFiles: [] };
  for (const r of list) {
    for (const w of r.warnings) warnings.push(`${name}: ${w}`);
    if (r.error !== undefined) {
      warnings.push(`${name}: analyzer failed: ${r.error}`);
      return {};
    }
    for (const k of ['packages', 'secrets', 'contentMatches', 'retrievedFiles'] as const) {
      const v = r.result[k];
      if (v) (out[k] as unknown[]).push(...v);
    }
  }
  return out;
}

export interface BuildOptions {
  dockerfile?: string;
  /** Where whole-tree analyzers' results are kept by a digest of their inputs (see results.ts). */
  results?: ResultMemo;
}

export async function buildSbom(img: ResolvedImage, view: AnalysisView, all: Analyzer[], distroAnalyzer: Analyzer, options: BuildOptions = {}): Promise<Sbom> {
  const warnings = [...view.warnings];
  const entries = view.records.map(toEntry);
  const byPath = new Map(entries.map((e) => [e.path, e]));
  // A hardlink's content is its target's.
  for (const e of entries) {
    if (e.type === 'hardlink' && e.linkTarget !== undefined && e.sha256 === undefined) {
      const t = byPath.get(e.linkTarget)?.sha256;
      if (t !== undefined) e.sha256 = t;
    }
  }
  const fs = { get: (p: string) => byPath.get(p), list: () => entries };
  const run = async (a: Analyzer, distro?: Distro): Promise<AnalyzerResult> => {
    const given = view.fileResults?.get(a.name);
    if (given) return joinFileResults(a.name, given, warnings);
    try {
      const files = inputsFor(a, view.captured);
      if (options.results) return await memoized(options.results, a, files, fs, distro, (m) => warnings.push(`${a.name}: ${m}`));
      return await a.analyze({ files, fs, ...(distro ? { distro } : {}), warn: (m) => warnings.push(`${a.name}: ${m}`) });
    } catch (e) {
      warnings.push(`${a.name}: analyzer failed: ${(e as Error).message}`);
      return {};
    }
  };
  const distro = (await run(distroAnalyzer)).distro;
  const results = await Promise.all(all.filter((a) => a !== distroAnalyzer).map((a) => run(a, distro)));
  const packages = dedupe(results.flatMap((r) => r.packages ?? []));
  for (const p of packages) {
    for (const l of p.locations) {
      const layer = l.layer !== undefined ? img.layers[l.layer] : undefined;
      if (layer) Object.assign(l, { layerDiffId: layer.diffId, layerDigest: layer.digest });
    }
  }
  for (const p of packages) {
    for (const f of p.files ?? []) {
      const e = byPath.get(f);
      if (e) (e.owners ??= []).push(p.purl);
    }
  }
  return {
    schema: 'lading-sbom/1',
    createdAt: new Date().toISOString(),
    tool: { name: 'lading', version: VERSION },
    source: imageMetadata(img, view.uncompressedSizes, options.dockerfile),
    ...(distro ? { distro } : {}),
    packages,
    files: entries,
    secrets: results.flatMap((r) => r.secrets ?? []),
    contentMatches: results.flatMap((r) => r.contentMatches ?? []),
    retrievedFiles: results.flatMap((r) => r.retrievedFiles ?? []),
    warnings,
  };
}
