/**
 * Open an image source from a command's reference and options, resolve it, and close it afterwards.
 * The work gets a signal that Ctrl-C or SIGTERM aborts (see ../interrupt.ts).
 */
import { openSource } from '../../image/sources/index.js';
import type { ResolvedImage } from '../../image/types.js';
import { interruptible } from '../interrupt.js';
import { platformOption, sourceOptions, type ImageCliOptions } from '../options.js';

export async function withImage<T>(ref: string, o: ImageCliOptions, fn: (img: ResolvedImage, signal: AbortSignal) => Promise<T>): Promise<T> {
  return interruptible(async (signal) => {
    const source = await openSource(ref, sourceOptions(o));
    try {
      const platform = platformOption(o);
      return await fn(await source.resolve(platform ? { platform } : {}), signal);
    } finally {
      await source.close();
    }
  });
}
