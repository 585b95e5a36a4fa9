/** `lading sbom REF`: analyze an image and write its SBOM (Lading JSON, CycloneDX, SPDX, or a table). */
import { noCacheOption } from './cache.js';
import { baseOption } from './base.js';
import { Command, Option } from 'commander';
import type { SbomFormat } from '../../sbom/formats/index.js';
import { addImageOptions } from '../options.js';
import type { SbomCliOptions } from './sbom-run.js';

/** The names of sbom/formats' writers, here so that defining the command loads no writer (a test keeps them equal). */
export const SBOM_FORMATS: readonly SbomFormat[] = ['json', 'cyclonedx-json', 'spdx-json'];

export function sbomCommand(): Command {
  const cmd = addImageOptions(new Command('sbom').argument('<ref>', 'image reference or source (registry:, docker-archive:, oci-dir:, oci-archive:)'))
    .description('analyze an image and write its software bill of materials')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', ...SBOM_FORMATS]).default('table'))
    .option('--file <path>', 'write the SBOM to this file instead of standard output')
    .option('--dockerfile <path>', 'the Dockerfile the image was built from (recorded as "actual")')
    .option('--no-secrets', 'do not search file contents for secrets')
    .option('--file-digests', 'record the sha256 of every regular file')
    .addOption(noCacheOption())
    .addOption(baseOption())
    .addOption(new Option('--content-rule <NAME=regex>', 'report lines matching this regex (repeatable)')
      .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .addOption(new Option('--retrieve-file <path>', 'keep this file verbatim in the SBOM (repeatable; default /etc/passwd and friends)')
      .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .action(async (ref: string, o: SbomCliOptions) => {
      await (await import('./sbom-run.js')).runSbom(ref, o);
    });
  return cmd;
}
