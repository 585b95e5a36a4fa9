/**
 * The matcher: which of an SBOM's packages the vulnerability data says are affected.
 *
 * Distro packages (deb, rpm, apk) are looked up in their exact release namespace (`debian:12`)
 * by binary name and by source name; a record's `nameKind` decides which name and which version
 * it is compared with (source records compare the source version, so a binNMU `+b1` binary is
 * judged by its source). Language packages are looked up by ecosystem and normalised name and
 * judged with OSV range semantics. Matches of one package whose ids or aliases meet (a GHSA and an
 * OSV record for the same CVE) become one, under the CVE id. Every match is then enriched from
 * every source's record of the vulnerability (description, references, CVSS, severity) and from
 * KEV and EPSS.
 *
 * This module reads the data (every key's records at once, then the matched ids' records) and runs
 * the steps: judgement is judge.ts, grouping grouping.ts, enrichment enrich.ts.
 */
import type { Affected, Vulnerability } from '../feeds/model.js';
import { isOsType } from '../sbom/ecosystems.js';
import type { Package, Sbom } from '../sbom/model.js';
import { getScheme } from '../versions/index.js';
import type { SchemeId, VersionScheme } from '../versions/types.js';
import { cvesOfMatch, decorate, enrich } from './enrich.js';
import { addById, groupMatches, type RawMatch } from './grouping.js';
import { judge } from './judge.js';
import type { VulnLookup } from './lookup.js';
import type { Match } from './model.js';
import { distroNamespace, lookupKeys, type LookupKey } from './namespace.js';
import { affectedReader, schemeReader, type AffectedOf, type SchemeOf } from './reader.js';

export { bestCvss, cvssSeverity, matchedPackage } from './enrich.js';
export { isCve } from './grouping.js';
export { describeRange, inRange, judge } from './judge.js';

export interface MatchOptions {
  /** Keep only matches with a released fix (fixState `fixed`). */
  onlyFixed?: boolean;
  /** The version schemes by id; defaults to src/versions (tests inject their own). */
  schemes?: (id: SchemeId) => VersionScheme | undefined;
}

export interface MatchOutcome {
  matches: Match[];
  warnings: string[];
}

export function isOsPackage(p: { type: string }): boolean {
  return isOsType(p.type);
}

// ------------------------------------------------------------------ distro specifics

/** `nodejs:18` from an rpm modularity label `nodejs:18:9020020230613:abcd`. */
export function moduleStreamOf(pkg: Package): string | undefined {
  const label = pkg.metadata?.modularityLabel;
  if (typeof label !== 'string' || !label) return undefined;
  const [name, stream] = label.split(':');
  return name && stream ? `${name}:${stream}` : undefined;
}

/**
 * The version a record compares: the source version for a source-keyed record (rpm source
 * versions carry no epoch, so the binary's epoch is put in front, as grype does), else the binary.
 */
function comparedVersion(pkg: Package, a: Affected): string {
  if (a.nameKind !== 'source' || !pkg.sourceVersion) return pkg.version;
  const v = pkg.sourceVersion;
  if (pkg.type === 'rpm' && !/^\d+:/.test(v)) {
    const epoch = pkg.epoch ?? /^(\d+):/.exec(pkg.version)?.[1];
    if (epoch !== undefined && String(epoch) !== '0') return `${epoch}:${v}`;
  }
  return v;
}

/** Does this record name this package (by the kind of name the record is keyed by)? */
function namesPackage(pkg: Package, a: Affected, key: { name: string; nameKind: 'source' | 'binary' }): boolean {
  if (a.name !== key.name) return false;
  if (a.nameKind === 'source') return a.name === (pkg.sourceName ?? pkg.name);
  return a.name === pkg.name;
}

// ------------------------------------------------------------------ the matcher

/** One record entry per (source, id, namespace, name, name kind, module stream): a record stored as several entries shares it. */
function recordKey(a: Affected): string {
  return `${a.source}\0${a.vulnId}\0${a.namespace}\0${a.name}\0${a.nameKind}\0${a.moduleStream ?? ''}`;
}

/** How many OS packages the SBOM has and how many records their lookups returned (for the "no data" warning). */
interface OsCounts {
  osPackages: number;
  osRecords: number;
}

/** One package's matching: its raw matches so far and the record entries already matched. */
interface PackageRun {
  pkg: Package;
  os: boolean;
  /** The rpm module stream the package was built in. */
  stream: string | undefined;
  seen: Set<string>;
  raws: RawMatch[];
}

function packageRun(pkg: Package, counts: OsCounts): PackageRun {
  const os = isOsPackage(pkg);
  if (os) counts.osPackages++;
  return { pkg, os, stream: pkg.type === 'rpm' ? moduleStreamOf(pkg) : undefined, seen: new Set(), raws: [] };
}

/** One lookup key's records against a package: every record that names it and whose range holds its version. */
function matchKey(run: PackageRun, key: LookupKey, records: readonly Affected[], schemeFor: SchemeOf, counts: OsCounts): void {
  const { pkg, os } = run;
  if (os) counts.osRecords += records.length;
  for (const a of records) {
    if (os ? !namesPackage(pkg, a, key) : a.name !== key.name) continue;
    // Red Hat modularity: a modular record matches only packages built in its stream, and a
    // non-modular record only non-modular packages.
    if (pkg.type === 'rpm' && (a.moduleStream || undefined) !== run.stream) continue;
    const rk = recordKey(a);
    if (run.seen.has(rk)) continue;
    const scheme = schemeFor(a.scheme);
    if (!scheme) continue;
    const version = os ? comparedVersion(pkg, a) : pkg.version;
    const verdict = judge(scheme, version, a);
    // One match per record; a record stored as several entries (one per range) is judged on each
    // until one holds.
    if (!verdict) continue;
    run.seen.add(rk);
    run.raws.push({
      affected: a,
      verdict,
      details: {
        kind: os ? 'distro' : 'language',
        namespace: a.namespace,
        name: a.name,
        nameKind: a.nameKind,
        version,
        constraint: verdict.constraint,
        record: `${a.source}:${a.vulnId}`,
      },
    });
  }
}

/**
 * Every package's raw matches. Key by key across the packages (every package's first key, then
 * every second key): the order in which unknown schemes are met, and so warned about.
 */
function matchPackages(sbom: Sbom, keysOf: readonly LookupKey[][], affectedOf: AffectedOf, schemeFor: SchemeOf, counts: OsCounts): RawMatch[][] {
  const runs = sbom.packages.map((pkg) => packageRun(pkg, counts));
  let rounds = 0;
  for (const keys of keysOf) rounds = Math.max(rounds, keys.length);
  for (let k = 0; k < rounds; k++) {
    for (let i = 0; i < runs.length; i++) {
      const key = keysOf[i]![k];
      if (key) matchKey(runs[i]!, key, affectedOf(key.namespace, key.name), schemeFor, counts);
    }
  }
  return runs.map((r) => r.raws);
}

/**
 * The warning for OS packages that could not be matched: no distro release, or no data for it.
 * When not one lookup returned a record, the database is asked whether it holds the release at
 * all (a lookup that cannot say is taken at its lookups' word): an image whose packages no
 * advisory names is not an unsupported release.
 */
async function noDataWarning(sbom: Sbom, counts: OsCounts, lookup: VulnLookup): Promise<string | undefined> {
  if (counts.osPackages === 0) return undefined;
  const ns = distroNamespace(sbom.distro);
  if (!ns) {
    return sbom.distro
      ? `the distro ${sbom.distro.id} has no release version: its ${counts.osPackages} OS package(s) were not matched`
      : `the distro is unknown: ${counts.osPackages} OS package(s) were not matched`;
  }
  if (counts.osRecords > 0 || (lookup.hasNamespace && await lookup.hasNamespace(ns))) return undefined;
  return `no vulnerability data for ${ns} (unsupported or end-of-life release?)`;
}

/** Every source's record of every matched id and of their aliases (records of aliases not fetched yet: NVD's CVE record for a GHSA match). */
async function recordsById(sbom: Sbom, perPackage: readonly RawMatch[][], lookup: VulnLookup) {
  const byId = new Map<string, Vulnerability[]>();
  const recordIds = new Set<string>();
  for (const raws of perPackage) for (const r of raws) recordIds.add(r.affected.vulnId);
  if (recordIds.size) addById(byId, await lookup.vulnerabilities([...recordIds]));
  const groups = groupMatches(sbom, perPackage, byId);

  const missing = new Set<string>();
  for (const g of groups) for (const id of g.ids) if (!byId.has(id)) missing.add(id);
  if (missing.size) addById(byId, (await lookup.vulnerabilities([...missing], { byAlias: false })).filter((v) => missing.has(v.id)));
  return { byId, groups };
}

/** KEV and EPSS for every match, by its CVE ids. */
async function decorateAll(matches: readonly Match[], lookup: VulnLookup): Promise<void> {
  const cvesOf = matches.map(cvesOfMatch);
  const cves = new Set<string>();
  for (const list of cvesOf) for (const c of list) cves.add(c);
  if (!cves.size) return;
  const all = [...cves];
  const [kev, epss] = await Promise.all([lookup.kev(all), lookup.epss(all)]);
  matches.forEach((m, i) => decorate(m, cvesOf[i]!, kev, epss));
}

/**
 * Matches every package of the SBOM against the vulnerability data.
 *
 * The "no data" warning: when the image has OS packages, not one lookup of them (by binary or
 * source name) returned a single Affected record of any state in the distro's namespace, and the
 * database holds no record at all in that namespace (VulnLookup.hasNamespace), the release is
 * missing from the data (unsupported or end of life) and a warning says so. A lookup without
 * hasNamespace falls back on the lookups alone.
 */
export async function matchSbom(sbom: Sbom, lookup: VulnLookup, options: MatchOptions = {}): Promise<MatchOutcome> {
  const warnings: string[] = [];
  const schemeFor = schemeReader(options.schemes ?? getScheme, (id) => {
    warnings.push(`no version comparator for scheme "${id}": records in that scheme were skipped`);
  });

  const keysOf = sbom.packages.map((pkg) => lookupKeys(pkg, sbom.distro));
  const affectedOf = await affectedReader(lookup, keysOf.flat());

  const counts: OsCounts = { osPackages: 0, osRecords: 0 };
  const perPackage = matchPackages(sbom, keysOf, affectedOf, schemeFor, counts);

  const noData = await noDataWarning(sbom, counts, lookup);
  if (noData) warnings.push(noData);

  // Records withdrawn by the source that matched are dropped (groupMatches).
  const { byId, groups } = await recordsById(sbom, perPackage, lookup);
  let matches = groups.map((g) => enrich(g, byId));
  if (options.onlyFixed) matches = matches.filter((m) => m.vulnerability.fixState === 'fixed');
  await decorateAll(matches, lookup);
  return { matches, warnings };
}
