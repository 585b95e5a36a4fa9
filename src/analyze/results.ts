/**
 * Whole-tree analyzers' results kept by a digest of everything they were given: their name,
 * version and options, the distro, and each input file's path, entry and content. An analyzer
 * that looks at the file view (ctx.fs) is not kept, since its result may depend on any file.
 * With the layer cache, a warm run then skips parsing package databases it has parsed before.
 */
import { createHash } from 'node:crypto';
import type { Distro } from '../sbom/model.js';
import type { Analyzer, AnalyzerResult, FileView, InputFile } from './types.js';

export interface ResultMemo {
  get(layer: string, part: string): Promise<{ meta: unknown } | undefined>;
  put(layer: string, part: string, data: { meta: unknown; blobs: Buffer[] }): Promise<void>;
}

const BUCKET = 'results';

async function inputKey(a: Analyzer, files: InputFile[], distro: Distro | undefined): Promise<string> {
  const h = createHash('sha256').update(JSON.stringify([a.name, a.version ?? 1, a.config ?? '', distro ?? null]));
  for (const f of files) {
    h.update(JSON.stringify([f.path, f.entry]));
    h.update(createHash('sha256').update(await f.read()).digest());
  }
  return `r-${a.name.replace(/[^A-Za-z0-9_-]/g, '_')}-${h.digest('hex').slice(0, 40)}`;
}

export async function memoized(memo: ResultMemo, a: Analyzer, files: InputFile[], fs: FileView, distro: Distro | undefined,
  warn: (m: string) => void): Promise<AnalyzerResult> {
  if (files.length === 0) return a.analyze({ files, fs, ...(distro ? { distro } : {}), warn });
  const key = await inputKey(a, files, distro);
  const hit = (await memo.get(BUCKET, key))?.meta as { result: AnalyzerResult; warnings: string[] } | undefined;
  if (hit) {
    for (const w of hit.warnings) warn(w);
    return hit.result;
  }
  let looked = false;
  const watched: FileView = {
    get: (p) => {
      looked = true;
      return fs.get(p);
    },
    list: () => {
      looked = true;
      return fs.list();
    },
  };
  const warnings: string[] = [];
  const result = await a.analyze({ files, fs: watched, ...(distro ? { distro } : {}), warn: (m) => {
    warnings.push(m);
    warn(m);
  } });
  if (!looked) await memo.put(BUCKET, key, { meta: JSON.parse(JSON.stringify({ result, warnings })) as unknown, blobs: [] }).catch(() => {});
  return result;
}
