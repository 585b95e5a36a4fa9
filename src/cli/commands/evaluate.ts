/**
 * `lading evaluate REF|SBOM-FILE [--bundle FILE] [--tag REG/REPO:TAG] [--advise] [-o table|json]`: judge an
 * image (or an SBOM file) with an Anchore-format policy bundle, the default bundle when none is
 * given. Exit 0 on pass (GO or WARN), 1 on fail (STOP), 2 on error.
 */
import { noCacheOption } from './cache.js';
import { baseOption, noBaseLookupOption } from '../options.js';
import { Command, Option } from 'commander';
import { addImageOptions, outputOption } from '../options.js';
import { addServiceCheckCommand } from '../client/check-command.js';
import type { EvaluateCliOptions, EvaluateDeps } from './evaluate-run.js';

export type { EvaluateDeps };

export function evaluateCommand(deps: EvaluateDeps): Command {
  const evaluate = addImageOptions(new Command('evaluate').argument('<ref>', 'image reference or source (registry:, docker-archive:, oci-dir:, oci-archive:, dir:, rootfs:), or an SBOM file'))
    .description('evaluate an image against a policy bundle (Anchore format): exit 0 pass, 1 fail, 2 error')
    .option('--bundle <file>', 'policy bundle (JSON); default: Lading\'s default bundle')
    .option('--tag <registry/repo:tag>', 'the tag mappings are matched against (default: the image\'s own tag)')
    .option('--dockerfile <path>', 'the Dockerfile the image was built from (dockerfile gate: "actual" instead of guessed)')
    .addOption(new Option('--content-rule <NAME=regex>', 'content search rule for files/content_regex_match (repeatable)')
      .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .option('--advise', 'for a failing image, the changes that make it pass: a rebuild on a newer digest of its base, package upgrades (verified by evaluating again), and what they do not fix')
    .addOption(outputOption(['table', 'json'], 'table'))
    .addOption(noCacheOption())
    .addOption(baseOption())
    .addOption(noBaseLookupOption())
    .action(async (ref: string, o: EvaluateCliOptions) => {
      await (await import('./evaluate-run.js')).runEvaluate(ref, o, deps);
    });
  // `evaluate check IMAGE`: the verdict of a running service; its own options follow `check`.
  addServiceCheckCommand(evaluate.enablePositionalOptions());
  return evaluate;
}
