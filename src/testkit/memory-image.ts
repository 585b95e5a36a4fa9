/**
 * An in-memory ResolvedImage over a BuiltImage, for tests: blobs are served from memory in
 * chunks, as a registry or an archive would stream them.
 */
import { Readable } from 'node:stream';
import { LadingError } from '../errors.js';
import type { Descriptor, ImageOrigin, ResolvedImage } from '../image/types.js';
import type { BuiltImage } from './images.js';
import { sha256 } from './tar.js';

export interface MemoryImageOptions {
  /** Size of the chunks blobs are streamed in (default 64 KiB). */
  chunkSize?: number;
  origin?: Partial<ImageOrigin>;
}

export function memoryImage(built: BuiltImage, options: MemoryImageOptions = {}): ResolvedImage {
  const chunkSize = options.chunkSize ?? 64 * 1024;
  return {
    origin: { kind: 'oci-dir', input: 'memory', tags: [], ...options.origin },
    manifestDigest: built.manifestDigest,
    manifestMediaType: built.manifestMediaType,
    manifest: built.manifest,
    platform: { os: built.config.os, architecture: built.config.architecture },
    config: built.config,
    configDigest: built.configDigest,
    layers: built.manifest.layers.map((desc, i) => ({ ...desc, diffId: built.config.rootfs.diff_ids[i]! })),
    async openBlob(desc: Descriptor): Promise<Readable> {
      const blob = built.blobs.get(desc.digest);
      if (blob === undefined) throw new LadingError('NOT_FOUND', `blob ${desc.digest} is not in this image`);
      return Readable.from(chunks(blob, chunkSize), { objectMode: false });
    },
  };
}

function* chunks(blob: Buffer, size: number): Generator<Buffer> {
  for (let off = 0; off < blob.length; off += size) yield blob.subarray(off, off + size);
}

/**
 * A copy of `built` whose layer `index` is `blob`, with the descriptor's digest and size made to
 * match it (a blob that passes its digest check but is bad inside). `diffId` overrides the
 * config's diff_id for the layer; by default it is left as it was.
 */
export function withLayerBlob(built: BuiltImage, index: number, blob: Buffer, diffId?: string): BuiltImage {
  const old = built.manifest.layers[index];
  if (old === undefined) throw new Error(`no layer ${index}`);
  const desc: Descriptor = { ...old, digest: sha256(blob), size: blob.length };
  const layers = built.manifest.layers.map((l, i) => (i === index ? desc : l));
  const diffIds = built.config.rootfs.diff_ids.map((d, i) => (i === index && diffId !== undefined ? diffId : d));
  const blobs = new Map(built.blobs);
  blobs.set(desc.digest, blob);
  return {
    ...built,
    manifest: { ...built.manifest, layers },
    config: { ...built.config, rootfs: { ...built.config.rootfs, diff_ids: diffIds } },
    layers: built.layers.map((l, i) => (i === index ? { ...l, desc, blob } : l)),
    blobs,
  };
}
