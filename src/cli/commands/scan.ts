/**
 * `lading scan REF|SBOM-FILE`: find the vulnerabilities of an image (analysed on the fly, as
 * `lading sbom` does) or of an SBOM file (CycloneDX, SPDX, syft or Lading JSON), apply VEX
 * documents and ignore rules, and write a table, JSON, SARIF or CycloneDX.
 *
 * Exit codes: 0 done, 1 a finding (not suppressed) at or above `--fail-on` remains, 2 error.
 * A CI gate needs "findings" to differ from "broken", so exit 1 is not an error: after writing
 * its output the command sets `process.exitCode = 1`, and main() returns that code.
 */
import { noCacheOption } from './cache.js';
import { baseOption, noBaseLookupOption } from '../options.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Severity } from '../../feeds/model.js';
import { SCAN_FORMATS } from '../../vulns/formats/names.js';
import { parseSeverity } from '../../vulns/model.js';
import { addImageOptions } from '../options.js';
import type { OpenLookup, ScanCliOptions } from './scan-run.js';

export { sbomFromFile } from './sbom-file.js';
export type { OpenLookup };

const FAIL_ON_NAMES = ['negligible', 'low', 'medium', 'high', 'critical'];

function failOnParser(value: string): Severity {
  const s = parseSeverity(value);
  if (!s || s === 'Unknown') throw new InvalidArgumentError(`expected one of ${FAIL_ON_NAMES.join(', ')}`);
  return s;
}

const repeatable = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

const SEVERITY_NAMES = [...FAIL_ON_NAMES, 'unknown'];

/** trivy's `--severity UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL` (any case; Negligible too); repeatable, the lists add up. */
export function severityListParser(value: string, prev: Severity[] | undefined): Severity[] {
  const out = new Set(prev ?? []);
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const s = parseSeverity(part);
    if (!s) throw new InvalidArgumentError(`"${part}" is not a severity; expected a comma-separated list of ${SEVERITY_NAMES.join(', ')}`);
    out.add(s);
  }
  if (out.size === 0) throw new InvalidArgumentError(`expected a comma-separated list of ${SEVERITY_NAMES.join(', ')}`);
  return [...out];
}

export function scanCommand(openLookup: OpenLookup): Command {
  return addImageOptions(new Command('scan').argument('<ref>', 'image reference or source (registry:, docker-archive:, oci-dir:, oci-archive:, dir:, rootfs:), or an SBOM file (CycloneDX, SPDX, syft or Lading JSON)'))
    .description('find the known vulnerabilities of an image or an SBOM')
    .addOption(new Option('-o, --output <format>', 'output format').choices(SCAN_FORMATS).default('table'))
    .addOption(new Option('--fail-on <severity>', `exit 1 when a finding at or above this severity remains (${FAIL_ON_NAMES.join(', ')})`).argParser(failOnParser))
    .addOption(new Option('--severity <list>', `report only findings of these severities, comma-separated (${SEVERITY_NAMES.join(', ')}); --fail-on counts only those`).argParser(severityListParser))
    .option('--only-fixed', 'report only vulnerabilities that have a fix')
    .option('--template <file>', 'the template for -o template: {{range .}}…{{end}} around {{.Package}}, {{.Vulnerability}}, {{.Severity}}, {{.FixedIn}}...')
    .option('-q, --quiet', 'no progress, warnings or summary lines: the report only (a table without its header)')
    .addOption(new Option('--vex <file>', 'OpenVEX document whose not_affected / fixed statements suppress findings (repeatable)').argParser(repeatable))
    .option('--ignore-file <file>', 'ignore rules (YAML or JSON: ignore: [{vulnerability, package, fix-state, reason, expires}])')
    .option('--file <path>', 'write the report to this file instead of standard output')
    .option('--db <path>', 'the vulnerability database (default: see `lading db path`)')
    .addOption(noCacheOption())
    .addOption(baseOption())
    .addOption(noBaseLookupOption())
    .action(async (ref: string, o: ScanCliOptions) => {
      await (await import('./scan-run.js')).runScan(ref, o, openLookup);
    });
}
