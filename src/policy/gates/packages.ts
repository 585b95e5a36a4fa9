/** `packages`: required and forbidden packages, and package files checked against the package database. */
import { defineGate, defineTrigger } from '../gate.js';
import { param } from '../params.js';
import { DataUnavailableError, type Subject } from '../subject.js';
import { getScheme } from '../../versions/index.js';
import { PACKAGE_SCHEME, isOsType } from '../../sbom/ecosystems.js';
import type { Package } from '../../sbom/model.js';

/** The version Anchore compared by name: for rpm, version-release without the epoch; else the version as found. */
export function fullVersion(p: Package): string {
  return p.type === 'rpm' ? p.version.replace(/^\d+:/, '') : p.version;
}

/** Anchore's short version: for rpm, the version without release or epoch. */
export function shortVersion(p: Package): string {
  if (p.type !== 'rpm') return p.version;
  const v = p.metadata?.version;
  return typeof v === 'string' ? v : fullVersion(p).replace(/-[^-]*$/, '');
}

const requiredPackage = defineTrigger({
  name: 'required_package',
  description: 'Fires when the named package (optionally at a version, exactly or at least) is not installed.',
  state: 'active',
  params: {
    name: param.str('name', { description: 'Name of the package that must be installed.', example: 'libssl', required: true }),
    version: param.str('version', { description: 'The version it must have (exactly, or at least).', example: '1.10.3rc3' }),
    version_match_type: param.oneOf('version_match_type', ['exact', 'minimum'] as const, { description: 'Whether version must match exactly (default) or is a minimum.', example: 'exact' }),
  },
  evaluate(subject, p, ctx) {
    const comparison = p.version_match_type ?? 'exact';
    const pkg = subject.packages().find((x) => x.name === p.name);
    if (!pkg) {
      ctx.fire(p.version
        ? `Required input package (${p.name},${p.version}) is not present in container image`
        : `Required input package (${p.name}) is not present in container image`);
      return;
    }
    if (p.version === undefined) return;
    const have = fullVersion(pkg);
    if (have === p.version) return;
    if (comparison === 'exact') {
      ctx.fire(`Required input package (${pkg.name}) is present (${have}), but not at the version specified in policy (${p.name})`);
      return;
    }
    // Ordered in the package's own scheme, epoch included.
    if (getScheme(PACKAGE_SCHEME[pkg.type]).compare(pkg.version, p.version) < 0) {
      ctx.fire(`Required min-version input package (${pkg.name}) is present (${have}), but is lower version than what is specified in policy (${p.version})`);
    }
  },
});

function ownedPaths(p: Package, dirs: string[]): string[] {
  const files = p.files ?? [];
  return dirs.length ? files.filter((f) => dirs.some((d) => f.startsWith(d))) : files;
}

const verify = defineTrigger({
  name: 'verify',
  description: 'Checks the files each package\'s database entry lists against the image\'s files: missing files, and (where the analysis recorded package-database digests) changed ones.',
  state: 'active',
  params: {
    only_packages: param.csv('only_packages', { description: 'Only verify these packages.', example: 'libssl,openssl' }),
    only_directories: param.csv('only_directories', { description: 'Only verify files under these directories.', example: '/usr,/var/lib' }),
    check: param.oneOf('check', ['changed', 'missing'] as const, { description: 'Only this check instead of both.', example: 'changed' }),
  },
  evaluate(subject: Subject, p, ctx) {
    if (p.check === 'changed') {
      throw new DataUnavailableError('the analysis records which files each package owns but not the package database\'s digests, modes and sizes, so changed files cannot be detected');
    }
    const wanted = p.only_packages ? new Set(p.only_packages) : undefined;
    let listed = 0;
    for (const pkg of subject.packages()) {
      if (wanted && !wanted.has(pkg.name)) continue;
      for (const path of ownedPaths(pkg, p.only_directories ?? [])) {
        listed++;
        if (!subject.resolve(path)) ctx.fire(`VERIFY check against package db for package '${pkg.name}' failed on entry '${path}' with status: 'missing'`);
      }
    }
    if (p.check === undefined) ctx.note('packages/verify: only missing files were checked; the analysis has no package-database digests to detect changed files');
    if (!listed && subject.packages().some((x) => isOsType(x.type))) {
      ctx.note('packages/verify: no package file lists were recorded by the analysis; nothing was verified');
    }
  },
});

const blacklist = defineTrigger({
  name: 'blacklist',
  description: 'Fires for each installed package with the name (and, when given, the version).',
  state: 'active',
  params: {
    name: param.str('name', { description: 'Name of the package to forbid.', example: 'openssh-server', required: true }),
    version: param.str('version', { description: 'Forbid only this version of it.', example: '1.0.1' }),
  },
  evaluate(subject, p, ctx) {
    for (const pkg of subject.packages()) {
      if (pkg.name !== p.name) continue;
      if (p.version) {
        if (shortVersion(pkg) === p.version || fullVersion(pkg) === p.version) ctx.fire(`Package is blacklisted: ${pkg.name}-${p.version}`);
      } else {
        ctx.fire(`Package is blacklisted: ${pkg.name}`);
      }
    }
  },
});

export const packagesGate = defineGate({
  name: 'packages',
  description: 'Checks on installed packages: required, forbidden, and verified against the package database.',
  state: 'active',
  triggers: { required_package: requiredPackage, verify, blacklist },
});
