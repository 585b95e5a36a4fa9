/**
 * Package variants ("tuples") for set-based re-matching (store/findings.ts): what of a package and
 * its image the matcher's answer depends on, nothing else (no path, no purl except Maven's, no
 * file list), so 100,000 images of one distro share a few thousand tuples. Tuples are matched in
 * JS with the real matcher (vulns/match.ts) in batches, one matcher call per distro.
 */
import type { Distro, Package } from '../sbom/model.js';
import { matchSbom } from '../vulns/match.js';
import type { VulnLookup } from '../vulns/lookup.js';
import type { Match } from '../vulns/model.js';
import { lookupKeys } from '../vulns/namespace.js';

/** The part of a package (and its image's distro) the matcher reads. */
export interface TuplePackage {
  distro: { id: string; versionId?: string } | null;
  name: string;
  version: string;
  type: Package['type'];
  sourceName?: string;
  sourceVersion?: string;
  epoch?: number;
  purl?: string;
  metadata?: Record<string, unknown>;
}

/** One finding of a tuple, as tuple_findings stores it. */
export interface TupleFinding {
  vuln_id: string;
  feed_group: string;
  severity: string;
  /** Fix versions joined by `,`, or `None` (Anchore's Fix_Available). */
  fix: string;
  url: string;
  fixable: number;
  /** 1: the vendor will not fix it (not counted, as vuln/all's default). */
  vendor_only: number;
  kev: number;
  /** JSON list of the vulnerability's aliases. */
  aliases: string;
}

const METADATA_KEYS = ['modularityLabel', 'groupId', 'artifactId'] as const;

/** The tuple of a package in an image with this distro. */
export function tupleOf(p: Package, distro: Distro | undefined): TuplePackage {
  const metadata: Record<string, unknown> = {};
  for (const k of METADATA_KEYS) if (p.metadata?.[k] !== undefined) metadata[k] = p.metadata[k];
  return {
    distro: distro ? { id: distro.id, ...(distro.versionId !== undefined ? { versionId: distro.versionId } : {}) } : null,
    name: p.name, version: p.version, type: p.type,
    ...(p.sourceName !== undefined ? { sourceName: p.sourceName } : {}),
    ...(p.sourceVersion !== undefined ? { sourceVersion: p.sourceVersion } : {}),
    ...(p.epoch !== undefined ? { epoch: p.epoch } : {}),
    ...(p.type === 'java-archive' ? { purl: p.purl } : {}),
    ...(Object.keys(metadata).length ? { metadata } : {}),
  };
}

/** Canonical text of a tuple (its identity; keys in a fixed order). */
export const tupleText = (t: TuplePackage): string => JSON.stringify(t, Object.keys(t).sort().concat('id', 'versionId', ...METADATA_KEYS));

const asPackage = (t: TuplePackage, marker: string): Package => ({
  name: t.name, version: t.version, type: t.type, purl: t.purl ?? '', cpes: [], licenses: [],
  locations: [{ path: marker }], foundBy: 'tuple',
  ...(t.sourceName !== undefined ? { sourceName: t.sourceName } : {}),
  ...(t.sourceVersion !== undefined ? { sourceVersion: t.sourceVersion } : {}),
  ...(t.epoch !== undefined ? { epoch: t.epoch } : {}),
  ...(t.metadata ? { metadata: t.metadata } : {}),
});

const asDistro = (d: TuplePackage['distro']): Distro | undefined =>
  d ? { id: d.id, ...(d.versionId !== undefined ? { versionId: d.versionId } : {}), idLike: [], source: 'tuple' } : undefined;

/** The (namespace, name) keys a tuple is looked up under. */
export function tupleKeys(t: TuplePackage): { namespace: string; name: string }[] {
  const seen = new Map<string, { namespace: string; name: string }>();
  for (const k of lookupKeys(asPackage(t, ''), asDistro(t.distro))) seen.set(`${k.namespace}\0${k.name}`, { namespace: k.namespace, name: k.name });
  return [...seen.values()];
}

export function findingOf(m: Match): TupleFinding {
  const v = m.vulnerability;
  const cve = [v.id, ...v.aliases].find((a) => a.startsWith('CVE-'));
  return {
    vuln_id: v.id, feed_group: m.match.namespace, severity: v.severity,
    fix: v.fixedVersions.length ? v.fixedVersions.join(',') : 'None',
    url: v.references[0] ?? (cve ? `https://nvd.nist.gov/vuln/detail/${cve}` : 'None'),
    fixable: v.fixedVersions.length > 0 ? 1 : 0, vendor_only: v.fixState === 'wont-fix' ? 1 : 0, kev: v.kev ? 1 : 0,
    aliases: JSON.stringify(v.aliases),
  };
}

/**
 * Match tuples (by id) with the real matcher; returns each tuple's findings, one per
 * (vulnerability, feed group). Tuples of one distro go through one matcher call, so a
 * (namespace, name) is looked up once however many versions of it there are.
 */
export async function matchTuples(tuples: ReadonlyMap<number, TuplePackage>, lookup: VulnLookup): Promise<Map<number, TupleFinding[]>> {
  const out = new Map<number, TupleFinding[]>();
  const byDistro = new Map<string, [number, TuplePackage][]>();
  for (const [id, t] of tuples) {
    out.set(id, []);
    const k = JSON.stringify(t.distro);
    byDistro.set(k, [...(byDistro.get(k) ?? []), [id, t]]);
  }
  for (const group of byDistro.values()) {
    const packages = group.map(([id, t]) => asPackage(t, String(id)));
    const { matches } = await matchSbom({ distro: asDistro(group[0]![1].distro), packages } as Parameters<typeof matchSbom>[0], lookup);
    for (const m of matches) {
      const list = out.get(Number(m.package.locations[0]!.path))!;
      const f = findingOf(m);
      if (!list.some((x) => x.vuln_id === f.vuln_id && x.feed_group === f.feed_group)) list.push(f);
    }
  }
  return out;
}
