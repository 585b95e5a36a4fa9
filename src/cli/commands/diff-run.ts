/** The work of `lading diff`, loaded only when the command runs. */
import type { Command } from 'commander';
import { LadingError } from '../../errors.js';
import { DEFAULT_BUNDLE } from '../../policy/default-bundle.js';
import { loadBundle } from '../../policy/bundle.js';
import { evaluateBundle } from '../../policy/evaluate.js';
import type { Action, CompiledBundle } from '../../policy/model.js';
import type { Sbom } from '../../sbom/model.js';
import { diffImages, type ImageDiff, type Verdict } from '../../vulns/diff.js';
import type { VulnLookup } from '../../vulns/lookup.js';
import type { ScanResult } from '../../vulns/model.js';
import { scanSbom } from '../../vulns/scan.js';
import { serviceConfigured } from '../client/connection.js';
import { resolveImage } from '../client/images.js';
import { withService } from '../client/output.js';
import type { ImageCliOptions } from '../options.js';
import { json } from '../render.js';
import { defaultTag, readBundle, sbomFor } from './evaluate-run.js';
import { diffText, type DiffReport, type SideInfo } from './diff-view.js';

export interface DiffDeps {
  /** The vulnerability database; undefined (after a warning) when there is none. */
  openLookup: (db?: string) => Promise<(VulnLookup & { close(): Promise<void> }) | undefined>;
}

export interface DiffCliOptions extends ImageCliOptions {
  bundle?: string;
  tag?: string;
  db?: string;
  output: 'table' | 'json';
  cache: boolean;
}

const VERDICT_OF: Record<Action, string> = { go: 'pass', warn: 'warn', stop: 'fail' };

function sideOf(ref: string, sbom: Sbom): SideInfo {
  return { ref, digest: sbom.source.manifestDigest ?? null, image_id: sbom.source.imageId || null, tags: sbom.source.tags };
}

function print(report: DiffReport, output: 'table' | 'json'): void {
  process.stdout.write(output === 'json' ? json(report) : diffText(report));
}

/** The shape GET /v1/summaries/compare answers (the parts `diff` shows). */
type CompareBody = ImageDiff & { base: { imageDigest: string; imageId?: string; tags: string[] }; target: { imageDigest: string; imageId?: string; tags: string[] } };

/** Two images of the service's catalog (tags, digests or image ids), compared by the service. */
async function serviceDiff(a: string, b: string, o: DiffCliOptions, cmd: Command): Promise<void> {
  if (o.bundle) throw new LadingError('BAD_INPUT', '--bundle applies to local images: with a service the verdicts are those of its stored evaluations (unset --url / LADING_URL to compare locally)');
  await withService(cmd, async (svc) => {
    const x = await resolveImage(svc.client, a);
    const y = await resolveImage(svc.client, b);
    const r = await svc.client.get<CompareBody>('/summaries/compare', { base: x.digest, target: y.digest });
    const side = (ref: string, s: CompareBody['base']): SideInfo => ({ ref, digest: s.imageDigest, image_id: s.imageId ?? null, tags: s.tags });
    const { base, target, ...diff } = r;
    print({ base: side(a, base), target: side(b, target), ...diff }, svc.json ? 'json' : o.output);
  }, { insecure: false, errorExit: 2 });
}

export async function runDiff(a: string, b: string, o: DiffCliOptions, deps: DiffDeps, cmd: Command): Promise<void> {
  if (serviceConfigured(cmd)) return serviceDiff(a, b, o, cmd);
  const bundle: CompiledBundle | undefined = o.bundle ? await readBundle(o.bundle) : undefined;
  const needs = bundle ?? loadBundle(DEFAULT_BUNDLE);
  const lookup = await deps.openLookup(o.db);
  const sides: { ref: string; sbom: Sbom; scan: ScanResult | undefined }[] = [];
  try {
    for (const ref of [a, b]) {
      const sbom = await sbomFor(ref, o, needs);
      for (const w of sbom.warnings) process.stderr.write(`warning: ${ref}: ${w}\n`);
      sides.push({ ref, sbom, scan: lookup ? await scanSbom(sbom, lookup, { input: ref }) : undefined });
    }
  } finally {
    await lookup?.close();
  }
  const verdict = (s: (typeof sides)[number]): Verdict | undefined =>
    bundle ? VERDICT_OF[evaluateBundle(bundle, { sbom: s.sbom, scan: s.scan }, { tag: o.tag ?? defaultTag(s.sbom) }).finalAction] : undefined;
  const [before, after] = sides as [(typeof sides)[number], (typeof sides)[number]];
  const diff = diffImages(
    { sbom: before.sbom, matches: before.scan?.matches, ...(bundle ? { verdict: verdict(before) } : {}) },
    { sbom: after.sbom, matches: after.scan?.matches, ...(bundle ? { verdict: verdict(after) } : {}) },
  );
  print({ base: sideOf(a, before.sbom), target: sideOf(b, after.sbom), ...diff }, o.output);
}
