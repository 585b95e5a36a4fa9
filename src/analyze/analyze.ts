/**
 * analyzeImage(): one streaming pass over an image (squash), feeding every analyzer the files it
 * asked for, then assembling the SBOM: distro, packages, files with owners, secrets, metadata.
 */
import { squash, type CaptureRequest, type SquashResult } from '../image/squash.js';
import type { FileRecord } from '../image/tree.js';
import type { Limits } from '../image/limits.js';
import type { ResolvedImage } from '../image/types.js';
import type { Distro, FileEntry, Package, Sbom } from '../sbom/model.js';
import type { Analyzer, AnalyzerResult, InputFile } from './types.js';
import { ANALYZERS, distroAnalyzer } from './analyzers/index.js';
import { secretsAnalyzer, contentSearchAnalyzer, retrievedFilesAnalyzer, DEFAULT_RETRIEVED_FILES } from './analyzers/secrets.js';
import { imageMetadata } from './metadata.js';
import { VERSION } from '../version.js';

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
}

function toEntry(r: FileRecord): FileEntry {
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
function captureRequests(analyzers: Analyzer[]): CaptureRequest[] {
  const out: CaptureRequest[] = [];
  for (const a of analyzers) {
    const w = a.wants;
    if (w.paths?.length || w.match) {
      out.push({ id: a.name, ...(w.paths ? { paths: w.paths } : {}), ...(w.match ? { match: w.match } : {}), ...(w.maxBytes !== undefined ? { maxBytes: w.maxBytes } : {}) });
    }
    if (w.magic?.length) out.push({ id: `${a.name}#magic`, magic: w.magic, ...(w.maxBytes !== undefined ? { maxBytes: w.maxBytes } : {}) });
  }
  return out;
}

function inputsFor(a: Analyzer, result: SquashResult): InputFile[] {
  const byPath = new Map<string, InputFile>();
  const ids = [...(a.wants.paths?.length || a.wants.match ? [a.name] : []), ...(a.wants.magic?.length ? [`${a.name}#magic`] : [])];
  for (const id of ids) {
    for (const c of result.captured(id)) {
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

export async function analyzeImage(img: ResolvedImage, options: AnalyzeOptions = {}): Promise<Sbom> {
  const ecosystems = options.analyzers ?? ANALYZERS;
  const extras: Analyzer[] = [
    ...(options.secrets === false ? [] : [secretsAnalyzer()]),
    ...(options.contentRules?.length ? [contentSearchAnalyzer(options.contentRules)] : []),
    retrievedFilesAnalyzer(options.retrieveFiles ?? DEFAULT_RETRIEVED_FILES),
  ];
  const all = [distroAnalyzer, ...ecosystems.filter((a) => a !== distroAnalyzer), ...extras];
  const result = await squash(img, {
    captures: captureRequests(all),
    digests: options.fileDigests === true,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.scratchDir ? { scratchDir: options.scratchDir } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  try {
    const warnings = [...result.warnings];
    const records = result.files.list();
    const entries = records.map(toEntry);
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
      try {
        return await a.analyze({ files: inputsFor(a, result), fs, ...(distro ? { distro } : {}), warn: (m) => warnings.push(`${a.name}: ${m}`) });
      } catch (e) {
        warnings.push(`${a.name}: analyzer failed: ${(e as Error).message}`);
        return {};
      }
    };
    const distro = (await run(distroAnalyzer)).distro;
    const results = await Promise.all(all.filter((a) => a !== distroAnalyzer).map((a) => run(a, distro)));
    const packages = dedupe(results.flatMap((r) => r.packages ?? []));
    for (const p of packages) {
      for (const l of p.locations) if (l.layer !== undefined) l.layerDigest = img.layers[l.layer]?.diffId;
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
      source: imageMetadata(img, result.layers.map((l) => l.uncompressedBytes), options.dockerfile),
      ...(distro ? { distro } : {}),
      packages,
      files: entries,
      secrets: results.flatMap((r) => r.secrets ?? []),
      contentMatches: results.flatMap((r) => r.contentMatches ?? []),
      retrievedFiles: results.flatMap((r) => r.retrievedFiles ?? []),
      warnings,
    };
  } finally {
    await result.dispose();
  }
}
