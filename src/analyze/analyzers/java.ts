/**
 * Java archives (.jar .war .ear .jpi .hpi): META-INF/MANIFEST.MF, every embedded
 * META-INF/maven/<group>/<artifact>/pom.properties (pom.xml when there is none), and nested
 * archives (BOOT-INF/lib, WEB-INF/lib, lib/ in an ear...) read recursively with a depth limit and a
 * budget of inflated bytes. Nested locations are written `outer.jar:inner/path.jar`, as syft does.
 */
import { basename } from 'node:path/posix';
import { normalizeLicense as normalizeSpdx } from '../../sbom/licenses.js';
import type { Analyzer, AnalyzerContext } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { purl, cpeCandidates } from '../../sbom/identity.js';
import { openZip, type ZipArchive, type ZipEntry } from '../zip.js';
import { describeError } from '../../errors.js';

const ARCHIVE = /\.(jar|war|ear|jpi|hpi)$/i;
const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;
const MAX_DEPTH = 8;
/** Total bytes inflated from one top-level archive (nested archives and metadata files). */
const MAX_INFLATED_TOTAL = 1024 * 1024 * 1024;
/** Largest manifest, pom.properties or pom.xml read. */
const MAX_METADATA_BYTES = 4 * 1024 * 1024;

/** Manifest main attributes kept in metadata. */
const KEPT_MANIFEST_KEYS = [
  'Implementation-Title', 'Implementation-Version', 'Implementation-Vendor', 'Implementation-Vendor-Id',
  'Specification-Title', 'Specification-Version', 'Specification-Vendor',
  'Bundle-Name', 'Bundle-SymbolicName', 'Bundle-Version', 'Bundle-License',
  'Main-Class', 'Start-Class', 'Automatic-Module-Name', 'Created-By', 'Build-Jdk-Spec',
  'Short-Name', 'Plugin-Version', 'Group-Id',
];

export interface Manifest {
  main: Record<string, string>;
  /** Per-entry sections (those with a `Name:` attribute). */
  sections: Record<string, string>[];
}

/** MANIFEST.MF: `Key: value` lines, continuation lines begin with one space, sections split by blank lines. */
export function parseManifest(text: string): Manifest {
  const sections: Record<string, string>[] = [];
  let cur: Record<string, string> = {};
  let lastKey: string | undefined;
  const flush = () => {
    if (Object.keys(cur).length) sections.push(cur);
    cur = {};
    lastKey = undefined;
  };
  for (const line of text.split(/\r\n|\n|\r/)) {
    if (line === '') {
      flush();
      continue;
    }
    if (line.startsWith(' ')) {
      if (lastKey !== undefined) cur[lastKey] += line.slice(1);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    lastKey = line.slice(0, colon).trim();
    cur[lastKey] = line.slice(colon + 1).replace(/^ /, '');
  }
  flush();
  // The main section is the first one unless the file starts with a blank line before any attributes.
  const [first, ...rest] = sections;
  if (first && !('Name' in first)) return { main: first, sections: rest };
  return { main: {}, sections };
}

/** Java .properties: `key=value`, `key: value` or `key value`; `#`/`!` comments; `\` continues a line. */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r\n|\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trimStart();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.trimStart();
    const m = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m) out[m[1]!.replace(/\\(.)/g, '$1')] = m[2]!.trim();
    else out[line.trim()] = '';
  }
  return out;
}

export interface PomXml {
  groupId?: string;
  artifactId?: string;
  version?: string;
  name?: string;
  parent?: { groupId?: string; artifactId?: string; version?: string };
  licenses: { name?: string; url?: string }[];
}

/** A simple extraction from pom.xml: the project's own coordinates, its parent's, its licenses; `${...}` resolved from properties. */
export function parsePomXml(text: string): PomXml {
  const xml = text.replace(/<!--[\s\S]*?-->/g, '').replace(/<\?[\s\S]*?\?>/g, '').replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1');
  const values = new Map<string, string>();
  const properties = new Map<string, string>();
  const licenses: { name?: string; url?: string }[] = [];
  const stack: string[] = [];
  let textStart = 0;
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>/g;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const local = m[2]!.replace(/^.*:/, '');
    if (m[3]) continue;
    if (!m[1]) {
      stack.push(local);
      textStart = tag.lastIndex;
      if (stack.join('/') === 'project/licenses/license') licenses.push({});
      continue;
    }
    const path = stack.join('/');
    if (stack[stack.length - 1] === local) {
      const value = decodeXml(xml.slice(textStart, m.index)).trim();
      if (!value.includes('<')) {
        if (path.startsWith('project/properties/') && stack.length === 3) properties.set(local, value);
        else if (/^project\/(groupId|artifactId|version|name|parent\/(groupId|artifactId|version))$/.test(path)) values.set(path, value);
        else if (path === 'project/licenses/license/name' || path === 'project/licenses/license/url') {
          const lic = licenses[licenses.length - 1];
          if (lic) lic[local as 'name' | 'url'] = value;
        }
      }
      stack.pop();
    } else {
      // Unbalanced markup: close up to the matching element, if any.
      const at = stack.lastIndexOf(local);
      if (at >= 0) stack.length = at;
    }
    textStart = tag.lastIndex;
  }
  const parentVersion = values.get('project/parent/version');
  const ownVersion = values.get('project/version') ?? parentVersion;
  const builtins: Record<string, string | undefined> = {
    'project.version': ownVersion, 'pom.version': ownVersion, version: ownVersion,
    'project.groupId': values.get('project/groupId') ?? values.get('project/parent/groupId'),
    'project.parent.version': parentVersion, 'parent.version': parentVersion,
    'project.parent.groupId': values.get('project/parent/groupId'),
  };
  const resolve = (v: string | undefined, depth = 0): string | undefined => {
    if (v === undefined || v === '') return undefined;
    if (!v.includes('${')) return v;
    if (depth > 5) return undefined;
    let unresolved = false;
    const out = v.replace(/\$\{([^}]+)\}/g, (_, key: string) => {
      const r = properties.get(key) ?? builtins[key];
      if (r === undefined || r.includes(`\${${key}}`)) {
        unresolved = true;
        return '';
      }
      return r;
    });
    return unresolved ? undefined : resolve(out, depth + 1);
  };
  const pom: PomXml = { licenses: licenses.filter((l) => l.name || l.url) };
  const set = <K extends 'groupId' | 'artifactId' | 'version' | 'name'>(k: K, v: string | undefined) => { if (v) pom[k] = v; };
  set('groupId', resolve(values.get('project/groupId')));
  set('artifactId', resolve(values.get('project/artifactId')));
  set('version', resolve(values.get('project/version')));
  set('name', resolve(values.get('project/name')));
  const parent = {
    groupId: resolve(values.get('project/parent/groupId')),
    artifactId: resolve(values.get('project/parent/artifactId')),
    version: resolve(values.get('project/parent/version')),
  };
  if (parent.groupId || parent.artifactId || parent.version) {
    pom.parent = Object.fromEntries(Object.entries(parent).filter(([, v]) => v)) as PomXml['parent'];
  }
  return pom;
}

function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[\da-f]+);/gi, (all, e: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(n) && n <= 0x10ffff ? String.fromCodePoint(n) : all;
    }
    return named[e.toLowerCase()] ?? all;
  });
}

/** `commons-text-1.9.jar` → commons-text, 1.9: the version starts at the first `-` (or `_`) followed by a digit. */
export function nameVersionFromFilename(file: string): { name: string; version?: string } {
  const base = basename(file).replace(ARCHIVE, '');
  const m = /^(.+?)[-_](\d[\w.+~-]*)$/.exec(base);
  if (m) return { name: m[1]!, version: m[2]! };
  return { name: base };
}

const LICENSE_URLS: [RegExp, string][] = [
  [/apache\.org\/licenses\/LICENSE-2\.0/i, 'Apache-2.0'],
  [/opensource\.org\/licenses\/mit/i, 'MIT'],
  [/eclipse\.org\/legal\/epl-v10/i, 'EPL-1.0'],
  [/eclipse\.org\/legal\/epl-(v)?2\.?0/i, 'EPL-2.0'],
  [/gnu\.org\/licenses\/lgpl-2\.1/i, 'LGPL-2.1-only'],
  [/gnu\.org\/licenses\/lgpl(-3\.0)?\.html/i, 'LGPL-3.0-only'],
  [/gnu\.org\/licenses\/old-licenses\/gpl-2\.0/i, 'GPL-2.0-only'],
  [/opensource\.org\/licenses\/BSD-3-Clause/i, 'BSD-3-Clause'],
  [/opensource\.org\/licenses\/BSD-2-Clause/i, 'BSD-2-Clause'],
  [/opensource\.org\/licenses\/cddl1|opensource\.org\/licenses\/CDDL-1\.0/i, 'CDDL-1.0'],
];

/** A declared license (SPDX id or expression, a name, or a URL) as an SPDX id where one is known. */
export function normalizeLicense(text: string): string | undefined {
  const t = text.trim();
  if (!t) return undefined;
  if (/^https?:\/\//i.test(t)) return LICENSE_URLS.find(([re]) => re.test(t))?.[1] ?? t;
  return normalizeSpdx(t);
}

/** Bundle-License: comma-separated clauses `id-or-url;link=...;description=...`, with quoted values. */
export function bundleLicenses(value: string): string[] {
  const clauses: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      clauses.push(cur);
      cur = '';
    } else cur += ch;
  }
  clauses.push(cur);
  // A name such as `Apache License, Version 2.0` is one license, not two.
  for (let i = clauses.length - 1; i > 0; i--) {
    if (/^\s*v(ersion)?\s*\d/i.test(clauses[i]!)) clauses.splice(i - 1, 2, `${clauses[i - 1]},${clauses[i]}`);
  }
  const out: string[] = [];
  for (const clause of clauses) {
    const parts = clause.split(';').map((p) => p.trim());
    const head = parts[0]?.replace(/^"|"$/g, '') ?? '';
    const link = parts.find((p) => p.startsWith('link='))?.slice(5).replace(/^"|"$/g, '');
    const lic = normalizeLicense(head) ?? (link ? normalizeLicense(link) : undefined);
    if (lic && !out.includes(lic)) out.push(lic);
  }
  return out;
}

/** Vendor guess from a group id: the organisation segment (`org.apache.logging.log4j` → `apache`). */
const GROUP_PREFIXES = new Set(['org', 'com', 'net', 'io', 'de', 'dev', 'me', 'edu', 'gov', 'uk', 'co', 'fr', 'nl', 'ch', 'at', 'be', 'jp', 'ru', 'cn', 'eu', 'info', 'biz', 'us', 'ca', 'au', 'se', 'no', 'fi', 'it', 'es', 'pl', 'cz', 'in', 'br', 'tech', 'app', 'ai']);
const GENERIC = new Set(['commons', 'common', 'core', 'api', 'util', 'utils', 'lib', 'libs', 'impl', 'main', 'parent', 'java', 'plugins', 'plugin']);

export function javaCpes(groupId: string | undefined, artifactId: string, version: string): string[] {
  const segments = (groupId ?? '').split('.').filter(Boolean);
  const org = segments.find((s, i) => !(i === 0 && GROUP_PREFIXES.has(s)) && !(i === 1 && s === 'github'));
  const vendors = [org ?? artifactId];
  const products = [artifactId, artifactId.replace(/-/g, '_')];
  const last = segments[segments.length - 1];
  if (last && last !== org && !GENERIC.has(last) && artifactId.startsWith(last)) products.push(last);
  return cpeCandidates(vendors, products, version);
}

interface PomInfo {
  /** The maven directory inside the archive, META-INF/maven/<g>/<a>. */
  dir: string;
  groupId?: string;
  artifactId?: string;
  version?: string;
  licenses: string[];
  source: 'pom.properties' | 'pom.xml';
}

interface Scan {
  ctx: AnalyzerContext;
  layer: number;
  /** Bytes still allowed to be inflated for this top-level archive. */
  budget: number;
  budgetWarned: boolean;
  packages: Map<string, Package>;
  topPath: string;
}

function readEntry(scan: Scan, zip: ZipArchive, entry: ZipEntry, max: number, where: string): Buffer | undefined {
  const limit = Math.min(max, scan.budget);
  if (entry.size > limit) {
    if (scan.budget < max) budgetExceeded(scan);
    else scan.ctx.warn(`${where}:${entry.name}: ${entry.size} bytes is over the ${max}-byte limit; skipped`);
    return undefined;
  }
  try {
    const data = zip.read(entry, limit);
    scan.budget -= data.length;
    return data;
  } catch (e) {
    scan.ctx.warn(`${where}:${entry.name}: ${describeError(e)}; skipped`);
    return undefined;
  }
}

function budgetExceeded(scan: Scan): void {
  if (scan.budgetWarned) return;
  scan.budgetWarned = true;
  scan.ctx.warn(`${scan.topPath}: more than ${MAX_INFLATED_TOTAL} bytes of nested content; the rest of the archive was not read`);
}

function readPoms(scan: Scan, zip: ZipArchive, where: string): PomInfo[] {
  const dirs = new Map<string, { properties?: ZipEntry; xml?: ZipEntry }>();
  for (const e of zip.entries) {
    const m = /^(META-INF\/maven\/.+)\/(pom\.properties|pom\.xml)$/.exec(e.name);
    if (!m || e.isDirectory) continue;
    const d = dirs.get(m[1]!) ?? {};
    if (m[2] === 'pom.properties') d.properties = e;
    else d.xml = e;
    dirs.set(m[1]!, d);
  }
  const out: PomInfo[] = [];
  for (const [dir, { properties, xml }] of [...dirs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const xmlData = xml && readEntry(scan, zip, xml, MAX_METADATA_BYTES, where);
    const pomXml = xmlData ? parsePomXml(xmlData.toString('utf8')) : undefined;
    const licenses = [...new Set((pomXml?.licenses ?? []).map((l) => normalizeLicense(l.name ?? '') ?? normalizeLicense(l.url ?? '')).filter((l): l is string => !!l))];
    const propsData = properties && readEntry(scan, zip, properties, MAX_METADATA_BYTES, where);
    if (propsData) {
      const p = parseProperties(propsData.toString('utf8'));
      if (!p.artifactId || !p.version) {
        scan.ctx.warn(`${where}:${properties!.name}: no artifactId or version; skipped`);
        continue;
      }
      out.push({ dir, groupId: p.groupId || undefined, artifactId: p.artifactId, version: p.version, licenses, source: 'pom.properties' });
    } else if (pomXml) {
      const groupId = pomXml.groupId ?? pomXml.parent?.groupId;
      const version = pomXml.version ?? pomXml.parent?.version;
      if (!pomXml.artifactId || !version) continue;
      out.push({ dir, groupId, artifactId: pomXml.artifactId, version, licenses, source: 'pom.xml' });
    }
  }
  return out;
}

function keptManifest(main: Record<string, string>): Record<string, string> | undefined {
  const kept = Object.fromEntries(KEPT_MANIFEST_KEYS.filter((k) => main[k]).map((k) => [k, main[k]!]));
  return Object.keys(kept).length ? kept : undefined;
}

function stripDirectives(v: string | undefined): string | undefined {
  const s = v?.split(';')[0]?.trim();
  return s || undefined;
}

function add(scan: Scan, p: Omit<Package, 'type' | 'foundBy' | 'purl' | 'cpes'> & { groupId?: string }): void {
  const { groupId, ...rest } = p;
  const pkg: Package = {
    ...rest,
    type: 'java-archive',
    purl: purl('maven', groupId ?? p.name, p.name, p.version),
    cpes: javaCpes(groupId, p.name, p.version),
    foundBy: 'java',
  };
  const key = `${pkg.purl}\n${pkg.locations[0]?.path}`;
  if (!scan.packages.has(key)) scan.packages.set(key, pkg);
}

function scanArchive(scan: Scan, buf: Buffer, virtualPath: string, depth: number): void {
  let zip: ZipArchive;
  try {
    zip = openZip(buf);
  } catch (e) {
    scan.ctx.warn(`${virtualPath}: not a readable Java archive (${describeError(e)}); skipped`);
    return;
  }
  const location = { path: virtualPath, layer: scan.layer };
  const manifestEntry = zip.entries.find((e) => e.name.toUpperCase() === 'META-INF/MANIFEST.MF');
  const manifestData = manifestEntry && readEntry(scan, zip, manifestEntry, MAX_METADATA_BYTES, virtualPath);
  const main = manifestData ? parseManifest(manifestData.toString('utf8')).main : {};
  const poms = readPoms(scan, zip, virtualPath);
  const file = nameVersionFromFilename(virtualPath.slice(virtualPath.lastIndexOf(':') + 1));
  const title = main['Short-Name'] ?? main['Implementation-Title'];
  const manifestName = title && /^[\w.-]+$/.test(title) ? title : undefined;
  const manifestLicenses = main['Bundle-License'] ? bundleLicenses(main['Bundle-License']) : [];
  const manifestMeta = keptManifest(main);

  // The archive's own identity: an embedded pom naming it, else the manifest and the file name.
  const own = poms.find((p) => p.artifactId === file.name || (manifestName && p.artifactId === manifestName));
  for (const pom of poms) {
    const isOwn = pom === own;
    add(scan, {
      name: pom.artifactId!,
      version: pom.version!,
      groupId: pom.groupId,
      licenses: pom.licenses.length ? pom.licenses : isOwn ? manifestLicenses : [],
      locations: [location],
      metadata: {
        ...(pom.groupId ? { groupId: pom.groupId } : {}),
        artifactId: pom.artifactId,
        virtualPath,
        pomPath: `${pom.dir}/${pom.source}`,
        ...(isOwn && manifestMeta ? { manifest: manifestMeta } : {}),
      },
    });
  }
  if (!own) {
    const name = file.version ? file.name : manifestName ?? file.name;
    const version = main['Plugin-Version'] ?? main['Implementation-Version'] ?? main['Bundle-Version']
      ?? main['Specification-Version'] ?? file.version;
    if (name && version) {
      const symbolic = stripDirectives(main['Bundle-SymbolicName']);
      const groupId = stripDirectives(main['Group-Id']) ?? stripDirectives(main['Implementation-Vendor-Id'])
        ?? (symbolic && symbolic.endsWith(`.${name}`) ? symbolic.slice(0, -name.length - 1) : undefined);
      add(scan, {
        name,
        version,
        groupId,
        licenses: manifestLicenses,
        locations: [location],
        metadata: { ...(groupId ? { groupId } : {}), artifactId: name, virtualPath, ...(manifestMeta ? { manifest: manifestMeta } : {}) },
      });
    }
  }

  for (const entry of zip.entries) {
    if (entry.isDirectory || !ARCHIVE.test(entry.name)) continue;
    const nested = `${virtualPath}:${entry.name}`;
    if (depth + 1 > MAX_DEPTH) {
      scan.ctx.warn(`${nested}: nested deeper than ${MAX_DEPTH} archives; skipped`);
      continue;
    }
    if (scan.budget <= 0) {
      budgetExceeded(scan);
      return;
    }
    const data = readEntry(scan, zip, entry, MAX_ARCHIVE_BYTES, virtualPath);
    if (data) scanArchive(scan, data, nested, depth + 1);
  }
}

async function analyze(ctx: AnalyzerContext) {
  const packages: Package[] = [];
  for (const file of ctx.files) {
    if (!ARCHIVE.test(file.path)) continue;
    const scan: Scan = { ctx, layer: file.entry.layer, budget: MAX_INFLATED_TOTAL, budgetWarned: false, packages: new Map(), topPath: file.path };
    scanArchive(scan, await file.read(), file.path, 0);
    packages.push(...scan.packages.values());
  }
  return { packages };
}

export const javaAnalyzer: Analyzer = {
  name: 'java',
  perFile: true,
  wants: { match: (p) => ARCHIVE.test(p), maxBytes: MAX_ARCHIVE_BYTES },
  analyze,
};
