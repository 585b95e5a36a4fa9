/**
 * Enrichment: a group of raw matches becomes one reported match, filled from every source's
 * record of the vulnerability (id, aliases, description, references, CVSS, severity, fix) and
 * then from CISA KEV and EPSS. Written with plain loops and Sets: it runs once per match.
 */
import type { Cvss, EpssEntry, FixState, KevEntry, Severity, Vulnerability } from '../feeds/model.js';
import type { Package } from '../sbom/model.js';
import { isCve, type Group } from './grouping.js';
import type { Match, MatchedPackage, MatchedVulnerability } from './model.js';

/**
 * Distinct strings in first-seen order. A plain array while small (most matches have a handful of
 * ids, references and fix versions: no hashing, no table), with a Set beside it once it grows.
 */
class Distinct {
  readonly items: string[] = [];
  private seen: Set<string> | undefined;

  constructor(initial?: Iterable<string>) {
    if (initial) for (const x of initial) this.add(x);
  }

  add(x: string): void {
    if (this.seen) {
      if (this.seen.has(x)) return;
      this.seen.add(x);
    } else if (this.items.includes(x)) {
      return;
    } else if (this.items.length >= 16) {
      this.seen = new Set(this.items);
      this.seen.add(x);
    }
    this.items.push(x);
  }
}

/** The severity band of a CVSS base score (v2 has no Critical). */
export function cvssSeverity(c: Pick<Cvss, 'version' | 'baseScore'>): Severity {
  const s = c.baseScore;
  if (c.version.startsWith('2')) return s >= 7 ? 'High' : s >= 4 ? 'Medium' : s > 0 ? 'Low' : 'Negligible';
  return s >= 9 ? 'Critical' : s >= 7 ? 'High' : s >= 4 ? 'Medium' : s > 0 ? 'Low' : 'Negligible';
}

const versionRank = (c: Cvss): number => (c.version.startsWith('4') ? 4 : c.version.startsWith('3') ? 3 : c.version.startsWith('2') ? 2 : 0);

/** The tiers bestCvss picks from, best first (of a vector: the first tier it is in is its best). */
function cvssTier(c: Cvss, rank: number): number {
  if (rank >= 3) return c.source !== 'nvd' ? 2 : c.type !== 'Secondary' ? 0 : 1;
  return c.source === 'nvd' ? 3 : 4;
}

/**
 * The best CVSS to rate by: NVD primary v4/v3, any v4/v3, then v2 (NVD first at each step); in
 * a step, the highest version, the first of equals. One pass, no copies (it runs once per match).
 */
export function bestCvss(cvss: readonly Cvss[]): Cvss | undefined {
  if (cvss.length === 0) return undefined;
  // best[t]: the pick among the vectors of tier t or better that tier t admits
  const best: (Cvss | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
  const bestRank = [-1, -1, -1, -1, -1];
  for (const c of cvss) {
    const rank = versionRank(c);
    const tier = cvssTier(c, rank);
    // tiers 0-2 nest (primary NVD ⊂ NVD ⊂ modern); tier 3 (NVD) also admits modern NVD vectors; tier 4 admits all
    for (let t = 0; t < 5; t++) {
      const admits = t <= 2 ? tier <= t : t === 3 ? c.source === 'nvd' : true;
      if (admits && rank > bestRank[t]!) {
        best[t] = c;
        bestRank[t] = rank;
      }
    }
  }
  return best.find((c) => c !== undefined);
}

/** A rating that says something (set, and not `Unknown`). */
const rated = (s: Severity | undefined): boolean => !!s && s !== 'Unknown';

/** Severity of a language match: the advisory source's own rating, then NVD CVSS v3/v4, then any CVSS. */
function bestSeverity(records: readonly Vulnerability[], cvss: readonly Cvss[], preferSources: readonly string[]): { severity: Severity; source: string } {
  for (const s of preferSources) {
    const r = records.find((v) => v.source === s && rated(v.severity));
    if (r?.severity) return { severity: r.severity, source: r.source };
  }
  const c = bestCvss(cvss);
  if (c) return { severity: cvssSeverity(c), source: c.source };
  const any = records.find((v) => rated(v.severity));
  if (any?.severity) return { severity: any.severity, source: any.source };
  return { severity: 'Unknown', source: '' };
}

function rankOf(order: readonly string[], s: string): number {
  const i = order.indexOf(s);
  return i < 0 ? order.length : i;
}

/** The id a merged language match is reported under: a CVE when one is known (record ids first), else the first record's id. */
function primaryId(group: Group): string {
  for (const r of group.raws) if (isCve(r.affected.vulnId)) return r.affected.vulnId;
  let least: string | undefined;
  for (const id of group.ids) if (isCve(id) && (least === undefined || id < least)) least = id;
  return least ?? group.raws[0]!.affected.vulnId;
}

export function matchedPackage(p: Package): MatchedPackage {
  const m: MatchedPackage = { name: p.name, version: p.version, type: p.type, purl: p.purl, locations: p.locations };
  if (p.sourceName && p.sourceName !== p.name) m.sourceName = p.sourceName;
  if (p.sourceVersion && p.sourceVersion !== p.version) m.sourceVersion = p.sourceVersion;
  return m;
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

/** The group's records of every source: each id's list holds that id's records only (addById), so the lists never overlap. */
function recordsOf(group: Group, byId: ReadonlyMap<string, Vulnerability[]>): Vulnerability[] {
  const records: Vulnerability[] = [];
  for (const id of group.ids) {
    const list = byId.get(id);
    if (list) for (const r of list) records.push(r);
  }
  return records;
}

/** The records' CVSS vectors, each (source, version, vector) once, in record order. */
function cvssOf(records: readonly Vulnerability[]): Cvss[] {
  const cvss: Cvss[] = [];
  for (const r of records) {
    for (const c of r.cvss) {
      // lists are short: a scan, no keys to build
      if (!cvss.some((x) => x.source === c.source && x.version === c.version && x.vector === c.vector)) cvss.push(c);
    }
  }
  return cvss;
}

/** The vendor's rating for a distro match (the matched record's, then the vendor's vulnerability record's), else the best rating. */
function severityOf(group: Group, records: readonly Vulnerability[], cvss: readonly Cvss[], id: string, distro: boolean, matchedSources: readonly string[]): { severity: Severity; source: string } {
  if (distro) {
    const vendorRated = group.raws.find((r) => rated(r.affected.severity));
    if (vendorRated?.affected.severity) return { severity: vendorRated.affected.severity, source: vendorRated.affected.source };
    const vendorRecord = records.find((r) => matchedSources.includes(r.source) && r.id === id && rated(r.severity));
    if (vendorRecord?.severity) return { severity: vendorRecord.severity, source: vendorRecord.source };
    return bestSeverity(records, cvss, matchedSources);
  }
  const prefer = ['ghsa', 'osv'];
  for (const s of matchedSources) if (!prefer.includes(s)) prefer.push(s);
  return bestSeverity(records, cvss, prefer);
}

/** A match with everything but KEV and EPSS, from the group's records of every source. */
export function enrich(group: Group, byId: ReadonlyMap<string, Vulnerability[]>): Match {
  const first = group.raws[0]!;
  const distro = first.details.kind === 'distro';
  const records = recordsOf(group, byId);
  const id = distro ? first.affected.vulnId : primaryId(group);
  const aliases = new Distinct(distro ? undefined : group.ids);
  for (const r of records) if (!distro || r.id === id) for (const a of r.aliases) aliases.add(a);

  const matchedSources: string[] = [];
  const fixed = new Distinct();
  const sources = new Distinct();
  for (const r of group.raws) {
    if (!matchedSources.includes(r.affected.source)) matchedSources.push(r.affected.source);
    for (const f of r.verdict.fixedVersions) fixed.add(f);
    sources.add(`${r.affected.source}:${r.affected.vulnId}`);
  }
  const references = new Distinct();
  for (const r of records) {
    for (const ref of r.references) references.add(ref);
    sources.add(`${r.source}:${r.id}`);
  }
  const described = firstDescribed(records, ['nvd', ...matchedSources, 'ghsa', 'osv']);
  const cvss = cvssOf(records);
  const severity = severityOf(group, records, cvss, id, distro, matchedSources);

  // A fix known to any merged record wins; the fix versions are the union.
  const fixedVersions = fixed.items;
  const firstState = first.verdict.fixState;
  const fixState: FixState = fixedVersions.length ? 'fixed' : firstState === 'fixed' ? 'not-fixed' : firstState;

  const ids = aliases.items.filter((a) => a !== id).sort();
  const vulnerability: MatchedVulnerability = described
    ? { id, aliases: ids, severity: severity.severity, severitySource: severity.source, cvss, fixState, fixedVersions,
      description: (described.description ?? described.summary)!, references: references.items, sources: sources.items.sort() }
    : { id, aliases: ids, severity: severity.severity, severitySource: severity.source, cvss, fixState, fixedVersions,
      references: references.items, sources: sources.items.sort() };
  return { vulnerability, package: matchedPackage(group.pkg), match: first.details };
}

/** The match's CVE ids: its id and aliases (the aliases are distinct and never the id). */
export function cvesOfMatch(m: Match): string[] {
  const out: string[] = [];
  if (isCve(m.vulnerability.id)) out.push(m.vulnerability.id);
  for (const a of m.vulnerability.aliases) if (isCve(a) && !out.includes(a)) out.push(a);
  return out;
}

/** Attaches CISA KEV (any of the CVE ids, the first known) and EPSS (the highest score among them, the first of equals). */
export function decorate(m: Match, cves: readonly string[], kev: ReadonlyMap<string, KevEntry>, epss: ReadonlyMap<string, EpssEntry>): void {
  let k: KevEntry | undefined;
  const scores: EpssEntry[] = [];
  for (const c of cves) {
    k ??= kev.get(c);
    const e = epss.get(c);
    if (e !== undefined) scores.push(e);
  }
  const e = scores.length > 1 ? scores.sort((a, b) => b.score - a.score)[0] : scores[0];
  if (k) m.vulnerability.kev = { dateAdded: k.dateAdded, ...(k.dueDate ? { dueDate: k.dueDate } : {}), ...(k.knownRansomwareCampaignUse ? { ransomware: k.knownRansomwareCampaignUse } : {}) };
  if (e) m.vulnerability.epss = { score: e.score, percentile: e.percentile, date: e.date };
}
