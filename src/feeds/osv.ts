/**
 * OSV records (https://ossf.github.io/osv-schema/) → normalised Vulnerability and Affected
 * records. Shared by every driver that reads OSV: osv, ghsa, ubuntu.
 *
 * - ecosystem strings map to namespaces (`Debian:12` → `debian:12`, `Ubuntu:Pro:22.04:LTS` →
 *   `ubuntu:22.04`, `PyPI` → `pypi`...); other ecosystems are skipped silently
 * - SEMVER and ECOSYSTEM ranges are kept as introduced / fixed (exclusive) / last_affected
 *   (inclusive) ranges; GIT ranges are ignored; `versions[]` are kept as listed affected versions
 * - state is `fixed` when any kept range has a fixed event, else `not-fixed`
 * - severity from `database_specific.severity`, a `severity[]` entry of a vendor type (Ubuntu's
 *   priority), the Red Hat-family summary prefix, and per package from `ecosystem_specific` /
 *   `database_specific`; CVSS vectors from `severity[]` scored with cvss.ts
 * - a `withdrawn` record keeps its Vulnerability (with `withdrawn`) and yields no Affected
 * - Ubuntu notices (`USN-*`) restate the per-CVE records (`UBUNTU-CVE-*`) package by package:
 *   they are kept as advisories with no Affected, so one flaw is not matched twice
 */
import YAML from 'yaml';
import type { Affected, AffectedRange, Cvss, Severity, Vulnerability } from './model.js';
import { OSV_LANGUAGE_NAMESPACES } from '../sbom/ecosystems.js';
import { normalizeName, schemeForNamespace } from '../vulns/namespace.js';
import { parseCvss } from './cvss.js';
import { str } from './json.js';
import { isPlainObject as isObject } from '../util/objects.js';

export interface OsvConversion {
  vulnerability: Vulnerability;
  affected: Affected[];
}

export interface OsvOptions {
  /** The driver id written into every record (`osv`, `ghsa`, `ubuntu`). */
  source: string;
  /** Told about each bad record or entry (the message names the record; the caller adds the source). */
  warn(message: string): void;
  /** Records kept as advisories only: their Vulnerability is stored, their packages are not. */
  advisoryOnly?(id: string): boolean;
}

interface EcosystemTarget {
  namespace: string;
  nameKind: 'source' | 'binary';
}

/**
 * Distro ecosystems: the release part after the first `:` → namespace release, and whether the
 * records name source packages (Debian, Ubuntu, Alpine aports) or binary RPMs (AlmaLinux, Rocky
 * and Red Hat list each binary package of an errata).
 */
const DISTRO_ECOSYSTEMS: Record<string, { distro: string; nameKind: 'source' | 'binary'; release(rest: string): string | undefined }> = {
  Debian: { distro: 'debian', nameKind: 'source', release: (r) => /^(\d+)$/.exec(r)?.[1] },
  // `22.04:LTS`, `Pro:16.04:LTS`, `25.10`; FIPS, real-time and other variant streams are skipped.
  Ubuntu: { distro: 'ubuntu', nameKind: 'source', release: (r) => /^(?:Pro:)?(\d+\.\d+)(?::LTS)?$/.exec(r)?.[1] },
  Alpine: { distro: 'alpine', nameKind: 'source', release: (r) => /^v(\d+\.\d+)$/.exec(r)?.[1] },
  AlmaLinux: { distro: 'almalinux', nameKind: 'binary', release: (r) => /^(\d+)$/.exec(r)?.[1] },
  'Rocky Linux': { distro: 'rocky', nameKind: 'binary', release: (r) => /^(\d+)$/.exec(r)?.[1] },
  // `enterprise_linux:9::appstream`; EUS/AUS/E4S streams carry their own fix versions and are skipped.
  'Red Hat': { distro: 'rhel', nameKind: 'binary', release: (r) => /^enterprise_linux:(\d+)(?::|$)/.exec(r)?.[1] },
};

/** The OSV ecosystem names this module understands (the part before any `:`). */
export const OSV_ECOSYSTEMS = [...Object.keys(DISTRO_ECOSYSTEMS), ...Object.keys(OSV_LANGUAGE_NAMESPACES)];

/** `Debian:12` → debian:12 (source names), `PyPI` → pypi; undefined for an ecosystem Lading does not match. */
export function ecosystemTarget(ecosystem: string): EcosystemTarget | undefined {
  const lang = Object.hasOwn(OSV_LANGUAGE_NAMESPACES, ecosystem) ? OSV_LANGUAGE_NAMESPACES[ecosystem] : undefined;
  if (lang) return { namespace: lang, nameKind: 'binary' };
  const colon = ecosystem.indexOf(':');
  if (colon < 0) return undefined;
  const distro = DISTRO_ECOSYSTEMS[ecosystem.slice(0, colon)];
  const release = distro?.release(ecosystem.slice(colon + 1));
  if (!distro || !release) return undefined;
  return { namespace: `${distro.distro}:${release}`, nameKind: distro.nameKind };
}

const SEVERITY_WORDS: Record<string, Severity> = {
  critical: 'Critical',
  high: 'High',
  important: 'High',
  moderate: 'Medium',
  medium: 'Medium',
  low: 'Low',
  negligible: 'Negligible',
  unimportant: 'Negligible',
  none: 'Negligible',
  unknown: 'Unknown',
  untriaged: 'Unknown',
};

/** A vendor's severity word (`MODERATE`, `important`, `negligible`...) → Severity. */
export function severityWord(word: unknown): Severity | undefined {
  return typeof word === 'string' ? SEVERITY_WORDS[word.trim().toLowerCase()] : undefined;
}

/** Red Hat, AlmaLinux and Rocky errata (RHSA, ALSA, RLSA...) are titled with the impact: `Important: libtiff security update`. */
function summaryImpact(id: string, summary: string | undefined): Severity | undefined {
  if (!summary || !/^(RH|AL|RL)[SBE]A-/.test(id)) return undefined;
  return severityWord(/^(Critical|Important|Moderate|Low):/.exec(summary)?.[1]);
}

/** Records that only restate other records of the same database (see the head of this file). */
const RESTATEMENT = /^USN-/;

/** The string items of an array (anything else is dropped). */
function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : [];
}

/** Remove keys whose value is undefined, so records compare and serialise cleanly. */
function dropUndefined(o: object): void {
  for (const [key, value] of Object.entries(o)) if (value === undefined) delete (o as Record<string, unknown>)[key];
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

const CVSS_TYPES: Record<string, '2' | '3' | '4'> = { CVSS_V2: '2', CVSS_V3: '3', CVSS_V4: '4' };

/** CVSS entries of a `severity[]` array; vendor-word entries are returned as a Severity. */
function readSeverityArray(v: unknown, source: string, id: string, warn: (m: string) => void): { cvss: Cvss[]; vendor?: Severity } {
  const cvss: Cvss[] = [];
  let vendor: Severity | undefined;
  if (!Array.isArray(v)) return { cvss };
  for (const entry of v) {
    if (!isObject(entry)) continue;
    const type = str(entry.type);
    const score = str(entry.score);
    if (!type || !score) continue;
    const hint = CVSS_TYPES[type];
    if (!hint) {
      vendor ??= severityWord(score);
      continue;
    }
    const parsed = parseCvss(score, hint);
    if (!parsed) {
      warn(`${id}: invalid ${type} vector ${JSON.stringify(score)} skipped`);
      continue;
    }
    // A v4 vector is kept only with a score; OSV gives none, and this module does not score v4.
    if (parsed.baseScore === undefined) continue;
    if (cvss.some((c) => c.vector === parsed.vector)) continue;
    cvss.push({ source, version: parsed.version, vector: parsed.vector, baseScore: parsed.baseScore });
  }
  return { cvss, vendor };
}

/**
 * The kept ranges of one affected entry. Undefined when a range is malformed (the entry is then
 * skipped with a warning). GIT ranges are dropped; `limit` events bound GIT history and are ignored.
 */
function readRanges(v: unknown): { ranges: AffectedRange[]; dropped: number } | undefined {
  if (v === undefined) return { ranges: [], dropped: 0 };
  if (!Array.isArray(v)) return undefined;
  const ranges: AffectedRange[] = [];
  let dropped = 0;
  for (const range of v) {
    if (!isObject(range) || !Array.isArray(range.events)) return undefined;
    if (range.type !== 'SEMVER' && range.type !== 'ECOSYSTEM') {
      dropped++;
      continue;
    }
    let open: AffectedRange | undefined;
    for (const event of range.events) {
      if (!isObject(event)) return undefined;
      const [key, value] = Object.entries(event)[0] ?? [];
      if (typeof value !== 'string' || value === '') return undefined;
      if (key === 'introduced') {
        if (open) ranges.push(open);
        open = { introduced: value };
      } else if (key === 'fixed') {
        ranges.push({ ...open, fixed: value });
        open = undefined;
      } else if (key === 'last_affected') {
        ranges.push({ ...open, lastAffected: value });
        open = undefined;
      } else if (key !== 'limit') {
        return undefined;
      }
    }
    if (open) ranges.push(open);
  }
  return { ranges, dropped };
}

/** Convert one parsed OSV record. Undefined (with a warning) when it is not a usable record. */
/** One `affected` entry of a record as an Affected, or undefined (with a warning when malformed). */
function convertAffected(entry: unknown, where: string, id: string, opts: OsvOptions): Affected | undefined {
  const { source, warn } = opts;
  if (!isObject(entry) || !isObject(entry.package)) {
    warn(`${where}: no package, skipped`);
    return undefined;
  }
  const ecosystem = str(entry.package.ecosystem);
  const rawName = str(entry.package.name);
  if (!ecosystem || !rawName) {
    warn(`${where}: package without ecosystem or name, skipped`);
    return undefined;
  }
  const target = ecosystemTarget(ecosystem);
  const scheme = target && schemeForNamespace(target.namespace);
  if (!target || !scheme) return undefined;
  const read = readRanges(entry.ranges);
  if (!read) {
    warn(`${where} (${ecosystem} ${rawName}): malformed ranges, skipped`);
    return undefined;
  }
  if (entry.versions !== undefined && !Array.isArray(entry.versions)) {
    warn(`${where} (${ecosystem} ${rawName}): versions is not a list, skipped`);
    return undefined;
  }
  const versions = unique(strings(entry.versions));
  const { ranges } = read;
  // Only GIT ranges (commit hashes) and no listed versions: nothing to compare a version with.
  if (ranges.length === 0 && versions.length === 0) {
    if (read.dropped === 0) warn(`${where} (${ecosystem} ${rawName}): no ranges and no versions, skipped`);
    return undefined;
  }
  const fixedVersions = unique(ranges.flatMap((r) => (r.fixed ? [r.fixed] : [])));
  const ecoSpecific = isObject(entry.ecosystem_specific) ? entry.ecosystem_specific : {};
  const entryDb = isObject(entry.database_specific) ? entry.database_specific : {};
  const a: Affected = {
    vulnId: id,
    source,
    namespace: target.namespace,
    name: normalizeName(target.namespace, rawName),
    nameKind: target.nameKind,
    scheme,
    ranges,
    versions,
    state: fixedVersions.length > 0 ? 'fixed' : 'not-fixed',
    fixedVersions,
  };
  const severity = severityWord(ecoSpecific.severity) ?? severityWord(entryDb.severity);
  if (severity) a.severity = severity;
  return a;
}

export function convertOsv(record: unknown, opts: OsvOptions): OsvConversion | undefined {
  const { source, warn } = opts;
  if (!isObject(record)) {
    warn('record is not an object, skipped');
    return undefined;
  }
  const id = str(record.id);
  if (!id) {
    warn('record without an id skipped');
    return undefined;
  }
  if (record.affected !== undefined && !Array.isArray(record.affected)) {
    warn(`${id}: affected is not a list, record skipped`);
    return undefined;
  }
  const summary = str(record.summary);
  const { cvss, vendor } = readSeverityArray(record.severity, source, id, warn);
  const dbSpecific = isObject(record.database_specific) ? record.database_specific : {};
  const vulnerability: Vulnerability = {
    id,
    source,
    aliases: unique([...strings(record.aliases), ...strings(record.upstream)]).filter((a) => a !== id),
    summary,
    description: str(record.details),
    published: str(record.published),
    modified: str(record.modified),
    severity: severityWord(dbSpecific.severity) ?? vendor ?? summaryImpact(id, summary),
    cvss,
    references: unique(
      (Array.isArray(record.references) ? record.references : []).flatMap((r) => (isObject(r) && str(r.url) ? [r.url as string] : [])),
    ),
    withdrawn: str(record.withdrawn),
  };
  dropUndefined(vulnerability);
  if (vulnerability.withdrawn || RESTATEMENT.test(id) || opts.advisoryOnly?.(id)) return { vulnerability, affected: [] };

  const affected: Affected[] = [];
  const entries = (record.affected as unknown[] | undefined) ?? [];
  entries.forEach((entry, index) => {
    const a = convertAffected(entry, `${id} affected[${index}]`, id, opts);
    if (a) affected.push(a);
  });
  return { vulnerability, affected };
}

/**
 * Parse an OSV file's text: JSON, or YAML with every scalar kept as a string (`1.10` stays
 * `1.10`). Throws on invalid text.
 */
export function parseOsvText(text: string, name: string): unknown {
  if (/\.ya?ml$/i.test(name)) return YAML.parse(text, { schema: 'failsafe' });
  return JSON.parse(text);
}

/** Whether a file name is an OSV record by its extension. */
export function isOsvFileName(name: string): boolean {
  return /\.(json|ya?ml)$/i.test(name);
}
