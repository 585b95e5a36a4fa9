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
import { attachNativeBody, readNativeFileModes, renderNativeBody } from '../../sbom/formats/native.js';
import { sortPackages } from '../../sbom/formats/common.js';
import { VERSION } from '../../version.js';
import type { LayerCache } from '../cache/store.js';
import { imageMetadata } from '../metadata.js';

/** The cache's bucket for image results (a pseudo layer id, beside `results`). */
export const IMAGE_BUCKET = 'images';

/** Bump when what an image entry holds changes shape or meaning. */
const MEMO_FORMAT = 4;

interface MemoMeta {
  /** Each layer's uncompressed size, null where it was not known. */
  sizes: (number | null)[];
  /** The body's keys (see SbomBody) in the analysis's order; all but warnings are parsed from the blob when first read. */
  keys: string[];
  /** The body's warnings, kept apart: every run prints them, and reading them must not parse the body. */
  warnings: string[];
  /** Where each package, in the analysis's own order, stands in the body (which lists them sorted). */
  packageOrder: number[];
}

/** The key of an image's result: its layers' keys (each layer's record key, then its part keys) in order. */
export function imageKey(layerKeys: string[][]): string {
  return 'i-' + createHash('sha256').update(JSON.stringify([MEMO_FORMAT, VERSION, layerKeys])).digest('hex').slice(0, 48);
}

function isMemoMeta(m: unknown): m is MemoMeta {
  const e = m as MemoMeta | undefined;
  return typeof e === 'object' && e !== null && Array.isArray(e.sizes) && Array.isArray(e.keys) && Array.isArray(e.warnings) && Array.isArray(e.packageOrder)
    && e.keys.every((k) => typeof k === 'string');
}

/**
 * The SBOM with its body parsed only when a body field is first read. Until then the body is the
 * stored bytes, which writeNative(Bytes) uses as they are: the warm `lading sbom -o json` neither
 * decodes, parses nor re-renders the analysis. Reading any body field parses it (and from then on writeNative renders
 * afresh, as the fields may change); changed warnings also make writeNative render afresh.
 */
function lazySbom(head: Pick<Sbom, 'schema' | 'createdAt' | 'tool' | 'source'>, meta: MemoMeta, blob: Buffer): Sbom {
  const sbom = { ...head } as Sbom;
  const fields = sbom as unknown as Record<string, unknown>;
  const lazy = meta.keys.filter((k) => k !== 'warnings');
  let parsed: Record<string, unknown> | undefined;
  const materialize = (): Record<string, unknown> => {
    if (parsed) return parsed;
    parsed = JSON.parse(blob.toString('utf8')) as Record<string, unknown>;
    const sorted = parsed.packages as unknown[];
    if (sorted.length !== meta.packageOrder.length) throw new Error('layer cache: image entry lists another number of packages than its order');
    parsed.packages = meta.packageOrder.map((i) => sorted[i]);
    if (Array.isArray(parsed.files)) readNativeFileModes(parsed.files);
    for (const k of lazy) Object.defineProperty(sbom, k, { value: parsed[k], writable: true, enumerable: true, configurable: true });
    return parsed;
  };
  // The analysis's key order (warnings in its place, a plain field), so JSON.stringify keeps it.
  for (const k of meta.keys) {
    if (k === 'warnings') {
      fields.warnings = meta.warnings;
      continue;
    }
    Object.defineProperty(sbom, k, {
      get: () => materialize()[k],
      set: (v: unknown) => {
        materialize();
        fields[k] = v;
      },
      enumerable: true,
      configurable: true,
    });
  }
  const warnings = JSON.stringify(meta.warnings);
  attachNativeBody(sbom, () => (parsed === undefined && JSON.stringify(sbom.warnings) === warnings ? blob : undefined));
  return sbom;
}

export async function readMemo(cache: LayerCache, key: string, img: ResolvedImage, dockerfile: string | undefined): Promise<Sbom | undefined> {
  const got = await cache.get(IMAGE_BUCKET, key);
  if (!got || got.blobs.length !== 1 || !isMemoMeta(got.meta)) return undefined;
  const head = {
    schema: 'lading-sbom/1' as const,
    createdAt: new Date().toISOString(),
    tool: { name: 'lading' as const, version: VERSION },
    source: imageMetadata(img, got.meta.sizes.map((n) => n ?? undefined) as number[], dockerfile),
  };
  return lazySbom(head, got.meta, got.blobs[0]!);
}

export async function writeMemo(cache: LayerCache, key: string, sbom: Sbom): Promise<void> {
  const { schema: _schema, createdAt: _createdAt, tool: _tool, source, ...body } = sbom;
  const sorted = sortPackages(body.packages);
  const at = new Map(sorted.map((p, i) => [p, i]));
  const meta: MemoMeta = {
    sizes: source.layers.map((l) => l.uncompressedSize ?? null),
    keys: Object.keys(body),
    warnings: body.warnings,
    packageOrder: body.packages.map((p) => at.get(p)!),
  };
  await cache.put(IMAGE_BUCKET, key, { meta, blobs: [Buffer.from(renderNativeBody({ ...body, packages: sorted }))] });
}
