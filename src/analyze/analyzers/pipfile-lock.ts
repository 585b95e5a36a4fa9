/**
 * Pipenv's `Pipfile.lock` (JSON): `default` (runtime) and `develop` (dev) maps of
 * `name → { version: "==1.2.3", hashes, index, markers }`. Editable, path and git entries carry
 * no version and are skipped. A name in both maps is one package, not a dev one.
 */
import type { Analyzer, InputFile } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { readJsonObject } from './npm.js';
import { pythonIdentity } from './python.js';

async function parseLock(file: InputFile, warn: (m: string) => void): Promise<Package[]> {
  const json = await readJsonObject(file, warn);
  if (!json) return [];
  if (!json.default && !json.develop) {
    warn(`${file.path}: no default or develop section; not a Pipfile.lock, skipped`);
    return [];
  }
  const found = new Map<string, { name: string; version: string; dev: boolean; index?: string }>();
  for (const section of ['default', 'develop'] as const) {
    const deps = json[section];
    if (!deps || typeof deps !== 'object' || Array.isArray(deps)) continue;
    for (const [name, value] of Object.entries(deps as Record<string, unknown>)) {
      const entry = value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
      const spec = typeof entry.version === 'string' ? entry.version.trim() : '';
      const version = spec.replace(/^===?\s*/, '');
      if (!version || version === spec) continue; // no pinned version: editable, path or VCS
      const key = `${name.toLowerCase()}@${version}`;
      const prev = found.get(key);
      if (prev) continue; // `default` is read first: a runtime package stays runtime
      found.set(key, { name, version, dev: section === 'develop', ...(typeof entry.index === 'string' ? { index: entry.index } : {}) });
    }
  }
  return [...found.values()].map((f) => {
    const id = pythonIdentity(f.name, f.version);
    return {
      name: f.name,
      version: f.version,
      type: 'python' as const,
      purl: id.purl,
      cpes: id.cpes,
      licenses: [],
      locations: [{ path: file.path, layer: file.entry.layer }],
      metadata: { normalizedName: id.normalized, dev: f.dev, ...(f.index ? { index: f.index } : {}) },
      foundBy: 'pipfile-lock',
    };
  });
}

export const pipfileLockAnalyzer: Analyzer = {
  name: 'pipfile-lock',
  wants: { match: (p) => p.endsWith('/Pipfile.lock'), maxBytes: 16 * 1024 * 1024 },
  async analyze(ctx) {
    const packages: Package[] = [];
    for (const file of ctx.files) packages.push(...await parseLock(file, ctx.warn));
    return { packages };
  },
};
