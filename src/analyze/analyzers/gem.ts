/**
 * Installed Ruby gems: `<gem home>/specifications/<name>-<version>.gemspec` (and
 * `specifications/default/` for default gems). These are the Ruby files rubygems writes
 * (`s.name = "rack".freeze`, `s.licenses = ["MIT".freeze]`, or `%q{...}` in older rubygems).
 * Nothing is executed: the assignment statements are read with a small Ruby-literal reader.
 */
import { posix } from 'node:path';
import type { Analyzer, InputFile } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { cpeCandidates, purl } from '../../sbom/identity.js';
import { licensesFrom } from '../../sbom/licenses.js';

type RubyValue = string | string[];

const CLOSERS: Record<string, string> = { '{': '}', '(': ')', '[': ']', '<': '>' };

/** Read one Ruby string literal at `pos`: "..", '..', %q{..}, %Q(..), %{..}. */
function readString(src: string, pos: number): { value: string; end: number } | undefined {
  const ch = src[pos];
  if (ch === '"' || ch === "'") {
    let out = '';
    for (let i = pos + 1; i < src.length; i++) {
      const c = src[i] as string;
      if (c === ch) return { value: out, end: i + 1 };
      if (c === '\\' && i + 1 < src.length) {
        const n = src[++i] as string;
        if (ch === "'") out += n === "'" || n === '\\' ? n : `\\${n}`;
        else out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
      } else out += c;
    }
    return undefined;
  }
  const pct = /^%([qQ]?)([^\w\s])/.exec(src.slice(pos, pos + 3));
  if (ch === '%' && pct) {
    const open = pct[2] as string;
    const close = CLOSERS[open] ?? open;
    let depth = 1;
    let out = '';
    for (let i = pos + pct[0].length; i < src.length; i++) {
      const c = src[i] as string;
      if (c === '\\' && i + 1 < src.length) {
        out += src[++i];
        continue;
      }
      if (c === close && --depth === 0) return { value: out, end: i + 1 };
      if (c === open && open !== close) depth++;
      out += c;
    }
  }
  return undefined;
}

/** Skip a trailing `.freeze` (and whitespace) after a literal. */
function skipFreeze(src: string, pos: number): number {
  const m = /^\s*\.freeze\b/.exec(src.slice(pos, pos + 16));
  return m ? pos + m[0].length : pos;
}

/** Read a string, `%w[...]`, or an array of strings at `pos`; undefined for anything else. */
export function readRubyValue(src: string, pos: number): RubyValue | undefined {
  let i = pos;
  while (src[i] === ' ' || src[i] === '\t') i++;
  const gemVersion = /^Gem::Version\.new\(\s*/.exec(src.slice(i, i + 40));
  if (gemVersion) i += gemVersion[0].length;
  const words = /^%w([^\w\s])/.exec(src.slice(i, i + 3));
  if (words) {
    const open = words[1] as string;
    const close = CLOSERS[open] ?? open;
    const end = src.indexOf(close, i + 3);
    return end < 0 ? undefined : src.slice(i + 3, end).split(/\s+/).filter(Boolean);
  }
  if (src[i] === '[') {
    const out: string[] = [];
    i++;
    for (;;) {
      while (i < src.length && /[\s,]/.test(src[i] as string)) i++;
      if (src[i] === ']') return out;
      const s = readString(src, i);
      if (!s) return undefined;
      out.push(s.value);
      i = skipFreeze(src, s.end);
    }
  }
  return readString(src, i)?.value;
}

/** The first assignment `<var>.<field> = <literal>` for each field in a gemspec. */
export function parseGemspec(src: string): Map<string, RubyValue> | undefined {
  const block = /Gem::Specification\.new\s*(?:do|\{)\s*\|\s*(\w+)\s*\|/.exec(src);
  if (!block?.[1]) return undefined;
  const fields = new Map<string, RubyValue>();
  const assign = new RegExp(`^[ \\t]*${block[1]}\\.(\\w+)[ \\t]*=(?![=~])`, 'gm');
  for (let m = assign.exec(src); m; m = assign.exec(src)) {
    const field = m[1] as string;
    if (fields.has(field)) continue;
    const value = readRubyValue(src, m.index + m[0].length);
    if (value !== undefined) fields.set(field, value);
  }
  return fields;
}

function asString(v: RubyValue | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s?.trim() || undefined;
}

function asList(v: RubyValue | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export interface GemPackageInput {
  name: string;
  version: string;
  licenses: string[];
  file: InputFile;
  foundBy: string;
  files?: string[];
  metadata: Record<string, unknown>;
}

/** One gem Package: `pkg:gem/<name>@<version>`, CPEs with target_sw ruby. */
export function gemPackage(input: GemPackageInput): Package {
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input.metadata)) if (v !== undefined) metadata[k] = v;
  return {
    name: input.name,
    version: input.version,
    type: 'gem',
    purl: purl('gem', undefined, input.name, input.version),
    cpes: cpeCandidates([input.name, `${input.name.replace(/-/g, '_')}_project`], [input.name], input.version, 'ruby'),
    licenses: input.licenses,
    locations: [{ path: input.file.path, layer: input.file.entry.layer }],
    ...(input.files?.length ? { files: input.files } : {}),
    ...(Object.keys(metadata).length ? { metadata } : {}),
    foundBy: input.foundBy,
  };
}

const SPEC = /\/specifications\/(?:default\/)?[^/]+\.gemspec$/;

async function parseSpecFile(file: InputFile, warn: (m: string) => void): Promise<Package | undefined> {
  const src = (await file.read()).toString('utf8');
  const fields = parseGemspec(src);
  if (!fields) {
    warn(`${file.path}: no Gem::Specification.new block; not a gemspec, skipped`);
    return undefined;
  }
  // rubygems also writes `# stub: <name> <version> <platform> <paths>` at the top.
  const stub = /^# stub: (\S+) (\S+)/m.exec(src);
  const name = asString(fields.get('name')) ?? stub?.[1];
  const version = asString(fields.get('version')) ?? stub?.[2];
  if (!name || !version) {
    warn(`${file.path}: gemspec has no readable ${name ? 'version' : 'name'}; skipped`);
    return undefined;
  }
  const isDefault = file.path.includes('/specifications/default/');
  const stem = posix.basename(file.path, '.gemspec');
  const gemHome = posix.dirname(posix.dirname(file.path).replace(/\/default$/, ''));
  const files = isDefault ? undefined : asList(fields.get('files')).map((f) => posix.join(gemHome, 'gems', stem, f));
  const platform = asString(fields.get('platform'));
  return gemPackage({
    name,
    version,
    licenses: licensesFrom([...asList(fields.get('licenses')), ...asList(fields.get('license'))]),
    file,
    foundBy: 'gem',
    ...(files ? { files } : {}),
    metadata: {
      authors: asList(fields.get('authors') ?? fields.get('author')).length ? asList(fields.get('authors') ?? fields.get('author')) : undefined,
      homepage: asString(fields.get('homepage')),
      summary: asString(fields.get('summary')),
      platform: platform && platform !== 'ruby' ? platform : undefined,
      defaultGem: isDefault || undefined,
    },
  });
}

export const gemAnalyzer: Analyzer = {
  name: 'gem',
  wants: { match: (p) => p.endsWith('.gemspec') && SPEC.test(p), maxBytes: 4 * 1024 * 1024 },
  async analyze(ctx) {
    const packages: Package[] = [];
    for (const file of ctx.files) {
      const p = await parseSpecFile(file, ctx.warn);
      if (p) packages.push(p);
    }
    return { packages };
  },
};
