/**
 * Where to look a package up: the vulnerability namespace (`debian:12`, `npm`...), the version
 * scheme, and names normalised the way the feeds key them.
 */
import type { Distro, Package, PackageType } from '../sbom/model.js';
import type { SchemeId } from '../versions/types.js';

/** Distro id → how its release is written in namespaces, and its scheme. */
const DISTROS: Record<string, { release: (v: string) => string; scheme: SchemeId }> = {
  debian: { release: (v) => v.split('.')[0]!, scheme: 'dpkg' },
  ubuntu: { release: (v) => v.split('.').slice(0, 2).join('.'), scheme: 'dpkg' },
  alpine: { release: (v) => v.split('.').slice(0, 2).join('.'), scheme: 'apk' },
  wolfi: { release: () => 'rolling', scheme: 'apk' },
  rhel: { release: (v) => v.split('.')[0]!, scheme: 'rpm' },
  centos: { release: (v) => v.split('.')[0]!, scheme: 'rpm' },
  rocky: { release: (v) => v.split('.')[0]!, scheme: 'rpm' },
  almalinux: { release: (v) => v.split('.')[0]!, scheme: 'rpm' },
  ol: { release: (v) => v.split('.')[0]!, scheme: 'rpm' },
  fedora: { release: (v) => v, scheme: 'rpm' },
  amzn: { release: (v) => v.split('.')[0]!, scheme: 'rpm' },
  sles: { release: (v) => v, scheme: 'rpm' },
  opensuse: { release: (v) => v, scheme: 'rpm' },
};

/** `debian:12`, `alpine:3.19`, `rhel:9`; undefined for an unknown distro or release. */
export function distroNamespace(d: Distro | undefined): string | undefined {
  if (!d || !d.versionId) return undefined;
  const known = DISTROS[d.id];
  return known ? `${d.id}:${known.release(d.versionId)}` : `${d.id}:${d.versionId}`;
}

/** Distros whose packages Red Hat's data also covers (RHEL rebuilds). */
export function rhelCompatible(d: Distro | undefined): boolean {
  return !!d && (d.id === 'rhel' || d.id === 'centos' || d.id === 'rocky' || d.id === 'almalinux' || d.id === 'ol' || d.idLike.includes('rhel'));
}

const LANGUAGE: Partial<Record<PackageType, { namespace: string; scheme: SchemeId }>> = {
  npm: { namespace: 'npm', scheme: 'semver' },
  python: { namespace: 'pypi', scheme: 'pep440' },
  gem: { namespace: 'gem', scheme: 'gem' },
  'java-archive': { namespace: 'maven', scheme: 'maven' },
  'go-module': { namespace: 'go', scheme: 'go' },
  'rust-crate': { namespace: 'cargo', scheme: 'semver' },
  dotnet: { namespace: 'nuget', scheme: 'nuget' },
  'php-composer': { namespace: 'composer', scheme: 'composer' },
};

export function schemeForNamespace(namespace: string): SchemeId | undefined {
  const [head] = namespace.split(':');
  const distro = DISTROS[head!];
  if (distro) return distro.scheme;
  return Object.values(LANGUAGE).find((l) => l.namespace === namespace)?.scheme;
}

/** PEP 503 for pypi, lowercase for nuget/composer, `group:artifact` for maven, as-is otherwise. */
export function normalizeName(namespace: string, name: string): string {
  switch (namespace) {
    case 'pypi': return name.toLowerCase().replace(/[-_.]+/g, '-');
    case 'nuget':
    case 'composer': return name.toLowerCase();
    default: return name;
  }
}

export interface LookupKey {
  namespace: string;
  name: string;
  nameKind: 'source' | 'binary';
  scheme: SchemeId;
}

/**
 * The keys to look a package up under: for OS packages the distro namespace by binary name and
 * by source name; for language packages their ecosystem namespace and normalised name.
 */
export function lookupKeys(pkg: Package, distro: Distro | undefined): LookupKey[] {
  if (pkg.type === 'deb' || pkg.type === 'rpm' || pkg.type === 'apk') {
    const ns = distroNamespace(distro);
    const scheme = pkg.type === 'deb' ? 'dpkg' : pkg.type;
    if (!ns) return [];
    const keys: LookupKey[] = [{ namespace: ns, name: pkg.name, nameKind: 'binary', scheme }];
    const src = pkg.sourceName;
    keys.push({ namespace: ns, name: src ?? pkg.name, nameKind: 'source', scheme });
    return keys;
  }
  const lang = LANGUAGE[pkg.type];
  if (!lang) return [];
  let name = pkg.name;
  if (pkg.type === 'java-archive') {
    const group = (pkg.metadata?.groupId as string | undefined) ?? /^pkg:maven\/([^/]+)\//.exec(pkg.purl)?.[1];
    const artifact = (pkg.metadata?.artifactId as string | undefined) ?? pkg.name;
    if (!group) return [];
    name = `${decodeURIComponent(group)}:${artifact}`;
  } else if (pkg.type === 'php-composer') {
    name = pkg.name;
  }
  return [{ namespace: lang.namespace, name: normalizeName(lang.namespace, name), nameKind: 'binary', scheme: lang.scheme }];
}
