/** Open an image source from a command's reference and options, resolve it, and close it afterwards. */
import { openSource } from '../../image/sources/index.js';
import type { ResolvedImage } from '../../image/types.js';
import { platformOption, sourceOptions, type ImageCliOptions } from '../options.js';

export async function withImage<T>(ref: string, o: ImageCliOptions, fn: (img: ResolvedImage) => Promise<T>): Promise<T> {
  const source = await openSource(ref, sourceOptions(o));
  try {
    const platform = platformOption(o);
    return await fn(await source.resolve(platform ? { platform } : {}));
  } finally {
    await source.close();
  }
}
