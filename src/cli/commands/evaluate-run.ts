/** The work of `lading evaluate`, loaded only when the command runs. */
import { readFile } from 'node:fs/promises';
import { analyzeImage } from '../../analyze/analyze.js';
import { imageCache } from './cache.js';
import { DEFAULT_RETRIEVED_FILES } from '../../analyze/analyzers/secrets.js';
import { sbomFromFile } from './sbom-file.js';
import type { Sbom } from '../../sbom/model.js';
import type { ScanResult } from '../../vulns/model.js';
import { LadingError, unreadable } from '../../errors.js';
import { loadBundle } from '../../policy/bundle.js';
import { DEFAULT_BUNDLE } from '../../policy/default-bundle.js';
import { evaluateBundle, type EvaluateOptions, type Evaluation } from '../../policy/evaluate.js';
import { adviseImage, type Advice } from '../../policy/advice.js';
import type { PolicyInput } from '../../policy/subject.js';
import { adviceText } from './advice-view.js';
import { evaluationDoc } from '../../policy/result.js';
import { analysisNeeds } from '../../policy/needs.js';
import { describeProblem } from '../../policy/problems.js';
import { anchoreTag } from '../../policy/tag.js';
import type { AllowlistMatch } from '../../policy/allowlist.js';
import type { Action, CompiledBundle } from '../../policy/model.js';
import type { ImageCliOptions } from '../options.js';
import { withImage } from './with-image.js';
import { findImageBase, newerBaseDigests, type BaseCliOptions, type FoundBase } from './base.js';
import { markInherited } from '../../vulns/inherited.js';
import { progress } from '../progress.js';
import { digestText, json, table, wrapItem } from '../render.js';

export interface EvaluateDeps {
  /** Match the SBOM against the vulnerability database; undefined when no database is available. */
  scan: (sbom: Sbom) => Promise<ScanResult | undefined>;
}

export interface EvaluateCliOptions extends ImageCliOptions, BaseCliOptions {
  bundle?: string;
  tag?: string;
  output: 'table' | 'json';
  dockerfile?: string;
  contentRule?: string[];
  cache: boolean;
  /** Also say what would make a failing image pass (policy/advice.ts). */
  advise?: boolean;
}

export async function readBundle(path: string | undefined): Promise<CompiledBundle> {
  if (!path) return loadBundle(DEFAULT_BUNDLE);
  const text = await readFile(path, 'utf8').catch(unreadable(`the bundle ${path}`));
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${path} is not a JSON policy bundle: ${(e as Error).message}`);
  }
  const bundle = loadBundle(doc);
  const fatal = bundle.problems.filter((p) => p.fatal);
  if (fatal.length) throw new LadingError('BAD_INPUT', `${path}: ${fatal.map(describeProblem).join('; ')}`);
  return bundle;
}

/** The tag mappings are matched against: the given one, else the image's first tag in Anchore's form. */
export function defaultTag(sbom: Sbom): string {
  const t = sbom.source.tags[0];
  if (!t) return 'localbuild/image:latest';
  return t.includes('/') || t.includes(':') ? anchoreTag(t) : `localbuild/image:${t}`;
}

function allowlistText(a: AllowlistMatch): string {
  return `allowlisted by ${a.whitelist_name ? `"${a.whitelist_name}"` : a.whitelist_id}${a.matched_rule_id ? ` (item ${a.matched_rule_id})` : ''}`;
}

const GROUPS: Action[] = ['stop', 'warn', 'go'];

/** The verdict, then the rows grouped STOP, WARN, GO, then any problems. */
export function evaluationText(e: Evaluation): string {
  const pairs: [string, string][] = [
    ['Image ID', e.image.id || '(none: SBOM input)'],
    ['Digest', digestText(e.image.digest, e.image.id)],
    ['Tag', e.tag],
    ['Bundle', `${e.bundle.name ? `${e.bundle.name} ` : ''}(${e.bundle.id})`],
    ['Mapping', e.mapping ? `${e.mapping.name ?? `mappings[${e.mapping.index}]`} -> policy ${e.mapping.policyIds.join(', ')}` : 'none matched: no policy applied'],
  ];
  if (e.blacklistedImage) pairs.push(['Blacklisted', e.blacklistedImage.name ?? `blacklisted_images[${e.blacklistedImage.index}]`]);
  if (e.whitelistedImage) pairs.push(['Whitelisted', e.whitelistedImage.name ?? `whitelisted_images[${e.whitelistedImage.index}]`]);
  pairs.push(['Status', `${e.status} (final action ${e.finalAction.toUpperCase()}, reason ${e.reason})`]);
  const width = Math.max(...pairs.map(([k]) => k.length)) + 2;
  const lines = pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`);
  // With one policy (the Mapping line names it), a POLICY column would repeat it on every row.
  const onePolicy = new Set(e.decisions.map((d) => d.policyId)).size <= 1 && (e.mapping?.policyIds.length ?? 0) <= 1;
  for (const action of GROUPS) {
    const ds = e.decisions.filter((d) => d.action === action);
    if (!ds.length) continue;
    const rows = ds.map((d) => [d.gate, d.trigger, d.triggerId, `${d.message}${d.allowlisted ? ` [${allowlistText(d.allowlisted)}]` : ''}`, ...(onePolicy ? [] : [d.policyId])]);
    const head = ['GATE', 'TRIGGER', 'TRIGGER ID', 'CHECK OUTPUT', ...(onePolicy ? [] : ['POLICY'])];
    lines.push('', `${action.toUpperCase()} (${ds.length})`, table(head, rows).trimEnd());
  }
  if (!e.decisions.length) lines.push('', 'No trigger fired.');
  if (e.problems.length) {
    lines.push('', `Problems (${e.problems.length}):`);
    for (const p of e.problems) lines.push(...wrapItem(`${p.severity}: ${describeProblem(p)}`));
  }
  return `${lines.join('\n')}\n`;
}

/** What the bundle's rules need (retrieved files, digests, content rules), from an SBOM file or an image analyzed now. */
export async function sbomFor(ref: string, o: Omit<EvaluateCliOptions, 'output' | 'bundle' | 'tag'>, bundle: CompiledBundle): Promise<Sbom> {
  const file = await sbomFromFile(ref);
  if (file) return file;
  const needs = analysisNeeds(bundle);
  const dockerfile = o.dockerfile ? await readFile(o.dockerfile, 'utf8') : undefined;
  return withImage(ref, o, async (img, signal) => {
    const bar = progress(img);
    try {
      return await analyzeImage(img, {
        retrieveFiles: [...new Set([...DEFAULT_RETRIEVED_FILES, ...needs.retrieveFiles])],
        fileDigests: needs.fileDigests,
        ...(o.contentRule ? { contentRules: o.contentRule } : {}),
        ...(dockerfile !== undefined ? { dockerfile } : {}),
        onProgress: bar.update,
        cache: await imageCache(o),
        signal,
      });
    } finally {
      bar.done();
    }
  });
}

/** `--advise`: upgrades, and for a failing image with a known base, a rebuild on a newer digest of the base's tag. */
async function advise(bundle: CompiledBundle, input: PolicyInput, options: EvaluateOptions, found: FoundBase, o: EvaluateCliOptions, deps: EvaluateDeps, status: string): Promise<Advice> {
  const newer = status === 'fail' && found.base ? await newerBaseDigests(found, o) : [];
  const base = found.base ? { base: { digest: found.base.digest, ...(found.base.tag ? { tag: found.base.tag } : {}) }, inherited: found.inherited, newer } : undefined;
  return adviseImage(bundle, input, options, input.scan ? deps.scan : undefined, base);
}

export async function runEvaluate(ref: string, o: EvaluateCliOptions, deps: EvaluateDeps): Promise<void> {
  const bundle = await readBundle(o.bundle);
  const sbom = await sbomFor(ref, o, bundle);
  for (const w of sbom.warnings) process.stderr.write(`warning: ${w}\n`);
  const base = await findImageBase(sbom, o);
  const matched = await deps.scan(sbom);
  const scan = matched && markInherited(matched, base.inherited);
  if (!scan) process.stderr.write('warning: no vulnerability database is available: vulnerability rules report that their data is unavailable\n');
  const evaluation = evaluateBundle(bundle, { sbom, scan }, { tag: o.tag ?? defaultTag(sbom) });
  const shown = new Set(evaluation.problems);
  for (const p of bundle.problems) if (!shown.has(p)) process.stderr.write(`warning: bundle ${p.severity === 'error' ? 'error (outside the mapping used)' : 'warning'}: ${describeProblem(p)}\n`);
  const tag = evaluation.tag;
  const advice = o.advise ? await advise(bundle, { sbom, scan }, { tag, now: evaluation.evaluatedAt }, base, o, deps, evaluation.status) : undefined;
  if (o.output === 'json') process.stdout.write(json(advice ? { ...evaluationDoc(evaluation), advice } : evaluationDoc(evaluation)));
  else process.stdout.write(evaluationText(evaluation) + (advice ? adviceText(advice) : ''));
  if (evaluation.status === 'fail') process.exitCode = 1;
}
