/**
 * From raw matches (one per record that holds for a package) to one group per vulnerability:
 * distro matches by record id, language matches merged where their ids and aliases meet. Written
 * with plain loops and Sets: a 500-package SBOM makes thousands of small groups per run.
 */
import type { Affected, Vulnerability } from '../feeds/model.js';
import { isOsType } from '../sbom/ecosystems.js';
import type { Package, Sbom } from '../sbom/model.js';
import type { Verdict } from './judge.js';
import type { MatchDetails } from './model.js';

export interface RawMatch {
  affected: Affected;
  details: MatchDetails;
  verdict: Verdict;
}

export interface Group {
  pkg: Package;
  raws: RawMatch[];
  /** The record ids and their aliases, in the order first seen. */
  ids: Set<string>;
}

const CVE = /^CVE-\d{4}-\d{4,}$/i;

export function isCve(id: string): boolean {
  return CVE.test(id);
}

/** Every source's record of each id, by id; a (source, id) pair is kept once. */
export function addById(byId: Map<string, Vulnerability[]>, records: readonly Vulnerability[]): void {
  for (const v of records) {
    const list = byId.get(v.id);
    if (!list) byId.set(v.id, [v]);
    else if (!list.some((x) => x.source === v.source && x.id === v.id)) list.push(v);
  }
}

function cvesOf(ids: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const id of ids) if (isCve(id)) out.add(id);
  return out;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function meets(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const x of a) if (b.has(x)) return true;
  return false;
}

/**
 * Language matches of one package merged by alias: groups whose ids/aliases intersect become one,
 * unless both name CVEs and not the same ones (an advisory covering several CVEs must not glue
 * separate CVEs together).
 */
function groupByAlias(pkg: Package, raws: readonly RawMatch[], aliasesOf: (id: string) => readonly string[]): Group[] {
  const groups: Group[] = [];
  for (const r of raws) {
    const ids = new Set<string>([r.affected.vulnId]);
    for (const a of aliasesOf(r.affected.vulnId)) ids.add(a);
    let g: Group = { pkg, raws: [r], ids };
    for (let i = groups.length - 1; i >= 0; i--) {
      const other = groups[i]!;
      if (!meets(g.ids, other.ids)) continue;
      const a = cvesOf(g.ids);
      const b = cvesOf(other.ids);
      if (a.size && b.size && !sameSet(a, b)) continue;
      const merged = new Set(other.ids);
      for (const x of g.ids) merged.add(x);
      g = { pkg, raws: other.raws.concat(g.raws), ids: merged };
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

/** Each package's live (not withdrawn by the source that matched) raw matches grouped into one match per vulnerability. */
export function groupMatches(sbom: Sbom, perPackage: readonly RawMatch[][], byId: ReadonlyMap<string, Vulnerability[]>): Group[] {
  const withdrawn = (a: Affected) => byId.get(a.vulnId)?.some((v) => v.source === a.source && v.withdrawn) ?? false;
  const aliasLists = new Map<string, string[]>();
  const aliasesOf = (id: string): string[] => {
    let list = aliasLists.get(id);
    if (!list) {
      const set = new Set<string>();
      for (const v of byId.get(id) ?? []) for (const a of v.aliases) set.add(a);
      list = [...set];
      aliasLists.set(id, list);
    }
    return list;
  };

  const groups: Group[] = [];
  for (let i = 0; i < perPackage.length; i++) {
    const raws = perPackage[i]!;
    const live = raws.length ? raws.filter((r) => !withdrawn(r.affected)) : raws;
    if (!live.length) continue;
    const pkg = sbom.packages[i]!;
    for (const g of isOsType(pkg.type) ? groupById(pkg, live) : groupByAlias(pkg, live, aliasesOf)) groups.push(g);
  }
  return groups;
}
