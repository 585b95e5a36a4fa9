/**
 * Installed Python distributions:
 * - `<site>/<name>-<version>.dist-info/METADATA`, with `RECORD` (CSV: path,hash,size, relative to
 *   the site-packages dir) and `top_level.txt` beside it;
 * - `<site>/<name>.egg-info/PKG-INFO` (with `top_level.txt`, `installed-files.txt` beside it);
 * - `<site>/<name>.egg-info` as a plain file in PKG-INFO format (as Debian packages ship it).
 * Core-metadata files are RFC 822 style: `Key: value` headers, continuation lines starting with
 * whitespace, then a blank line and the long description.
 */
import { posix } from 'node:path';
import type { Analyzer, InputFile } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { cpeCandidates, purl } from '../../sbom/identity.js';
import { licensesFrom, normalizeLicense } from '../../sbom/licenses.js';

/** PEP 503: lowercase, runs of `-`, `_`, `.` become one `-`. */
export function normalizePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** purl (on the PEP 503 name) and CPE candidates for a Python distribution. */
export function pythonIdentity(name: string, version: string): { normalized: string; purl: string; cpes: string[] } {
  const normalized = normalizePythonName(name);
  const cpeName = normalized.replace(/-/g, '_');
  return {
    normalized,
    purl: purl('pypi', undefined, normalized, version),
    cpes: cpeCandidates([cpeName, `${cpeName}_project`, 'python'], [normalized, cpeName], version, 'python'),
  };
}

/** Core-metadata headers: each key maps to all its values (Classifier, Requires-Dist repeat). */
export function parseCoreMetadata(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let last: { key: string; index: number } | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break; // the body (long description) follows
    if (/^[ \t]/.test(line)) {
      if (!last) continue;
      const values = headers.get(last.key);
      if (values) values[last.index] += `\n${line.replace(/^[ \t]+\|?/, '').trimEnd()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      last = undefined;
      continue;
    }
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const values = headers.get(key) ?? [];
    values.push(value);
    headers.set(key, values);
    last = { key, index: values.length - 1 };
  }
  return headers;
}

/** Trove license classifiers with an exact SPDX meaning (others go through normalizeLicense). */
const CLASSIFIERS: Record<string, string> = {
  'MIT License': 'MIT',
  'MIT No Attribution License (MIT-0)': 'MIT-0',
  'Apache Software License': 'Apache-2.0',
  'ISC License (ISCL)': 'ISC',
  'Python Software Foundation License': 'PSF-2.0',
  'Mozilla Public License 1.1 (MPL 1.1)': 'MPL-1.1',
  'Mozilla Public License 2.0 (MPL 2.0)': 'MPL-2.0',
  'GNU General Public License v2 (GPLv2)': 'GPL-2.0-only',
  'GNU General Public License v2 or later (GPLv2+)': 'GPL-2.0-or-later',
  'GNU General Public License v3 (GPLv3)': 'GPL-3.0-only',
  'GNU General Public License v3 or later (GPLv3+)': 'GPL-3.0-or-later',
  'GNU Lesser General Public License v2 (LGPLv2)': 'LGPL-2.0-only',
  'GNU Lesser General Public License v2 or later (LGPLv2+)': 'LGPL-2.0-or-later',
  'GNU Lesser General Public License v3 (LGPLv3)': 'LGPL-3.0-only',
  'GNU Lesser General Public License v3 or later (LGPLv3+)': 'LGPL-3.0-or-later',
  'GNU Affero General Public License v3': 'AGPL-3.0-only',
  'GNU Affero General Public License v3 or later (AGPLv3+)': 'AGPL-3.0-or-later',
  'Eclipse Public License 1.0 (EPL-1.0)': 'EPL-1.0',
  'Eclipse Public License 2.0 (EPL-2.0)': 'EPL-2.0',
  'The Unlicense (Unlicense)': 'Unlicense',
  'Zope Public License': 'ZPL-2.1',
  'Boost Software License 1.0 (BSL-1.0)': 'BSL-1.0',
  'Historical Permission Notice and Disclaimer (HPND)': 'HPND',
  'Universal Permissive License (UPL)': 'UPL-1.0',
  'European Union Public Licence 1.2 (EUPL 1.2)': 'EUPL-1.2',
};

/** `License :: OSI Approved :: MIT License` → `MIT`; undefined for non-license classifiers. */
export function licenseFromClassifier(classifier: string): string | undefined {
  const parts = classifier.split('::').map((s) => s.trim());
  if (parts[0] !== 'License' || parts.length < 2) return undefined;
  const last = parts[parts.length - 1] ?? '';
  if (last === 'OSI Approved' || last === 'Other/Proprietary License' || last === 'Freely Distributable') {
    return last === 'OSI Approved' ? undefined : last;
  }
  if (last === 'CC0 1.0 Universal (CC0 1.0) Public Domain Dedication') return 'CC0-1.0';
  return CLASSIFIERS[last] ?? normalizeLicense(last);
}

/** A declared License field that names a license rather than quoting its text. */
function isLicenseName(v: string | undefined): boolean {
  if (!v) return false;
  const t = v.trim();
  return t !== '' && !/^unknown$/i.test(t) && !t.includes('\n') && t.length <= 100;
}

function licensesOf(h: Map<string, string[]>): string[] {
  const expression = h.get('license-expression')?.[0]?.trim();
  if (expression) return licensesFrom([expression]);
  const declared = h.get('license')?.[0];
  if (declared && isLicenseName(declared)) return licensesFrom([declared]);
  const fromClassifiers = (h.get('classifier') ?? []).map(licenseFromClassifier).filter((x): x is string => !!x);
  if (fromClassifiers.length) return licensesFrom(fromClassifiers);
  // License text pasted into the field: keep its first line, as declared.
  const firstLine = declared?.split('\n')[0]?.trim();
  return firstLine && !/^unknown$/i.test(firstLine) ? licensesFrom([firstLine]) : [];
}

/** Minimal CSV (RFC 4180 quoting) for RECORD lines. */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** RECORD / installed-files.txt paths made absolute against `base`. */
function resolvePaths(base: string, relative: string[]): string[] {
  const out = new Set<string>();
  for (const r of relative) if (r) out.add(posix.isAbsolute(r) ? posix.normalize(r) : posix.join(base, r));
  return [...out];
}

type Kind = 'dist-info' | 'egg-info-dir' | 'egg-info-file';

/** The metadata file kinds this analyzer turns into packages. */
function kindOf(path: string): Kind | undefined {
  if (path.endsWith('.dist-info/METADATA')) return 'dist-info';
  if (path.endsWith('.egg-info/PKG-INFO')) return 'egg-info-dir';
  if (path.endsWith('.egg-info')) return 'egg-info-file';
  return undefined;
}

const SIDE_FILES = ['.dist-info/RECORD', '.dist-info/top_level.txt', '.egg-info/top_level.txt', '.egg-info/installed-files.txt'];

export const pythonAnalyzer: Analyzer = {
  name: 'python',
  wants: {
    match: (p) => kindOf(p) !== undefined || SIDE_FILES.some((s) => p.endsWith(s)),
    maxBytes: 32 * 1024 * 1024,
  },
  async analyze(ctx) {
    const byPath = new Map<string, InputFile>(ctx.files.map((f) => [f.path, f]));
    const text = async (p: string) => {
      const f = byPath.get(p);
      return f ? (await f.read()).toString('utf8') : undefined;
    };
    const packages: Package[] = [];
    for (const file of ctx.files) {
      const kind = kindOf(file.path);
      if (!kind) continue;
      const content = (await file.read()).toString('utf8').replace(/^\uFEFF/, '');
      const h = parseCoreMetadata(content);
      const name = h.get('name')?.[0];
      const version = h.get('version')?.[0];
      if (!name || !version) {
        ctx.warn(`${file.path}: no ${name ? 'Version' : 'Name'} header; not Python package metadata, skipped`);
        continue;
      }
      const infoDir = kind === 'egg-info-file' ? file.path : posix.dirname(file.path);
      const siteDir = posix.dirname(infoDir);

      let files: string[] | undefined;
      if (kind === 'dist-info') {
        const record = await text(`${infoDir}/RECORD`);
        if (record !== undefined) {
          const rel = record.split(/\r?\n/).filter((l) => l.trim()).map((l) => csvFields(l)[0] ?? '');
          files = resolvePaths(siteDir, rel);
        }
      } else if (kind === 'egg-info-dir') {
        const installed = await text(`${infoDir}/installed-files.txt`);
        if (installed !== undefined) files = resolvePaths(infoDir, installed.split(/\r?\n/).map((l) => l.trim()));
      }
      const topLevel = kind === 'egg-info-file' ? undefined : await text(`${infoDir}/top_level.txt`);
      const topLevelNames = topLevel?.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);

      const id = pythonIdentity(name, version);
      const author = h.get('author')?.[0] || h.get('author-email')?.[0] || undefined;
      const homepage = h.get('home-page')?.[0] || undefined;
      const metadata: Record<string, unknown> = { normalizedName: id.normalized };
      if (author) metadata.author = author;
      if (homepage) metadata.homepage = homepage;
      const summary = h.get('summary')?.[0];
      if (summary) metadata.summary = summary;
      const requiresPython = h.get('requires-python')?.[0];
      if (requiresPython) metadata.requiresPython = requiresPython;
      if (topLevelNames?.length) metadata.topLevelPackages = topLevelNames;
      metadata.sitePackages = siteDir;

      packages.push({
        name,
        version,
        type: 'python',
        purl: id.purl,
        cpes: id.cpes,
        licenses: licensesOf(h),
        locations: [{ path: file.path, layer: file.entry.layer }],
        ...(files ? { files } : {}),
        metadata,
        foundBy: 'python',
      });
    }
    return { packages };
  },
};
