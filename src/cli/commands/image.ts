/**
 * `lading image inspect|files`: what an image is and what its squashed filesystem holds; `lading
 * image add|wait|list|get|content|metadata|vuln|del`: the same images in a running service.
 */
import { Command } from 'commander';
import { openSource } from '../../image/sources/index.js';
import { squash } from '../../image/squash.js';
import { addImageOptions, outputOption, platformOption, sourceOptions, type ImageCliOptions } from '../options.js';
import { inspectText, inspectView } from './inspect-view.js';
import { json } from '../render.js';
import { progress } from '../progress.js';
import type { ResolvedImage } from '../../image/types.js';
import type { FileRecord } from '../../image/tree.js';
import { addServiceImageCommands } from '../client/image-commands.js';

export async function withImage<T>(ref: string, o: ImageCliOptions, fn: (img: ResolvedImage) => Promise<T>): Promise<T> {
  const source = await openSource(ref, sourceOptions(o));
  try {
    const platform = platformOption(o);
    return await fn(await source.resolve(platform ? { platform } : {}));
  } finally {
    await source.close();
  }
}

const TYPE_CHAR: Record<FileRecord['type'], string> = { file: '-', dir: 'd', symlink: 'l', hardlink: 'h', char: 'c', block: 'b', fifo: 'p' };

export function imageCommand(): Command {
  const image = new Command('image').description('read an image: its manifest, config and files; or the images in a Lading service');

  addImageOptions(image.command('inspect').argument('<ref>', 'image reference or source (registry:, docker-archive:, oci-dir:, oci-archive:)'))
    .description('show an image\'s manifest, config, layers and history')
    .addOption(outputOption(['table', 'json'], 'table'))
    .action(async (ref: string, o: ImageCliOptions & { output: string }) => {
      await withImage(ref, o, async (img) => {
        process.stdout.write(o.output === 'json' ? json(inspectView(img)) : inspectText(img));
      });
    });

  addImageOptions(image.command('files').argument('<ref>', 'image reference or source'))
    .description('list every path of the squashed filesystem, sorted by byte order')
    .addOption(outputOption(['text', 'json'], 'text'))
    .action(async (ref: string, o: ImageCliOptions & { output: string }) => {
      await withImage(ref, o, async (img) => {
        const bar = progress(img);
        const result = await squash(img, { onProgress: bar.update });
        bar.done();
        try {
          for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
          const files = result.files.list();
          if (o.output === 'json') {
            process.stdout.write(json(files.map((f) => ({ ...f, mode: f.mode.toString(8).padStart(4, '0'), modeType: TYPE_CHAR[f.type] }))));
          } else {
            const out: string[] = [];
            for (const f of files) out.push(f.path);
            process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
          }
        } finally {
          await result.dispose();
        }
      });
    });
  addServiceImageCommands(image);
  return image;
}
