/**
 * The "rebuild on a newer base digest" advice (issue 19): when a newer digest of the image's base
 * tag is analyzed, the image rebuilt on it is simulated: each package the image inherited from its
 * base takes the newer base's version of it (or goes, when the newer base no longer has it), the
 * newer base's packages the image does not have are added, and the image's own packages stay. The
 * simulated SBOM is matched again (or, without vulnerability data, the effect is estimated from fix
 * versions) and the bundle evaluated again: the STOP rows that go away are what the rebuild
 * removes, and the inherited findings that go away are listed. advice.ts puts the entry first and
 * plans package upgrades for what is left.
 */
import { packageKey } from '../sbom/base.js';
import type { Package, Sbom } from '../sbom/model.js';
import { compareVersions } from '../vulns/diff.js';
import { markInherited } from '../vulns/inherited.js';
import type { Match, ScanResult } from '../vulns/model.js';
import { evaluateBundle, type Decision, type EvaluateOptions, type Evaluation } from './evaluate.js';
import type { CompiledBundle } from './model.js';
import type { PolicyInput } from './subject.js';

/** A STOP row of the evaluation, as the advice names it. */
export interface AdvisedFinding { gate: string; trigger: string; trigger_id: string; message: string }

/** A newer analyzed digest of the image's base tag. */
export interface NewerBase {
  tag: string;
  digest: string;
  /** Its analysis (only its packages are read). */
  sbom: Pick<Sbom, 'packages'>;
}

/** What the advice needs to know of the image's base. */
export interface BaseAdviceInput {
  /** The image's base now. */
  base: { digest: string; tag?: string };
  /** Keys (sbom/base.ts packageKey) of the image's packages inherited from it. */
  inherited: ReadonlySet<string>;
  /** Newer analyzed digests of the base's tag, the preferred (newest) first. */
  newer: readonly NewerBase[];
}

export interface RebuildAdvice {
  kind: 'rebuild-base';
  /** The base the image is built on now. */
  base: { tag: string | null; digest: string };
  /** The newer digest to rebuild on. */
  to: { tag: string; digest: string };
  /** How many of the image's findings are inherited from its base now. */
  inherited_findings: number;
  /** The inherited findings the rebuild removes: the vulnerability, the package, its version now and in the newer base (null: the newer base does not have it). */
  fixed: { vulnerability: string; package: string; version: string; to: string | null }[];
  /** The STOP rows the rebuild removes (verified by the hypothetical evaluation). */
  removes: AdvisedFinding[];
}

/** The state of a hypothetical image: its SBOM, its scan and which of its packages are inherited. */
export interface Hypothesis {
  sbom: Sbom;
  scan: ScanResult | undefined;
  inherited: ReadonlySet<string> | undefined;
}

export const rowKey = (d: Decision) => `${d.gate}\0${d.triggerId}`;
export const stops = (e: Evaluation) => e.decisions.filter((d) => d.action === 'stop' && !d.failed);
export const finding = (d: Decision): AdvisedFinding => ({ gate: d.gate, trigger: d.trigger, trigger_id: d.triggerId, message: d.message });

/** The lowest fix version above the version that matched; undefined when none is known. */
export function fixVersion(m: Match): string | undefined {
  const above = m.vulnerability.fixedVersions.filter((v) => v && compareVersions(m.package.type, v, m.match.version) > 0);
  return above.sort((a, b) => compareVersions(m.package.type, a, b))[0];
}

const nameKey = (p: Pick<Package, 'type' | 'name'>) => `${p.type}\0${p.name}`;

/** The image rebuilt on `newer`: inherited packages take the newer base's versions (or go), its new packages join; and which packages are inherited then. */
export function rebuiltSbom(sbom: Sbom, inherited: ReadonlySet<string>, newer: Pick<Sbom, 'packages'>): { sbom: Sbom; inherited: Set<string>; changed: Map<string, string | null> } {
  const inNewer = new Map(newer.packages.map((p) => [nameKey(p), p]));
  const present = new Set(sbom.packages.map(nameKey));
  const out: Package[] = [];
  const keys = new Set<string>();
  /** packageKey of an inherited package now -> its version in the newer base (null: gone). */
  const changed = new Map<string, string | null>();
  for (const p of sbom.packages) {
    const key = packageKey(p);
    if (!inherited.has(key)) {
      out.push(p);
      continue;
    }
    const n = inNewer.get(nameKey(p));
    if (!n) {
      changed.set(key, null);
      continue;
    }
    const q: Package = n.version === p.version ? p : { ...p, version: n.version, purl: n.purl, ...(n.sourceVersion !== undefined ? { sourceVersion: n.sourceVersion } : {}) };
    if (q !== p) changed.set(key, n.version);
    out.push(q);
    keys.add(packageKey(q));
  }
  for (const n of newer.packages) {
    if (present.has(nameKey(n))) continue;
    out.push(n);
    keys.add(packageKey(n));
  }
  return { sbom: { ...sbom, packages: out }, inherited: keys, changed };
}

/** Without vulnerability data at hand: the scan minus the inherited findings the newer base's version fixes or whose package it dropped. */
function estimatedScan(scan: ScanResult | undefined, changed: Map<string, string | null>): ScanResult | undefined {
  if (!scan) return undefined;
  return {
    ...scan,
    matches: scan.matches.filter((m) => {
      const to = changed.get(packageKey(m.package));
      if (to === undefined) return true;
      if (to === null) return false;
      const fix = fixVersion(m);
      return !(fix && compareVersions(m.package.type, to, fix) >= 0);
    }),
  };
}

const findingKey = (m: Match) => `${m.vulnerability.id}\0${m.package.type}\0${m.package.name}`;

/**
 * The best rebuild among the newer digests (the one removing the most STOP rows; ties: the first),
 * with the hypothetical state after it; undefined when none removes a STOP row.
 */
export async function planRebuild(
  bundle: CompiledBundle, input: PolicyInput, options: EvaluateOptions, before: Evaluation, base: BaseAdviceInput,
  rescan: ((sbom: Sbom) => Promise<ScanResult | undefined>) | undefined,
): Promise<{ entry: RebuildAdvice; state: Hypothesis; after: Evaluation } | undefined> {
  const rows = stops(before);
  const inheritedNow = (input.scan?.matches ?? []).filter((m) => m.inheritedFromBase === true);
  let best: { entry: RebuildAdvice; state: Hypothesis; after: Evaluation } | undefined;
  for (const newer of base.newer) {
    if (newer.digest === base.base.digest) continue;
    const rebuilt = rebuiltSbom(input.sbom, base.inherited, newer.sbom);
    const found = rescan ? await rescan(rebuilt.sbom) : estimatedScan(input.scan, rebuilt.changed);
    const scan = found && markInherited(found, rebuilt.inherited);
    const after = evaluateBundle(bundle, { ...input, sbom: rebuilt.sbom, scan }, options);
    const still = new Set(stops(after).map(rowKey));
    const removes = rows.filter((d) => !still.has(rowKey(d))).map(finding);
    if (!removes.length || (best && best.entry.removes.length >= removes.length)) continue;
    const left = new Set((scan?.matches ?? []).map(findingKey));
    const fixed = inheritedNow.filter((m) => !left.has(findingKey(m))).map((m) => ({
      vulnerability: m.vulnerability.id, package: m.package.name, version: m.package.version, to: rebuilt.changed.get(packageKey(m.package)) ?? null,
    }));
    best = {
      entry: { kind: 'rebuild-base', base: { tag: base.base.tag ?? null, digest: base.base.digest }, to: { tag: newer.tag, digest: newer.digest }, inherited_findings: inheritedNow.length, fixed, removes },
      state: { sbom: rebuilt.sbom, scan, inherited: rebuilt.inherited },
      after,
    };
  }
  return best;
}
