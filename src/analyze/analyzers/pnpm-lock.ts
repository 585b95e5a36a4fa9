/**
 * `pnpm-lock.yaml` outside node_modules. Keys of the `packages:` map by lock version:
 * - v5.x: `/name/1.2.3`, `/@scope/name/1.2.3_peer@1.0.0` (peer suffix after `_`);
 * - v6.x: `/name@1.2.3`, `/@scope/name@1.2.3(peer@1.0.0)`;
 * - v9.x: `name@1.2.3`, `'@scope/name@1.2.3'` (peers live in `snapshots:`).
 * v5/v6 entries carry `dev:`; for v9 it is worked out from `importers` and `snapshots`.
 */
import { lazyRequire } from '../../util/lazy.js';

const yaml = lazyRequire<typeof import('yaml')>('yaml');
import type { Analyzer, InputFile } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { npmPackage, str } from './npm.js';
import { isPlainObject } from '../../util/objects.js';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return isPlainObject(v) ? v : undefined;
}

/** Remove peer suffixes: `1.0.0(react@18.2.0)(x@1)` → `1.0.0`. */
function stripParens(s: string): string {
  const i = s.indexOf('(');
  return i < 0 ? s : s.slice(0, i);
}

/** `name@version` (name may be scoped) → [name, version]. */
function splitAt(s: string): [string, string] | undefined {
  const at = s.indexOf('@', s.startsWith('@') ? 1 : 0);
  if (at <= 0 || at === s.length - 1) return undefined;
  return [s.slice(0, at), s.slice(at + 1)];
}

/** A packages-map key → [name, version], per lock version. */
export function parsePnpmKey(key: string, lockVersion: number): [string, string] | undefined {
  const k = key.startsWith('/') ? key.slice(1) : key;
  if (lockVersion < 6) {
    const parts = k.split('/');
    const scoped = parts[0]?.startsWith('@');
    const name = scoped ? `${parts[0]}/${parts[1] ?? ''}` : parts[0];
    const version = parts[scoped ? 2 : 1];
    if (!name || !version || parts.length !== (scoped ? 3 : 2)) return undefined;
    const underscore = version.indexOf('_');
    return [name, stripParens(underscore < 0 ? version : version.slice(0, underscore))];
  }
  return splitAt(stripParens(k));
}

/** v9: which `name@version`s are reachable only from devDependencies. */
function v9DevFlags(doc: Obj): Map<string, boolean> | undefined {
  const importers = obj(doc.importers);
  const snapshots = obj(doc.snapshots) ?? {};
  if (!importers) return undefined;
  const reach = (roots: [string, string][]): Set<string> => {
    const seen = new Set<string>();
    const stack = roots.map(([n, v]) => (/^\d/.test(v) ? `${n}@${v}` : v));
    while (stack.length) {
      const key = stack.pop() as string;
      if (seen.has(key)) continue;
      seen.add(key);
      const snap = obj(snapshots[key]);
      for (const field of ['dependencies', 'optionalDependencies']) {
        for (const [n, v] of Object.entries(obj(snap?.[field]) ?? {})) {
          if (typeof v === 'string') stack.push(/^\d/.test(v) ? `${n}@${v}` : v);
        }
      }
    }
    return new Set([...seen].map(stripParens));
  };
  const roots = (fields: string[]): [string, string][] => {
    const out: [string, string][] = [];
    for (const imp of Object.values(importers)) {
      for (const field of fields) {
        for (const [n, spec] of Object.entries(obj(obj(imp)?.[field]) ?? {})) {
          const v = typeof spec === 'string' ? spec : str(obj(spec)?.version);
          if (v) out.push([n, v]);
        }
      }
    }
    return out;
  };
  const prod = reach(roots(['dependencies', 'optionalDependencies']));
  const dev = reach(roots(['devDependencies']));
  const flags = new Map<string, boolean>();
  for (const k of dev) flags.set(k, true);
  for (const k of prod) flags.set(k, false);
  return flags;
}

async function parseLock(file: InputFile, warn: (m: string) => void): Promise<Package[]> {
  let doc: unknown;
  try {
    doc = yaml().parse((await file.read()).toString('utf8'));
  } catch (e) {
    warn(`${file.path}: not valid YAML (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); skipped`);
    return [];
  }
  const root = obj(doc);
  const lockVersion = root ? Number.parseFloat(String(root.lockfileVersion)) : NaN;
  if (!root || Number.isNaN(lockVersion)) {
    warn(`${file.path}: no lockfileVersion; not a pnpm lock file, skipped`);
    return [];
  }
  const packages = obj(root.packages) ?? {};
  const v9Dev = lockVersion >= 9 ? v9DevFlags(root) : undefined;
  const found = new Map<string, { name: string; version: string; dev?: boolean; integrity?: string }>();
  for (const [key, value] of Object.entries(packages)) {
    const entry = obj(value) ?? {};
    const parsed = parsePnpmKey(key, lockVersion);
    const name = str(entry.name) ?? parsed?.[0];
    const keyVersion = parsed?.[1];
    const version = str(entry.version) ?? (keyVersion && !/[:/]/.test(keyVersion) ? keyVersion : undefined);
    if (!name || !version) {
      warn(`${file.path}: package key ${key} has no readable name and version; skipped`);
      continue;
    }
    if (/^(file|link|workspace):/.test(version)) continue;
    const id = `${name}@${version}`;
    const dev = lockVersion >= 9
      ? v9Dev?.get(parsed ? `${parsed[0]}@${parsed[1]}` : id)
      : typeof entry.dev === 'boolean' ? entry.dev : undefined;
    const prev = found.get(id);
    if (prev) {
      if (prev.dev !== undefined && dev !== undefined) prev.dev = prev.dev && dev;
      continue;
    }
    const integrity = str(obj(entry.resolution)?.integrity);
    found.set(id, { name, version, ...(dev !== undefined ? { dev } : {}), ...(integrity ? { integrity } : {}) });
  }
  return [...found.values()].map((f) => npmPackage({
    name: f.name,
    version: f.version,
    licenses: [],
    file,
    foundBy: 'pnpm-lock',
    metadata: { dev: f.dev, integrity: f.integrity, lockfileVersion: String(root.lockfileVersion) },
  }));
}

export const pnpmLockAnalyzer: Analyzer = {
  name: 'pnpm-lock',
  wants: { match: (p) => p.endsWith('pnpm-lock.yaml') && /(?:^|\/)pnpm-lock\.yaml$/.test(p) && !p.includes('/node_modules/'), maxBytes: 64 * 1024 * 1024 },
  async analyze(ctx) {
    const packages: Package[] = [];
    for (const file of ctx.files) packages.push(...await parseLock(file, ctx.warn));
    return { packages };
  },
};
