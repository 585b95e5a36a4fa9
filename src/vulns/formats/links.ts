/** Where a person reads about a vulnerability, by its id: shared by the SARIF and CycloneDX writers. */
import type { MatchedVulnerability } from '../model.js';

/** The authority for an id prefix: name and the page for one id. */
const AUTHORITIES: { match: RegExp; name: string; url: (id: string) => string }[] = [
  { match: /^CVE-/i, name: 'NVD', url: (id) => `https://nvd.nist.gov/vuln/detail/${id}` },
  { match: /^GHSA-/i, name: 'GitHub', url: (id) => `https://github.com/advisories/${id}` },
  { match: /^GO-/, name: 'Go', url: (id) => `https://pkg.go.dev/vuln/${id}` },
  { match: /^(PYSEC|RUSTSEC|OSV)-/, name: 'OSV', url: (id) => `https://osv.dev/vulnerability/${id}` },
  { match: /^DSA-|^DLA-/, name: 'Debian', url: (id) => `https://security-tracker.debian.org/tracker/${id}` },
  { match: /^USN-/, name: 'Ubuntu', url: (id) => `https://ubuntu.com/security/notices/${id}` },
  { match: /^RH[SBE]A-/, name: 'Red Hat', url: (id) => `https://access.redhat.com/errata/${id}` },
];

export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export function authorityOf(id: string): { name: string; url: string } | undefined {
  const a = AUTHORITIES.find((x) => x.match.test(id));
  return a ? { name: a.name, url: a.url(id) } : undefined;
}

/** The page about this vulnerability: the authority's for its id, else its first http(s) reference. */
export function primaryUrl(v: Pick<MatchedVulnerability, 'id' | 'references'>): string | undefined {
  return authorityOf(v.id)?.url ?? v.references.find(isHttpUrl);
}
