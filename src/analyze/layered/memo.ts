/**
 * An image's assembled result, kept in the layer cache under a key made of every layer's record key
 * and every analyzer part key, in layer order. The key changes whenever any layer, the analyzer set
 * or an analyzer's version or options change, so a hit is exactly what assembling the layers would
 * give: the warm path then skips replaying the layers and running the whole-tree analyzers. What
 * depends on the run rather than the layers (the creation time, the image's source metadata, which
 * names the reference and tags used) is made fresh on every hit.
 */
import { createHash } from 'node:crypto';
import type { ResolvedImage } from '../../image/types.js';
import type { Sbom } from '../../sbom/model.js';
import { VERSION } from '../../version.js';
import type { LayerCache } from '../cache/store.js';
import { imageMetadata } from '../metadata.js';

/** The cache's bucket for image results (a pseudo layer id, beside `results`). */
export const IMAGE_BUCKET = 'images';

/** Bump when what an image entry holds changes shape or meaning. */
const MEMO_FORMAT = 1;

type Assembled = Omit<Sbom, 'schema' | 'createdAt' | 'tool' | 'source'>;

interface MemoEntry {
  /** Each layer's uncompressed size, null where it was not known. */
  sizes: (number | null)[];
  sbom: Assembled;
}

/** The key of an image's result: its layers' keys (each layer's record key, then its part keys) in order. */
export function imageKey(layerKeys: string[][]): string {
  return 'i-' + createHash('sha256').update(JSON.stringify([MEMO_FORMAT, VERSION, layerKeys])).digest('hex').slice(0, 48);
}

export async function readMemo(cache: LayerCache, key: string, img: ResolvedImage, dockerfile: string | undefined): Promise<Sbom | undefined> {
  const got = await cache.get(IMAGE_BUCKET, key);
  const entry = got?.meta as MemoEntry | undefined;
  if (!entry || !Array.isArray(entry.sizes) || typeof entry.sbom !== 'object' || entry.sbom === null) return undefined;
  return {
    schema: 'lading-sbom/1',
    createdAt: new Date().toISOString(),
    tool: { name: 'lading', version: VERSION },
    source: imageMetadata(img, entry.sizes.map((n) => n ?? undefined) as number[], dockerfile),
    ...entry.sbom,
  };
}

export async function writeMemo(cache: LayerCache, key: string, sbom: Sbom): Promise<void> {
  const { schema: _schema, createdAt: _createdAt, tool: _tool, source, ...rest } = sbom;
  const entry: MemoEntry = { sizes: source.layers.map((l) => l.uncompressedSize ?? null), sbom: rest };
  await cache.put(IMAGE_BUCKET, key, { meta: entry, blobs: [] });
}
