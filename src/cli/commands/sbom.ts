/** `lading sbom REF`: analyze an image and write its SBOM (Lading JSON, CycloneDX, SPDX, or a table). */
import { noCacheOption } from './cache.js';
import { baseOption, baseLookupOption } from '../options.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { SbomFormat } from '../../sbom/formats/index.js';
import { addImageOptions } from '../options.js';
import type { SbomCliOptions } from './sbom-run.js';

/** The names of sbom/formats' writers, here so that defining the command loads no writer (a test keeps them equal). */
export const SBOM_FORMATS: readonly SbomFormat[] = ['json', 'cyclonedx-json', 'spdx-json', 'cyclonedx-xml', 'spdx-tag-value', 'syft-json'];

export interface SbomOutput { format: SbomFormat | 'table'; file?: string }

/** `-o FORMAT[=FILE]`, repeatable as in syft: each output once, the one without a file to standard output. */
export function outputParser(value: string, prev: SbomOutput[] | undefined): SbomOutput[] {
  const eq = value.indexOf('=');
  const format = (eq < 0 ? value : value.slice(0, eq)).trim();
  const file = eq < 0 ? undefined : value.slice(eq + 1);
  const names = ['table', ...SBOM_FORMATS];
  if (!names.includes(format)) throw new InvalidArgumentError(`unknown format "${format}"; expected one of ${names.join(', ')}, as FORMAT or FORMAT=FILE`);
  if (file === '') throw new InvalidArgumentError(`"${value}" names no file after "="`);
  const out = [...(prev ?? []), { format: format as SbomOutput['format'], ...(file !== undefined ? { file } : {}) }];
  if (out.filter((o) => o.file === undefined).length > 1) throw new InvalidArgumentError('only one output can go to standard output; give the others a file: -o FORMAT=FILE');
  return out;
}

export function sbomCommand(): Command {
  const cmd = addImageOptions(new Command('sbom').argument('<ref>', 'image reference or source (registry:, docker-archive:, oci-dir:, oci-archive:, dir:, rootfs:)'))
    .description('analyze an image and write its software bill of materials')
    .addOption(new Option('-o, --output <format[=file]>', `output format, and the file to write it to (repeatable; one may go to standard output): table, ${SBOM_FORMATS.join(', ')}`)
      .argParser(outputParser))
    .option('--file <path>', 'write the output that has no file of its own to this file instead of standard output')
    .option('--dockerfile <path>', 'the Dockerfile the image was built from (recorded as "actual")')
    .option('--no-secrets', 'do not search file contents for secrets')
    .option('--file-digests', 'record the sha256 of every regular file')
    .addOption(noCacheOption())
    .addOption(baseOption())
    .addOption(baseLookupOption())
    .addOption(new Option('--content-rule <NAME=regex>', 'report lines matching this regex (repeatable)')
      .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .addOption(new Option('--retrieve-file <path>', 'keep this file verbatim in the SBOM (repeatable; default /etc/passwd and friends)')
      .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .action(async (ref: string, o: SbomCliOptions) => {
      await (await import('./sbom-run.js')).runSbom(ref, o);
    });
  return cmd;
}
