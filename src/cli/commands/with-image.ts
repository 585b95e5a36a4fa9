/**
 * Open an image source from a command's reference and options, resolve it, and close it afterwards.
 * The work gets a signal that Ctrl-C or SIGTERM aborts (see ../interrupt.ts). Unless --no-cache,
 * image configs come from the layer cache by digest (a warm run of a tag asks for its manifest only).
 */
import { blobCacheOf } from '../../analyze/cache/blobs.js';
import { openSource } from '../../image/sources/index.js';
import type { ResolvedImage } from '../../image/types.js';
import { interruptible } from '../interrupt.js';
import { platformOption, sourceOptions, type ImageCliOptions } from '../options.js';
import { imageCache } from './cache.js';

export async function withImage<T>(ref: string, o: ImageCliOptions & { cache?: boolean }, fn: (img: ResolvedImage, signal: AbortSignal) => Promise<T>): Promise<T> {
  const cache = await imageCache(o);
  return interruptible(async (signal) => {
    const source = await openSource(ref, { ...sourceOptions(o), ...(cache ? { blobCache: blobCacheOf(cache) } : {}) });
    try {
      const platform = platformOption(o);
      return await fn(await source.resolve(platform ? { platform } : {}), signal);
    } finally {
      await source.close();
    }
  });
}
