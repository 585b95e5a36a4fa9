/**
 * Run one analyzer on files given in memory, without an image: for analyzer unit tests.
 * Files are filtered through the analyzer's `wants` exactly as the squash pass would.
 */
import type { Analyzer, AnalyzerResult, InputFile } from './types.js';
import type { Distro, FileEntry } from '../sbom/model.js';

export interface MemoryFile {
  content: string | Buffer;
  mode?: number;
  layer?: number;
  /** A symlink instead of a regular file. */
  linkTarget?: string;
}

export function wanted(analyzer: Analyzer, path: string, content: Buffer): boolean {
  const w = analyzer.wants;
  if (w.maxBytes !== undefined && content.length > w.maxBytes) return false;
  if (w.paths?.includes(path)) return true;
  if (w.match?.(path)) return true;
  if (!w.magic?.some((m) => content.subarray(0, m.length).equals(m))) return false;
  return !w.contains?.length || w.contains.some((m) => content.includes(m));
}

export async function runAnalyzer(analyzer: Analyzer, files: Record<string, string | Buffer | MemoryFile>, distro?: Distro):
  Promise<AnalyzerResult & { warnings: string[] }> {
  const entries: FileEntry[] = [];
  const inputs: InputFile[] = [];
  const dirs = new Set<string>();
  for (const [path, value] of Object.entries(files)) {
    const f: MemoryFile = typeof value === 'string' || Buffer.isBuffer(value) ? { content: value } : value;
    const content = typeof f.content === 'string' ? Buffer.from(f.content) : f.content;
    const entry: FileEntry = f.linkTarget !== undefined
      ? { path, type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, linkTarget: f.linkTarget, layer: f.layer ?? 0 }
      : { path, type: 'file', mode: f.mode ?? 0o644, uid: 0, gid: 0, size: content.length, layer: f.layer ?? 0 };
    entries.push(entry);
    for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) dirs.add(path.slice(0, i));
    if (entry.type === 'file' && wanted(analyzer, path, content)) inputs.push({ path, entry, read: async () => content });
  }
  for (const d of dirs) if (!files[d]) entries.push({ path: d, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, layer: 0 });
  entries.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  inputs.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const warnings: string[] = [];
  const result = await analyzer.analyze({
    files: inputs,
    fs: { get: (p) => byPath.get(p), list: () => entries },
    ...(distro ? { distro } : {}),
    warn: (m) => warnings.push(m),
  });
  return { ...result, warnings };
}
