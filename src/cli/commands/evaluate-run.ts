/** The work of `lading evaluate`, loaded only when the command runs. */
import { readFile, stat, open } from 'node:fs/promises';
import { analyzeImage } from '../../analyze/analyze.js';
import { imageCache } from './cache.js';
import { DEFAULT_RETRIEVED_FILES } from '../../analyze/analyzers/secrets.js';
import { readSbom } from '../../sbom/formats/index.js';
import type { Sbom } from '../../sbom/model.js';
import type { ScanResult } from '../../vulns/model.js';
import { LadingError } from '../../errors.js';
import { loadBundle } from '../../policy/bundle.js';
import { DEFAULT_BUNDLE } from '../../policy/default-bundle.js';
import { evaluateBundle, type Evaluation } from '../../policy/evaluate.js';
import { evaluationDoc } from '../../policy/result.js';
import { analysisNeeds } from '../../policy/needs.js';
import { describeProblem } from '../../policy/problems.js';
import { anchoreTag } from '../../policy/tag.js';
import type { AllowlistMatch } from '../../policy/allowlist.js';
import type { Action, CompiledBundle } from '../../policy/model.js';
import type { ImageCliOptions } from '../options.js';
import { withImage } from './with-image.js';
import { progress } from '../progress.js';
import { digestText, json, table, wrapItem } from '../render.js';

export interface EvaluateDeps {
  /** Match the SBOM against the vulnerability database; undefined when no database is available. */
  scan: (sbom: Sbom) => Promise<ScanResult | undefined>;
}

export interface EvaluateCliOptions extends ImageCliOptions {
  bundle?: string;
  tag?: string;
  output: 'table' | 'json';
  dockerfile?: string;
  contentRule?: string[];
  cache: boolean;
}

async function readBundle(path: string | undefined): Promise<CompiledBundle> {
  if (!path) return loadBundle(DEFAULT_BUNDLE);
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new LadingError(e.code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_INPUT', `cannot read the bundle ${path}: ${e.message}`);
  });
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

/** A regular file holding JSON is an SBOM; anything else is an image reference or source. */
async function isSbomFile(ref: string): Promise<boolean> {
  const st = await stat(ref).catch(() => undefined);
  if (!st?.isFile()) return false;
  const fh = await open(ref, 'r');
  try {
    const head = Buffer.alloc(64);
    const { bytesRead } = await fh.read(head, 0, 64, 0);
    return head.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart().startsWith('{');
  } finally {
    await fh.close();
  }
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

export async function runEvaluate(ref: string, o: EvaluateCliOptions, deps: EvaluateDeps): Promise<void> {
  const bundle = await readBundle(o.bundle);
  let sbom: Sbom;
  if (await isSbomFile(ref)) {
    sbom = readSbom(await readFile(ref, 'utf8'));
  } else {
    const needs = analysisNeeds(bundle);
    const dockerfile = o.dockerfile ? await readFile(o.dockerfile, 'utf8') : undefined;
    sbom = await withImage(ref, o, async (img, signal) => {
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
  for (const w of sbom.warnings) process.stderr.write(`warning: ${w}\n`);
  const scan = await deps.scan(sbom);
  if (!scan) process.stderr.write('warning: no vulnerability database is available: vulnerability rules report that their data is unavailable\n');
  const evaluation = evaluateBundle(bundle, { sbom, scan }, { tag: o.tag ?? defaultTag(sbom) });
  const shown = new Set(evaluation.problems);
  for (const p of bundle.problems) if (!shown.has(p)) process.stderr.write(`warning: bundle ${p.severity === 'error' ? 'error (outside the mapping used)' : 'warning'}: ${describeProblem(p)}\n`);
  process.stdout.write(o.output === 'json' ? json(evaluationDoc(evaluation)) : evaluationText(evaluation));
  if (evaluation.status === 'fail') process.exitCode = 1;
}
