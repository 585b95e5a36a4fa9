/**
 * PHP Composer packages: `vendor/composer/installed.json` (composer 1: an array; composer 2:
 * `{packages, dev, dev-package-names}`) lists what is installed; `composer.lock` lists the locked
 * `packages` and `packages-dev` (dev flagged in metadata).
 */
import { normalizeLicense } from '../../sbom/licenses.js';
import type { Analyzer, AnalyzerContext } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { purl, cpeCandidates } from '../../sbom/identity.js';
import { describeError } from '../../errors.js';
import { isPlainObject as isObject } from '../../util/objects.js';

const MAX_BYTES = 32 * 1024 * 1024;

const isInstalled = (p: string) => p.endsWith('/vendor/composer/installed.json');
const isLock = (p: string) => p === 'composer.lock' || p.endsWith('/composer.lock');


/** A composer `license` entry as an SPDX id or expression where one can be made. */
export function composerLicense(text: string): string | undefined {
  return text.trim() ? normalizeLicense(text) : undefined;
}

export interface ComposerEntry {
  name: string;
  version: string;
  dev: boolean;
  licenses: string[];
  metadata: Record<string, unknown>;
}

function entry(raw: unknown, dev: boolean, problems: string[], index: number): ComposerEntry | undefined {
  if (!isObject(raw) || typeof raw['name'] !== 'string' || typeof raw['version'] !== 'string' || !raw['name'] || !raw['version']) {
    problems.push(`package ${index} has no name or version`);
    return undefined;
  }
  const licenses = (Array.isArray(raw['license']) ? raw['license'] : typeof raw['license'] === 'string' ? [raw['license']] : [])
    .filter((l): l is string => typeof l === 'string')
    .map(composerLicense)
    .filter((l): l is string => !!l);
  const meta: Record<string, unknown> = { dev };
  for (const k of ['type', 'description', 'homepage', 'time'] as const) if (typeof raw[k] === 'string') meta[k] = raw[k];
  if (typeof raw['install-path'] === 'string') meta['installPath'] = raw['install-path'];
  for (const k of ['source', 'dist'] as const) {
    const v = raw[k];
    if (isObject(v)) meta[k] = Object.fromEntries(['type', 'url', 'reference', 'shasum'].filter((f) => typeof v[f] === 'string' && v[f]).map((f) => [f, v[f]]));
  }
  return { name: raw['name'], version: raw['version'], dev, licenses: [...new Set(licenses)], metadata: meta };
}

/** installed.json, either shape. */
export function parseInstalledJson(text: string): { entries: ComposerEntry[]; problems: string[] } {
  const doc: unknown = JSON.parse(text);
  const problems: string[] = [];
  let list: unknown[];
  let devNames = new Set<string>();
  if (Array.isArray(doc)) list = doc;
  else if (isObject(doc) && Array.isArray(doc['packages'])) {
    list = doc['packages'];
    if (Array.isArray(doc['dev-package-names'])) devNames = new Set(doc['dev-package-names'].filter((n): n is string => typeof n === 'string'));
  } else throw new Error('neither a package array nor {packages: [...]}');
  const entries = list.map((raw, i) => entry(raw, isObject(raw) && devNames.has(raw['name'] as string), problems, i)).filter((e): e is ComposerEntry => !!e);
  return { entries, problems };
}

/** composer.lock: `packages` and `packages-dev`. */
export function parseComposerLock(text: string): { entries: ComposerEntry[]; problems: string[] } {
  const doc: unknown = JSON.parse(text);
  if (!isObject(doc) || !Array.isArray(doc['packages'])) throw new Error('no packages array');
  const problems: string[] = [];
  const entries: ComposerEntry[] = [];
  doc['packages'].forEach((raw, i) => { const e = entry(raw, false, problems, i); if (e) entries.push(e); });
  if (Array.isArray(doc['packages-dev'])) {
    doc['packages-dev'].forEach((raw, i) => { const e = entry(raw, true, problems, i); if (e) entries.push(e); });
  }
  return { entries, problems };
}

/** `symfony/http-kernel` → pkg:composer/symfony/http-kernel@v6.3.0, CPE symfony:http-kernel. */
export function composerIdentity(name: string, version: string): { purl: string; cpes: string[] } {
  const slash = name.indexOf('/');
  const vendor = slash > 0 ? name.slice(0, slash) : undefined;
  const product = slash > 0 ? name.slice(slash + 1) : name;
  return {
    purl: purl('composer', vendor, product, version),
    cpes: cpeCandidates([vendor ?? product], [product], version.replace(/^v(?=\d)/, '')),
  };
}

async function analyze(ctx: AnalyzerContext) {
  const packages: Package[] = [];
  for (const file of ctx.files) {
    const parse = isInstalled(file.path) ? parseInstalledJson : isLock(file.path) ? parseComposerLock : undefined;
    if (!parse) continue;
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse((await file.read()).toString('utf8'));
    } catch (e) {
      ctx.warn(`${file.path}: not a readable composer file (${describeError(e)}); skipped`);
      continue;
    }
    for (const p of parsed.problems) ctx.warn(`${file.path}: ${p}; skipped`);
    const seen = new Set<string>();
    for (const e of parsed.entries) {
      const id = composerIdentity(e.name, e.version);
      if (seen.has(id.purl)) continue;
      seen.add(id.purl);
      packages.push({
        name: e.name,
        version: e.version,
        type: 'php-composer',
        purl: id.purl,
        cpes: id.cpes,
        licenses: e.licenses,
        locations: [{ path: file.path, layer: file.entry.layer }],
        metadata: e.metadata,
        foundBy: 'php',
      });
    }
  }
  return { packages };
}

export const phpAnalyzer: Analyzer = {
  name: 'php',
  wants: { match: (p) => isInstalled(p) || isLock(p), maxBytes: MAX_BYTES },
  analyze,
};
