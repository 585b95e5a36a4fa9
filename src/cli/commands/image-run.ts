/** The work of `lading image inspect|files`, loaded only when one of them runs. */
import { squash } from '../../image/squash.js';
import type { FileRecord } from '../../image/tree.js';
import { octalMode } from '../../sbom/model.js';
import type { ImageCliOptions } from '../options.js';
import { progress } from '../progress.js';
import { json } from '../render.js';
import { inspectText, inspectView } from './inspect-view.js';
import { withImage } from './with-image.js';

export type ImageOutputOptions = ImageCliOptions & { output: string };

const TYPE_CHAR: Record<FileRecord['type'], string> = { file: '-', dir: 'd', symlink: 'l', hardlink: 'h', char: 'c', block: 'b', fifo: 'p' };

export async function runInspect(ref: string, o: ImageOutputOptions): Promise<void> {
  await withImage(ref, o, async (img) => {
    process.stdout.write(o.output === 'json' ? json(inspectView(img)) : inspectText(img));
  });
}

export async function runFiles(ref: string, o: ImageOutputOptions): Promise<void> {
  await withImage(ref, o, async (img, signal) => {
    const bar = progress(img);
    const result = await squash(img, { onProgress: bar.update, signal });
    bar.done();
    try {
      for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
      const files = result.files.list();
      if (o.output === 'json') {
        process.stdout.write(json(files.map((f) => ({ ...f, mode: octalMode(f.mode), modeType: TYPE_CHAR[f.type] }))));
      } else {
        const out: string[] = [];
        for (const f of files) out.push(f.path);
        process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
      }
    } finally {
      await result.dispose();
    }
  });
}
