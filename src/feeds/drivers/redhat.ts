/**
 * Red Hat: CSAF VEX (one document per CVE) online, and offline CSAF VEX or advisory documents,
 * their `.tar.zst` archives, and Security Data API CVE JSON.
 *
 * Online: the first sync reads `archive_latest.txt`, streams that `.tar.zst` archive (a complete
 * export, so `full: true`), then applies the documents `changes.csv` lists as changed on or after
 * the archive's date and the deletions `deletions.csv` lists. Later syncs fetch `changes.csv`
 * conditionally and only the documents changed since the cursor (the newest change timestamp
 * seen); too many changes fall back to the archive.
 *
 * Mapping: a product status names `<platform product>:<component>` through the product tree's
 * relationships. The platform's CPE gives the namespace (`rhel:<major>`; only RHEL platforms,
 * not layered products); the component's purl (or its NEVRA name) gives the package. Red Hat
 * components are source packages (`.src`, or a bare name for unfixed ones); a binary component is
 * kept only when its platform lists no source component in the same status. Per (namespace,
 * name, module stream) the mainline platforms (`enterprise_linux`) decide; EUS/AUS/E4S/TUS/ELS
 * platforms only when no mainline one mentions the package. Fixed beats affected beats under
 * investigation beats not affected. Several fix versions (one per minor-release stream) each
 * become a range `introduced 0, fixed v`: a package is affected while below any of them.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PackageURL } from 'packageurl-js';
import { Parser, type ReadEntry } from 'tar';
import { isLadingError, LadingError } from '../../errors.js';
import { compressionOfMagic, decompressChunks } from '../../image/decompress.js';
import type { FeedDriver, ImportContext, SyncContext } from '../driver.js';
import type { Affected, AffectedRange, Cvss, FeedBatch, FixState, Severity, Vulnerability } from '../model.js';
import { obj, arr, str } from '../json.js';
import { readHead } from '../files.js';

export const REDHAT_VEX_URL = 'https://security.access.redhat.com/data/csaf/v2/vex/';

const SOURCE = 'redhat';
/** One document larger than this is skipped with a warning. */
const MAX_DOC_BYTES = 128 * 1024 * 1024;
/** The archive is held in memory by SyncContext.get. */
const MAX_ARCHIVE_BYTES = 3 * 1024 * 1024 * 1024;
/** Everything an archive may expand to. */
const MAX_EXPANDED_BYTES = 128 * 1024 * 1024 * 1024;
const MAX_LIST_BYTES = 256 * 1024 * 1024;
/** More changed documents than this since the cursor: the archive is cheaper. */
const MAX_INCREMENTAL = 20_000;
const FETCH_CONCURRENCY = 8;
const BATCH_AFFECTED = 5000;
const BATCH_DOCS = 200;

type Warn = (message: string) => void;

// ---------------------------------------------------------------------------------------------
// Small parsers




const IMPACT: Record<string, Severity> = { low: 'Low', moderate: 'Medium', important: 'High', critical: 'Critical' };

/** Red Hat's impact rating → Severity (Low, Moderate, Important, Critical). */
export function impactSeverity(s: unknown): Severity | undefined {
  return typeof s === 'string' ? IMPACT[s.trim().toLowerCase()] : undefined;
}

const RANK: Severity[] = ['Unknown', 'Negligible', 'Low', 'Medium', 'High', 'Critical'];

function worse(a: Severity | undefined, b: Severity | undefined): Severity | undefined {
  if (!a) return b;
  if (!b) return a;
  return RANK.indexOf(b) > RANK.indexOf(a) ? b : a;
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
function evr(epoch: string | undefined, versionRelease: string): string {
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
function namedComponent(name: string, builds = true): Component | string | undefined {
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

type Status = 'fixed' | 'affected' | 'investigating' | 'not-affected';

interface Observation {
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
class AffectedGroups {
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

// ---------------------------------------------------------------------------------------------
// CSAF documents

interface TreeProduct {
  name: string;
  cpe?: string;
  purl?: string;
}

/** The product tree: products by id, and relationship ids → (component, platform). */
class ProductTree {
  readonly products = new Map<string, TreeProduct>();
  private readonly relations = new Map<string, { component: string; platform: string }>();
  private readonly components = new Map<string, Component | string | undefined>();

  constructor(tree: Record<string, unknown> | undefined) {
    const walk = (branches: unknown, depth: number): void => {
      if (depth > 12) return;
      for (const b of arr(branches)) {
        const branch = obj(b);
        const p = obj(branch?.product);
        const id = str(p?.product_id);
        if (p && id) {
          const helper = obj(p.product_identification_helper);
          const entry: TreeProduct = { name: str(p.name) ?? id };
          const cpe = str(helper?.cpe);
          const purl = str(helper?.purl);
          if (cpe) entry.cpe = cpe;
          if (purl) entry.purl = purl;
          this.products.set(id, entry);
        }
        walk(branch?.branches, depth + 1);
      }
    };
    walk(tree?.branches, 0);
    for (const p of arr(tree?.full_product_names)) {
      const fp = obj(p);
      const id = str(fp?.product_id);
      if (fp && id && !this.products.has(id)) {
        const helper = obj(fp.product_identification_helper);
        this.products.set(id, { name: str(fp.name) ?? id, ...(str(helper?.cpe) ? { cpe: str(helper?.cpe)! } : {}), ...(str(helper?.purl) ? { purl: str(helper?.purl)! } : {}) });
      }
    }
    for (const r of arr(tree?.relationships)) {
      const rel = obj(r);
      const id = str(obj(rel?.full_product_name)?.product_id);
      const component = str(rel?.product_reference);
      const platform = str(rel?.relates_to_product_reference);
      if (id && component && platform) this.relations.set(id, { component, platform });
    }
  }

  /** The package a component product names (parsed once per document). */
  component(id: string, p: TreeProduct): Component | string | undefined {
    if (!this.components.has(id)) this.components.set(id, csafComponent(p.name, p.purl));
    return this.components.get(id);
  }

  /** A status product id → its component's product and its platform's CPE (walking nested relationships). */
  resolve(id: string): { platformId: string; cpe?: string; component: TreeProduct; componentId: string } | undefined {
    const rel = this.relations.get(id);
    if (!rel) return undefined;
    const component = this.products.get(rel.component) ?? (this.relations.has(rel.component) ? this.resolve(rel.component)?.component : undefined);
    if (!component) return undefined;
    let platform = rel.platform;
    for (let i = 0; i < 8 && !this.products.get(platform)?.cpe; i++) {
      const up = this.relations.get(platform);
      if (!up) break;
      platform = up.platform;
    }
    const cpe = this.products.get(platform)?.cpe;
    return { platformId: platform, cpe, component, componentId: rel.component };
  }
}

const STATUSES: [string, Status][] = [
  ['fixed', 'fixed'],
  ['first_fixed', 'fixed'],
  ['known_affected', 'affected'],
  ['first_affected', 'affected'],
  ['last_affected', 'affected'],
  ['under_investigation', 'investigating'],
  ['known_not_affected', 'not-affected'],
];

/** product id → value, from entries listing `product_ids` (remediations, threats); entries without ids apply to all. */
function byProduct<T>(entries: unknown[], idsKey: string, pick: (e: Record<string, unknown>) => T | undefined): { of(id: string): T | undefined } {
  const map = new Map<string, T>();
  let all: T | undefined;
  for (const x of entries) {
    const e = obj(x);
    if (!e) continue;
    const value = pick(e);
    if (value === undefined) continue;
    const ids = e[idsKey];
    if (!Array.isArray(ids)) {
      all ??= value;
      continue;
    }
    for (const id of ids) if (typeof id === 'string' && !map.has(id)) map.set(id, value);
  }
  return { of: (id) => map.get(id) ?? all };
}

function cvssOf(scores: unknown): Cvss[] {
  const out: Cvss[] = [];
  const seen = new Set<string>();
  for (const s of arr(scores)) {
    for (const [key, fallback] of [['cvss_v4', '4.0'], ['cvss_v3', '3.1'], ['cvss_v2', '2.0']] as const) {
      const c = obj(obj(s)?.[key]);
      const vector = str(c?.vectorString);
      if (!c || !vector || typeof c.baseScore !== 'number') continue;
      const version = str(c.version) ?? fallback;
      if (seen.has(version + vector)) continue;
      seen.add(version + vector);
      out.push({ source: SOURCE, version, vector, baseScore: c.baseScore });
    }
  }
  return out;
}

function urls(refs: unknown): string[] {
  return [...new Set(arr(refs).map((r) => str(obj(r)?.url)).filter((u): u is string => !!u))];
}

function noteText(notes: unknown, category: string): string | undefined {
  return str(arr(notes).map(obj).find((n) => n?.category === category)?.text);
}

export interface Records {
  vulnerabilities: Vulnerability[];
  affected: Affected[];
}

/** Observations of one CSAF vulnerability entry; `statuses` limits which product statuses count. */
function observe(tree: ProductTree, v: Record<string, unknown>, statuses: Set<Status>, docSeverity: Severity | undefined, warn: Warn, where: string): Observation[] {
  const status = obj(v.product_status) ?? {};
  const remedy = byProduct(arr(v.remediations), 'product_ids', (r) =>
    r.category === 'no_fix_planned' ? ('wont-fix' as const) : r.category === 'none_available' ? ('not-fixed' as const) : undefined,
  );
  const impact = byProduct(arr(v.threats), 'product_ids', (t) => (t.category === 'impact' ? impactSeverity(t.details) : undefined));
  const seen: { status: Status; platformId: string; platform: Platform; component: Component; id: string }[] = [];
  const bad = new Set<string>();
  for (const [key, st] of STATUSES) {
    if (!statuses.has(st)) continue;
    for (const id of arr(status[key])) {
      if (typeof id !== 'string') continue;
      const r = tree.resolve(id);
      if (!r?.cpe) continue; // a product with no platform relationship (middleware, images)
      const platform = rhelPlatform(r.cpe);
      if (!platform) continue; // a layered product, not RHEL itself
      const c = tree.component(r.componentId, r.component);
      if (c === undefined) continue;
      if (typeof c === 'string') {
        if (!bad.has(r.componentId)) warn(`${where}: product ${id} skipped: ${c}`);
        bad.add(r.componentId);
        continue;
      }
      seen.push({ status: st, platformId: r.platformId, platform, component: c, id });
    }
  }
  // a binary build is only kept when its platform lists no source package in the same status
  const withSource = new Set(seen.filter((s) => s.component.nameKind === 'source').map((s) => `${s.status}\0${s.platformId}`));
  const out: Observation[] = [];
  for (const s of seen) {
    if (s.component.nameKind === 'binary' && withSource.has(`${s.status}\0${s.platformId}`)) continue;
    const o: Observation = { platform: s.platform, component: s.component, status: s.status };
    const sev = impact.of(s.id) ?? docSeverity;
    if (sev) o.severity = sev;
    if (s.status === 'affected') o.unfixed = remedy.of(s.id) ?? 'not-fixed';
    out.push(o);
  }
  return out;
}

function withdrawnRecord(id: string, when: string): Vulnerability {
  return { id, source: SOURCE, aliases: [], cvss: [], references: [], withdrawn: when };
}

/** A CSAF VEX or advisory document → records; advisories give one record per RHSA with its CVEs as aliases. */
export function csafRecords(doc: Record<string, unknown>, warn: Warn, where: string, when: string): Records {
  const document = obj(doc.document)!;
  const tracking = obj(document.tracking) ?? {};
  const docId = str(tracking.id);
  if (tracking.status === 'deleted') {
    if (!docId) throw new LadingError('BAD_INPUT', `${where}: a deleted document with no tracking id`);
    return { vulnerabilities: [withdrawnRecord(docId, str(tracking.current_release_date) ?? when)], affected: [] };
  }
  const tree = new ProductTree(obj(doc.product_tree));
  const docSeverity = impactSeverity(obj(document.aggregate_severity)?.text);
  const published = str(tracking.initial_release_date);
  const modified = str(tracking.current_release_date);
  const vulns = arr(doc.vulnerabilities).map(obj).filter((v): v is Record<string, unknown> => !!v);
  if (vulns.length === 0) warn(`${where}: no vulnerabilities in the document`);

  if (document.category === 'csaf_security_advisory') {
    if (!docId) throw new LadingError('BAD_INPUT', `${where}: an advisory with no tracking id`);
    const groups = new AffectedGroups();
    const cves = new Set<string>();
    for (const v of vulns) {
      const cve = str(v.cve);
      if (cve) cves.add(cve);
      for (const o of observe(tree, v, new Set(['fixed']), docSeverity, warn, where)) groups.add(o);
    }
    const rec: Vulnerability = { id: docId, source: SOURCE, aliases: [...cves], cvss: [], references: urls(document.references) };
    const title = str(document.title);
    if (title) rec.summary = title;
    const summary = noteText(document.notes, 'summary') ?? noteText(document.notes, 'general');
    if (summary) rec.description = summary;
    if (published) rec.published = published;
    if (modified) rec.modified = modified;
    if (docSeverity) rec.severity = docSeverity;
    return { vulnerabilities: [rec], affected: groups.records(docId) };
  }

  const out: Records = { vulnerabilities: [], affected: [] };
  for (const [i, v] of vulns.entries()) {
    const id = str(v.cve) ?? (vulns.length === 1 ? docId : undefined);
    if (!id) {
      warn(`${where}: vulnerability ${i} has no cve; skipped`);
      continue;
    }
    const groups = new AffectedGroups();
    for (const o of observe(tree, v, new Set(['fixed', 'affected', 'investigating', 'not-affected']), docSeverity, warn, where)) groups.add(o);
    const rec: Vulnerability = { id, source: SOURCE, aliases: [], cvss: cvssOf(v.scores), references: urls(v.references) };
    const title = str(v.title) ?? str(document.title);
    if (title) rec.summary = title;
    const description = noteText(v.notes, 'description');
    if (description) rec.description = description;
    const released = str(v.release_date) ?? published;
    if (released) rec.published = released;
    if (modified) rec.modified = modified;
    const sev = docSeverity ?? arr(v.threats).map(obj).filter((t) => t?.category === 'impact').map((t) => impactSeverity(t?.details)).reduce(worse, undefined);
    if (sev) rec.severity = sev;
    out.vulnerabilities.push(rec);
    out.affected.push(...groups.records(id));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Security Data API CVE JSON (https://access.redhat.com/hydra/rest/securitydata/cve/CVE-….json)

const FIX_STATE: Record<string, { status: Status; unfixed?: 'not-fixed' | 'wont-fix' }> = {
  'affected': { status: 'affected', unfixed: 'not-fixed' },
  'fix deferred': { status: 'affected', unfixed: 'not-fixed' },
  'will not fix': { status: 'affected', unfixed: 'wont-fix' },
  'out of support scope': { status: 'affected', unfixed: 'wont-fix' },
  'not affected': { status: 'not-affected' },
  'under investigation': { status: 'investigating' },
  'new': { status: 'investigating' },
};

/** One CVE from the Security Data API → records. */
export function hydraRecords(doc: Record<string, unknown>, warn: Warn, where: string): Records {
  const id = str(doc.name)!;
  const severity = impactSeverity(doc.threat_severity);
  const groups = new AffectedGroups();
  for (const [i, x] of arr(doc.affected_release).entries()) {
    const e = obj(x);
    const platform = rhelPlatform(str(e?.cpe) ?? '');
    const pkg = str(e?.package);
    if (!e || !platform || !pkg) continue;
    const n = parseNevra(pkg);
    if (!n) continue; // a module build (nodejs:18-8090020231019152822.a75119d5) or an image, not an rpm
    if (n.arch && n.arch !== 'src') {
      warn(`${where}: affected_release ${i} (${pkg}) names a binary build; skipped`);
      continue;
    }
    const o: Observation = { platform, status: 'fixed', component: { name: n.name, nameKind: 'source', version: evr(n.epoch, `${n.version}-${n.release}`) } };
    const sev = impactSeverity(e.impact) ?? severity;
    if (sev) o.severity = sev;
    groups.add(o);
  }
  for (const [i, x] of arr(doc.package_state).entries()) {
    const e = obj(x);
    const platform = rhelPlatform(str(e?.cpe) ?? '');
    const name = str(e?.package_name);
    if (!e || !platform || !name) continue;
    const state = FIX_STATE[String(e.fix_state ?? '').trim().toLowerCase()];
    if (!state) {
      warn(`${where}: package_state ${i} (${name}) skipped: unknown fix_state ${JSON.stringify(e.fix_state)}`);
      continue;
    }
    const c = namedComponent(name, false);
    if (c === undefined) continue;
    if (typeof c === 'string') {
      warn(`${where}: package_state ${i} skipped: ${c}`);
      continue;
    }
    const o: Observation = { platform, status: state.status, component: c };
    if (state.unfixed) o.unfixed = state.unfixed;
    const sev = impactSeverity(e.impact) ?? severity;
    if (sev) o.severity = sev;
    groups.add(o);
  }
  const cvss: Cvss[] = [];
  const v3 = obj(doc.cvss3);
  if (v3 && str(v3.cvss3_scoring_vector) && Number.isFinite(Number(v3.cvss3_base_score))) {
    const vector = str(v3.cvss3_scoring_vector)!;
    cvss.push({ source: SOURCE, version: /^CVSS:3\.0\//.test(vector) ? '3.0' : '3.1', vector, baseScore: Number(v3.cvss3_base_score) });
  }
  const v2 = obj(doc.cvss);
  if (v2 && str(v2.cvss_scoring_vector) && Number.isFinite(Number(v2.cvss_base_score))) {
    cvss.push({ source: SOURCE, version: '2.0', vector: str(v2.cvss_scoring_vector)!, baseScore: Number(v2.cvss_base_score) });
  }
  const refs = new Set<string>();
  for (const r of arr(doc.references)) for (const u of String(r).split(/\s+/)) if (/^https?:\/\//.test(u)) refs.add(u);
  const bz = str(obj(doc.bugzilla)?.url);
  if (bz) refs.add(bz);
  const rec: Vulnerability = { id, source: SOURCE, aliases: [], cvss, references: [...refs] };
  const summary = str(obj(doc.bugzilla)?.description);
  if (summary) rec.summary = summary;
  const details = arr(doc.details).filter((d): d is string => typeof d === 'string' && d !== '');
  // the last paragraph is Red Hat's own description; earlier ones are upstream's
  if (details.length) rec.description = details.at(-1)!;
  const published = str(doc.public_date);
  if (published) rec.published = published;
  if (severity) rec.severity = severity;
  return { vulnerabilities: [rec], affected: groups.records(id) };
}

/** Any Red Hat document → records; undefined when it is neither CSAF nor Security Data API JSON. */
export function redhatRecords(doc: unknown, warn: Warn, where: string, when: string): Records | undefined {
  const d = obj(doc);
  if (!d) return undefined;
  if (obj(obj(d.document)?.tracking)) return csafRecords(d, warn, where, when);
  if (typeof d.name === 'string' && /^CVE-\d{4}-\d+$/.test(d.name) && ('affected_release' in d || 'package_state' in d || 'threat_severity' in d)) {
    return hydraRecords(d, warn, where);
  }
  return undefined;
}

/** Parse one document's bytes; a broken one is warned about and yields nothing. */
function documentRecords(body: Buffer, warn: Warn, where: string, when: string): Records | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (e) {
    warn(`${where}: invalid JSON (${(e as Error).message}); skipped`);
    return undefined;
  }
  try {
    const r = redhatRecords(doc, warn, where, when);
    if (!r) warn(`${where}: neither a CSAF document nor Security Data API CVE JSON; skipped`);
    return r;
  } catch (e) {
    warn(`${where}: ${(e as Error).message}; skipped`);
    return undefined;
  }
}

/** Gathers per-document records into batches of a bounded size. */
class Batcher {
  private v: Vulnerability[] = [];
  private a: Affected[] = [];
  private docs = 0;

  add(r: Records): FeedBatch | undefined {
    this.v.push(...r.vulnerabilities);
    for (const x of r.affected) this.a.push(x);
    this.docs++;
    return this.docs >= BATCH_DOCS || this.a.length >= BATCH_AFFECTED ? this.flush() : undefined;
  }

  flush(): FeedBatch | undefined {
    if (this.docs === 0 && this.v.length === 0) return undefined;
    const b: FeedBatch = { vulnerabilities: this.v, affected: this.a };
    this.v = [];
    this.a = [];
    this.docs = 0;
    return b;
  }
}

// ---------------------------------------------------------------------------------------------
// Archives and lists

/** The `.json` entries of a tar stream, one at a time; over-large ones are skipped with a warning. */
export async function* tarDocuments(tar: AsyncIterable<Buffer>, warn: Warn, where: string): AsyncGenerator<{ path: string; body: Buffer }> {
  const ready: { path: string; body: Buffer }[] = [];
  let failure: Error | undefined;
  const parser = new Parser({ strict: true, zstd: false, brotli: false, onwarn: (_code, message) => warn(`${where}: ${message}`) });
  parser.on('entry', (entry: ReadEntry) => {
    if (entry.type !== 'File' || !entry.path.endsWith('.json')) {
      entry.resume();
      return;
    }
    if (entry.size > MAX_DOC_BYTES) {
      warn(`${where}: ${entry.path} is ${entry.size} bytes, more than ${MAX_DOC_BYTES}; skipped`);
      entry.resume();
      return;
    }
    const parts: Buffer[] = [];
    entry.on('data', (c: Buffer) => parts.push(c));
    entry.on('end', () => ready.push({ path: entry.path, body: Buffer.concat(parts) }));
  });
  parser.on('error', (e: Error) => {
    failure ??= e;
  });
  const ended = new Promise<void>((resolve) => {
    parser.once('end', resolve);
    parser.once('close', resolve);
  });
  let total = 0;
  for await (const chunk of tar) {
    total += chunk.length;
    if (total > MAX_EXPANDED_BYTES) throw new LadingError('LIMIT_EXCEEDED', `${where}: the archive expands beyond ${MAX_EXPANDED_BYTES} bytes`);
    parser.write(chunk);
    if (failure) throw new LadingError('BAD_INPUT', `${where}: not a readable tar archive (${failure.message})`);
    while (ready.length) yield ready.shift()!;
  }
  parser.end();
  await ended;
  if (failure) throw new LadingError('BAD_INPUT', `${where}: not a readable tar archive (${(failure as Error).message})`);
  while (ready.length) yield ready.shift()!;
}

async function* bufferChunks(b: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += 1 << 20) yield b.subarray(i, i + (1 << 20));
}

/**
 * A CSAF archive (`.tar.zst`, `.tar.gz` or `.tar`) → batches. Documents whose id is in `skip`
 * (changed or deleted since the archive was made, and read separately) are left out, so one full
 * apply never holds two versions of a document.
 */
async function* archiveBatches(bytes: AsyncIterable<Buffer>, warn: Warn, where: string, when: string, skip = new Set<string>()): AsyncGenerator<FeedBatch> {
  const it = bytes[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) throw new LadingError('BAD_INPUT', `${where}: the archive is empty`);
  async function* all(): AsyncGenerator<Buffer> {
    yield first.value as Buffer;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  const kind = compressionOfMagic(first.value as Buffer);
  const batcher = new Batcher();
  // a damaged archive must fail the whole import: it replaces everything, so half of it would lose data
  const docs = tarDocuments(decompressChunks(kind, all()), warn, where)[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<{ path: string; body: Buffer }>;
    try {
      next = await docs.next();
    } catch (e) {
      if (e instanceof LadingError) throw e;
      throw new LadingError('BAD_INPUT', `${where}: cannot read the archive (${(e as Error).message})`, { cause: e });
    }
    if (next.done) break;
    if (skip.has(idFromPath(next.value.path))) continue;
    const r = documentRecords(next.value.body, warn, `${where}:${next.value.path}`, when);
    const b = r && batcher.add(r);
    if (b) yield b;
  }
  const rest = batcher.flush();
  if (rest) yield rest;
}

export interface Change {
  path: string;
  time: string;
  ms: number;
}

/** `changes.csv` / `deletions.csv`: `"2024/cve-2024-1234.json","2025-02-18T14:28:08+00:00"` per line. */
export function parseChanges(text: string, warn: Warn, where: string): Change[] {
  const out: Change[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    const m = /^"?([^",]+)"?,"?([^",]+)"?$/.exec(line.trim());
    const ms = m ? Date.parse(m[2]!) : NaN;
    if (!m || Number.isNaN(ms)) {
      warn(`${where}: line ${i + 1} is not "path","timestamp"; skipped`);
      continue;
    }
    const path = m[1]!;
    if (path.startsWith('/') || path.split('/').some((p) => p === '..' || p === '') || /^[a-z]+:/i.test(path) || !path.endsWith('.json')) {
      warn(`${where}: line ${i + 1} names ${JSON.stringify(path)}, not a relative .json path; skipped`);
      continue;
    }
    out.push({ path, time: m[2]!, ms });
  }
  return out;
}

/** The newest entry per path, newer than `sinceMs` (or at least as new, with `inclusive`). */
function newer(list: Change[], sinceMs: number, inclusive: boolean): Change[] {
  const by = new Map<string, Change>();
  for (const c of list) {
    if (c.ms < sinceMs || (!inclusive && c.ms === sinceMs)) continue;
    const prev = by.get(c.path);
    if (!prev || c.ms > prev.ms) by.set(c.path, c);
  }
  return [...by.values()].sort((a, b) => a.ms - b.ms);
}

/** The newest time among `from` and the lists. */
function latest(from: number, ...lists: Change[][]): number {
  let t = from;
  for (const list of lists) for (const c of list) if (c.ms > t) t = c.ms;
  return t;
}

/** A path both changed and deleted counts only as what happened last (a deletion on a tie). */
function settle(changes: Change[], deletions: Change[]): { changes: Change[]; deletions: Change[] } {
  const deleted = new Map(deletions.map((d) => [d.path, d.ms]));
  const changed = new Map(changes.map((c) => [c.path, c.ms]));
  return {
    changes: changes.filter((c) => !(deleted.get(c.path)! >= c.ms)),
    deletions: deletions.filter((d) => !(changed.get(d.path)! > d.ms)),
  };
}

/** `2024/cve-2024-1234.json` → CVE-2024-1234; `2024/rhsa-2024_2106.json` → RHSA-2024:2106. */
export function idFromPath(path: string): string {
  const base = basename(path, '.json').toUpperCase();
  return /^RH[SBE]A-\d{4}_\d+$/.test(base) ? base.replace('_', ':') : base;
}

// ---------------------------------------------------------------------------------------------
// Online

function joinUrl(base: string, path: string): string {
  return base.endsWith('/') ? base + path : `${base}/${path}`;
}

/** The body of a 200; undefined for a 304. Other statuses throw (NOT_FOUND for 404), as the runner's context does. */
async function getOk(ctx: SyncContext, url: string, maxBytes: number, conditional = false): Promise<Buffer | undefined> {
  const res = await ctx.get(url, { conditional, maxBytes });
  if (res.notModified) return undefined;
  if (res.status !== 200) throw new LadingError(res.status === 404 ? 'NOT_FOUND' : 'NETWORK', `${url}: HTTP ${res.status}`);
  return res.body;
}

/** Fetch and convert changed documents, a few at a time; a document gone since (404) is warned about. */
async function* changedBatches(ctx: SyncContext, base: string, changes: Change[]): AsyncGenerator<FeedBatch> {
  const batcher = new Batcher();
  const warn = (m: string): void => ctx.warn(m);
  for (let i = 0; i < changes.length; i += FETCH_CONCURRENCY) {
    const slice = changes.slice(i, i + FETCH_CONCURRENCY);
    const bodies = await Promise.all(
      slice.map(async (c) => {
        const url = joinUrl(base, c.path);
        const res = await getOk(ctx, url, MAX_DOC_BYTES).catch((e: unknown) => {
          if (isLadingError(e) && e.code === 'NOT_FOUND') return undefined;
          throw e;
        });
        if (!res) {
          ctx.warn(`${url}: listed in changes.csv but gone (HTTP 404); skipped`);
          return undefined;
        }
        return { url, body: res, time: c.time };
      }),
    );
    for (const b of bodies) {
      if (!b) continue;
      const r = documentRecords(b.body, warn, b.url, b.time);
      const out = r && batcher.add(r);
      if (out) yield out;
    }
  }
  const rest = batcher.flush();
  if (rest) yield rest;
}

function deletionBatch(deletions: Change[]): FeedBatch | undefined {
  if (deletions.length === 0) return undefined;
  return { vulnerabilities: deletions.map((d) => withdrawnRecord(idFromPath(d.path), d.time)) };
}

async function* fromArchive(ctx: SyncContext, base: string): AsyncGenerator<FeedBatch> {
  const warn = (m: string): void => ctx.warn(m);
  const latestUrl = joinUrl(base, 'archive_latest.txt');
  const name = (await getOk(ctx, latestUrl, 4096))!.toString('utf8').trim();
  if (!/^[\w.-]+\.tar(\.zst|\.gz)?$/.test(name)) throw new LadingError('BAD_INPUT', `${latestUrl}: ${JSON.stringify(name.slice(0, 100))} is not an archive name`);
  const dated = /(\d{4}-\d{2}-\d{2})/.exec(name)?.[1];
  if (!dated) throw new LadingError('BAD_INPUT', `${latestUrl}: the archive name ${name} carries no date`);
  const sinceMs = Date.parse(`${dated}T00:00:00Z`);
  // documents changed or deleted since the archive was made (on its day too: reading one twice is harmless)
  const changesUrl = joinUrl(base, 'changes.csv');
  const changed = newer(parseChanges((await getOk(ctx, changesUrl, MAX_LIST_BYTES))!.toString('utf8'), warn, changesUrl), sinceMs, true);
  const { changes, deletions } = settle(changed, await fetchDeletions(ctx, base, sinceMs, true));
  const later = new Set([...changes, ...deletions].map((c) => idFromPath(c.path)));
  const archiveUrl = joinUrl(base, name);
  const archive = (await getOk(ctx, archiveUrl, MAX_ARCHIVE_BYTES))!;
  yield* archiveBatches(bufferChunks(archive), warn, archiveUrl, new Date(sinceMs).toISOString(), later);
  yield* changedBatches(ctx, base, changes);
  const d = deletionBatch(deletions);
  if (d) yield d;
  ctx.setState('lastChange', new Date(latest(sinceMs, changed, deletions)).toISOString());
}

async function fetchDeletions(ctx: SyncContext, base: string, sinceMs: number, inclusive: boolean): Promise<Change[]> {
  const url = joinUrl(base, 'deletions.csv');
  const body = await getOk(ctx, url, MAX_LIST_BYTES).catch((e: unknown) => {
    if (isLadingError(e) && e.code === 'NOT_FOUND') return Buffer.alloc(0);
    throw e;
  });
  return newer(parseChanges(body!.toString('utf8'), (m) => ctx.warn(m), url), sinceMs, inclusive);
}

async function* incremental(ctx: SyncContext, base: string, changes: Change[], deletions: Change[], cursorMs: number): AsyncGenerator<FeedBatch> {
  yield* changedBatches(ctx, base, changes);
  const d = deletionBatch(deletions);
  if (d) yield d;
  ctx.setState('lastChange', new Date(latest(cursorMs, changes, deletions)).toISOString());
}

async function* nothing(): AsyncGenerator<FeedBatch> {}

// ---------------------------------------------------------------------------------------------
// Offline

const ARCHIVE_NAME = /\.tar(\.zst|\.gz)?$/;

async function* documentFiles(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* documentFiles(p);
    else if (e.isFile() && (e.name.endsWith('.json') || /^CVE-\d{4}-\d+$/.test(e.name))) yield p;
  }
}


/** One file named explicitly: anything wrong with it is an error, not a warning. */
function singleFile(body: Buffer, warn: Warn, where: string, when: string): Records {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${where}: invalid JSON (${(e as Error).message})`);
  }
  const r = redhatRecords(doc, warn, where, when);
  if (!r) throw new LadingError('BAD_INPUT', `${where}: neither a Red Hat CSAF document nor Security Data API CVE JSON`);
  return r;
}

async function* fileBatches(path: string, ctx: ImportContext): AsyncGenerator<FeedBatch> {
  const warn = (m: string): void => ctx.warn(m);
  const when = new Date().toISOString();
  const batcher = new Batcher();
  for await (const f of documentFiles(path)) {
    const info = await stat(f);
    if (info.size > MAX_DOC_BYTES) {
      warn(`${f}: ${info.size} bytes, more than ${MAX_DOC_BYTES}; skipped`);
      continue;
    }
    const r = documentRecords(await readFile(f), warn, f, when);
    const b = r && batcher.add(r);
    if (b) yield b;
  }
  const rest = batcher.flush();
  if (rest) yield rest;
  // a mirror of the feed directory: deletions.csv names withdrawn documents
  const del = join(path, 'deletions.csv');
  const text = await readFile(del, 'utf8').catch(() => undefined);
  if (text !== undefined) {
    const d = deletionBatch(newer(parseChanges(text, warn, del), 0, true));
    if (d) yield d;
  }
}

function looksNative(text: string): boolean {
  return /"category"\s*:\s*"csaf_(vex|security_advisory)"/.test(text)
    || /^\s*\{\s*"document"\s*:\s*\{/.test(text)
    || (/"threat_severity"|"affected_release"|"package_state"/.test(text) && /"(name|public_date)"\s*:/.test(text));
}

export const redhatDriver: FeedDriver = {
  id: 'redhat',
  description: 'Red Hat CSAF VEX (RHEL), advisories and Security Data API CVE JSON',

  async sync(ctx: SyncContext) {
    const base = ctx.baseUrl ?? REDHAT_VEX_URL;
    const saved = ctx.state.lastChange;
    const cursorMs = saved === undefined ? NaN : Date.parse(saved);
    if (saved !== undefined && Number.isNaN(cursorMs)) ctx.warn(`redhat: the saved cursor ${JSON.stringify(saved)} is not a date; reading the archive`);
    if (!Number.isNaN(cursorMs)) {
      const changesUrl = joinUrl(base, 'changes.csv');
      const body = await getOk(ctx, changesUrl, MAX_LIST_BYTES, true);
      if (!body) return { full: false, batches: nothing() };
      const changes = newer(parseChanges(body.toString('utf8'), (m) => ctx.warn(m), changesUrl), cursorMs, false);
      if (changes.length <= MAX_INCREMENTAL) {
        const settled = settle(changes, await fetchDeletions(ctx, base, cursorMs, false));
        return { full: false, batches: incremental(ctx, base, settled.changes, settled.deletions, cursorMs) };
      }
      ctx.warn(`redhat: ${changes.length} documents changed since ${saved}; reading the archive instead`);
    }
    return { full: true, batches: fromArchive(ctx, base) };
  },

  async detect(path: string, head: Buffer) {
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) {
      for await (const f of documentFiles(path)) {
        return looksNative((await readHead(f, 4096)).toString('utf8'));
      }
      return false;
    }
    if (/^csaf_(vex|advisories)_.*\.tar(\.zst|\.gz)?$/.test(basename(path))) return true;
    return looksNative(head.toString('utf8', 0, Math.min(head.length, 8192)));
  },

  async importPath(path: string, ctx: ImportContext) {
    const info = await stat(path);
    if (info.isFile() && (ARCHIVE_NAME.test(path) || compressionOfMagic(await readHead(path, 8)) !== 'none')) {
      const when = new Date(info.mtimeMs).toISOString();
      const stream = createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
      return { full: true, batches: archiveBatches(stream, (m) => ctx.warn(m), path, when) };
    }
    if (info.isFile()) {
      if (info.size > MAX_DOC_BYTES) throw new LadingError('LIMIT_EXCEEDED', `${path}: ${info.size} bytes, more than ${MAX_DOC_BYTES}`);
      const records = singleFile(await readFile(path), (m) => ctx.warn(m), path, new Date(info.mtimeMs).toISOString());
      return { full: false, batches: (async function* () {
        yield { vulnerabilities: records.vulnerabilities, affected: records.affected };
      })() };
    }
    return { full: false, batches: fileBatches(path, ctx) };
  },
};
