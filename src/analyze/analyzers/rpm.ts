/**
 * Installed rpm packages, from the rpm database in any of its three formats: sqlite
 * (`rpmdb.sqlite`, rpm >= 4.16), Berkeley DB hash (`Packages`, EL <= 8) and NDB (`Packages.db`,
 * SUSE), under /var/lib/rpm, /usr/share/rpm or /usr/lib/sysimage/rpm. Each database yields header
 * blobs; each header becomes one Package with the full `[epoch:]version-release` version that
 * vulnerability matchers compare, its source rpm, license, vendor, modularity label and file list.
 */
import parseSpdx from 'spdx-expression-parse';
import correctSpdx from 'spdx-correct';
import type { Analyzer, AnalyzerContext, InputFile } from '../types.js';
import type { Distro, Package } from '../../sbom/model.js';
import { cpeCandidates, purl } from '../../sbom/identity.js';
import { describeError } from '../../errors.js';
import { parseHeader, Tag, type DatabaseRead, type RpmHeader } from '../rpm/header.js';
import { readSqlite } from '../rpm/sqlite.js';
import { readBdb } from '../rpm/bdb.js';
import { readNdb } from '../rpm/ndb.js';

const DB_DIRS = ['/var/lib/rpm', '/usr/share/rpm', '/usr/lib/sysimage/rpm'];

type Reader = (file: Buffer, ctx: { wal?: Buffer }) => DatabaseRead;

/** Database files in the order rpm prefers them when a directory holds more than one. */
const FORMATS: { file: string; read: Reader }[] = [
  { file: 'rpmdb.sqlite', read: (b, o) => readSqlite(b, o.wal) },
  { file: 'Packages.db', read: (b) => readNdb(b) },
  { file: 'Packages', read: (b) => readBdb(b) },
];

const WANTED = DB_DIRS.flatMap((d) => [...FORMATS.map((f) => `${d}/${f.file}`), `${d}/rpmdb.sqlite-wal`]);

// ---------------------------------------------------------------- licenses

/** Fedora's pre-SPDX short names (still in EL 7-9 headers) that spdx-correct misses or guesses wrong. */
const LEGACY_LICENSES: Record<string, string> = {
  'asl 1.0': 'Apache-1.0',
  'asl 1.1': 'Apache-1.1',
  'asl 2.0': 'Apache-2.0',
  'gpl+': 'GPL-1.0-or-later',
  'boost': 'BSL-1.0',
  'zlib': 'Zlib',
  'openssl': 'OpenSSL',
  'isc': 'ISC',
  'mit': 'MIT',
  'python': 'Python-2.0',
  'vim': 'Vim',
  'ruby': 'Ruby',
  'sleepycat': 'Sleepycat',
  'tcl': 'TCL',
  'cc0': 'CC0-1.0',
  'unlicense': 'Unlicense',
  'wtfpl': 'WTFPL',
  'openldap': 'OLDAP-2.8',
  'ijg': 'IJG',
  'mplv1.0': 'MPL-1.0',
  'mplv1.1': 'MPL-1.1',
  'mplv2.0': 'MPL-2.0',
  'artistic 2.0': 'Artistic-2.0',
  'artistic clarified': 'ClArtistic',
};

/** Names that stand for several SPDX licenses: never resolved to one of them. */
const AMBIGUOUS = new Set(['bsd', 'bsd with advertising', 'mit with advertising', 'artistic', 'gfdl', 'public domain',
  'copyright only', 'ofl', 'afl', 'lppl', 'freely redistributable without restriction', 'distributable']);

function tryParse(text: string): parseSpdx.Info | undefined {
  try {
    return parseSpdx(text);
  } catch {
    return undefined;
  }
}

function validSpdx(text: string): boolean {
  return tryParse(text) !== undefined;
}

/** Write a parsed expression back with upper-case operators and today's GPL ids (`GPL-2.0+` → `GPL-2.0-or-later`). */
function serialize(node: parseSpdx.Info, parent?: string): string {
  if ('license' in node) {
    let id = node.license;
    if (/^(A?GPL|LGPL)-\d\.\d$/.test(id)) id = `${id}-${node.plus ? 'or-later' : 'only'}`;
    else if (node.plus) id += '+';
    return node.exception ? `${id} WITH ${node.exception}` : id;
  }
  const s = `${serialize(node.left, node.conjunction)} ${node.conjunction.toUpperCase()} ${serialize(node.right, node.conjunction)}`;
  return parent && parent !== node.conjunction ? `(${s})` : s;
}

/** Version numbers in a text, trailing `.0`s dropped. */
function numbers(text: string): string[] {
  return (text.match(/\d+(?:\.\d+)*/g) ?? []).map((n) => n.replace(/(\.0)+$/, ''));
}

/** One license name (no and/or) → SPDX, or undefined when it cannot be resolved without guessing. */
function rpmLicenseTerm(term: string): string | undefined {
  if (validSpdx(term)) return term;
  const lower = term.toLowerCase();
  if (AMBIGUOUS.has(lower) || / with /.test(lower)) return undefined;
  const legacy = LEGACY_LICENSES[lower];
  if (legacy) return legacy;
  const gpl = /^(a|l)?gplv(\d)(?:\.(\d))?(\+)?$/i.exec(term);
  if (gpl) {
    const id = `${(gpl[1] ?? '').toUpperCase()}GPL-${gpl[2]}.${gpl[3] ?? '0'}-${gpl[4] ? 'or-later' : 'only'}`;
    return validSpdx(id) ? id : undefined;
  }
  const fixed = correctSpdx(term, { upgrade: true });
  if (!fixed || !validSpdx(fixed)) return undefined;
  // Refuse corrections that invent a version ("BSD" → BSD-2-Clause, "Artistic" → Artistic-2.0).
  const have = numbers(term);
  return numbers(fixed).every((n) => have.includes(n)) ? fixed : undefined;
}

/**
 * An rpm License tag as an SPDX expression when every part resolves ("GPLv2+ and MIT" →
 * "GPL-2.0-or-later AND MIT"); otherwise the text as declared.
 */
export function rpmLicense(text: string): string {
  const trimmed = text.trim().replace(/\s+/g, ' ');
  if (!trimmed) return trimmed;
  const whole = tryParse(trimmed);
  if (whole) return serialize(whole);
  const out: string[] = [];
  let words: string[] = [];
  const flush = (): boolean => {
    if (!words.length) return true;
    const term = rpmLicenseTerm(words.join(' '));
    words = [];
    if (!term) return false;
    out.push(/ (AND|OR) /i.test(term) ? `(${term})` : term);
    return true;
  };
  for (const token of trimmed.split(/(\(|\)|\s+)/).filter((t) => t.trim())) {
    const op = token.toLowerCase();
    if (token === '(' || token === ')' || op === 'and' || op === 'or') {
      if (!flush()) return trimmed;
      out.push(token === '(' || token === ')' ? token : op.toUpperCase());
    } else {
      words.push(token);
    }
  }
  if (!flush()) return trimmed;
  const parsed = tryParse(out.join(' '));
  return parsed ? serialize(parsed) : trimmed;
}

// ---------------------------------------------------------------- identity

/** NVD vendor names for os-release ids. */
const DISTRO_VENDORS: Record<string, string> = {
  rhel: 'redhat', centos: 'centos', rocky: 'rocky', almalinux: 'almalinux', fedora: 'fedoraproject', ol: 'oracle',
  amzn: 'amazon', sles: 'suse', sled: 'suse', sle_hpc: 'suse', 'opensuse-leap': 'opensuse', 'opensuse-tumbleweed': 'opensuse',
  opensuse: 'opensuse', mariner: 'microsoft', azurelinux: 'microsoft', photon: 'vmware',
};

/** Well-known Vendor tag values → CPE vendor. */
const VENDOR_WORDS: [RegExp, string][] = [
  [/red ?hat/i, 'redhat'], [/fedora/i, 'fedoraproject'], [/centos/i, 'centos'], [/rocky/i, 'rocky'],
  [/alma ?linux/i, 'almalinux'], [/oracle/i, 'oracle'], [/amazon/i, 'amazon'], [/suse/i, 'suse'], [/microsoft/i, 'microsoft'],
];

/** A CPE vendor from the rpm Vendor tag: a known organisation, else its first word. */
function vendorFromTag(vendor: string | undefined): string | undefined {
  if (!vendor) return undefined;
  for (const [re, name] of VENDOR_WORDS) if (re.test(vendor)) return name;
  const first = /^[A-Za-z0-9][A-Za-z0-9_.-]*/.exec(vendor.trim());
  return first?.[0].toLowerCase();
}

/** `openssl-3.0.1-41.el9_0.src.rpm` → name `openssl`, version `3.0.1-41.el9_0`. */
export function parseSourceRpm(sourceRpm: string): { name: string; version: string } | undefined {
  const m = /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(sourceRpm);
  if (!m || !m[1] || !m[2] || !m[3]) return undefined;
  return { name: m[1], version: `${m[2]}-${m[3]}` };
}

// ---------------------------------------------------------------- header → package

function fileList(h: RpmHeader): string[] {
  const bases = h.strings(Tag.BASENAMES);
  if (bases) {
    const dirs = h.strings(Tag.DIRNAMES) ?? [];
    const idx = h.ints(Tag.DIRINDEXES) ?? [];
    if (idx.length !== bases.length) throw new Error(`${bases.length} base names but ${idx.length} directory indexes`);
    return bases.map((b, i) => {
      const dir = dirs[idx[i] ?? -1];
      if (dir === undefined) throw new Error(`file ${b}: directory index ${idx[i]} out of range (${dirs.length} directories)`);
      return dir + b;
    });
  }
  return h.strings(Tag.OLDFILENAMES) ?? [];
}

function toPackage(h: RpmHeader, location: { path: string; layer: number }, distro: Distro | undefined,
  warn: (message: string) => void): Package | 'pubkey' {
  const name = h.string(Tag.NAME);
  const version = h.string(Tag.VERSION);
  const release = h.string(Tag.RELEASE);
  if (!name || !version || release === undefined) throw new Error('no NAME, VERSION or RELEASE');
  if (name === 'gpg-pubkey') return 'pubkey';
  const epoch = h.int(Tag.EPOCH);
  const arch = h.string(Tag.ARCH);
  const sourceRpm = h.string(Tag.SOURCERPM);
  const vendor = h.string(Tag.VENDOR);
  const declared = h.string(Tag.LICENSE);
  const modularityLabel = h.string(Tag.MODULARITYLABEL);
  const size = h.int(Tag.LONGSIZE) ?? h.int(Tag.SIZE);
  let files: string[] = [];
  try {
    files = fileList(h);
  } catch (e) {
    // The package itself is sound; only its file list is not: keep it, without files.
    warn(`${name}: file list unreadable (${describeError(e)}); package kept without files`);
  }
  const source = sourceRpm ? parseSourceRpm(sourceRpm) : undefined;
  const vr = `${version}-${release}`;
  const distroQualifier = distro ? (distro.versionId ? `${distro.id}-${distro.versionId}` : distro.id) : undefined;

  const metadata: Record<string, unknown> = { version, release };
  if (epoch !== undefined) metadata.epoch = epoch;
  if (sourceRpm) metadata.sourceRpm = sourceRpm;
  if (vendor) metadata.vendor = vendor;
  if (declared) metadata.license = declared;
  if (size !== undefined) metadata.size = size;
  if (modularityLabel) metadata.modularityLabel = modularityLabel;
  const summary = h.string(Tag.SUMMARY);
  if (summary) metadata.summary = summary;

  const pkg: Package = {
    name,
    version: epoch !== undefined ? `${epoch}:${vr}` : vr,
    type: 'rpm',
    purl: purl('rpm', distro?.id, name, vr, {
      arch,
      epoch: epoch !== undefined ? String(epoch) : undefined,
      upstream: sourceRpm,
      distro: distroQualifier,
    }),
    cpes: cpeCandidates([distro ? DISTRO_VENDORS[distro.id] ?? distro.id : undefined, vendorFromTag(vendor)], [name], version),
    licenses: declared ? [rpmLicense(declared)].filter(Boolean) : [],
    locations: [{ path: location.path, layer: location.layer }],
    foundBy: 'rpm',
    metadata,
  };
  if (source) {
    pkg.sourceName = source.name;
    pkg.sourceVersion = source.version;
  }
  if (arch) pkg.arch = arch;
  if (epoch !== undefined) pkg.epoch = epoch;
  if (files.length) pkg.files = files;
  return pkg;
}

// ---------------------------------------------------------------- analyzer

async function readInput(file: InputFile, ctx: AnalyzerContext): Promise<Buffer | undefined> {
  try {
    return await file.read();
  } catch (e) {
    ctx.warn(`rpm: ${file.path}: cannot read: ${describeError(e)}`);
    return undefined;
  }
}

/** The packages of one database directory, from the first of its databases that can be opened. */
async function readDirectory(dir: string, files: Map<string, InputFile>, ctx: AnalyzerContext): Promise<Package[]> {
  for (const format of FORMATS) {
    const input = files.get(`${dir}/${format.file}`);
    if (!input) continue;
    const bytes = await readInput(input, ctx);
    if (!bytes) continue;
    const walInput = format.file === 'rpmdb.sqlite' ? files.get(`${dir}/rpmdb.sqlite-wal`) : undefined;
    const wal = walInput ? await readInput(walInput, ctx) : undefined;
    let read: DatabaseRead;
    try {
      read = format.read(bytes, wal ? { wal } : {});
    } catch (e) {
      ctx.warn(`rpm: ${input.path}: ${describeError(e)}; skipped`);
      continue;
    }
    for (const p of read.problems) ctx.warn(`rpm: ${input.path}: ${p}`);
    const packages: Package[] = [];
    for (const { key, blob } of read.blobs) {
      try {
        const warn = (m: string): void => ctx.warn(`rpm: ${input.path}: package ${key}: ${m}`);
        const pkg = toPackage(parseHeader(blob), { path: input.path, layer: input.entry.layer }, ctx.distro, warn);
        if (pkg !== 'pubkey') packages.push(pkg);
      } catch (e) {
        ctx.warn(`rpm: ${input.path}: package ${key}: ${describeError(e)}; skipped`);
      }
    }
    return packages;
  }
  return [];
}

export const rpmAnalyzer: Analyzer = {
  name: 'rpm',
  wants: { paths: WANTED },
  async analyze(ctx) {
    const files = new Map(ctx.files.map((f) => [f.path, f]));
    const byPurl = new Map<string, Package>();
    for (const dir of DB_DIRS) {
      for (const pkg of await readDirectory(dir, files, ctx)) {
        const seen = byPurl.get(pkg.purl);
        if (!seen) byPurl.set(pkg.purl, pkg);
        else if (!seen.locations.some((l) => l.path === pkg.locations[0]?.path)) seen.locations.push(...pkg.locations);
      }
    }
    return { packages: [...byPurl.values()] };
  },
};
