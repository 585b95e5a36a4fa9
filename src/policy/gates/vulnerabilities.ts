/**
 * `vulnerabilities`: judges the vulnerability matches of the image (the scan made from its SBOM)
 * and the freshness of the vulnerability data. When no vulnerability database was available, the
 * triggers fire with a message saying so instead of passing silently.
 */
import { defineGate, defineTrigger, type ParamIssue, type TriggerContext } from '../gate.js';
import { param } from '../params.js';
import { pyRegex, regexProblem } from '../pyregex.js';
import { pyDate, pyFloat, pyListRepr } from '../pyformat.js';
import { maxV3 } from '../cvss.js';
import type { Subject } from '../subject.js';
import type { Match, ScanResult } from '../../vulns/model.js';
import { ANCHORE_TYPE, PACKAGE_TYPES, isOsType } from '../../sbom/ecosystems.js';
import type { PackageType } from '../../sbom/model.js';
import { distroNamespace } from '../../vulns/namespace.js';

export const SEVERITIES = ['unknown', 'negligible', 'low', 'medium', 'high', 'critical'] as const;
const COMPARISONS = ['=', '!=', '<', '>', '<=', '>='] as const;
type Comparison = (typeof COMPARISONS)[number];
const COMPARE: Record<Comparison, (x: number, y: number) => boolean> = {
  '=': (x, y) => x === y, '!=': (x, y) => x !== y, '<': (x, y) => x < y, '>': (x, y) => x > y, '<=': (x, y) => x <= y, '>=': (x, y) => x >= y,
};

export const NO_VULNERABILITY_DATA = 'Vulnerability data unavailable: no vulnerability database was available for this evaluation, so the image\'s packages were not matched against vulnerabilities';

/** The scan, or undefined after firing the no-data message. */
function scanOrFire(subject: Subject, ctx: TriggerContext): ScanResult | undefined {
  if (!subject.scan) ctx.fire(NO_VULNERABILITY_DATA);
  return subject.scan;
}

export function packageClass(type: PackageType): 'os' | 'non-os' {
  return isOsType(type) ? 'os' : 'non-os';
}

/**
 * The package part of a vulnerability trigger id, as Anchore formed it: the name for OS packages;
 * for java and gem the file name of the location, for npm the directory holding package.json,
 * otherwise name-version.
 */
export function triggerPackage(m: Match): string {
  const p = m.package;
  if (packageClass(p.type) === 'os') return p.name;
  const location = p.locations[0]?.path ?? '';
  const parts = location.split('/');
  const engine = ANCHORE_TYPE[p.type];
  let name: string | undefined;
  if (engine === 'java' || engine === 'gem') name = parts[parts.length - 1];
  else if (engine === 'npm') name = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  return name || `${p.name}-${p.version}`;
}

function link(m: Match): string {
  const v = m.vulnerability;
  if (v.id.startsWith('CVE-')) return `https://nvd.nist.gov/vuln/detail/${v.id}`;
  if (v.id.startsWith('GHSA-')) return `https://github.com/advisories/${v.id}`;
  return v.references[0] ?? 'N/A';
}

const cmpParam = (name: string, what: string) => param.oneOf(name, COMPARISONS, { description: `How to compare ${what} (default >=).`, example: '>' });
const scoreParam = (name: string, what: string) => param.float(name, { description: `${what} to compare against.`, example: '5.0' });

const pkg = defineTrigger({
  name: 'package',
  description: 'Fires for each vulnerability found in the image\'s packages that meets every given criterion.',
  state: 'active',
  params: {
    package_type: param.oneOf('package_type', ['all', 'os', 'non-os'] as const, { description: `Only packages of this class: os (${PACKAGE_TYPES.filter(isOsType).join(', ')}), non-os (language packages and binaries), or all.`, example: 'all', required: true }),
    severity_comparison: param.oneOf('severity_comparison', COMPARISONS, { description: 'How to compare the vulnerability severity with severity (default >).', example: '>' }),
    severity: param.oneOf('severity', SEVERITIES, { description: 'Severity to compare against (default unknown).', example: 'high' }),
    cvss_v3_base_score_comparison: cmpParam('cvss_v3_base_score_comparison', 'the NVD CVSS v3 base score'),
    cvss_v3_base_score: scoreParam('cvss_v3_base_score', 'NVD CVSS v3 base score'),
    cvss_v3_exploitability_score_comparison: cmpParam('cvss_v3_exploitability_score_comparison', 'the NVD CVSS v3 exploitability sub-score'),
    cvss_v3_exploitability_score: scoreParam('cvss_v3_exploitability_score', 'NVD CVSS v3 exploitability sub-score'),
    cvss_v3_impact_score_comparison: cmpParam('cvss_v3_impact_score_comparison', 'the NVD CVSS v3 impact sub-score'),
    cvss_v3_impact_score: scoreParam('cvss_v3_impact_score', 'NVD CVSS v3 impact sub-score'),
    fix_available: param.bool('fix_available', { description: 'When set, whether a fixed version must (true) or must not (false) exist.', example: 'true' }),
    vendor_only: param.bool('vendor_only', { description: 'Skip vulnerabilities the vendor will not fix (default true).', example: 'true' }),
    max_days_since_creation: param.int('max_days_since_creation', { description: 'Only vulnerabilities detected in the image more than this many days ago.', example: '7' }),
    max_days_since_fix: param.int('max_days_since_fix', { description: 'With fix_available=true: only vulnerabilities whose fix was seen more than this many days ago.', example: '30' }),
    vendor_cvss_v3_base_score_comparison: cmpParam('vendor_cvss_v3_base_score_comparison', 'the vendor\'s CVSS v3 base score'),
    vendor_cvss_v3_base_score: scoreParam('vendor_cvss_v3_base_score', 'Vendor CVSS v3 base score'),
    vendor_cvss_v3_exploitability_score_comparison: cmpParam('vendor_cvss_v3_exploitability_score_comparison', 'the vendor\'s CVSS v3 exploitability sub-score'),
    vendor_cvss_v3_exploitability_score: scoreParam('vendor_cvss_v3_exploitability_score', 'Vendor CVSS v3 exploitability sub-score'),
    vendor_cvss_v3_impact_score_comparison: cmpParam('vendor_cvss_v3_impact_score_comparison', 'the vendor\'s CVSS v3 impact sub-score'),
    vendor_cvss_v3_impact_score: scoreParam('vendor_cvss_v3_impact_score', 'Vendor CVSS v3 impact sub-score'),
    package_path_exclude: param.str('package_path_exclude', { description: 'Regex: skip non-OS packages whose path matches it.', example: '.*test\\.jar*' }),
    inherited_from_base: param.bool('inherited_from_base', { description: 'When set, only vulnerabilities of packages that came unchanged from the base image (true) or only those the image added or changed (false); with no base known, every package is the image\'s own.', example: 'false' }),
  },
  check(v): ParamIssue[] {
    const bad = v.package_path_exclude !== undefined ? regexProblem(v.package_path_exclude) : undefined;
    return bad ? [{ param: 'package_path_exclude', severity: 'warn', message: `${bad}; the rule will fail when evaluated` }] : [];
  },
  evaluate(subject, p, ctx) {
    const scan = scanOrFire(subject, ctx);
    if (!scan) return;
    const vendorOnly = p.vendor_only ?? true;
    const wantedSeverity = SEVERITIES.indexOf(p.severity ?? 'unknown');
    const severityCmp = COMPARE[p.severity_comparison ?? '>'];
    const nowSec = Math.floor(subject.now.getTime() / 1000);
    const detected = new Date(scan.createdAt);
    const detectedSec = Math.floor(detected.getTime() / 1000);
    const creationLimit = p.max_days_since_creation !== undefined ? nowSec - p.max_days_since_creation * 86400 : undefined;
    const fixLimit = p.max_days_since_fix !== undefined ? nowSec - p.max_days_since_fix * 86400 : undefined;
    const exclude = p.package_path_exclude !== undefined ? pyRegex(p.package_path_exclude) : undefined;
    const scores: [string, number | undefined, Comparison | undefined, 'base' | 'exploitability' | 'impact', boolean][] = [
      ['cvss_v3_base_score', p.cvss_v3_base_score, p.cvss_v3_base_score_comparison, 'base', false],
      ['cvss_v3_exploitability_score', p.cvss_v3_exploitability_score, p.cvss_v3_exploitability_score_comparison, 'exploitability', false],
      ['cvss_v3_impact_score', p.cvss_v3_impact_score, p.cvss_v3_impact_score_comparison, 'impact', false],
      ['vendor_cvss_v3_base_score', p.vendor_cvss_v3_base_score, p.vendor_cvss_v3_base_score_comparison, 'base', true],
      ['vendor_cvss_v3_exploitability_score', p.vendor_cvss_v3_exploitability_score, p.vendor_cvss_v3_exploitability_score_comparison, 'exploitability', true],
      ['vendor_cvss_v3_impact_score', p.vendor_cvss_v3_impact_score, p.vendor_cvss_v3_impact_score_comparison, 'impact', true],
    ];

    for (const m of scan.matches) {
      const v = m.vulnerability;
      const cls = packageClass(m.package.type);
      if (p.package_type !== 'all' && p.package_type !== cls) continue;
      const fixVersions = v.fixedVersions.filter(Boolean);
      const fixedIn = fixVersions.length ? fixVersions.join(', ') : undefined;
      const found = SEVERITIES.indexOf(v.severity.toLowerCase() as (typeof SEVERITIES)[number]);
      if (!severityCmp(found < 0 ? 0 : found, wantedSeverity)) continue;
      const location = m.package.locations[0]?.path ?? '';
      if (cls === 'non-os' && exclude?.match(location)) continue;
      if (vendorOnly && v.fixState === 'wont-fix') continue;
      if (p.inherited_from_base !== undefined && p.inherited_from_base !== (m.inheritedFromBase === true)) continue;
      const times: string[] = [];
      if (creationLimit !== undefined) {
        if (detectedSec > creationLimit) continue;
        times.push(`max_days_since_creation=${pyDate(detected)}`);
      }
      if (p.fix_available === true && fixLimit !== undefined && fixedIn) {
        if (detectedSec > fixLimit) continue;
        times.push(`max_days_since_fix=${pyDate(detected)}`);
      }
      const nvd = maxV3(v.cvss.filter((c) => c.source === 'nvd'));
      const vendor = maxV3(v.cvss.filter((c) => c.source !== 'nvd'));
      const nvdParts: string[] = [];
      const vendorParts: string[] = [];
      let pass = true;
      for (const [name, wanted, cmp, kind, isVendor] of scores) {
        if (wanted === undefined) continue;
        const actual = (isVendor ? vendor : nvd)[kind];
        if (!COMPARE[cmp ?? '>='](actual, wanted)) { pass = false; break; }
        if (actual) (isVendor ? vendorParts : nvdParts).push(`${name}=${pyFloat(actual)}`);
      }
      if (!pass) continue;
      if (p.fix_available !== undefined && p.fix_available !== (fixedIn !== undefined)) continue;

      const pkgName = cls === 'os' ? m.package.name : location || 'NA';
      const fixMsg = fixedIn ? `(fixed in: ${fixedIn})` : '';
      const group = (xs: string[]) => (xs.length ? `(${xs.join(' ')})` : '');
      ctx.fire(
        `${v.severity.toUpperCase()} Vulnerability found in ${cls} package type (${ANCHORE_TYPE[m.package.type]}) - ${pkgName} ${fixMsg}${group(nvdParts)}${group(times)}${group(vendorParts)}(${v.id} - ${link(m)})`,
        `${v.id}+${triggerPackage(m)}`,
      );
    }
  },
});

const staleFeedData = defineTrigger({
  name: 'stale_feed_data',
  description: 'Fires when the vulnerability data is older than the given number of days (or its age is unknown).',
  state: 'active',
  params: {
    max_days_since_sync: param.int('max_days_since_sync', { description: 'Fire when the last update of the vulnerability data is more than this many days old.', example: '10', required: true }),
  },
  evaluate(subject, p, ctx) {
    const msg = `The vulnerability feed for this image distro is older than MAXAGE (${p.max_days_since_sync}) days`;
    const db = subject.scan?.db;
    const times = (db?.sources ?? []).map((s) => s.lastSync).filter((t): t is string => !!t).map((t) => Date.parse(t)).filter((t) => !Number.isNaN(t));
    if (!times.length && db?.built && !Number.isNaN(Date.parse(db.built))) times.push(Date.parse(db.built));
    if (!times.length) {
      ctx.fire(msg);
      return;
    }
    if (Math.min(...times) < subject.now.getTime() - p.max_days_since_sync * 86400_000) ctx.fire(msg);
  },
});

function mentions(text: string, ns: string): boolean {
  const esc = ns.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w.:-])${esc}($|[^\\w.-]|\\.(\\s|$))`).test(text);
}

const dataUnavailable = defineTrigger({
  name: 'vulnerability_data_unavailable',
  description: 'Fires when there is no vulnerability data for the image\'s distribution release (language packages are not considered).',
  state: 'active',
  params: {},
  evaluate(subject, _p, ctx) {
    const d = subject.sbom.distro;
    const ns = distroNamespace(d);
    // The namespace as the scan names it (rocky:9, not rocky:9.3); an SBOM file without a distro says so.
    const shown = ns ?? (d ? `${d.id}:${d.versionId ?? '0'}` : subject.sbom.source.imageId ? 'None' : '(no distro in SBOM)');
    if (!subject.scan || !ns || subject.scan.warnings.some((w) => mentions(w, ns))) {
      ctx.fire(`Distro-specific feed data not found for distro namespace: ${shown}. Cannot perform CVE scan OS/distro packages`);
    }
  },
});

const blacklist = defineTrigger({
  name: 'blacklist',
  description: 'Fires when any of the listed vulnerabilities (by id or alias) was found in the image.',
  state: 'active',
  params: {
    vulnerability_ids: param.csv('vulnerability_ids', { description: 'Vulnerability ids to forbid (CVE, GHSA, ...).', example: 'CVE-2019-1234', required: true }),
    vendor_only: param.bool('vendor_only', { description: 'Skip matches the vendor will not fix (default true).', example: 'true' }),
  },
  evaluate(subject, p, ctx) {
    const scan = scanOrFire(subject, ctx);
    if (!scan) return;
    const vendorOnly = p.vendor_only ?? true;
    const matches = scan.matches.filter((m) => !(vendorOnly && m.vulnerability.fixState === 'wont-fix'));
    const found = p.vulnerability_ids.filter((id) => matches.some((m) => m.vulnerability.id === id || m.vulnerability.aliases.includes(id)));
    if (found.length) ctx.fire(`Blacklisted vulnerabilities detected: ${pyListRepr(found)}`);
  },
});

export const vulnerabilitiesGate = defineGate({
  name: 'vulnerabilities',
  description: 'Checks on the vulnerabilities found in the image and on the vulnerability data itself.',
  state: 'active',
  triggers: { package: pkg, stale_feed_data: staleFeedData, vulnerability_data_unavailable: dataUnavailable, blacklist },
});
