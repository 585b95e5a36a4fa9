/**
 * Installed npm packages: every `node_modules/<name>/package.json` and
 * `node_modules/@scope/<name>/package.json`, nested node_modules and the global
 * `/usr/lib/node_modules`, `/usr/local/lib/node_modules` trees included. A package.json deeper
 * inside a package (`node_modules/x/lib/package.json`) is not a package of its own.
 * Also the shared npm identity helpers used by the lock-file analyzers.
 */
import type { Analyzer, InputFile } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { cpeCandidates, purl } from '../../sbom/identity.js';
import { licensesFrom } from '../../sbom/licenses.js';

const INSTALLED = /(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/@._][^/]*\/package\.json$/;

/** `@scope/name` → ['@scope', 'name']; `name` → [undefined, 'name']. */
export function splitNpmName(name: string): [string | undefined, string] {
  const m = /^(@[^/]+)\/(.+)$/.exec(name);
  return m ? [m[1], m[2] ?? ''] : [undefined, name];
}

/** The string form of package.json `license`/`licenses` in any of their historical shapes. */
function licenseValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string') return (v as { type: string }).type;
  return undefined;
}

export function npmLicenses(license: unknown, licenses?: unknown): string[] {
  const values: (string | undefined)[] = [];
  if (Array.isArray(license)) values.push(...license.map(licenseValue));
  else values.push(licenseValue(license));
  if (Array.isArray(licenses)) values.push(...licenses.map(licenseValue));
  else values.push(licenseValue(licenses));
  return licensesFrom(values);
}

/** `author` as a string (`Name <email> (url)`), whether declared as a string or an object. */
function authorText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() || undefined;
  if (v && typeof v === 'object') {
    const a = v as { name?: unknown; email?: unknown; url?: unknown };
    const parts = [
      typeof a.name === 'string' ? a.name : '',
      typeof a.email === 'string' ? `<${a.email}>` : '',
      typeof a.url === 'string' ? `(${a.url})` : '',
    ].filter(Boolean);
    return parts.join(' ') || undefined;
  }
  return undefined;
}

export interface NpmPackageInput {
  name: string;
  version: string;
  licenses: string[];
  file: InputFile;
  foundBy: string;
  metadata: Record<string, unknown>;
}

/** Build one npm Package: purl, CPE candidates (vendor = scope or name, product = name, target node.js). */
export function npmPackage(input: NpmPackageInput): Package {
  const [scope, bare] = splitNpmName(input.name);
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input.metadata)) if (v !== undefined) metadata[k] = v;
  return {
    name: input.name,
    version: input.version,
    type: 'npm',
    purl: purl('npm', scope, bare, input.version),
    cpes: cpeCandidates([scope?.slice(1), bare], [bare], input.version, 'node.js'),
    licenses: input.licenses,
    locations: [{ path: input.file.path, layer: input.file.entry.layer }],
    foundBy: input.foundBy,
    ...(Object.keys(metadata).length ? { metadata } : {}),
  };
}

/** Read and JSON-parse a file; on failure warn (naming the file) and return undefined. */
export async function readJsonObject(file: InputFile, warn: (m: string) => void): Promise<Record<string, unknown> | undefined> {
  let value: unknown;
  try {
    value = JSON.parse((await file.read()).toString('utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    warn(`${file.path}: not valid JSON (${e instanceof Error ? e.message : String(e)}); skipped`);
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    warn(`${file.path}: expected a JSON object; skipped`);
    return undefined;
  }
  return value as Record<string, unknown>;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

export const npmAnalyzer: Analyzer = {
  name: 'npm',
  wants: { match: (p) => p.endsWith('/package.json') && INSTALLED.test(p), maxBytes: 8 * 1024 * 1024 },
  async analyze(ctx) {
    const packages: Package[] = [];
    for (const file of ctx.files) {
      const json = await readJsonObject(file, ctx.warn);
      if (!json) continue;
      const name = str(json.name);
      const version = str(json.version);
      if (!name || !version) {
        ctx.warn(`${file.path}: package.json has no ${name ? 'version' : 'name'}; skipped`);
        continue;
      }
      packages.push(npmPackage({
        name,
        version,
        licenses: npmLicenses(json.license, json.licenses),
        file,
        foundBy: 'npm',
        metadata: {
          author: authorText(json.author),
          homepage: str(json.homepage),
          description: str(json.description),
          private: json.private === true ? true : undefined,
        },
      }));
    }
    return { packages };
  },
};
