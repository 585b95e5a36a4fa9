/**
 * Advice for a failing image: the smallest list of changes that makes it pass under its bundle.
 * Two kinds of change: rebuilding on a newer digest of the image's base (rebuild.ts: when one is
 * known and it removes STOP rows, it comes first), then package upgrades: each STOP the
 * vulnerabilities gate still gives for a finding with a fix names its package, which is upgraded to
 * the lowest version that fixes every such finding, naming the layer and the Dockerfile instruction
 * (history entry) that installed it. The advice is verified by a hypothetical evaluation: the new
 * versions substituted in the SBOM, re-matched against the vulnerability data (or, without it, the
 * findings the fix versions remove dropped), marked inherited_from_base as the real scan is, the
 * bundle evaluated again. What still stops is reported with what would need to change.
 */
import { installLayers, packageKey } from '../sbom/base.js';
import { layersOf } from '../sbom/layers.js';
import type { Package, PackageType, Sbom } from '../sbom/model.js';
import { compareVersions } from '../vulns/diff.js';
import { markInherited } from '../vulns/inherited.js';
import type { Match, ScanResult } from '../vulns/model.js';
import { evaluateBundle, type Decision, type EvaluateOptions, type Evaluation } from './evaluate.js';
import { triggerPackage } from './gates/vulnerabilities.js';
import type { CompiledBundle } from './model.js';
import { fixVersion, finding, planRebuild, rowKey, stops, type AdvisedFinding, type BaseAdviceInput, type Hypothesis, type RebuildAdvice } from './rebuild.js';
import { remedyOf } from './remedies.js';
import type { PolicyInput } from './subject.js';

export type { AdvisedFinding, BaseAdviceInput, NewerBase, RebuildAdvice } from './rebuild.js';

export type AdviceKind = 'upgrade' | 'rebuild-base';

export interface UpgradeAdvice {
  kind: 'upgrade';
  package: { name: string; type: PackageType; version: string; path: string | null };
  /** The version to upgrade to: the lowest that fixes every finding below. */
  to: string;
  vulnerabilities: string[];
  /** Where the package came from: the layer that installed it and the Dockerfile instruction (history entry) that made it. */
  layer_index: number | null;
  /** The package came unchanged from the image's base (a rebuild on a fixed base is the other way to upgrade it). */
  inherited_from_base: boolean;
  layer_digest: string | null;
  instruction: string | null;
  /** The STOP rows this upgrade removes (verified by the hypothetical evaluation). */
  removes: AdvisedFinding[];
}

/** One change. */
export type AdviceEntry = RebuildAdvice | UpgradeAdvice;

export interface RemainingFinding extends AdvisedFinding {
  /** What would need to change for this row to stop firing. */
  remedy: string;
}

export interface Advice {
  /** The verdict now. */
  status: 'pass' | 'fail';
  /** The verdict of the hypothetical evaluation with every entry applied. */
  status_after: 'pass' | 'fail';
  entries: AdviceEntry[];
  /** STOP rows the entries do not remove. */
  remaining: RemainingFinding[];
  /** How the hypothetical scan was made: re-matched against the vulnerability data, or estimated from fix versions; none when nothing was applied. */
  verified_by: 'rescan' | 'estimate' | 'none';
}

/** Match an SBOM with upgraded versions against the vulnerability data; undefined without data. */
export type Rescan = (sbom: Sbom) => Promise<ScanResult | undefined>;

interface Plan {
  pkg: { name: string; type: PackageType; version: string; path: string | null; layer: number | undefined; inherited: boolean };
  to: string;
  vulnerabilities: Set<string>;
  triggerIds: Set<string>;
}

const pkgKey = (p: { type: string; name: string; locations: Package['locations'] }) => `${p.type}\0${p.name}\0${p.locations[0]?.path ?? ''}`;

/** Which findings a STOP row is about, per vulnerabilities trigger. */
const ATTRIBUTION: Record<string, (d: Decision, m: Match) => boolean> = {
  'vulnerabilities/package': (d, m) => d.triggerId === `${m.vulnerability.id}+${triggerPackage(m)}`,
  'vulnerabilities/blacklist': (d, m) => [m.vulnerability.id, ...m.vulnerability.aliases].some((id) => d.message.includes(`'${id}'`)),
};

/** What planUpgrades reads of the image: its packages by pkgKey, the layer that installed each, the keys of those inherited from the base. */
interface Origin {
  packages: Map<string, Package>;
  layerOf: (p: Package) => number | undefined;
  inherited: ReadonlySet<string> | undefined;
}

/** Add (or raise) upgrades for the STOP rows' fixable findings; whether anything changed. */
function planUpgrades(rows: Decision[], scan: ScanResult | undefined, plans: Map<string, Plan>, origin: Origin): boolean {
  let changed = false;
  for (const d of rows) {
    const attributed = ATTRIBUTION[`${d.gate}/${d.trigger}`];
    if (!attributed || !scan) continue;
    for (const m of scan.matches) {
      if (!attributed(d, m)) continue;
      const to = fixVersion(m);
      const key = pkgKey(m.package);
      const p = origin.packages.get(key);
      if (!to || !p) continue;
      const pkg = { name: p.name, type: p.type, version: p.version, path: p.locations[0]?.path ?? null, layer: origin.layerOf(p) ?? p.locations[0]?.layer, inherited: origin.inherited?.has(packageKey(p)) ?? false };
      const plan = plans.get(key) ?? { pkg, to, vulnerabilities: new Set(), triggerIds: new Set() };
      if (!plans.has(key) || compareVersions(p.type, to, plan.to) > 0) changed = true;
      if (compareVersions(p.type, to, plan.to) > 0) plan.to = to;
      plan.vulnerabilities.add(m.vulnerability.id);
      plan.triggerIds.add(rowKey(d));
      plans.set(key, plan);
    }
  }
  return changed;
}

/** The SBOM with the planned versions substituted. */
export function upgradedSbom(sbom: Sbom, plans: Map<string, Plan>): Sbom {
  return {
    ...sbom,
    packages: sbom.packages.map((p) => {
      const plan = plans.get(pkgKey(p));
      if (!plan) return p;
      return {
        ...p, version: plan.to, purl: p.purl.replace(`@${p.version}`, `@${plan.to}`).replace(`@${encodeURIComponent(p.version)}`, `@${encodeURIComponent(plan.to)}`),
        ...(p.sourceVersion !== undefined ? { sourceVersion: plan.to } : {}),
      };
    }),
  };
}

/** Without vulnerability data at hand: the scan minus the findings whose fix the planned version reaches. */
function estimatedScan(scan: ScanResult | undefined, plans: Map<string, Plan>): ScanResult | undefined {
  if (!scan) return undefined;
  return {
    ...scan,
    matches: scan.matches.filter((m) => {
      const plan = plans.get(pkgKey(m.package));
      const fix = fixVersion(m);
      return !(plan && fix && compareVersions(m.package.type, plan.to, fix) >= 0);
    }),
  };
}

function entriesOf(sbom: Sbom, plans: Map<string, Plan>, before: Evaluation, after: Evaluation): UpgradeAdvice[] {
  const layers = new Map(layersOf(sbom).map((l) => [l.index, l]));
  const still = new Set(stops(after).map(rowKey));
  const rows = new Map(stops(before).map((d) => [rowKey(d), d]));
  const out: UpgradeAdvice[] = [];
  for (const plan of plans.values()) {
    const removes = [...plan.triggerIds].filter((k) => !still.has(k) && rows.has(k)).map((k) => finding(rows.get(k)!));
    if (!removes.length) continue;
    const layer = plan.pkg.layer !== undefined ? layers.get(plan.pkg.layer) : undefined;
    out.push({
      kind: 'upgrade', package: { name: plan.pkg.name, type: plan.pkg.type, version: plan.pkg.version, path: plan.pkg.path }, to: plan.to,
      vulnerabilities: [...plan.vulnerabilities].sort(), layer_index: plan.pkg.layer ?? null, inherited_from_base: plan.pkg.inherited, layer_digest: layer?.digest ?? null, instruction: layer?.instruction ?? null, removes,
    });
  }
  return out.sort((a, b) => b.removes.length - a.removes.length || a.package.name.localeCompare(b.package.name));
}

/**
 * The advice for an image under a bundle; `rescan` re-matches changed versions (without it their
 * effect is estimated from fix versions); `base`, when the image's base is known, marks the
 * hypothetical scans inherited_from_base and offers a rebuild on a newer digest of the base.
 */
export async function adviseImage(bundle: CompiledBundle, input: PolicyInput, options: EvaluateOptions, rescan?: Rescan, base?: BaseAdviceInput): Promise<Advice> {
  const before = evaluateBundle(bundle, input, options);
  if (before.status === 'pass') return { status: 'pass', status_after: 'pass', entries: [], remaining: [], verified_by: 'none' };
  const rebuild = base?.newer.length ? await planRebuild(bundle, input, options, before, base, rescan) : undefined;
  const start: Hypothesis = rebuild?.state ?? { sbom: input.sbom, scan: input.scan, inherited: base?.inherited };
  const marked: Rescan | undefined = rescan && (async (sbom) => {
    const found = await rescan(sbom);
    return found && start.inherited ? markInherited(found, start.inherited) : found;
  });
  const origin: Origin = { packages: new Map(start.sbom.packages.map((p) => [pkgKey(p), p])), layerOf: installLayers(start.sbom), inherited: start.inherited };
  const plans = new Map<string, Plan>();
  let after = rebuild?.after ?? before;
  let scan = start.scan;
  // An upgraded version can match other findings; a few rounds raise the version past those too.
  for (let round = 0; round < 3 && planUpgrades(stops(after), scan, plans, origin); round++) {
    const sbom = upgradedSbom(start.sbom, plans);
    scan = marked ? await marked(sbom) : estimatedScan(start.scan, plans);
    after = evaluateBundle(bundle, { ...input, sbom, scan }, options);
  }
  const remaining = stops(after).map((d) => ({ ...finding(d), remedy: remedyOf(d, scan) }));
  if (after.blacklistedImage) {
    remaining.push({ gate: 'mapping', trigger: 'blacklisted_images', trigger_id: '', message: 'the image is blacklisted by the bundle', remedy: 'remove the image from the bundle\'s blacklisted_images' });
  }
  const applied = plans.size > 0 || rebuild !== undefined;
  return {
    status: 'fail', status_after: after.status, entries: [...(rebuild ? [rebuild.entry] : []), ...entriesOf(start.sbom, plans, before, after)], remaining,
    verified_by: !applied ? 'none' : rescan ? 'rescan' : 'estimate',
  };
}
