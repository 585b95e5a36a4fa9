/**
 * Where to look a package up: the vulnerability namespace (`debian:12`, `npm`...), the version
 * scheme, and names normalised the way the feeds key them.
 */
import { PACKAGE_SCHEME, ecosystemOf, languageNamespace } from '../sbom/ecosystems.js';
import type { Distro, Package, PackageType } from '../sbom/model.js';
import type { SchemeId } from '../versions/types.js';

/** Distro id → how its release is written in namespaces, and the type of its packages (whose scheme its namespace uses). */
const DISTROS: Record<string, { release: (v: string) => string; packages: PackageType }> = {
  debian: { release: (v) => v.split('.')[0]!, packages: 'deb' },
  ubuntu: { release: (v) => v.split('.').slice(0, 2).join('.'), packages: 'deb' },
  alpine: { release: (v) => v.split('.').slice(0, 2).join('.'), packages: 'apk' },
  wolfi: { release: () => 'rolling', packages: 'apk' },
  rhel: { release: (v) => v.split('.')[0]!, packages: 'rpm' },
  centos: { release: (v) => v.split('.')[0]!, packages: 'rpm' },
  rocky: { release: (v) => v.split('.')[0]!, packages: 'rpm' },
  almalinux: { release: (v) => v.split('.')[0]!, packages: 'rpm' },
  ol: { release: (v) => v.split('.')[0]!, packages: 'rpm' },
  fedora: { release: (v) => v, packages: 'rpm' },
  amzn: { release: (v) => v.split('.')[0]!, packages: 'rpm' },
  sles: { release: (v) => v, packages: 'rpm' },
  opensuse: { release: (v) => v, packages: 'rpm' },
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

export function schemeForNamespace(namespace: string): SchemeId | undefined {
  const [head] = namespace.split(':');
  const distro = DISTROS[head!];
  if (distro) return PACKAGE_SCHEME[distro.packages];
  return languageNamespace(namespace)?.scheme;
}

/** As the feeds key names (sbom/ecosystems.ts: PEP 503 for pypi, lower case for nuget/composer...); as-is otherwise. */
export function normalizeName(namespace: string, name: string): string {
  const normalize = languageNamespace(namespace)?.normalize;
  return normalize ? normalize(name) : name;
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
  const ecosystem = ecosystemOf(pkg.type);
  if (ecosystem?.kind === 'os') {
    const ns = distroNamespace(distro);
    const scheme = ecosystem.scheme;
    if (!ns) return [];
    const keys: LookupKey[] = [{ namespace: ns, name: pkg.name, nameKind: 'binary', scheme }];
    const src = pkg.sourceName;
    keys.push({ namespace: ns, name: src ?? pkg.name, nameKind: 'source', scheme });
    return keys;
  }
  if (!ecosystem?.vulns) return [];
  const lang = ecosystem.vulns;
  const name = lang.lookupName ? lang.lookupName(pkg) : pkg.name;
  if (name === undefined) return [];
  return [{ namespace: lang.namespace, name: normalizeName(lang.namespace, name), nameKind: 'binary', scheme: ecosystem.scheme }];
}
