/**
 * `lading diff A B [-o table|json] [--bundle FILE]`: what changed from image A to image B
 * (images, archives, layouts or SBOM files; with a service configured, images in its catalog):
 * packages added, removed, upgraded and downgraded, vulnerabilities fixed and introduced, secrets
 * and setuid/setgid files added and removed, and with a bundle the verdict before and after.
 * Exit 0 whatever changed; 2 on error.
 */
import { Command } from 'commander';
import { noCacheOption } from './cache.js';
import { addImageOptions, outputOption } from '../options.js';
import type { DiffCliOptions, DiffDeps } from './diff-run.js';

export type { DiffDeps };

export function diffCommand(deps: DiffDeps): Command {
  return addImageOptions(new Command('diff')
    .argument('<a>', 'the image before: reference or source (registry:, docker-archive:, oci-dir:, oci-archive:), or an SBOM file')
    .argument('<b>', 'the image after, the same way'))
    .description('what changed from one image to another: packages, vulnerabilities, secrets, setuid files, verdict (exit 0)')
    .option('--bundle <file>', 'policy bundle (JSON): show the verdict before and after')
    .option('--tag <registry/repo:tag>', 'the tag mappings are matched against, for both images (default: each image\'s own tag)')
    .option('--db <path>', 'the vulnerability database (default: see `lading db path`); without one, vulnerabilities are left out')
    .addOption(outputOption(['table', 'json'], 'table'))
    .addOption(noCacheOption())
    .action(async (a: string, b: string, o: DiffCliOptions, cmd: Command) => {
      await (await import('./diff-run.js')).runDiff(a, b, o, deps, cmd);
    });
}
