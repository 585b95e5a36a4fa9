/**
 * The ecosystem table: one row per package type, and everything that follows from the type: its
 * purl type, the version scheme, the vulnerability namespace and how feeds key names in it, the
 * OSV ecosystem name, and Anchore Engine's name for the type. `PackageType` is the table's keys.
 *
 * Adding an ecosystem is one row here plus its analyzer (analyze/analyzers/<name>.ts and its line
 * in analyze/analyzers/index.ts); see docs/analysis.md, "Adding an ecosystem".
 *
 * Distros are the other axis: a distro's namespace (`debian:12`) and its OSV ecosystem
 * (`Debian:12`) are per distro, in vulns/namespace.ts and feeds/osv.ts.
 */
import type { SchemeId } from '../versions/types.js';

/** What a vulnerability lookup reads of a package (a part of sbom/model.ts Package). */
export interface PackageRef {
  name: string;
  purl: string;
  metadata?: Record<string, unknown>;
}

export interface Ecosystem {
  /**
   * `os`: a distro's package manager, looked up in the distro's namespace by binary and by source
   * name (vulns/namespace.ts); `language`: looked up in `vulns.namespace`; `other`: not looked up.
   */
  kind: 'os' | 'language' | 'other';
  /** The order of this type's versions (a scheme of versions/index.ts). */
  scheme: SchemeId;
  purl: {
    /** The purl type written for this type, and read back as it. */
    type?: string;
    /** Further purl types read as this type (from imported SBOMs). */
    alsoRead?: readonly string[];
    /** The purl namespace is part of the package name (`@babel/core`, `monolog/monolog`). */
    namespaceInName?: boolean;
  };
  /** Language packages: where the vulnerability data keys them. */
  vulns?: {
    /** The vulnerability namespace (`pypi`), as feeds/osv.ts and the other drivers write it. */
    namespace: string;
    /** The OSV ecosystem (https://ossf.github.io/osv-schema/) whose records land in `namespace`. */
    osv?: string;
    /** The name as the feeds key it (PEP 503, lower case); as-is when absent. */
    normalize?: (name: string) => string;
    /** The name looked up, when it is not the package name; undefined: the package cannot be looked up. */
    lookupName?: (p: PackageRef) => string | undefined;
  };
  /** Anchore Engine's name for the type (`package_type`, trigger ids), and whether it is also a content type. */
  anchore: { type: string; content?: boolean };
}

/** PEP 503: lower case, runs of `-`, `_`, `.` as one `-`. */
const pep503 = (name: string): string => name.toLowerCase().replace(/[-_.]+/g, '-');
const lowerCase = (name: string): string => name.toLowerCase();

/** Maven `group:artifact`, the group from the metadata or the purl namespace. */
function mavenCoordinates(p: PackageRef): string | undefined {
  const group = (p.metadata?.groupId as string | undefined) ?? /^pkg:maven\/([^/]+)\//.exec(p.purl)?.[1];
  const artifact = (p.metadata?.artifactId as string | undefined) ?? p.name;
  return group ? `${decodeURIComponent(group)}:${artifact}` : undefined;
}

export const ECOSYSTEMS = {
  deb: { kind: 'os', scheme: 'dpkg', purl: { type: 'deb' }, anchore: { type: 'dpkg' } },
  rpm: { kind: 'os', scheme: 'rpm', purl: { type: 'rpm' }, anchore: { type: 'rpm' } },
  apk: { kind: 'os', scheme: 'apk', purl: { type: 'apk' }, anchore: { type: 'APKG' } },
  npm: {
    kind: 'language', scheme: 'semver', purl: { type: 'npm', namespaceInName: true },
    vulns: { namespace: 'npm', osv: 'npm' }, anchore: { type: 'npm', content: true },
  },
  python: {
    kind: 'language', scheme: 'pep440', purl: { type: 'pypi' },
    vulns: { namespace: 'pypi', osv: 'PyPI', normalize: pep503 }, anchore: { type: 'python', content: true },
  },
  gem: {
    kind: 'language', scheme: 'gem', purl: { type: 'gem' },
    vulns: { namespace: 'gem', osv: 'RubyGems' }, anchore: { type: 'gem', content: true },
  },
  'java-archive': {
    kind: 'language', scheme: 'maven', purl: { type: 'maven' },
    vulns: { namespace: 'maven', osv: 'Maven', lookupName: mavenCoordinates }, anchore: { type: 'java', content: true },
  },
  'go-module': {
    kind: 'language', scheme: 'go', purl: { type: 'golang', namespaceInName: true },
    vulns: { namespace: 'go', osv: 'Go' }, anchore: { type: 'go', content: true },
  },
  'rust-crate': {
    kind: 'language', scheme: 'semver', purl: { type: 'cargo' },
    vulns: { namespace: 'cargo', osv: 'crates.io' }, anchore: { type: 'rust' },
  },
  dotnet: {
    kind: 'language', scheme: 'nuget', purl: { type: 'nuget' },
    vulns: { namespace: 'nuget', osv: 'NuGet', normalize: lowerCase }, anchore: { type: 'nuget' },
  },
  'php-composer': {
    kind: 'language', scheme: 'composer', purl: { type: 'composer', namespaceInName: true },
    vulns: { namespace: 'composer', osv: 'Packagist', normalize: lowerCase }, anchore: { type: 'composer' },
  },
  // What no ecosystem claims: binaries found by evidence, and imported packages of unknown types.
  binary: { kind: 'other', scheme: 'semver', purl: { alsoRead: ['alpm'] }, anchore: { type: 'binary', content: true } },
} as const satisfies Record<string, Ecosystem>;

export type PackageType = keyof typeof ECOSYSTEMS;

const ROWS: readonly (readonly [PackageType, Ecosystem])[] = Object.entries(ECOSYSTEMS) as [PackageType, Ecosystem][];

/** Every package type, in table order. */
export const PACKAGE_TYPES: readonly PackageType[] = ROWS.map(([type]) => type);

export function isPackageType(v: unknown): v is PackageType {
  return typeof v === 'string' && Object.hasOwn(ECOSYSTEMS, v);
}

/** The row of a type; undefined for a string that is no package type (input not yet checked). */
export function ecosystemOf(type: string): Ecosystem | undefined {
  return isPackageType(type) ? ECOSYSTEMS[type] : undefined;
}

/** A distro package (deb, rpm, apk): Anchore's `os` class; every other type is `non-os`. */
export function isOsType(type: string): boolean {
  return ecosystemOf(type)?.kind === 'os';
}

function byType<T>(pick: (e: Ecosystem) => T): Readonly<Record<PackageType, T>> {
  return Object.fromEntries(ROWS.map(([type, e]) => [type, pick(e)])) as Record<PackageType, T>;
}

/** The version scheme of each package type's versions as found in images. */
export const PACKAGE_SCHEME: Readonly<Record<PackageType, SchemeId>> = byType((e) => e.scheme);

/** Anchore Engine's package_type names (`dpkg`, `APKG`, `java`...). */
export const ANCHORE_TYPE: Readonly<Record<PackageType, string>> = byType((e) => e.anchore.type);

/** The package types listed under an Anchore content type (`java` → java-archive). */
export function typesOfAnchoreContent(contentType: string): PackageType[] {
  return ROWS.filter(([, e]) => e.anchore.content && e.anchore.type === contentType).map(([type]) => type);
}

const PURL_TYPE = new Map<string, PackageType>(
  ROWS.flatMap(([type, e]) => [...(e.purl.type ? [e.purl.type] : []), ...(e.purl.alsoRead ?? [])].map((p) => [p, type] as const)),
);

/** The package type a purl type is read as; undefined for a purl type no row claims. */
export function typeOfPurl(purlType: string): PackageType | undefined {
  return PURL_TYPE.get(purlType);
}

/** Whether the purl namespace is part of this type's package names (`@babel/core`). */
export function namespaceInName(type: string): boolean {
  return ecosystemOf(type)?.purl.namespaceInName === true;
}

export type LanguageNamespace = NonNullable<Ecosystem['vulns']> & { scheme: SchemeId };

const LANGUAGE_ROWS: LanguageNamespace[] = ROWS.flatMap(([, e]) => (e.vulns ? [{ ...e.vulns, scheme: e.scheme }] : []));
const LANGUAGE = new Map(LANGUAGE_ROWS.map((l) => [l.namespace, l]));

/** A language namespace (`pypi`): its scheme and name rules; undefined for a distro namespace or an unknown one. */
export function languageNamespace(namespace: string): LanguageNamespace | undefined {
  return LANGUAGE.get(namespace);
}

/** OSV ecosystem name → language namespace (`PyPI` → `pypi`). */
export const OSV_LANGUAGE_NAMESPACES: Readonly<Record<string, string>> = Object.fromEntries(
  LANGUAGE_ROWS.flatMap((l) => (l.osv ? [[l.osv, l.namespace]] : [])),
);
