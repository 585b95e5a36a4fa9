/**
 * What changed from one image to another, as a pure function of their SBOMs and scans: packages
 * added, removed, upgraded and downgraded (by type and name, versions in each ecosystem's order),
 * vulnerabilities fixed and introduced (by id and package name), secrets and setuid/setgid files
 * added and removed, and the policy verdict before and after when the caller has them.
 * `lading diff`, the API's compare (GET /v1/summaries/compare) and the UI's compare page all show
 * this one result.
 */
import type { Severity } from '../feeds/model.js';
import { PACKAGE_SCHEME } from '../sbom/ecosystems.js';
import type { FileEntry, PackageType, Sbom, SecretFinding } from '../sbom/model.js';
import { getScheme } from '../versions/index.js';
import { severityRank, type Match } from './model.js';

/** `a` against `b` in the version order of the package type (-1, 0, 1); plain text order when a version cannot be read. */
export function compareVersions(type: PackageType, a: string, b: string): number {
  try {
    return Math.sign(getScheme(PACKAGE_SCHEME[type]).compare(a, b));
  } catch {
    return a < b ? -1 : a > b ? 1 : 0;
  }
}

export interface PackageRef { name: string; type: PackageType; version: string }
export interface PackageChange { name: string; type: PackageType; from: string; to: string }
export interface FindingRef { id: string; severity: Severity; package_name: string; package_version: string; fixed_versions: string[] }
export interface SecretRef { rule_id: string; description: string; path: string; line: number; match: string; layer: number | null }
export interface SpecialFileRef { path: string; mode: string; setuid: boolean; setgid: boolean; uid: number; gid: number; layer: number }
/** A verdict as the summaries hold it: pass, warn, fail; null when the image was not evaluated. */
export type Verdict = string | null;

export interface ImageDiff {
  packages: { added: PackageRef[]; removed: PackageRef[]; upgraded: PackageChange[]; downgraded: PackageChange[] };
  /** null when either side has no vulnerability scan (no vulnerability data). */
  vulnerabilities: { introduced: FindingRef[]; fixed: FindingRef[] } | null;
  secrets: { added: SecretRef[]; removed: SecretRef[] };
  /** Files with the setuid or setgid bit. */
  setuid: { added: SpecialFileRef[]; removed: SpecialFileRef[] };
  /** Present when the caller evaluated (or looked up the verdicts of) both sides. */
  verdict?: { base: Verdict; target: Verdict; changed: boolean };
}

export interface DiffSide {
  sbom: Sbom;
  /** The scan's matches; undefined when there was no vulnerability data. */
  matches: readonly Match[] | undefined;
  verdict?: Verdict;
}

/** Each (type, name) with its highest version. */
function packageIndex(sbom: Sbom): Map<string, PackageRef> {
  const out = new Map<string, PackageRef>();
  for (const p of sbom.packages) {
    const key = `${p.type}\0${p.name}`;
    const had = out.get(key);
    if (!had || compareVersions(p.type, p.version, had.version) > 0) out.set(key, { name: p.name, type: p.type, version: p.version });
  }
  return out;
}

/** The findings that count, as vuln/all's default: every match but those the vendor will not fix. */
function findingIndex(matches: readonly Match[]): Map<string, FindingRef> {
  const out = new Map<string, FindingRef>();
  for (const m of matches) {
    if (m.vulnerability.fixState === 'wont-fix') continue;
    out.set(`${m.vulnerability.id}\0${m.package.name}`, {
      id: m.vulnerability.id, severity: m.vulnerability.severity, package_name: m.package.name, package_version: m.package.version, fixed_versions: m.vulnerability.fixedVersions,
    });
  }
  return out;
}

const secretKey = (s: SecretFinding) => `${s.ruleId}\0${s.path}\0${s.match}`;
const secretRef = (s: SecretFinding): SecretRef => ({ rule_id: s.ruleId, description: s.description, path: s.path, line: s.line, match: s.match, layer: s.layer ?? null });
const isSpecial = (f: FileEntry) => f.setuid === true || f.setgid === true || (f.type === 'file' && (f.mode & 0o6000) !== 0);
const specialRef = (f: FileEntry): SpecialFileRef => ({
  path: f.path, mode: `0${(f.mode & 0o7777).toString(8)}`, setuid: f.setuid === true || (f.mode & 0o4000) !== 0, setgid: f.setgid === true || (f.mode & 0o2000) !== 0,
  uid: f.uid, gid: f.gid, layer: f.layer,
});

/** The entries of `after` whose key `before` lacks, and the other way round. */
function addedRemoved<T, R>(before: readonly T[], after: readonly T[], key: (x: T) => string, view: (x: T) => R): { added: R[]; removed: R[] } {
  const was = new Map(before.map((x) => [key(x), x]));
  const now = new Map(after.map((x) => [key(x), x]));
  return {
    added: [...now].filter(([k]) => !was.has(k)).map(([, x]) => view(x)),
    removed: [...was].filter(([k]) => !now.has(k)).map(([, x]) => view(x)),
  };
}

const byName = <T extends { name: string; type: string }>(a: T, b: T) => a.name.localeCompare(b.name) || a.type.localeCompare(b.type);
const byFinding = (a: FindingRef, b: FindingRef) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id) || a.package_name.localeCompare(b.package_name);
const byPath = <T extends { path: string }>(a: T, b: T) => a.path.localeCompare(b.path);

function packageChanges(base: Sbom, target: Sbom): ImageDiff['packages'] {
  const before = packageIndex(base);
  const after = packageIndex(target);
  const packages: ImageDiff['packages'] = { added: [], removed: [], upgraded: [], downgraded: [] };
  for (const [key, p] of after) {
    const old = before.get(key);
    if (!old) packages.added.push(p);
    else {
      const c = compareVersions(p.type, old.version, p.version);
      if (c < 0) packages.upgraded.push({ name: p.name, type: p.type, from: old.version, to: p.version });
      else if (c > 0) packages.downgraded.push({ name: p.name, type: p.type, from: old.version, to: p.version });
    }
  }
  for (const [key, p] of before) if (!after.has(key)) packages.removed.push(p);
  for (const list of Object.values(packages)) list.sort(byName);
  return packages;
}

/** What changed from `base` to `target`. */
export function diffImages(base: DiffSide, target: DiffSide): ImageDiff {
  let vulnerabilities: ImageDiff['vulnerabilities'] = null;
  if (base.matches && target.matches) {
    const was = findingIndex(base.matches);
    const now = findingIndex(target.matches);
    vulnerabilities = {
      introduced: [...now].filter(([k]) => !was.has(k)).map(([, f]) => f).sort(byFinding),
      fixed: [...was].filter(([k]) => !now.has(k)).map(([, f]) => f).sort(byFinding),
    };
  }
  const secrets = addedRemoved(base.sbom.secrets, target.sbom.secrets, secretKey, secretRef);
  const setuid = addedRemoved(base.sbom.files.filter(isSpecial), target.sbom.files.filter(isSpecial), (f) => f.path, specialRef);
  for (const list of [secrets.added, secrets.removed]) list.sort((a, b) => byPath(a, b) || a.line - b.line);
  for (const list of [setuid.added, setuid.removed]) list.sort(byPath);
  const diff: ImageDiff = { packages: packageChanges(base.sbom, target.sbom), vulnerabilities, secrets, setuid };
  if (base.verdict !== undefined && target.verdict !== undefined) {
    diff.verdict = { base: base.verdict, target: target.verdict, changed: base.verdict !== target.verdict };
  }
  return diff;
}
