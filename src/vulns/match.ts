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
 */
import type { Affected, AffectedRange, Cvss, EpssEntry, FixState, KevEntry, Severity, Vulnerability } from '../feeds/model.js';
import { isOsType } from '../sbom/ecosystems.js';
import type { Package, Sbom } from '../sbom/model.js';
import { getScheme } from '../versions/index.js';
import type { SchemeId, VersionScheme } from '../versions/types.js';
import type { VulnLookup } from './lookup.js';
import { affectedReader, schemeReader } from './reader.js';
import type { MatchDetails, MatchedPackage, MatchedVulnerability, Match } from './model.js';
import { distroNamespace, lookupKeys } from './namespace.js';

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

const CVE = /^CVE-\d{4}-\d{4,}$/i;

export function isCve(id: string): boolean {
  return CVE.test(id);
}

// ------------------------------------------------------------------ version judgement

/** A readable constraint for a range: `>= 1.0, < 1.2`, `<= 2.3`, `all versions`. */
export function describeRange(r: AffectedRange): string {
  const parts: string[] = [];
  if (r.introduced && r.introduced !== '0') parts.push(`>= ${r.introduced}`);
  if (r.fixed) parts.push(`< ${r.fixed}`);
  if (r.lastAffected) parts.push(`<= ${r.lastAffected}`);
  return parts.length ? parts.join(', ') : 'all versions';
}

/** OSV semantics: introduced inclusive (`0` = from the start), fixed exclusive, last_affected inclusive. */
export function inRange(scheme: VersionScheme, version: string, r: AffectedRange): boolean {
  if (r.introduced && r.introduced !== '0' && scheme.compare(version, r.introduced) < 0) return false;
  if (r.fixed && scheme.compare(version, r.fixed) >= 0) return false;
  if (r.lastAffected && scheme.compare(version, r.lastAffected) > 0) return false;
  return true;
}

interface Verdict {
  constraint: string;
  fixState: FixState;
  fixedVersions: string[];
}

/** Fix versions later than the installed one (what upgrading to would fix), in scheme order. */
function laterFixes(scheme: VersionScheme, version: string, fixes: readonly string[]): string[] {
  return unique(fixes.filter((f) => scheme.compare(version, f) < 0)).sort((a, b) => scheme.compare(a, b));
}

/**
 * Whether one Affected record affects `version`, and how. undefined = not affected (or unknown).
 * - `not-affected`, `unknown`: never a match.
 * - no ranges, no versions: every version is affected, except a `fixed` record that names fix
 *   versions (distro feeds): affected below all of them.
 * - otherwise: affected iff inside a range or listed in versions[].
 */
export function judge(scheme: VersionScheme, version: string, a: Affected): Verdict | undefined {
  if (a.state === 'not-affected' || a.state === 'unknown') return undefined;
  const open = a.state === 'not-fixed' || a.state === 'wont-fix';
  if (a.ranges.length === 0 && a.versions.length === 0) {
    if (!open && a.fixedVersions.length > 0) {
      // Below every fix version (with several, below the first: a later one is another line's).
      const fixes = laterFixes(scheme, version, a.fixedVersions);
      if (fixes.length !== unique(a.fixedVersions).length) return undefined;
      return { constraint: `< ${fixes[0]}`, fixState: 'fixed', fixedVersions: fixes };
    }
    return { constraint: 'all versions', fixState: a.state, fixedVersions: open ? [] : laterFixes(scheme, version, a.fixedVersions) };
  }
  const range = a.ranges.find((r) => inRange(scheme, version, r));
  const listed = range ? undefined : a.versions.find((v) => v === version || scheme.compare(v, version) === 0);
  if (!range && listed === undefined) return undefined;
  if (open) return { constraint: range ? describeRange(range) : `= ${listed}`, fixState: a.state, fixedVersions: [] };
  const fixes = laterFixes(scheme, version, range?.fixed ? [range.fixed] : a.fixedVersions);
  return {
    constraint: range ? describeRange(range) : `= ${listed}`,
    fixState: fixes.length ? 'fixed' : 'not-fixed',
    fixedVersions: fixes,
  };
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

// ------------------------------------------------------------------ raw matches

interface RawMatch {
  affected: Affected;
  details: MatchDetails;
  verdict: Verdict;
}

function recordKey(a: Affected): string {
  return [a.source, a.vulnId, a.namespace, a.name, a.nameKind, a.moduleStream ?? ''].join('\0');
}

function unique<T>(xs: Iterable<T>): T[] {
  return [...new Set(xs)];
}

// ------------------------------------------------------------------ enrichment

/** The severity band of a CVSS base score (v2 has no Critical). */
export function cvssSeverity(c: Pick<Cvss, 'version' | 'baseScore'>): Severity {
  const s = c.baseScore;
  if (c.version.startsWith('2')) return s >= 7 ? 'High' : s >= 4 ? 'Medium' : s > 0 ? 'Low' : 'Negligible';
  return s >= 9 ? 'Critical' : s >= 7 ? 'High' : s >= 4 ? 'Medium' : s > 0 ? 'Low' : 'Negligible';
}

const versionRank = (c: Cvss): number => (c.version.startsWith('4') ? 4 : c.version.startsWith('3') ? 3 : c.version.startsWith('2') ? 2 : 0);

/** The best CVSS to rate by: NVD primary v4/v3, any v4/v3, then v2 (NVD first at each step). */
export function bestCvss(cvss: readonly Cvss[]): Cvss | undefined {
  const modern = cvss.filter((c) => versionRank(c) >= 3);
  const pick = (list: Cvss[]) => [...list].sort((a, b) => versionRank(b) - versionRank(a))[0];
  return pick(modern.filter((c) => c.source === 'nvd' && c.type !== 'Secondary'))
    ?? pick(modern.filter((c) => c.source === 'nvd'))
    ?? pick(modern)
    ?? pick(cvss.filter((c) => c.source === 'nvd'))
    ?? pick([...cvss]);
}

/** Severity of a language match: the advisory source's own rating, then NVD CVSS v3/v4, then any CVSS. */
function bestSeverity(records: readonly Vulnerability[], cvss: readonly Cvss[], preferSources: readonly string[]): { severity: Severity; source: string } {
  for (const s of preferSources) {
    const r = records.find((v) => v.source === s && v.severity && v.severity !== 'Unknown');
    if (r?.severity) return { severity: r.severity, source: r.source };
  }
  const c = bestCvss(cvss);
  if (c) return { severity: cvssSeverity(c), source: c.source };
  const any = records.find((v) => v.severity && v.severity !== 'Unknown');
  if (any?.severity) return { severity: any.severity, source: any.source };
  return { severity: 'Unknown', source: '' };
}

interface Group {
  pkg: Package;
  raws: RawMatch[];
  /** The record ids and their aliases. */
  ids: Set<string>;
}

function rankOf(order: readonly string[], s: string): number {
  const i = order.indexOf(s);
  return i < 0 ? order.length : i;
}

/** The id a merged language match is reported under: a CVE when one is known (record ids first), else the first record's id. */
function primaryId(group: Group): string {
  const recordIds = group.raws.map((r) => r.affected.vulnId);
  return recordIds.find(isCve) ?? [...group.ids].filter(isCve).sort()[0] ?? recordIds[0]!;
}

export function matchedPackage(p: Package): MatchedPackage {
  return {
    name: p.name,
    version: p.version,
    type: p.type,
    purl: p.purl,
    locations: p.locations,
    ...(p.sourceName && p.sourceName !== p.name ? { sourceName: p.sourceName } : {}),
    ...(p.sourceVersion && p.sourceVersion !== p.version ? { sourceVersion: p.sourceVersion } : {}),
  };
}

/** The record to take the description from: the best-ranked source among those with a description or summary, the first of equals. */
function firstDescribed(records: readonly Vulnerability[], order: readonly string[]): Vulnerability | undefined {
  let best: Vulnerability | undefined;
  let bestRank = Infinity;
  for (const r of records) {
    if (!(r.description || r.summary)) continue;
    const rank = rankOf(order, r.source);
    if (rank < bestRank) {
      best = r;
      bestRank = rank;
    }
  }
  return best;
}

/** A match with everything but KEV and EPSS, from the group's records of every source. */
function enrich(group: Group, byId: ReadonlyMap<string, Vulnerability[]>): Match {
  const first = group.raws[0]!;
  const distro = first.details.kind === 'distro';
  const records = unique([...group.ids].flatMap((id) => byId.get(id) ?? []));
  const id = distro ? first.affected.vulnId : primaryId(group);
  const aliasSet = new Set<string>(distro ? [] : group.ids);
  for (const r of records) if (!distro || r.id === id) for (const a of r.aliases) aliasSet.add(a);
  aliasSet.delete(id);
  const aliases = [...aliasSet].sort();

  const matchedSources = unique(group.raws.map((r) => r.affected.source));
  const descOrder = ['nvd', ...matchedSources, 'ghsa', 'osv'];
  const described = firstDescribed(records, descOrder);
  const references = unique(records.flatMap((r) => r.references));
  const seenCvss = new Set<string>();
  const cvss: Cvss[] = [];
  for (const c of records.flatMap((r) => r.cvss)) {
    const k = `${c.source}\0${c.version}\0${c.vector}`;
    if (seenCvss.has(k)) continue;
    seenCvss.add(k);
    cvss.push(c);
  }

  let severity: { severity: Severity; source: string };
  const vendorRated = group.raws.find((r) => r.affected.severity && r.affected.severity !== 'Unknown');
  const vendorRecord = records.find((r) => matchedSources.includes(r.source) && r.id === id && r.severity && r.severity !== 'Unknown');
  if (distro && vendorRated?.affected.severity) severity = { severity: vendorRated.affected.severity, source: vendorRated.affected.source };
  else if (distro && vendorRecord?.severity) severity = { severity: vendorRecord.severity, source: vendorRecord.source };
  else severity = bestSeverity(records, cvss, distro ? matchedSources : unique(['ghsa', 'osv', ...matchedSources]));

  // A fix known to any merged record wins; the fix versions are the union.
  const fixedVersions = unique(group.raws.flatMap((r) => r.verdict.fixedVersions));
  const firstState = first.verdict.fixState;
  const fixState: FixState = fixedVersions.length ? 'fixed' : firstState === 'fixed' ? 'not-fixed' : firstState;

  const sources = unique([
    ...group.raws.map((r) => `${r.affected.source}:${r.affected.vulnId}`),
    ...records.map((r) => `${r.source}:${r.id}`),
  ]).sort();

  const vulnerability: MatchedVulnerability = {
    id,
    aliases,
    severity: severity.severity,
    severitySource: severity.source,
    cvss,
    fixState,
    fixedVersions,
    ...(described ? { description: described.description ?? described.summary } : {}),
    references,
    sources,
  };
  return { vulnerability, package: matchedPackage(group.pkg), match: first.details };
}

/** Attaches CISA KEV (any of the match's CVE ids) and EPSS (the highest score among them). */
function decorate(m: Match, kev: ReadonlyMap<string, KevEntry>, epss: ReadonlyMap<string, EpssEntry>): void {
  const cves = cvesOfMatch(m);
  const k = cves.map((c) => kev.get(c)).find((e) => e !== undefined);
  const e = cves.map((c) => epss.get(c)).filter((x): x is EpssEntry => x !== undefined).sort((a, b) => b.score - a.score)[0];
  if (k) m.vulnerability.kev = { dateAdded: k.dateAdded, ...(k.dueDate ? { dueDate: k.dueDate } : {}), ...(k.knownRansomwareCampaignUse ? { ransomware: k.knownRansomwareCampaignUse } : {}) };
  if (e) m.vulnerability.epss = { score: e.score, percentile: e.percentile, date: e.date };
}

function cvesOfMatch(m: Match): string[] {
  return unique([m.vulnerability.id, ...m.vulnerability.aliases].filter(isCve));
}

// ------------------------------------------------------------------ grouping

function cvesOf(ids: Iterable<string>): Set<string> {
  return new Set([...ids].filter(isCve));
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/**
 * Language matches of one package merged by alias: groups whose ids/aliases intersect become one,
 * unless both name CVEs and not the same ones (an advisory covering several CVEs must not glue
 * separate CVEs together).
 */
function groupByAlias(pkg: Package, raws: readonly RawMatch[], aliasesOf: (id: string) => string[]): Group[] {
  const groups: Group[] = [];
  for (const r of raws) {
    let g: Group = { pkg, raws: [r], ids: new Set([r.affected.vulnId, ...aliasesOf(r.affected.vulnId)]) };
    for (let i = groups.length - 1; i >= 0; i--) {
      const other = groups[i]!;
      if (![...g.ids].some((x) => other.ids.has(x))) continue;
      const a = cvesOf(g.ids);
      const b = cvesOf(other.ids);
      if (a.size && b.size && !sameSet(a, b)) continue;
      g = { pkg, raws: [...other.raws, ...g.raws], ids: new Set([...other.ids, ...g.ids]) };
      groups.splice(i, 1);
    }
    groups.push(g);
  }
  return groups;
}

/** Distro matches of one package: one per vulnerability id. */
function groupById(pkg: Package, raws: readonly RawMatch[]): Group[] {
  const byId = new Map<string, Group>();
  for (const r of raws) {
    const g = byId.get(r.affected.vulnId);
    if (g) g.raws.push(r);
    else byId.set(r.affected.vulnId, { pkg, raws: [r], ids: new Set([r.affected.vulnId]) });
  }
  return [...byId.values()];
}

function addById(byId: Map<string, Vulnerability[]>, records: readonly Vulnerability[]): void {
  for (const v of records) {
    const list = byId.get(v.id) ?? [];
    if (!list.some((x) => x.source === v.source && x.id === v.id)) list.push(v);
    byId.set(v.id, list);
  }
}

// ------------------------------------------------------------------ the matcher

/** How many OS packages the SBOM has and how many records their lookups returned (for the "no data" warning). */
interface OsCounts {
  osPackages: number;
  osRecords: number;
}

/** One package's raw matches: every record of its lookup keys that names it and whose range holds its version. */
async function matchPackage(
  pkg: Package,
  keys: ReturnType<typeof lookupKeys>,
  affectedOf: Awaited<ReturnType<typeof affectedReader>>,
  schemeFor: ReturnType<typeof schemeReader>,
  counts: OsCounts,
): Promise<RawMatch[]> {
  const os = isOsPackage(pkg);
  if (os) counts.osPackages++;
  const seen = new Set<string>();
  const raws: RawMatch[] = [];
  const stream = pkg.type === 'rpm' ? moduleStreamOf(pkg) : undefined;
  for (const key of keys) {
    const records = await affectedOf(key.namespace, key.name);
    if (os) counts.osRecords += records.length;
    for (const a of records) {
      const rk = recordKey(a);
      if (seen.has(rk)) continue;
      if (os ? !namesPackage(pkg, a, key) : a.name !== key.name) continue;
      // Red Hat modularity: a modular record matches only packages built in its stream, and a
      // non-modular record only non-modular packages.
      if (pkg.type === 'rpm' && (a.moduleStream || undefined) !== stream) continue;
      const scheme = schemeFor(a.scheme);
      if (!scheme) continue;
      const version = os ? comparedVersion(pkg, a) : pkg.version;
      const verdict = judge(scheme, version, a);
      // One match per record; a record stored as several entries (one per range) is judged on each
      // until one holds.
      if (!verdict) continue;
      seen.add(rk);
      raws.push({
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
  return raws;
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

/** Each package's live (not withdrawn) raw matches grouped into one match per vulnerability. */
function groupMatches(sbom: Sbom, perPackage: RawMatch[][], byId: Map<string, Vulnerability[]>): Group[] {
  const withdrawn = (a: Affected) => (byId.get(a.vulnId) ?? []).some((v) => v.source === a.source && v.withdrawn);
  const aliasLists = new Map<string, string[]>();
  const aliasesOf = (id: string): string[] => {
    let list = aliasLists.get(id);
    if (!list) {
      list = unique((byId.get(id) ?? []).flatMap((v) => v.aliases));
      aliasLists.set(id, list);
    }
    return list;
  };

  const groups: Group[] = [];
  perPackage.forEach((raws, i) => {
    const live = raws.filter((r) => !withdrawn(r.affected));
    if (!live.length) return;
    const pkg = sbom.packages[i]!;
    groups.push(...(isOsPackage(pkg) ? groupById(pkg, live) : groupByAlias(pkg, live, aliasesOf)));
  });
  return groups;
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
  const perPackage = await Promise.all(sbom.packages.map((pkg, i) => matchPackage(pkg, keysOf[i]!, affectedOf, schemeFor, counts)));

  const noData = await noDataWarning(sbom, counts, lookup);
  if (noData) warnings.push(noData);

  // Every source's record of every matched id; records withdrawn by the source that matched are dropped.
  const byId = new Map<string, Vulnerability[]>();
  const recordIds = unique(perPackage.flat().map((r) => r.affected.vulnId));
  if (recordIds.length) addById(byId, await lookup.vulnerabilities(recordIds));
  const groups = groupMatches(sbom, perPackage, byId);

  // Records of aliases not fetched yet (NVD's CVE record for a GHSA match).
  const missing = unique(groups.flatMap((g) => [...g.ids])).filter((id) => !byId.has(id));
  if (missing.length) {
    const wanted = new Set(missing);
    addById(byId, (await lookup.vulnerabilities(missing, { byAlias: false })).filter((v) => wanted.has(v.id)));
  }

  let matches = groups.map((g) => enrich(g, byId));
  if (options.onlyFixed) matches = matches.filter((m) => m.vulnerability.fixState === 'fixed');
  const cves = unique(matches.flatMap(cvesOfMatch));
  if (cves.length) {
    const [kev, epss] = await Promise.all([lookup.kev(cves), lookup.epss(cves)]);
    for (const m of matches) decorate(m, kev, epss);
  }
  return { matches, warnings };
}
