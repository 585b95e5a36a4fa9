/**
 * Red Hat's building blocks: impact ratings, RHEL platforms from CPEs, NEVRA and module names,
 * components from purls, and the grouping of per-platform observations into one Affected record
 * per (namespace, name, module stream) (see ../redhat.ts for the rules).
 */
import { PackageURL } from 'packageurl-js';
import type { Affected, AffectedRange, FixState, Severity, Vulnerability } from '../../model.js';
import { severityRank } from '../../model.js';

export const SOURCE = 'redhat';

export type Warn = (message: string) => void;

export interface Records {
  vulnerabilities: Vulnerability[];
  affected: Affected[];
}

// ---------------------------------------------------------------------------------------------
// Small parsers

const IMPACT: Record<string, Severity> = { low: 'Low', moderate: 'Medium', important: 'High', critical: 'Critical' };

/** Red Hat's impact rating → Severity (Low, Moderate, Important, Critical). */
export function impactSeverity(s: unknown): Severity | undefined {
  return typeof s === 'string' ? IMPACT[s.trim().toLowerCase()] : undefined;
}

/** The more severe of two severities. */
export function worse(a: Severity | undefined, b: Severity | undefined): Severity | undefined {
  if (!a) return b;
  if (!b) return a;
  return severityRank(b) > severityRank(a) ? b : a;
}

/** Lines of RHEL platforms besides mainline `enterprise_linux`; other Red Hat products are not RHEL. */
const EXTENDED = new Set(['rhel_eus', 'rhel_aus', 'rhel_tus', 'rhel_e4s', 'rhel_els', 'rhel_eus_long_life', 'rhel_mission_critical']);

export interface Platform {
  namespace: string;
  /** A mainline platform (`enterprise_linux`), not an extended-support one. */
  main: boolean;
}

/** `cpe:/o:redhat:enterprise_linux:9::baseos` → rhel:9 (main); `cpe:/a:redhat:rhel_eus:9.0::appstream` → rhel:9. */
export function rhelPlatform(cpe: string): Platform | undefined {
  const m = /^cpe:(?:\/[aoh]|2\.3:[aoh]):redhat:([a-z0-9_]+):(\d+)(?:\.[0-9.]*)?(?::|$)/.exec(cpe);
  if (!m) return undefined;
  const product = m[1]!;
  if (product !== 'enterprise_linux' && !EXTENDED.has(product)) return undefined;
  return { namespace: `rhel:${m[2]}`, main: product === 'enterprise_linux' };
}

const ARCHES = 'src|noarch|x86_64|i686|i586|i386|aarch64|ppc64le|ppc64|ppc|s390x|s390|armv7hl|ia64';
/** name-[epoch:]version-release[.arch]: the version starts with a digit and the release holds one, so `gstreamer-plugins-good` is a name. */
const NEVRA = new RegExp(`^([^\\s:/]+?)-(?:(\\d+):)?(\\d[^\\s:/-]*)-([^\\s:/-]*?\\d[^\\s:/-]*?)(?:\\.(${ARCHES}))?$`);

export interface Nevra {
  name: string;
  epoch?: string;
  version: string;
  release: string;
  arch?: string;
}

/** `curl-0:7.76.1-26.el9_3.2.src`, `bind-32:9.11.36-5.el8`, `openssl-1.0.2k-19.el7.x86_64`. */
export function parseNevra(s: string): Nevra | undefined {
  const m = NEVRA.exec(s.trim());
  if (!m) return undefined;
  const out: Nevra = { name: m[1]!, version: m[3]!, release: m[4]! };
  if (m[2] !== undefined) out.epoch = m[2];
  if (m[5] !== undefined) out.arch = m[5];
  return out;
}

/** `[epoch:]version-release`, leaving out a zero epoch (a missing rpm epoch is 0). */
export function evr(epoch: string | undefined, versionRelease: string): string {
  return epoch && epoch !== '0' ? `${epoch}:${versionRelease}` : versionRelease;
}

/** `ruby:2.7:8080020230427102918:63b34585` → `ruby:2.7`; undefined when it is not name:stream[:…]. */
function moduleStream(rpmmod: string): string | undefined {
  const [name, stream] = rpmmod.split(':');
  return name && stream ? `${name}:${stream}` : undefined;
}

/** One package as a product tree or Security Data API entry names it. */
export interface Component {
  name: string;
  nameKind: 'source' | 'binary';
  /** `[epoch:]version-release` when the entry names a build. */
  version?: string;
  stream?: string;
  arch?: string;
}

/**
 * A product tree component → package. undefined: not an rpm (a container image, a module, a
 * Maven artifact...). A string: an rpm entry that cannot be read.
 */
export function csafComponent(name: string, purl: string | undefined): Component | string | undefined {
  if (purl) {
    let p: PackageURL;
    try {
      p = PackageURL.fromString(purl);
    } catch (e) {
      return `purl ${purl} cannot be parsed (${(e as Error).message})`;
    }
    if (p.type !== 'rpm' || p.namespace !== 'redhat') return undefined;
    const q = (p.qualifiers ?? {}) as Record<string, string>;
    const c: Component = { name: p.name, nameKind: !q.arch || q.arch === 'src' ? 'source' : 'binary' };
    if (q.arch) c.arch = q.arch;
    if (p.version) c.version = evr(q.epoch, p.version);
    if (q.rpmmod !== undefined) {
      const stream = moduleStream(q.rpmmod);
      if (!stream) return `purl ${purl}: rpmmod ${JSON.stringify(q.rpmmod)} is not module:stream`;
      c.stream = stream;
    }
    return c;
  }
  return namedComponent(name);
}

/** A component known only by its name: a NEVRA (when `builds`), `module:stream/name`, or a bare package name. */
export function namedComponent(name: string, builds = true): Component | string | undefined {
  const n = builds ? parseNevra(name) : undefined;
  if (n) {
    const c: Component = { name: n.name, nameKind: !n.arch || n.arch === 'src' ? 'source' : 'binary', version: evr(n.epoch, `${n.version}-${n.release}`) };
    if (n.arch) c.arch = n.arch;
    return c;
  }
  const mod = /^([^\s:/]+):([^\s:/]+)\/([^\s:/]+)$/.exec(name);
  if (mod) return /flatpak/.test(mod[2]!) ? undefined : { name: mod[3]!, nameKind: 'source', stream: `${mod[1]}:${mod[2]}` };
  if (name.includes('/')) return undefined; // a container image (rhel9/python-39) or a flatpak
  const bare = new RegExp(`^([A-Za-z0-9][A-Za-z0-9._+-]*?)(?:\\.(${ARCHES}))?$`).exec(name);
  if (!bare) return `component name ${JSON.stringify(name)} is not a package name`;
  const c: Component = { name: bare[1]!, nameKind: !bare[2] || bare[2] === 'src' ? 'source' : 'binary' };
  if (bare[2]) c.arch = bare[2];
  return c;
}

// ---------------------------------------------------------------------------------------------
// Grouping observations into Affected records

export type Status = 'fixed' | 'affected' | 'investigating' | 'not-affected';

export interface Observation {
  platform: Platform;
  component: Component;
  status: Status;
  /** For `affected`: what the remediation says. */
  unfixed?: 'not-fixed' | 'wont-fix';
  severity?: Severity;
}

interface Line {
  fixed: Set<string>;
  affected?: 'not-fixed' | 'wont-fix';
  investigating: boolean;
  notAffected: boolean;
  severity?: Severity;
}

/** Collects observations of one vulnerability and turns them into one Affected per package. */
export class AffectedGroups {
  private readonly groups = new Map<string, { namespace: string; name: string; nameKind: 'source' | 'binary'; stream?: string; main?: Line; extended?: Line }>();

  add(o: Observation): void {
    const c = o.component;
    const key = `${o.platform.namespace}\0${c.name}\0${c.nameKind}\0${c.stream ?? ''}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { namespace: o.platform.namespace, name: c.name, nameKind: c.nameKind };
      if (c.stream) g.stream = c.stream;
      this.groups.set(key, g);
    }
    const which = o.platform.main ? 'main' : 'extended';
    const line = (g[which] ??= { fixed: new Set(), investigating: false, notAffected: false });
    line.severity = worse(line.severity, o.severity);
    switch (o.status) {
      case 'fixed':
        if (c.version) line.fixed.add(c.version);
        break;
      case 'affected':
        // any product still waiting for a fix makes it "not fixed yet" rather than "won't fix"
        line.affected = line.affected === 'not-fixed' || o.unfixed === 'not-fixed' ? 'not-fixed' : 'wont-fix';
        break;
      case 'investigating':
        line.investigating = true;
        break;
      case 'not-affected':
        line.notAffected = true;
        break;
    }
  }

  records(vulnId: string): Affected[] {
    const out: Affected[] = [];
    for (const g of this.groups.values()) {
      const line = g.main ?? g.extended!;
      let state: FixState;
      let fixedVersions: string[] = [];
      let ranges: AffectedRange[] = [];
      if (line.fixed.size) {
        state = 'fixed';
        fixedVersions = [...line.fixed].sort();
        ranges = fixedVersions.map((fixed) => ({ introduced: '0', fixed }));
      } else if (line.affected) {
        state = line.affected;
      } else if (line.investigating) {
        state = 'unknown';
      } else if (line.notAffected) {
        state = 'not-affected';
      } else {
        continue; // only fixed entries without a version: nothing to say
      }
      const a: Affected = { vulnId, source: SOURCE, namespace: g.namespace, name: g.name, nameKind: g.nameKind, scheme: 'rpm', ranges, versions: [], state, fixedVersions };
      if (line.severity) a.severity = line.severity;
      if (g.stream) a.moduleStream = g.stream;
      out.push(a);
    }
    return out.sort((x, y) => (x.namespace + x.name < y.namespace + y.name ? -1 : x.namespace + x.name > y.namespace + y.name ? 1 : 0));
  }
}
