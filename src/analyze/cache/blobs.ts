/**
 * Image configs in the layer cache, by digest (bucket `blobs`, one entry per blob): a warm
 * `lading sbom` of a tag then asks the registry for the manifest only. The entry's own checksum
 * catches a damaged file; the registry source also hashes what it gets against the digest.
 */
import type { BlobCache } from '../../image/types.js';
import type { LayerCache } from './store.js';

export const BLOB_BUCKET = 'blobs';

export function blobCacheOf(cache: LayerCache): BlobCache {
  return {
    async get(digest) {
      try {
        const entry = await cache.get(BLOB_BUCKET, digest);
        return entry?.blobs.length === 1 ? entry.blobs[0] : undefined;
      } catch {
        return undefined; // not a digest the cache can name a file after
      }
    },
    async put(digest, bytes) {
      try {
        await cache.put(BLOB_BUCKET, digest, { meta: null, blobs: [bytes] });
      } catch {
        // a cache that cannot be written only costs the next run a request
      }
    },
  };
}
