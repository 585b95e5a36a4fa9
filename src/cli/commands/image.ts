/**
 * `lading image inspect|files`: what an image is and what its squashed filesystem holds; `lading
 * image add|wait|list|get|content|metadata|vuln|del`: the same images in a running service.
 */
import { Command } from 'commander';
import { addImageOptions, outputOption } from '../options.js';
import { addServiceImageCommands } from '../client/image-commands.js';
import { addSbomCommands } from '../client/image-sbom-commands.js';
import type { ImageOutputOptions } from './image-run.js';

export function imageCommand(): Command {
  const image = new Command('image').description('read an image: its manifest, config and files; or the images in a Lading service');

  addImageOptions(image.command('inspect').argument('<ref>', 'image reference or source (registry:, docker-archive:, oci-dir:, oci-archive:)'))
    .description('show an image\'s manifest, config, layers and history')
    .addOption(outputOption(['table', 'json'], 'table'))
    .action(async (ref: string, o: ImageOutputOptions) => {
      await (await import('./image-run.js')).runInspect(ref, o);
    });

  addImageOptions(image.command('files').argument('<ref>', 'image reference or source'))
    .description('list every path of the squashed filesystem, sorted by byte order')
    .addOption(outputOption(['text', 'json'], 'text'))
    .action(async (ref: string, o: ImageOutputOptions) => {
      await (await import('./image-run.js')).runFiles(ref, o);
    });
  addServiceImageCommands(image);
  addSbomCommands(image);
  return image;
}
