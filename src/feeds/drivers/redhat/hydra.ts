/** Red Hat Security Data API CVE JSON → records. */
import type { Cvss, Vulnerability } from '../../model.js';
import { obj, arr, str } from '../../json.js';
import { AffectedGroups, type Observation, type Records, SOURCE, type Status, type Warn, evr, impactSeverity, namedComponent, parseNevra, rhelPlatform } from './products.js';

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
