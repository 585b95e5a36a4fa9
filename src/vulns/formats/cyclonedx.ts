/**
 * `cyclonedx-json`: the SBOM's CycloneDX 1.6 document (src/sbom/formats/cyclonedx.ts) with a
 * `vulnerabilities` list, as grype's cyclonedx output: one entry per vulnerability id, affecting
 * the components (by bom-ref) it was found in, with its source, ratings (the severity shown and
 * every CVSS score), aliases as references, advisories (the reference URLs) and a recommendation.
 * Suppressed findings are listed apart, with an `analysis`: a VEX not_affected statement becomes
 * `not_affected` with its justification translated, a VEX `fixed` becomes `resolved`, an ignore
 * rule `false_positive`; the reason is the detail. Lading's model has no CWE ids, so `cwes` is
 * never written. Validated against the CycloneDX 1.6 schema by formats.test.ts.
 */
import { cycloneDxDocument, cycloneDxMediaType } from '../../sbom/formats/cyclonedx.js';
import type { Sbom } from '../../sbom/model.js';
import type { Severity } from '../../feeds/model.js';
import { cvssSeverity } from '../match.js';
import type { Match, ScanResult, Suppressed } from '../model.js';
import { compareMatches } from '../scan.js';
import { authorityOf, isHttpUrl, primaryUrl } from './links.js';

export { cycloneDxMediaType };

type Json = Record<string, unknown>;

const SEVERITY: Record<Severity, string> = {
  Critical: 'critical', High: 'high', Medium: 'medium', Low: 'low', Negligible: 'info', Unknown: 'unknown',
};

const METHOD: Record<string, string> = { '2.0': 'CVSSv2', '3.0': 'CVSSv3', '3.1': 'CVSSv31', '4.0': 'CVSSv4' };

/** OpenVEX justification → CycloneDX impact-analysis justification. */
const JUSTIFICATION: Record<string, string> = {
  component_not_present: 'code_not_present',
  vulnerable_code_not_present: 'code_not_present',
  vulnerable_code_not_in_execute_path: 'code_not_reachable',
  vulnerable_code_cannot_be_controlled_by_adversary: 'protected_by_mitigating_control',
  inline_mitigations_already_exist: 'protected_by_mitigating_control',
};

/** The analysis a suppression reason (as vex.ts and ignore.ts write them) stands for. */
export function analysisOf(reason: string): Json {
  const vex = /^vex:(\w+)(?: \((\w+)\))?/.exec(reason);
  if (vex) {
    const [, status, justification] = vex;
    if (status === 'fixed') return { state: 'resolved', detail: reason };
    const j = justification ? JUSTIFICATION[justification] : undefined;
    return { state: 'not_affected', ...(j ? { justification: j } : {}), detail: reason };
  }
  return { state: 'false_positive', detail: reason };
}

interface Prop { name: string; value: string }

/** Package → the bom-ref of its component, found by purl, name, version and first evidence path. */
function componentRefs(doc: Json): Map<string, string> {
  const refs = new Map<string, string>();
  for (const c of (doc.components as Json[] | undefined) ?? []) {
    const props = (c.properties as Prop[] | undefined) ?? [];
    const path = props.find((p) => p.name === 'lading:location:0:path')?.value ?? '';
    const key = JSON.stringify([c.purl ?? '', c.name, c.version ?? '', path]);
    if (!refs.has(key)) refs.set(key, String(c['bom-ref']));
  }
  return refs;
}

function refKey(m: Match): string {
  return JSON.stringify([m.package.purl ?? '', m.package.name, m.package.version ?? '', m.package.locations[0]?.path ?? '']);
}

function ratings(matches: readonly Match[]): Json[] {
  const out: Json[] = [];
  const seen = new Set<string>();
  const add = (r: Json) => {
    const k = JSON.stringify(r);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(r);
    }
  };
  for (const m of matches) {
    const v = m.vulnerability;
    if (v.severity !== 'Unknown' || v.cvss.length === 0) {
      add({ ...(v.severitySource ? { source: { name: v.severitySource } } : {}), severity: SEVERITY[v.severity] });
    }
  }
  for (const c of matches.flatMap((m) => m.vulnerability.cvss)) {
    add({
      source: { name: c.source },
      score: c.baseScore,
      severity: SEVERITY[cvssSeverity(c)],
      method: METHOD[c.version] ?? 'other',
      vector: c.vector,
    });
  }
  return out;
}

function vulnerabilityEntry(bomRef: string, matches: readonly Match[], refs: Map<string, string>, analysis?: Json): Json {
  const first = matches[0]!;
  const v = first.vulnerability;
  const authority = authorityOf(v.id);
  const source = authority ?? { name: v.severitySource || v.sources[0]?.split(':')[0] || 'lading', ...(primaryUrl(v) ? { url: primaryUrl(v) } : {}) };
  const affects = new Map<string, Json>();
  for (const m of matches) {
    const ref = refs.get(refKey(m));
    if (!ref || affects.has(ref)) continue;
    affects.set(ref, { ref, versions: [{ version: m.package.version, status: analysis ? 'unaffected' : 'affected' }] });
  }
  const fixes = [...new Set(matches.flatMap((m) => (m.vulnerability.fixState === 'fixed' ? m.vulnerability.fixedVersions.map((f) => `${m.package.name} to ${f}`) : [])))];
  const props: Prop[] = [];
  const add = (name: string, value: string | number | undefined) => {
    if (value !== undefined && value !== '') props.push({ name, value: String(value) });
  };
  add('lading:fixState', v.fixState);
  for (const f of v.fixedVersions) add('lading:fixedVersion', f);
  add('lading:severitySource', v.severitySource);
  if (v.kev) {
    add('lading:kev:dateAdded', v.kev.dateAdded);
    add('lading:kev:dueDate', v.kev.dueDate);
    add('lading:kev:ransomware', v.kev.ransomware);
  }
  if (v.epss) {
    add('lading:epss:score', v.epss.score);
    add('lading:epss:percentile', v.epss.percentile);
    add('lading:epss:date', v.epss.date);
  }
  for (const s of v.sources) add('lading:source', s);
  inheritedProps(matches, refs, add);
  const advisories = v.references.filter(isHttpUrl).map((url) => ({ url }));
  return {
    'bom-ref': bomRef,
    id: v.id,
    source,
    ...(v.aliases.length ? { references: v.aliases.map((id) => ({ id, source: authorityOf(id) ?? {} })) } : {}),
    ratings: ratings(matches),
    ...(v.description ? { description: v.description } : {}),
    ...(fixes.length ? { recommendation: `Upgrade ${fixes.join('; ')}` } : {}),
    ...(advisories.length ? { advisories } : {}),
    ...(analysis ? { analysis } : v.fixState === 'wont-fix' ? { analysis: { response: ['will_not_fix'] } } : {}),
    affects: [...affects.values()],
    ...(props.length ? { properties: props } : {}),
  };
}

/**
 * `lading:inherited_from_base`: true when every affected package came unchanged from the base
 * image; when only some did, `lading:inherited_from_base:ref` names each of those (by bom-ref).
 */
function inheritedProps(matches: readonly Match[], refs: Map<string, string>, add: (name: string, value: string) => void): void {
  const inherited = matches.filter((m) => m.inheritedFromBase === true);
  add('lading:inherited_from_base', String(inherited.length === matches.length));
  if (!inherited.length || inherited.length === matches.length) return;
  for (const ref of new Set(inherited.map((m) => refs.get(refKey(m))).filter((r): r is string => !!r))) add('lading:inherited_from_base:ref', ref);
}

function groupBy<T extends Match>(matches: readonly T[], key: (m: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const m of [...matches].sort(compareMatches)) {
    const k = key(m);
    const list = groups.get(k) ?? [];
    list.push(m);
    groups.set(k, list);
  }
  return [...groups.values()];
}

export function scanCycloneDxDocument(result: ScanResult, sbom: Sbom): Json {
  const doc = cycloneDxDocument(sbom);
  const refs = componentRefs(doc);
  const used = new Set<string>();
  const bomRef = (base: string) => {
    let ref = base;
    for (let n = 2; used.has(ref); n++) ref = `${base}-${n}`;
    used.add(ref);
    return ref;
  };
  const vulnerabilities: Json[] = [
    ...groupBy(result.matches, (m) => m.vulnerability.id).map((g) => vulnerabilityEntry(bomRef(`vulnerability:${g[0]!.vulnerability.id}`), g, refs)),
    ...groupBy(result.suppressed, (s: Suppressed) => JSON.stringify([s.vulnerability.id, s.reason]))
      .map((g) => vulnerabilityEntry(bomRef(`vulnerability:${g[0]!.vulnerability.id}:suppressed`), g, refs, analysisOf(g[0]!.reason))),
  ];
  return { ...doc, vulnerabilities };
}

export function writeScanCycloneDx(result: ScanResult, sbom: Sbom): string {
  return `${JSON.stringify(scanCycloneDxDocument(result, sbom), null, 2)}\n`;
}
