/**
 * .NET applications: `*.deps.json` written by the SDK beside the app. `libraries` lists every
 * `Name/Version` with its type (package = NuGet, project = part of the app) and sha512; `targets`
 * confirms which ones the runtime target actually uses.
 */
import type { Analyzer, AnalyzerContext } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { purl, cpeCandidates } from '../../sbom/identity.js';
import { describeError } from '../../errors.js';
import { isPlainObject as isObject } from '../../util/objects.js';

const MAX_BYTES = 32 * 1024 * 1024;
const KEPT_TYPES = new Set(['package', 'project']);

interface Library { type?: unknown; sha512?: unknown; path?: unknown; hashPath?: unknown; serviceable?: unknown }


/** `Newtonsoft.Json/13.0.1` → name, version (split at the last slash). */
export function splitNameVersion(key: string): { name: string; version: string } | undefined {
  const i = key.lastIndexOf('/');
  if (i <= 0 || i === key.length - 1) return undefined;
  return { name: key.slice(0, i), version: key.slice(i + 1) };
}

/** Vendor guesses: the first dotted segment (`Newtonsoft`), and the whole name; product is the name. */
export function dotnetCpes(name: string, version: string): string[] {
  const first = name.split('.')[0];
  return cpeCandidates([first, name], [name], version);
}

export function parseDepsJson(text: string): { packages: { name: string; version: string; type: string; sha512?: string; path?: string; hashPath?: string; inTarget: boolean }[]; runtimeTarget?: string; problems: string[] } {
  const doc: unknown = JSON.parse(text);
  if (!isObject(doc) || !isObject(doc['libraries'])) throw new Error('no libraries object');
  const problems: string[] = [];
  const rt = isObject(doc['runtimeTarget']) && typeof doc['runtimeTarget']['name'] === 'string' ? doc['runtimeTarget']['name'] : undefined;
  const targetKeys = new Set<string>();
  if (isObject(doc['targets'])) {
    for (const [name, target] of Object.entries(doc['targets'])) {
      if (rt && name !== rt && !name.startsWith(`${rt}/`)) continue;
      if (isObject(target)) for (const k of Object.keys(target)) targetKeys.add(k);
    }
  }
  const packages = [];
  for (const [key, raw] of Object.entries(doc['libraries'])) {
    const lib = (isObject(raw) ? raw : {}) as Library;
    const type = typeof lib.type === 'string' ? lib.type : '';
    if (!KEPT_TYPES.has(type)) continue;
    const nv = splitNameVersion(key);
    if (!nv) {
      problems.push(`library key ${JSON.stringify(key)} is not Name/Version`);
      continue;
    }
    const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    const sha512 = str(lib.sha512);
    const path = str(lib.path);
    const hashPath = str(lib.hashPath);
    packages.push({
      ...nv, type, inTarget: targetKeys.has(key),
      ...(sha512 ? { sha512 } : {}), ...(path ? { path } : {}), ...(hashPath ? { hashPath } : {}),
    });
  }
  return { packages, ...(rt ? { runtimeTarget: rt } : {}), problems };
}

async function analyze(ctx: AnalyzerContext) {
  const packages: Package[] = [];
  for (const file of ctx.files) {
    if (!file.path.endsWith('.deps.json')) continue;
    let parsed: ReturnType<typeof parseDepsJson>;
    try {
      parsed = parseDepsJson((await file.read()).toString('utf8'));
    } catch (e) {
      ctx.warn(`${file.path}: not a readable .deps.json (${describeError(e)}); skipped`);
      continue;
    }
    for (const p of parsed.problems) ctx.warn(`${file.path}: ${p}; skipped`);
    const seen = new Set<string>();
    for (const lib of parsed.packages) {
      const id = purl('nuget', undefined, lib.name, lib.version);
      if (seen.has(id)) continue;
      seen.add(id);
      packages.push({
        name: lib.name,
        version: lib.version,
        type: 'dotnet',
        purl: id,
        cpes: lib.type === 'package' ? dotnetCpes(lib.name, lib.version) : [],
        licenses: [],
        locations: [{ path: file.path, layer: file.entry.layer }],
        metadata: {
          libraryType: lib.type,
          ...(lib.sha512 ? { sha512: lib.sha512 } : {}),
          ...(lib.path ? { path: lib.path } : {}),
          ...(lib.hashPath ? { hashPath: lib.hashPath } : {}),
          ...(parsed.runtimeTarget ? { runtimeTarget: parsed.runtimeTarget } : {}),
          inRuntimeTarget: lib.inTarget,
        },
        foundBy: 'dotnet',
      });
    }
  }
  return { packages };
}

export const dotnetAnalyzer: Analyzer = {
  name: 'dotnet',
  wants: { match: (p) => p.endsWith('.deps.json'), maxBytes: MAX_BYTES },
  analyze,
};
