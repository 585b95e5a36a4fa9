/**
 * Poetry's `poetry.lock` (TOML): one `[[package]]` table per locked distribution with
 * `name = "..."` and `version = "..."` at column 0 (older locks also `category = "dev"`),
 * then sub-tables such as `[package.dependencies]` and `[package.source]` (`type = "git"`...).
 * Only those simple string keys are needed, so this reads the lines instead of a full TOML parser.
 */
import type { Analyzer, InputFile } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { pythonIdentity } from './python.js';

interface Found {
  fields: Record<string, string>;
  source: Record<string, string>;
  line: number;
}

function unescape(s: string): string {
  return s.replace(/\\(["\\nt])/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

function parsePackages(text: string): { packages: Found[]; sawLockTables: boolean } {
  const packages: Found[] = [];
  let table: 'package' | 'source' | 'other' = 'other';
  let sawLockTables = false;
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    const header = /^\[(\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$/.exec(line);
    if (header) {
      const name = header[2];
      if (header[1] && name === 'package') {
        packages.push({ fields: {}, source: {}, line: i + 1 });
        table = 'package';
      } else table = name === 'package.source' ? 'source' : 'other';
      if (name === 'package' || name === 'metadata') sawLockTables = true;
      continue;
    }
    const current = packages[packages.length - 1];
    if (!current || table === 'other') continue;
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:#.*)?$/.exec(line);
    if (!kv?.[1] || kv[2] === undefined) continue;
    const target = table === 'package' ? current.fields : current.source;
    target[kv[1]] = unescape(kv[2]);
  }
  return { packages, sawLockTables };
}

async function parseLock(file: InputFile, warn: (m: string) => void): Promise<Package[]> {
  const text = (await file.read()).toString('utf8');
  const { packages, sawLockTables } = parsePackages(text);
  if (!sawLockTables) {
    warn(`${file.path}: no [[package]] or [metadata] tables; not a poetry.lock, skipped`);
    return [];
  }
  const out: Package[] = [];
  const seen = new Set<string>();
  for (const p of packages) {
    const { name, version } = p.fields;
    if (!name || !version) {
      warn(`${file.path}:${p.line}: [[package]] without name or version; skipped`);
      continue;
    }
    const id = pythonIdentity(name, version);
    if (seen.has(`${id.normalized}@${version}`)) continue;
    seen.add(`${id.normalized}@${version}`);
    const metadata: Record<string, unknown> = { normalizedName: id.normalized };
    if (p.fields.category) metadata.dev = p.fields.category === 'dev';
    if (p.fields.description) metadata.summary = p.fields.description;
    if (p.source.type) metadata.sourceType = p.source.type;
    if (p.source.url) metadata.sourceUrl = p.source.url;
    out.push({
      name,
      version,
      type: 'python',
      purl: id.purl,
      cpes: id.cpes,
      licenses: [],
      locations: [{ path: file.path, layer: file.entry.layer }],
      metadata,
      foundBy: 'poetry-lock',
    });
  }
  return out;
}

export const poetryLockAnalyzer: Analyzer = {
  name: 'poetry-lock',
  wants: { match: (p) => p.endsWith('/poetry.lock'), maxBytes: 16 * 1024 * 1024 },
  async analyze(ctx) {
    const packages: Package[] = [];
    for (const file of ctx.files) packages.push(...await parseLock(file, ctx.warn));
    return { packages };
  },
};
