/**
 * `yarn.lock` outside node_modules, in both of its formats:
 * - yarn v1 (its own indented format): `"name@^1", name@^1.2:` headers with `version "1.2.3"` lines;
 * - yarn berry (v2+, YAML with a `__metadata` entry): `resolution: "name@npm:1.2.3"`.
 * Workspace, link, portal, file and patch resolutions are not registry packages and are skipped.
 */
import { lazyRequire } from '../../util/lazy.js';

const yaml = lazyRequire<typeof import('yaml')>('yaml');
import type { Analyzer, InputFile } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { npmPackage } from './npm.js';

interface Found {
  name: string;
  version: string;
  metadata: Record<string, unknown>;
}

/** `@scope/name@range` → ['@scope/name', 'range'] (the name's own leading @ is not a separator). */
function splitDescriptor(descriptor: string): [string, string] | undefined {
  const at = descriptor.indexOf('@', descriptor.startsWith('@') ? 1 : 0);
  if (at <= 0) return undefined;
  return [descriptor.slice(0, at), descriptor.slice(at + 1)];
}

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    try {
      return JSON.parse(t) as string;
    } catch {
      return t.slice(1, -1);
    }
  }
  return t;
}

/** A v1 header `"a@^1", a@^1.2:` → its descriptors. */
function headerDescriptors(line: string): string[] {
  const body = line.slice(0, -1);
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of body) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      out.push(unquote(cur));
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(unquote(cur));
  return out;
}

/** The package a descriptor really names: `alias@npm:real@^1` names `real`. */
function realName(descriptor: string): string | undefined {
  const split = splitDescriptor(descriptor);
  if (!split) return undefined;
  const [name, range] = split;
  if (range.startsWith('npm:')) {
    const inner = splitDescriptor(range.slice(4));
    if (inner) return inner[0];
  }
  return name;
}

function parseV1(text: string, path: string, warn: (m: string) => void): Found[] {
  const out: Found[] = [];
  let current: { name: string; fields: Record<string, string> } | undefined;
  let bad = 0;
  const flush = () => {
    if (!current) return;
    const version = current.fields.version;
    if (!version) warn(`${path}: entry ${current.name} has no version; skipped`);
    else {
      out.push({
        name: current.name,
        version,
        metadata: { resolved: current.fields.resolved, integrity: current.fields.integrity },
      });
    }
    current = undefined;
  };
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (!line.trim() || line.trimStart().startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      flush();
      const first = line.endsWith(':') ? headerDescriptors(line)[0] : undefined;
      const name = first ? realName(first) : undefined;
      if (!name) {
        if (bad++ === 0) warn(`${path}:${i + 1}: not a yarn.lock entry header: ${line.slice(0, 80)}`);
        continue;
      }
      current = { name, fields: {} };
      continue;
    }
    if (!current) continue;
    const field = /^ {2}([A-Za-z]+)\s+(.+)$/.exec(line);
    if (field?.[1] && field[2] !== undefined) current.fields[field[1]] = unquote(field[2]);
  }
  flush();
  return out;
}

const NOT_REGISTRY = /^(workspace|link|portal|file|patch|exec):/;

function parseBerry(text: string, path: string, warn: (m: string) => void): Found[] {
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (e) {
    warn(`${path}: not valid YAML (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); skipped`);
    return [];
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    warn(`${path}: expected a YAML mapping; skipped`);
    return [];
  }
  const out: Found[] = [];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (key === '__metadata' || !value || typeof value !== 'object') continue;
    const entry = value as Record<string, unknown>;
    const version = entry.version === undefined || entry.version === null ? undefined : String(entry.version);
    const resolution = typeof entry.resolution === 'string' ? entry.resolution : undefined;
    if (!version || !resolution) {
      warn(`${path}: entry ${key} has no version or resolution; skipped`);
      continue;
    }
    const split = splitDescriptor(resolution);
    if (!split) {
      warn(`${path}: entry ${key} has an unreadable resolution ${resolution}; skipped`);
      continue;
    }
    const [name, reference] = split;
    if (entry.linkType === 'soft' || NOT_REGISTRY.test(reference) || version === '0.0.0-use.local') continue;
    out.push({
      name,
      version,
      metadata: { resolution, checksum: typeof entry.checksum === 'string' ? entry.checksum : undefined },
    });
  }
  return out;
}

async function parseLock(file: InputFile, warn: (m: string) => void): Promise<Package[]> {
  const text = (await file.read()).toString('utf8').replace(/^\uFEFF/, '');
  const berry = /^"?__metadata"?:/m.test(text);
  const found = berry ? parseBerry(text, file.path, warn) : parseV1(text, file.path, warn);
  const seen = new Set<string>();
  const packages: Package[] = [];
  for (const f of found) {
    const key = `${f.name}@${f.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    packages.push(npmPackage({ name: f.name, version: f.version, licenses: [], file, foundBy: 'yarn-lock', metadata: f.metadata }));
  }
  return packages;
}

export const yarnLockAnalyzer: Analyzer = {
  name: 'yarn-lock',
  wants: { match: (p) => p.endsWith('yarn.lock') && /(?:^|\/)yarn\.lock$/.test(p) && !p.includes('/node_modules/'), maxBytes: 64 * 1024 * 1024 },
  async analyze(ctx) {
    const packages: Package[] = [];
    for (const file of ctx.files) packages.push(...await parseLock(file, ctx.warn));
    return { packages };
  },
};
