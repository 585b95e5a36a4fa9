/**
 * Anchore Engine's names for Lading's vulnerability data, used wherever the API shows them
 * (`/system/feeds`, the `feed` / `feed_group` of vulnerability items, query results):
 * - feed `vulnerabilities`: the distro and language advisories (drivers debian, ubuntu, alpine,
 *   redhat, ghsa, osv); one group per namespace: a distro release keeps its name (`debian:12`,
 *   `alpine:3.18`), a language namespace is `github:<Anchore's type>` (`npm` → `github:npm`,
 *   `pypi` → `github:python`, `maven` → `github:java`), as Anchore's legacy feeds named them.
 * - feed `nvdv2`, group `nvdv2:cves`: NVD's CVE records (CVSS enrichment).
 * - Lading's own feeds `kev` (group `kev:cves`) and `epss` (group `epss:cves`).
 * The reverse (a group or feed name from a request to Lading's namespace or sources) accepts
 * Lading's own names as well.
 */
import { ECOSYSTEMS, type Ecosystem } from '../sbom/ecosystems.js';

export const VULNERABILITIES_FEED = 'vulnerabilities';

/** The feeds whose data is one group of their own (not one per namespace), and their group's name. */
const SINGLE_GROUP_FEEDS: Readonly<Record<string, { source: string; group: string }>> = {
  nvdv2: { source: 'nvd', group: 'nvdv2:cves' },
  kev: { source: 'kev', group: 'kev:cves' },
  epss: { source: 'epss', group: 'epss:cves' },
};

/** Every Anchore feed name Lading serves, in the order `/system/feeds` lists them. */
export const ANCHORE_FEEDS: readonly string[] = [VULNERABILITIES_FEED, ...Object.keys(SINGLE_GROUP_FEEDS)];

/** language namespace (`pypi`) → Anchore's type name (`python`), from the ecosystem table. */
const LANGUAGE_GROUP = new Map<string, string>(
  (Object.values(ECOSYSTEMS) as Ecosystem[]).flatMap((e) => (e.vulns ? [[e.vulns.namespace, `github:${e.anchore.type}`] as const] : [])),
);
const NAMESPACE_OF_LANGUAGE_GROUP = new Map([...LANGUAGE_GROUP].map(([ns, group]) => [group, ns]));

/** The feed a driver's data belongs to (`debian` → `vulnerabilities`, `nvd` → `nvdv2`). */
export function feedOfSource(source: string): string {
  return Object.entries(SINGLE_GROUP_FEEDS).find(([, f]) => f.source === source)?.[0] ?? VULNERABILITIES_FEED;
}

/** The sources (driver ids) of a feed, among `known`; undefined for a name that is no feed. */
export function sourcesOfFeed(feed: string, known: readonly string[]): string[] | undefined {
  if (feed !== VULNERABILITIES_FEED && !SINGLE_GROUP_FEEDS[feed]) return undefined;
  return known.filter((s) => feedOfSource(s) === feed);
}

/** The one group of a single-group feed (`nvdv2` → `nvdv2:cves`); undefined for `vulnerabilities`. */
export function singleGroupOf(feed: string): string | undefined {
  return SINGLE_GROUP_FEEDS[feed]?.group;
}

/** Anchore's group name for a namespace: `npm` → `github:npm`, `debian:12` stays. */
export function anchoreGroup(namespace: string): string {
  return LANGUAGE_GROUP.get(namespace) ?? namespace;
}

/** Lading's namespace for a group name of the `vulnerabilities` feed: `github:python` → `pypi`; Lading's own names pass. */
export function namespaceOfGroup(group: string): string {
  return NAMESPACE_OF_LANGUAGE_GROUP.get(group) ?? group;
}
