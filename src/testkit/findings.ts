/**
 * Fixtures for the findings engine's tests (store/findings.test.ts, the crash test): Debian 12
 * images drawn from a pool of source packages with overlapping versions, a Debian feed with
 * fixed, not-fixed and wont-fix records plus KEV entries, and a second feed that changes some of
 * it; and the expected counts and findings of an image from a fresh full scan.
 */
import type { Affected, FeedBatch, Vulnerability } from '../feeds/model.js';
import type { VulnDb } from '../feeds/vulndb.js';
import type { Package, Sbom } from '../sbom/model.js';
import type { Counts } from '../store/finding-sql.js';
import type { FindingsStore } from '../store/findings.js';
import { scanSbom } from '../vulns/scan.js';

export const POOL = 30;
const VERSIONS = ['1.0-1', '1.0-2', '2.0-1'];
const SEVERITIES = ['Critical', 'High', 'Medium', 'Low'] as const;

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

export interface FixtureImage { account: string; digest: string; sbom: Sbom }

export function fixtureImages(n: number, seed = 7): FixtureImage[] {
  const rand = rng(seed);
  const out: FixtureImage[] = [];
  for (let i = 0; i < n; i++) {
    const picks = new Set<number>();
    while (picks.size < 12) picks.add(Math.floor(rand() * POOL));
    const packages: Package[] = [...picks].map((p) => {
      const version = VERSIONS[Math.floor(rand() * VERSIONS.length)]!;
      const binNmu = rand() < 0.2;
      return {
        name: `lib${p}`, version: binNmu ? `${version}+b1` : version, type: 'deb', purl: `pkg:deb/debian/lib${p}@${version}`, cpes: [], licenses: [],
        locations: [{ path: '/var/lib/dpkg/status' }], sourceName: `src${p}`, sourceVersion: version, foundBy: 'dpkg',
      };
    });
    const digest = `sha256:${i.toString(16).padStart(64, '0')}`;
    out.push({ account: i % 3 ? 'admin' : 'team', digest, sbom: sbomOf(digest, packages) });
  }
  return out;
}

function sbomOf(digest: string, packages: Package[]): Sbom {
  return {
    schema: 'lading-sbom/1', createdAt: '2026-01-01T00:00:00Z', tool: { name: 'lading', version: 'test' },
    source: {
      imageId: digest, manifestDigest: digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', tags: [], registry: 'test.local', repository: 'app',
      platform: { os: 'linux', architecture: 'amd64' },
      config: { env: [], entrypoint: null, cmd: null, user: '', workingDir: '', exposedPorts: [], volumes: [], labels: {} },
      layers: [], history: [], dockerfile: { mode: 'guessed', text: '' },
    },
    distro: { id: 'debian', versionId: '12', versionCodename: 'bookworm', idLike: [], source: '/etc/os-release' },
    packages, files: [], secrets: [], contentMatches: [], retrievedFiles: [], warnings: [],
  } as Sbom;
}

function record(id: string, p: number, a: Partial<Affected>, severity: Vulnerability['severity']): { v: Vulnerability; a: Affected } {
  return {
    v: { id, source: 'debian', aliases: [], cvss: [], references: [`https://security-tracker.debian.org/tracker/${id}`], severity, modified: `m-${id}-${a.state}-${JSON.stringify(a.ranges)}-${severity}` },
    a: { vulnId: id, source: 'debian', namespace: 'debian:12', name: `src${p}`, nameKind: 'source', scheme: 'dpkg', ranges: [], versions: [], state: 'fixed', fixedVersions: [], severity, ...a },
  };
}

const fixed = (v: string): Partial<Affected> => ({ ranges: [{ introduced: '0', fixed: v }], fixedVersions: [v], state: 'fixed' });

/** The first feed (`changed`: the second, where about a fifth of the packages' records differ). */
export function fixtureFeed(changed: boolean): FeedBatch {
  const rows: { v: Vulnerability; a: Affected }[] = [];
  for (let p = 0; p < POOL; p++) {
    const sev = SEVERITIES[p % 4]!;
    if (!(changed && p === 2)) rows.push(record(`CVE-2099-${1000 + p}`, p, fixed(changed && p < 6 ? '2.0-2' : '1.0-2'), changed && p === 1 ? 'Critical' : sev));
    if (p % 5 === 0) rows.push(record(`CVE-2098-${1000 + p}`, p, { state: changed && p === 5 ? 'not-fixed' : 'wont-fix' }, 'Medium'));
    if (p % 7 === 0) rows.push(record(`CVE-2097-${1000 + p}`, p, { state: 'not-fixed' }, 'High'));
    if (changed && p >= 10 && p < 13) rows.push(record(`CVE-2100-${1000 + p}`, p, fixed('9.0-1'), 'High'));
  }
  return { vulnerabilities: rows.map((r) => r.v), affected: rows.map((r) => r.a) };
}

export const FIXTURE_KEV = ['CVE-2099-1003', 'CVE-2099-1010', 'CVE-2100-1011'];

export async function applyFixtureFeed(vulndb: VulnDb, changed: boolean): Promise<void> {
  await vulndb.apply('debian', { full: true, batches: [fixtureFeed(changed)] }, { kind: 'sync' });
}

export async function applyFixtureKev(vulndb: VulnDb): Promise<void> {
  await vulndb.apply('kev', { full: true, batches: [{ kev: FIXTURE_KEV.map((cve) => ({ cve, dateAdded: '2026-01-01' })) }] }, { kind: 'sync' });
}

/** Counts of a fresh full scan (vuln/all's default: all but wont-fix). */
export async function expectedCounts(vulndb: VulnDb, sbom: Sbom): Promise<Counts> {
  const scan = await scanSbom(sbom, vulndb, { input: 'test', db: { sources: [] } });
  const c: Counts = { critical: 0, high: 0, medium: 0, low: 0, negligible: 0, unknown: 0, total: 0, fixable: 0, kev: 0 };
  for (const m of scan.matches) {
    if (m.vulnerability.fixState === 'wont-fix') continue;
    c[m.vulnerability.severity.toLowerCase() as keyof Counts]++;
    c.total++;
    if (m.vulnerability.fixedVersions.length) c.fixable++;
    if (m.vulnerability.kev) c.kev++;
  }
  return c;
}

/** Identities (vulnerability, feed group, package, version, path) and their severity/fix, from a fresh full scan. */
export async function expectedFindings(vulndb: VulnDb, sbom: Sbom): Promise<Map<string, string>> {
  const scan = await scanSbom(sbom, vulndb, { input: 'test', db: { sources: [] } });
  return new Map(scan.matches.map((m) => [
    [m.vulnerability.id, m.match.namespace, m.package.name, m.package.version, m.package.locations[0]?.path ?? 'None'].join('|'),
    `${m.vulnerability.severity}|${m.vulnerability.fixedVersions.join(',') || 'None'}`,
  ]));
}

/** Store every image (prepare outside, store inside one transaction each). */
export async function storeFixtureImages(store: FindingsStore, db: Parameters<FindingsStore['storeImage']>[0], images: readonly FixtureImage[]): Promise<void> {
  for (const img of images) {
    const prepared = await store.prepareImage(img.sbom);
    await db.transaction().execute((trx) => store.storeImage(trx, img.account, img.digest, prepared));
  }
}
