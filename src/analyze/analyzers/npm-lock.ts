/**
 * npm lock files (`package-lock.json`, `npm-shrinkwrap.json`) outside node_modules.
 * v1: a nested `dependencies` tree. v2/v3: a flat `packages` map keyed by install path
 * (`node_modules/a/node_modules/b`); the root "" entry, workspace sources and `link: true`
 * entries are not dependencies. v2 carries both forms; `packages` wins.
 */
import type { Analyzer, InputFile } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { npmLicenses, npmPackage, readJsonObject, str } from './npm.js';
import { isPlainObject } from '../../util/objects.js';

const LOCK = /(?:^|\/)(?:package-lock|npm-shrinkwrap)\.json$/;

interface Found {
  name: string;
  version: string;
  dev: boolean;
  optional: boolean;
  resolved?: string;
  integrity?: string;
  licenses: string[];
}

/** `npm:real-name@1.2.3` (an alias) → ['real-name', '1.2.3']. */
function unalias(name: string, version: string): [string, string] {
  const m = /^npm:(@?[^@]+)@(.+)$/.exec(version);
  return m ? [m[1] ?? name, m[2] ?? version] : [name, version];
}

/** Versions that are not a published release: local links and directories. */
function isLocal(version: string): boolean {
  return /^(file|link|workspace):/.test(version);
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return isPlainObject(v) ? v : undefined;
}

function fromPackagesMap(packages: Record<string, unknown>, out: Found[]): void {
  for (const [key, value] of Object.entries(packages)) {
    const entry = obj(value);
    if (!entry || key === '' || entry.link === true) continue;
    const at = key.lastIndexOf('node_modules/');
    if (at < 0) continue; // a workspace's own source folder, like the root project
    const name = str(entry.name) ?? key.slice(at + 'node_modules/'.length);
    const rawVersion = str(entry.version);
    if (!rawVersion) continue;
    const [realName, version] = unalias(name, rawVersion);
    if (isLocal(version)) continue;
    out.push({
      name: realName,
      version,
      dev: entry.dev === true,
      optional: entry.optional === true,
      licenses: npmLicenses(entry.license, entry.licenses),
      ...(str(entry.resolved) ? { resolved: str(entry.resolved) } : {}),
      ...(str(entry.integrity) ? { integrity: str(entry.integrity) } : {}),
    });
  }
}

function fromDependencyTree(deps: Record<string, unknown>, out: Found[]): void {
  for (const [name, value] of Object.entries(deps)) {
    const entry = obj(value);
    if (!entry) continue;
    const rawVersion = str(entry.version);
    if (rawVersion) {
      const [realName, version] = unalias(name, rawVersion);
      if (!isLocal(version)) {
        out.push({
          name: realName,
          version,
          dev: entry.dev === true,
          optional: entry.optional === true,
          licenses: [],
          ...(str(entry.resolved) ? { resolved: str(entry.resolved) } : {}),
          ...(str(entry.integrity) ? { integrity: str(entry.integrity) } : {}),
        });
      }
    }
    const nested = obj(entry.dependencies);
    if (nested) fromDependencyTree(nested, out);
  }
}

/** One package per name@version: dev/optional only if every occurrence is. */
function merge(found: Found[]): Found[] {
  const byKey = new Map<string, Found>();
  for (const f of found) {
    const key = `${f.name}@${f.version}`;
    const prev = byKey.get(key);
    if (!prev) byKey.set(key, { ...f });
    else {
      prev.dev &&= f.dev;
      prev.optional &&= f.optional;
      if (!prev.licenses.length) prev.licenses = f.licenses;
    }
  }
  return [...byKey.values()];
}

async function parseLock(file: InputFile, warn: (m: string) => void): Promise<Package[]> {
  const json = await readJsonObject(file, warn);
  if (!json) return [];
  const found: Found[] = [];
  const packages = obj(json.packages);
  const dependencies = obj(json.dependencies);
  if (packages) fromPackagesMap(packages, found);
  else if (dependencies) fromDependencyTree(dependencies, found);
  else if (json.lockfileVersion === undefined) {
    warn(`${file.path}: no lockfileVersion, packages or dependencies; not an npm lock file, skipped`);
    return [];
  }
  return merge(found).map((f) => npmPackage({
    name: f.name,
    version: f.version,
    licenses: f.licenses,
    file,
    foundBy: 'npm-lock',
    metadata: {
      dev: f.dev,
      optional: f.optional || undefined,
      resolved: f.resolved,
      integrity: f.integrity,
      lockfileVersion: typeof json.lockfileVersion === 'number' ? json.lockfileVersion : undefined,
    },
  }));
}

export const npmLockAnalyzer: Analyzer = {
  name: 'npm-lock',
  wants: { match: (p) => p.endsWith('.json') && LOCK.test(p) && !p.includes('/node_modules/'), maxBytes: 64 * 1024 * 1024 },
  async analyze(ctx) {
    const packages: Package[] = [];
    for (const file of ctx.files) packages.push(...await parseLock(file, ctx.warn));
    return { packages };
  },
};
