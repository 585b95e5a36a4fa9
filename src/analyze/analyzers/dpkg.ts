/**
 * Debian packages: /var/lib/dpkg/status and distroless /var/lib/dpkg/status.d/*, with the files
 * each package owns (info/*.list, *.md5sums) and licences from /usr/share/doc/<pkg>/copyright.
 */
import { posix } from 'node:path';
import type { Analyzer, AnalyzerContext, InputFile } from '../types.js';
import type { Distro, Package } from '../../sbom/model.js';
import { parseControl, type Fields } from '../paragraphs.js';
import { purl, cpeCandidates } from '../../sbom/identity.js';
import { licensesFrom } from '../../sbom/licenses.js';

const STATUS = '/var/lib/dpkg/status';
const STATUS_D = '/var/lib/dpkg/status.d/';
const INFO = '/var/lib/dpkg/info/';
const COPYRIGHT = /^\/usr\/share\/doc\/[^/]+\/copyright$/;

/** `Source: name` or `Source: name (version)`. */
export function parseSource(field: string | undefined): { name?: string; version?: string } {
  if (!field) return {};
  const m = /^(\S+)(?:\s+\((.+)\))?$/.exec(field.trim());
  return m ? { name: m[1]!, ...(m[2] ? { version: m[2].trim() } : {}) } : {};
}

/** Licence short names from a machine-readable (DEP-5) copyright file: every `License:` line's first line. */
export function copyrightLicenses(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/^License:[ \t]*(\S[^\n]*)$/gim)) {
    const v = m[1]!.trim();
    if (v) out.add(v);
  }
  return [...out];
}

function installed(f: Fields): boolean {
  const status = f.get('status');
  // A status.d file (distroless) has no Status field: everything there is installed.
  if (status === undefined) return true;
  const words = status.split(/\s+/);
  return words[0] === 'install' && words[2] === 'installed';
}

function epochOf(version: string): number | undefined {
  const m = /^(\d+):/.exec(version);
  return m ? Number(m[1]) : undefined;
}

function distroQualifier(d: Distro | undefined): string | undefined {
  if (!d) return undefined;
  return d.versionId ? `${d.id}-${d.versionId}` : d.id;
}

function toPackage(f: Fields, evidence: InputFile, distro: Distro | undefined): Package | undefined {
  const name = f.get('package');
  const version = f.get('version');
  if (!name || !version) return undefined;
  const arch = f.get('architecture');
  const src = parseSource(f.get('source'));
  const sourceName = src.name ?? name;
  const sourceVersion = src.version ?? version;
  const upstream = src.name ? (src.version ? `${src.name}@${src.version}` : src.name) : undefined;
  const epoch = epochOf(version);
  const installedSize = Number(f.get('installed-size'));
  return {
    name,
    version,
    type: 'deb',
    purl: purl('deb', distro?.id ?? 'debian', name, version, { arch, upstream, distro: distroQualifier(distro) }),
    cpes: cpeCandidates([name], [name], version),
    licenses: [],
    locations: [{ path: evidence.path, layer: evidence.entry.layer }],
    sourceName,
    sourceVersion,
    ...(arch ? { arch } : {}),
    ...(epoch !== undefined ? { epoch } : {}),
    metadata: {
      ...(f.get('maintainer') ? { maintainer: f.get('maintainer') } : {}),
      ...(Number.isFinite(installedSize) ? { installedSize } : {}),
      ...(f.get('multi-arch') ? { multiArch: f.get('multi-arch') } : {}),
      ...(f.get('provides') ? { provides: f.get('provides') } : {}),
      ...(f.get('depends') ? { depends: f.get('depends') } : {}),
    },
    foundBy: 'dpkg',
  };
}

/** `info/<pkg>.list`, `info/<pkg>:<arch>.list`, and distroless `status.d/<pkg>.md5sums`. */
function ownedFiles(byPath: Map<string, InputFile>, dir: string, pkg: string, arch: string | undefined) {
  const names = [pkg, ...(arch ? [`${pkg}:${arch}`] : [])];
  const out: InputFile[] = [];
  for (const n of names) for (const ext of ['.list', '.md5sums']) {
    const f = byPath.get(`${dir}${n}${ext}`);
    if (f) out.push(f);
  }
  return out;
}

function listPaths(ext: string, text: string): string[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (ext === '.list') return lines.filter((l) => l !== '/.' && l.startsWith('/'));
  // md5sums: "<md5>  <path relative to />"
  return lines.map((l) => l.replace(/^[0-9a-f]{32}\s+/, '')).map((p) => (p.startsWith('/') ? p : `/${p}`));
}

async function analyze(ctx: AnalyzerContext) {
  const byPath = new Map(ctx.files.map((f) => [f.path, f]));
  const sources: InputFile[] = ctx.files.filter((f) => f.path === STATUS
    || (f.path.startsWith(STATUS_D) && !f.path.slice(STATUS_D.length).includes('/') && !f.path.endsWith('.md5sums')));
  const packages = new Map<string, Package>();
  for (const file of sources) {
    let paragraphs: Fields[];
    try {
      paragraphs = parseControl((await file.read()).toString('utf8'));
    } catch (e) {
      ctx.warn(`${file.path}: cannot read dpkg status (${(e as Error).message}); skipped`);
      continue;
    }
    const infoDir = file.path === STATUS ? INFO : STATUS_D;
    for (const f of paragraphs) {
      if (!installed(f)) continue;
      const pkg = toPackage(f, file, ctx.distro);
      if (!pkg) {
        ctx.warn(`${file.path}: a paragraph without Package or Version was skipped`);
        continue;
      }
      const key = `${pkg.name}:${pkg.arch ?? ''}`;
      if (packages.has(key)) continue;
      const files = new Set<string>();
      for (const lf of ownedFiles(byPath, infoDir, pkg.name, pkg.arch)) {
        for (const p of listPaths(posix.extname(lf.path), (await lf.read()).toString('utf8'))) files.add(p);
      }
      if (files.size) pkg.files = [...files].sort();
      const copyright = byPath.get(`/usr/share/doc/${pkg.name}/copyright`);
      if (copyright) pkg.licenses = licensesFrom(copyrightLicenses((await copyright.read()).toString('utf8')));
      packages.set(key, pkg);
    }
  }
  return { packages: [...packages.values()] };
}

export const dpkgAnalyzer: Analyzer = {
  name: 'dpkg',
  wants: {
    paths: [STATUS],
    match: (p) => p.startsWith(STATUS_D)
      || (p.startsWith(INFO) && (p.endsWith('.list') || p.endsWith('.md5sums')))
      || COPYRIGHT.test(p),
    maxBytes: 64 * 1024 * 1024,
  },
  analyze,
};
