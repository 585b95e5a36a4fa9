/** Red Hat CSAF VEX and advisory documents → records (see ../redhat.ts for the mapping). */
import { LadingError } from '../../../errors.js';
import type { Cvss, Severity, Vulnerability } from '../../model.js';
import { obj, arr, str } from '../../json.js';
import { AffectedGroups, type Component, type Observation, type Platform, type Records, SOURCE, type Status, type Warn, csafComponent, impactSeverity, rhelPlatform, worse } from './products.js';

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

export function withdrawnRecord(id: string, when: string): Vulnerability {
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
