/** The work of `lading scan`, loaded only when the command runs. */
import { readFile, writeFile } from 'node:fs/promises';
import { analyzeImage } from '../../analyze/analyze.js';
import { imageCache } from './cache.js';
import { describeError, LadingError } from '../../errors.js';
import type { Severity } from '../../feeds/model.js';
import type { Sbom } from '../../sbom/model.js';
import { scanWriters, type ScanFormat } from '../../vulns/formats/index.js';
import { parseIgnoreFile, type IgnoreRule } from '../../vulns/ignore.js';
import type { VulnLookup } from '../../vulns/lookup.js';
import type { ScanResult } from '../../vulns/model.js';
import { failingMatches, scanSbom } from '../../vulns/scan.js';
import { parseVex, type VexDocument } from '../../vulns/vex.js';
import { parseTemplate } from '../../vulns/formats/template.js';
import type { ImageCliOptions } from '../options.js';
import { progress } from '../progress.js';
import { sbomFromFile } from './sbom-file.js';
import { withImage } from './with-image.js';
import { applyBase, type BaseCliOptions } from './base.js';
import { markInherited } from '../../vulns/inherited.js';

export type OpenLookup = (dbPath?: string) => Promise<VulnLookup & { close(): Promise<void> }>;

export interface ScanCliOptions extends ImageCliOptions, BaseCliOptions {
  output: ScanFormat;
  failOn?: Severity;
  severity?: Severity[];
  onlyFixed?: boolean;
  template?: string;
  quiet?: boolean;
  vex?: string[];
  ignoreFile?: string;
  file?: string;
  db?: string;
  cache: boolean;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new LadingError('BAD_INPUT', `cannot read the ${what} ${path}: ${describeError(e)}`, { cause: e });
  }
}

/** The findings of the chosen severities only (the suppressed ones are kept as they are). */
export function withSeverities(result: ScanResult, severities: readonly Severity[]): ScanResult {
  const keep = new Set(severities);
  return { ...result, matches: result.matches.filter((m) => keep.has(m.vulnerability.severity)) };
}

async function readTemplate(o: ScanCliOptions): Promise<{ text: string; name: string } | undefined> {
  if (o.output === 'template' && !o.template) throw new LadingError('BAD_INPUT', '-o template needs --template FILE');
  if (o.template && o.output !== 'template') throw new LadingError('BAD_INPUT', `--template is for -o template, not -o ${o.output}`);
  if (!o.template) return undefined;
  const text = await readText(o.template, 'template');
  parseTemplate(text, o.template);
  return { text, name: o.template };
}

export async function runScan(ref: string, o: ScanCliOptions, openLookup: OpenLookup): Promise<void> {
  // Inputs that can be wrong are read before any long work.
  const vex: VexDocument[] = [];
  for (const path of o.vex ?? []) vex.push(parseVex(await readText(path, 'VEX document'), path));
  const ignore: IgnoreRule[] = o.ignoreFile ? parseIgnoreFile(await readText(o.ignoreFile, 'ignore file'), o.ignoreFile) : [];
  const template = await readTemplate(o);

  const lookup = await openLookup(o.db);
  let result: ScanResult;
  let sbom: Sbom;
  try {
    sbom = await sbomFromFile(ref) ?? await withImage(ref, o, async (img, signal) => {
      const bar = o.quiet ? { update: () => {}, done: () => {} } : progress(img);
      try {
        return await analyzeImage(img, { secrets: false, onProgress: bar.update, cache: await imageCache(o), signal });
      } finally {
        bar.done();
      }
    });
    const inherited = await applyBase(sbom, o);
    result = markInherited(await scanSbom(sbom, lookup, {
      input: ref,
      ...(o.onlyFixed ? { onlyFixed: true } : {}),
      vex,
      ignore,
    }), inherited);
  } finally {
    await lookup.close();
  }

  if (o.severity) result = withSeverities(result, o.severity);
  if (!o.quiet) for (const w of [...sbom.warnings, ...result.warnings]) process.stderr.write(`warning: ${w}\n`);
  const text = scanWriters[o.output].write(result, sbom, { ...(template ? { template } : {}), ...(o.quiet ? { quiet: true } : {}) });
  if (o.file) await writeFile(o.file, text);
  else process.stdout.write(text);

  if (o.failOn) {
    const failing = failingMatches(result, o.failOn);
    if (failing.length) {
      if (!o.quiet) process.stderr.write(`lading: ${failing.length} finding(s) at or above ${o.failOn} (--fail-on ${o.failOn.toLowerCase()})\n`);
      process.exitCode = 1;
    }
  }
}
