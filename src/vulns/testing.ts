/**
 * Test helpers for the matcher, scan and formats: SBOMs and records built from a few words, and a
 * small stand-in version scheme (dpkg-like ordering: epoch, then digit/non-digit runs, `~` before
 * everything) so the matcher's rules can be tested apart from the real comparators. Nothing here
 * is used at run time.
 */
import type { Affected, Vulnerability } from '../feeds/model.js';
import type { Distro, Package, Sbom } from '../sbom/model.js';
import type { SchemeId, VersionScheme } from '../versions/types.js';

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const order = (c: string | undefined): number => {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
};

function runs(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = i < a.length && !isDigit(a[i]) ? order(a[i]) : 0;
      const bc = j < b.length && !isDigit(b[j]) ? order(b[j]) : 0;
      if (ac !== bc) return ac - bc;
      if (i < a.length && !isDigit(a[i])) i++;
      if (j < b.length && !isDigit(b[j])) j++;
    }
    let na = '';
    let nb = '';
    while (isDigit(a[i])) na += a[i++];
    while (isDigit(b[j])) nb += b[j++];
    const d = Number(na || '0') - Number(nb || '0');
    if (d !== 0) return d;
  }
  return 0;
}

function fakeCompare(a: string, b: string): number {
  const split = (v: string) => {
    const m = /^(\d+):(.*)$/.exec(v);
    return m ? { epoch: Number(m[1]), rest: m[2]! } : { epoch: 0, rest: v };
  };
  const x = split(a);
  const y = split(b);
  if (x.epoch !== y.epoch) return x.epoch - y.epoch;
  return Math.sign(runs(x.rest, y.rest));
}

/** A stand-in scheme for every scheme id. */
export function fakeScheme(id: SchemeId = 'dpkg'): VersionScheme {
  return {
    id,
    compare: fakeCompare,
    valid: (v) => v.length > 0,
    satisfies: () => {
      throw new Error('the matcher compares with compare(), not satisfies()');
    },
  };
}

export const fakeSchemes = (id: SchemeId): VersionScheme => fakeScheme(id);

export const DEBIAN_12: Distro = { id: 'debian', versionId: '12', versionCodename: 'bookworm', idLike: [], source: '/etc/os-release' };

export function deb(name: string, version: string, source?: string, sourceVersion?: string, distro = 'debian-12'): Package {
  return {
    name,
    version,
    type: 'deb',
    purl: `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=amd64&distro=${distro}`,
    cpes: [],
    licenses: [],
    locations: [{ path: '/var/lib/dpkg/status', layer: 0 }],
    sourceName: source ?? name,
    sourceVersion: sourceVersion ?? version,
    arch: 'amd64',
    foundBy: 'dpkg',
  };
}

export function npm(name: string, version: string, path = `/app/node_modules/${name}/package.json`): Package {
  return {
    name,
    version,
    type: 'npm',
    purl: `pkg:npm/${name}@${version}`,
    cpes: [],
    licenses: [],
    locations: [{ path, layer: 1 }],
    foundBy: 'npm-installed',
  };
}

/** An SBOM of these packages (distro `null`: none detected). */
export function sbomOf(packages: Package[], distro: Distro | null = DEBIAN_12, digest = `sha256:${'a'.repeat(64)}`): Sbom {
  return {
    schema: 'lading-sbom/1',
    createdAt: '2025-01-01T00:00:00.000Z',
    tool: { name: 'lading', version: '0.0.0' },
    source: {
      imageId: `sha256:${'c'.repeat(64)}`,
      manifestDigest: digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      tags: ['example.com/app:1.0'],
      registry: 'example.com',
      repository: 'app',
      platform: { os: 'linux', architecture: 'amd64' },
      config: { env: [], entrypoint: null, cmd: null, user: '', workingDir: '', exposedPorts: [], volumes: [], labels: {} },
      layers: [],
      history: [],
      dockerfile: { mode: 'guessed', text: '' },
    },
    ...(distro ? { distro } : {}),
    packages,
    files: [],
    secrets: [],
    contentMatches: [],
    retrievedFiles: [],
    warnings: [],
  };
}

/** An Affected record with the defaults of a Debian source-package record. */
export function affected(over: Partial<Affected> & Pick<Affected, 'vulnId' | 'name'>): Affected {
  return {
    source: 'debian',
    namespace: 'debian:12',
    nameKind: 'source',
    scheme: 'dpkg',
    ranges: [],
    versions: [],
    state: 'fixed',
    fixedVersions: [],
    ...over,
  };
}

export function vuln(over: Partial<Vulnerability> & Pick<Vulnerability, 'id' | 'source'>): Vulnerability {
  return { aliases: [], cvss: [], references: [], ...over };
}
