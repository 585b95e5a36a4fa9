/**
 * `lading scan REF|SBOM-FILE`: find the vulnerabilities of an image (analysed on the fly, as
 * `lading sbom` does) or of an SBOM file (CycloneDX, SPDX, syft or Lading JSON), apply VEX
 * documents and ignore rules, and write a table, JSON, SARIF or CycloneDX.
 *
 * Exit codes: 0 done, 1 a finding (not suppressed) at or above `--fail-on` remains, 2 error.
 * A CI gate needs "findings" to differ from "broken", so exit 1 is not an error: after writing
 * its output the command sets `process.exitCode = 1`, and main() returns that code.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import { analyzeImage } from '../../analyze/analyze.js';
import { imageCache, noCacheOption } from './cache.js';
import { describeError, LadingError } from '../../errors.js';
import type { Severity } from '../../feeds/model.js';
import { readSbom } from '../../sbom/formats/index.js';
import type { Sbom } from '../../sbom/model.js';
import { scanFormats, scanWriters, type ScanFormat } from '../../vulns/formats/index.js';
import { parseIgnoreFile, type IgnoreRule } from '../../vulns/ignore.js';
import type { VulnLookup } from '../../vulns/lookup.js';
import type { ScanResult } from '../../vulns/model.js';
import { failingMatches, parseSeverity, scanSbom } from '../../vulns/scan.js';
import { parseVex, type VexDocument } from '../../vulns/vex.js';
import { addImageOptions, type ImageCliOptions } from '../options.js';
import { progress } from '../progress.js';
import { withImage } from './image.js';

export type OpenLookup = (dbPath?: string) => Promise<VulnLookup & { close(): Promise<void> }>;

interface ScanCliOptions extends ImageCliOptions {
  output: ScanFormat;
  failOn?: Severity;
  onlyFixed?: boolean;
  vex?: string[];
  ignoreFile?: string;
  file?: string;
  db?: string;
  cache: boolean;
}

const FAIL_ON_NAMES = ['negligible', 'low', 'medium', 'high', 'critical'];

function failOnParser(value: string): Severity {
  const s = parseSeverity(value);
  if (!s || s === 'Unknown') throw new InvalidArgumentError(`expected one of ${FAIL_ON_NAMES.join(', ')}`);
  return s;
}

const repeatable = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/**
 * The SBOM in `ref` when it names an SBOM file: an existing regular file whose first character
 * (after a byte-order mark and white space) is `{`. Image archives (tar) never start with `{`. A
 * JSON file that is no SBOM is an error naming what was expected, rather than an image attempt.
 */
export async function sbomFromFile(ref: string): Promise<Sbom | undefined> {
  let isFile = false;
  try {
    isFile = (await stat(ref)).isFile();
  } catch {
    // `x.json` is a file name, not an image reference: say so rather than asking a registry.
    if (/\.json$/i.test(ref)) throw new LadingError('NOT_FOUND', `no such SBOM file: ${ref}`);
    return undefined;
  }
  if (!isFile) return undefined;
  const fh = await open(ref, 'r');
  let head: string;
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
  if (!head.replace(/^\uFEFF/, '').trimStart().startsWith('{')) return undefined;
  try {
    return readSbom(await readFile(ref, 'utf8'));
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${ref}: ${describeError(e)}`, { cause: e });
  }
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new LadingError('BAD_INPUT', `cannot read the ${what} ${path}: ${describeError(e)}`, { cause: e });
  }
}


export function scanCommand(openLookup: OpenLookup): Command {
  return addImageOptions(new Command('scan').argument('<ref>', 'image reference or source (registry:, docker-archive:, oci-dir:, oci-archive:), or an SBOM file (CycloneDX, SPDX, syft or Lading JSON)'))
    .description('find the known vulnerabilities of an image or an SBOM')
    .addOption(new Option('-o, --output <format>', 'output format').choices(scanFormats).default('table'))
    .addOption(new Option('--fail-on <severity>', `exit 1 when a finding at or above this severity remains (${FAIL_ON_NAMES.join(', ')})`).argParser(failOnParser))
    .option('--only-fixed', 'report only vulnerabilities that have a fix')
    .addOption(new Option('--vex <file>', 'OpenVEX document whose not_affected / fixed statements suppress findings (repeatable)').argParser(repeatable))
    .option('--ignore-file <file>', 'ignore rules (YAML or JSON: ignore: [{vulnerability, package, fix-state, reason, expires}])')
    .option('--file <path>', 'write the report to this file instead of standard output')
    .option('--db <path>', 'the vulnerability database (default: see `lading db path`)')
    .addOption(noCacheOption())
    .action(async (ref: string, o: ScanCliOptions) => {
      // Inputs that can be wrong are read before any long work.
      const vex: VexDocument[] = [];
      for (const path of o.vex ?? []) vex.push(parseVex(await readText(path, 'VEX document'), path));
      const ignore: IgnoreRule[] = o.ignoreFile ? parseIgnoreFile(await readText(o.ignoreFile, 'ignore file'), o.ignoreFile) : [];

      const lookup = await openLookup(o.db);
      let result: ScanResult;
      let sbom: Sbom;
      try {
        sbom = await sbomFromFile(ref) ?? await withImage(ref, o, async (img) => {
          const bar = progress(img);
          try {
            return await analyzeImage(img, { secrets: false, onProgress: bar.update, cache: await imageCache(o) });
          } finally {
            bar.done();
          }
        });
        result = await scanSbom(sbom, lookup, {
          input: ref,
          ...(o.onlyFixed ? { onlyFixed: true } : {}),
          vex,
          ignore,
        });
      } finally {
        await lookup.close();
      }

      for (const w of [...sbom.warnings, ...result.warnings]) process.stderr.write(`warning: ${w}\n`);
      const text = scanWriters[o.output].write(result, sbom);
      if (o.file) await writeFile(o.file, text);
      else process.stdout.write(text);

      if (o.failOn) {
        const failing = failingMatches(result, o.failOn);
        if (failing.length) {
          process.stderr.write(`lading: ${failing.length} finding(s) at or above ${o.failOn} (--fail-on ${o.failOn.toLowerCase()})\n`);
          process.exitCode = 1;
        }
      }
    });
}
