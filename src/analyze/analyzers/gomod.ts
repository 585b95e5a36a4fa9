/**
 * Go module files: `go.mod` (require directives, with replace directives applied and `// indirect`
 * noted) and, beside it, `go.sum` for the h1 digests. go.sum alone lists candidates, not what a
 * build uses, so it only annotates.
 */
import { dirname, basename } from 'node:path/posix';
import type { Analyzer, AnalyzerContext } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { effectiveModule, goCpes, goPurl, type GoModule } from './go.js';

const MAX_BYTES = 8 * 1024 * 1024;

export interface GoModFile {
  module?: string;
  go?: string;
  toolchain?: string;
  requires: (GoModule & { indirect: boolean; line: number })[];
  /** Lines that could not be read, with a reason. */
  problems: string[];
}

/** Tokens of one go.mod line: bare words, "quoted" and `raw` strings; `//` starts a comment. */
function tokenize(line: string): { tokens: string[]; comment: string } {
  const tokens: string[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\r') { i++; continue; }
    if (line.startsWith('//', i)) return { tokens, comment: line.slice(i + 2).trim() };
    if (ch === '"' || ch === '`') {
      const m = ch === '"' ? /^"((?:[^"\\]|\\.)*)"/.exec(line.slice(i)) : /^`([^`]*)`/.exec(line.slice(i));
      if (!m) { tokens.push(line.slice(i)); break; }
      tokens.push(ch === '"' ? m[1]!.replace(/\\(.)/g, '$1') : m[1]!);
      i += m[0].length;
      continue;
    }
    if (ch === '(' || ch === ')') { tokens.push(ch); i++; continue; }
    let j = i;
    while (j < line.length && !' \t\r()'.includes(line[j]!) && !line.startsWith('//', j)) j++;
    tokens.push(line.slice(i, j));
    i = j;
  }
  return { tokens, comment: '' };
}

export function parseGoMod(text: string): GoModFile {
  const out: GoModFile = { requires: [], problems: [] };
  const replaces: { from: string; fromVersion?: string; to: GoModule }[] = [];
  let block: string | undefined;
  const lines = text.split('\n');
  const directive = (verb: string, args: string[], comment: string, n: number) => {
    switch (verb) {
      case 'module': if (args[0]) out.module = args[0]; break;
      case 'go': if (args[0]) out.go = args[0]; break;
      case 'toolchain': if (args[0]) out.toolchain = args[0]; break;
      case 'require':
        if (args.length < 2) out.problems.push(`line ${n}: require needs a module path and a version`);
        else out.requires.push({ path: args[0]!, version: args[1]!, indirect: /(^|;)\s*indirect\b/.test(comment), line: n });
        break;
      case 'replace': {
        const arrow = args.indexOf('=>');
        if (arrow < 1 || arrow > 2 || !args[arrow + 1]) {
          out.problems.push(`line ${n}: replace needs \`path [version] => path [version]\``);
          break;
        }
        replaces.push({ from: args[0]!, ...(arrow === 2 ? { fromVersion: args[1]! } : {}), to: { path: args[arrow + 1]!, version: args[arrow + 2] ?? '' } });
        break;
      }
      default: break; // exclude, retract, godebug, tool, ignore: nothing to report
    }
  };
  lines.forEach((raw, idx) => {
    const n = idx + 1;
    const { tokens, comment } = tokenize(raw);
    if (block !== undefined) {
      if (tokens[0] === ')') { block = undefined; return; }
      if (tokens.length) directive(block, tokens, comment, n);
      return;
    }
    const [verb, ...args] = tokens;
    if (!verb) return;
    if (args[0] === '(' ) {
      block = verb;
      return;
    }
    directive(verb, args, comment, n);
  });
  for (const req of out.requires) {
    const r = replaces.find((x) => x.from === req.path && x.fromVersion === req.version) ?? replaces.find((x) => x.from === req.path && !x.fromVersion);
    if (r) req.replace = r.to;
  }
  return out;
}

/** go.sum: `path version h1:...` lines; `/go.mod` entries are skipped. Keyed `path@version`. */
export function parseGoSum(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [path, version, hash] = line.trim().split(/\s+/);
    if (!path || !version || !hash || version.endsWith('/go.mod')) continue;
    sums.set(`${path}@${version}`, hash);
  }
  return sums;
}

async function analyze(ctx: AnalyzerContext) {
  const packages: Package[] = [];
  const sumFiles = new Map(ctx.files.filter((f) => basename(f.path) === 'go.sum').map((f) => [dirname(f.path), f]));
  for (const file of ctx.files) {
    if (basename(file.path) !== 'go.mod') continue;
    const mod = parseGoMod((await file.read()).toString('utf8'));
    for (const p of mod.problems) ctx.warn(`${file.path}: ${p}; skipped`);
    const sumFile = sumFiles.get(dirname(file.path));
    const sums = sumFile ? parseGoSum((await sumFile.read()).toString('utf8')) : new Map<string, string>();
    const seen = new Set<string>();
    for (const req of mod.requires) {
      const e = effectiveModule(req);
      const id = goPurl(e.path, e.version);
      if (seen.has(id)) continue;
      seen.add(id);
      const sum = sums.get(`${e.path}@${e.version}`);
      packages.push({
        name: e.path,
        version: e.version,
        type: 'go-module',
        purl: id,
        cpes: goCpes(e.path, e.version),
        licenses: [],
        locations: [{ path: file.path, layer: file.entry.layer }],
        metadata: {
          ...(mod.module ? { mainModule: mod.module } : {}),
          ...(mod.go ? { goVersion: mod.go } : {}),
          indirect: req.indirect,
          ...(sum ? { h1Digest: sum } : {}),
          ...(e.replacedFrom ? { replaces: e.replacedFrom } : {}),
        },
        foundBy: 'gomod',
      });
    }
  }
  return { packages };
}

export const gomodAnalyzer: Analyzer = {
  name: 'gomod',
  wants: { match: (p) => p.endsWith('/go.mod') || p.endsWith('/go.sum'), maxBytes: MAX_BYTES },
  analyze,
};
