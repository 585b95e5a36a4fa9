/**
 * One layer of an image as a verified, uncompressed tar stream. The raw blob is hashed and
 * counted against its descriptor (a blob longer than declared is cut off at once), compression
 * is told by the magic bytes (the media type only breaks ties and earns a warning when it
 * disagrees), and the uncompressed bytes are hashed against the config's diff_id and counted
 * against maxUncompressedBytes. A failed check at the end of the stream is an error of the
 * stream, so a consumer never finishes on a bad blob.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { LadingError } from '../errors.js';
import {
  compressionOfMagic, compressionOfMediaType, decompressChunks, DecompressLimitError,
  type Compression, type ZstdImpl,
} from './decompress.js';
import { gunzipThreadAvailable, ThreadedGunzip } from './gunzip-thread.js';
import type { Limits } from './limits.js';
import type { LayerDescriptor, ResolvedImage } from './types.js';

export interface LayerOptions {
  signal?: AbortSignal;
  /** Uncompressed bytes already read from earlier layers (maxUncompressedBytes is for the whole image). */
  priorUncompressedBytes?: number;
  onWarning?(message: string): void;
  /** Raw (compressed) bytes of this layer read so far. */
  onProgress?(compressedBytes: number): void;
  /** Inflate gzip on this thread, not on the worker thread (tests). */
  inThread?: boolean;
  /** Force a zstd decoder (tests); by default the native one when it loads. */
  zstd?: ZstdImpl;
}

export interface LayerStats {
  index: number;
  digest: string;
  diffId: string;
  mediaType: string;
  compression: Compression;
  compressedBytes: number;
  uncompressedBytes: number;
}

function hashFor(digest: string, what: string): { alg: string; hash: Hash } {
  const alg = digest.slice(0, digest.indexOf(':'));
  if (alg !== 'sha256' && alg !== 'sha512') {
    throw new LadingError('UNSUPPORTED', `${what}: unsupported digest algorithm in "${digest}"`);
  }
  return { alg, hash: createHash(alg) };
}

function isAbort(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

/** Reads a raw blob once, in order, checking its size as it goes and its digest at the end. */
class RawReader {
  bytes = 0;
  done = false;
  verified = false;
  sourceError: unknown = undefined;
  private readonly it: AsyncIterator<unknown>;
  private readonly hash: Hash;
  private readonly alg: string;
  private readonly peeked: Buffer[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    blob: Readable,
    private readonly desc: LayerDescriptor,
    private readonly label: string,
    private readonly options: LayerOptions,
  ) {
    this.it = blob[Symbol.asyncIterator]();
    ({ alg: this.alg, hash: this.hash } = hashFor(desc.digest, label));
  }

  /** The next raw chunk, or null at the end (after the size and digest were checked). Calls are serialised. */
  next(): Promise<Buffer | null> {
    return this.serial(() => this.peeked.shift() ?? this.read());
  }

  private serial<T>(fn: () => T | Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => {});
    return p;
  }

  private async read(): Promise<Buffer | null> {
    if (this.done) return null;
    let r: IteratorResult<unknown>;
    try {
      this.options.signal?.throwIfAborted();
      r = await this.it.next();
    } catch (e) {
      this.done = true;
      this.sourceError = e;
      throw e;
    }
    if (r.done) {
      this.done = true;
      this.verify();
      return null;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    this.bytes += chunk.length;
    if (this.bytes > this.desc.size && this.desc.synthetic !== true) {
      this.done = true;
      this.close();
      throw new LadingError('DIGEST_MISMATCH', `${this.label}: the blob is longer than the ${this.desc.size} bytes its descriptor declares`);
    }
    this.hash.update(chunk);
    this.options.onProgress?.(this.bytes);
    return chunk;
  }

  private verify(): void {
    if (this.desc.synthetic === true) {
      this.verified = true;
      return;
    }
    if (this.bytes !== this.desc.size) {
      throw new LadingError('DIGEST_MISMATCH', `${this.label}: the blob is ${this.bytes} bytes, but its descriptor declares ${this.desc.size}`);
    }
    const got = `${this.alg}:${this.hash.digest('hex')}`;
    if (got !== this.desc.digest.toLowerCase()) {
      throw new LadingError('DIGEST_MISMATCH', `${this.label}: blob digest mismatch: expected ${this.desc.digest}, got ${got}`);
    }
    this.verified = true;
  }

  /** The first `n` bytes (fewer for a shorter blob), kept to be read again. */
  async peek(n: number): Promise<Buffer> {
    let have = this.peeked.reduce((s, b) => s + b.length, 0);
    while (have < n && !this.done) {
      const c = await this.serial(() => this.read());
      if (c === null) break;
      this.peeked.push(c);
      have += c.length;
    }
    return Buffer.concat(this.peeked).subarray(0, n);
  }

  async *chunks(): AsyncGenerator<Buffer> {
    for (let c = await this.next(); c !== null; c = await this.next()) yield c;
  }

  /** Read to the end: throws if the blob fails its checks. */
  async rest(): Promise<void> {
    while ((await this.next()) !== null);
  }

  /** After something downstream failed: read the rest of the blob and return its mismatch, if it has one. */
  async mismatch(): Promise<LadingError | undefined> {
    if (this.verified || this.sourceError !== undefined) return undefined;
    try {
      await this.rest();
      return undefined;
    } catch (e) {
      return e instanceof LadingError && e.code === 'DIGEST_MISMATCH' ? e : undefined;
    }
  }

  close(): void {
    this.it.return?.().catch(() => {});
  }
}

/** A layer being read: iterate `chunks()` once; call `close()` when done, whatever happened. */
export class LayerReader {
  readonly stats: LayerStats;
  readonly label: string;
  private readonly diff: { alg: string; hash: Hash };

  private constructor(
    private readonly desc: LayerDescriptor,
    index: number,
    private readonly raw: RawReader,
    private readonly limits: Limits,
    private readonly options: LayerOptions,
  ) {
    this.label = `layer ${index} (${desc.digest})`;
    this.stats = {
      index, digest: desc.digest, diffId: desc.diffId, mediaType: desc.mediaType,
      compression: 'none', compressedBytes: 0, uncompressedBytes: 0,
    };
    this.diff = hashFor(desc.diffId, `${this.label}: diff_id`);
  }

  static async open(image: ResolvedImage, index: number, limits: Limits, options: LayerOptions = {}): Promise<LayerReader> {
    const desc = image.layers[index];
    if (desc === undefined) throw new LadingError('BAD_INPUT', `the image has no layer ${index} (it has ${image.layers.length})`);
    const label = `layer ${index} (${desc.digest})`;
    hashFor(desc.digest, label);
    hashFor(desc.diffId, `${label}: diff_id`);
    options.signal?.throwIfAborted();
    const blob = await image.openBlob(desc, options.onWarning ? { onWarning: options.onWarning } : {});
    return new LayerReader(desc, index, new RawReader(blob, desc, label, options), limits, options);
  }

  /** The uncompressed tar bytes, verified; errors name the layer. */
  async *chunks(): AsyncGenerator<Buffer> {
    const max = this.limits.maxUncompressedBytes;
    const prior = this.options.priorUncompressedBytes ?? 0;
    let diffDigest: string | null = null;
    try {
      const head = await this.raw.peek(4);
      const byBytes = compressionOfMagic(head);
      const byType = compressionOfMediaType(this.desc.mediaType);
      if (byType !== undefined && byType !== byBytes) {
        this.options.onWarning?.(`${this.label}: the media type ${this.desc.mediaType} says ${byType === 'none' ? 'uncompressed' : byType}, `
          + `but the content is ${byBytes === 'none' ? 'not compressed' : byBytes}; reading it as the content says`);
      }
      this.stats.compression = byBytes;
      // gzip is inflated and its diff_id hashed on a worker thread when one can run (see gunzip-thread.ts).
      const threaded = byBytes === 'gzip' && this.options.inThread !== true && gunzipThreadAvailable()
        ? new ThreadedGunzip(this.raw.chunks(), this.diff.alg) : null;
      for await (const chunk of threaded ? threaded.chunks() : decompressChunks(byBytes, this.raw.chunks(), this.options.zstd)) {
        this.stats.compressedBytes = this.raw.bytes;
        this.stats.uncompressedBytes += chunk.length;
        if (prior + this.stats.uncompressedBytes > max) {
          throw new LadingError('LIMIT_EXCEEDED', `${this.label}: the image's uncompressed layers exceed maxUncompressedBytes (${max} bytes)`);
        }
        this.checkRatio();
        if (!threaded) this.diff.hash.update(chunk);
        yield chunk;
      }
      if (threaded) diffDigest = threaded.digest;
      // Bytes after the end of the compressed stream still belong to the blob and its digest.
      await this.raw.rest();
      this.stats.compressedBytes = this.raw.bytes;
    } catch (e) {
      throw await this.failure(e);
    }
    const got = `${this.diff.alg}:${diffDigest ?? this.diff.hash.digest('hex')}`;
    if (got !== this.desc.diffId.toLowerCase() && this.desc.synthetic !== true) {
      throw new LadingError('DIGEST_MISMATCH', `${this.label}: the uncompressed content has digest ${got}, but the image config's diff_id is ${this.desc.diffId}`);
    }
  }

  /** A decompression bomb: past `ratioCheckAfterBytes`, the layer may not expand more than `maxCompressionRatio` times. */
  private checkRatio(): void {
    const { maxCompressionRatio, ratioCheckAfterBytes } = this.limits;
    const out = this.stats.uncompressedBytes;
    if (this.stats.compression === 'none' || out <= ratioCheckAfterBytes) return;
    const ratio = out / Math.max(1, this.raw.bytes);
    if (ratio > maxCompressionRatio) {
      throw new LadingError('LIMIT_EXCEEDED', `${this.label}: looks like a decompression bomb: ${out} bytes from ${this.raw.bytes} compressed `
        + `(${Math.round(ratio)}:1, over maxCompressionRatio ${maxCompressionRatio}:1 after ${ratioCheckAfterBytes} bytes)`);
    }
  }

  private async failure(e: unknown): Promise<unknown> {
    if (e instanceof LadingError || isAbort(e) || e === this.raw.sourceError) return e;
    if (e instanceof DecompressLimitError) return new LadingError('LIMIT_EXCEEDED', `${this.label}: ${e.message}`);
    // A damaged blob should say so: read the rest of it and report a digest mismatch first.
    const mismatch = await this.raw.mismatch();
    if (mismatch) return mismatch;
    return new LadingError('BAD_INPUT', `${this.label} is truncated or corrupt: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }

  /**
   * The error to report when the consumer of `chunks()` failed with `e`: when the tar was bad and
   * the blob was not yet verified, a digest mismatch in the rest of the blob is the real cause.
   */
  async explain(e: unknown): Promise<unknown> {
    if (e instanceof LadingError && e.code === 'BAD_INPUT') return (await this.raw.mismatch()) ?? e;
    return e;
  }

  close(): void {
    this.raw.close();
  }
}

/**
 * The uncompressed tar stream of layer `index`, verified against its digest, size and diff_id.
 * Open failures reject the promise; verification failures are errors of the stream.
 */
export async function openLayer(image: ResolvedImage, index: number, limits: Limits, options: LayerOptions | AbortSignal = {}): Promise<Readable> {
  const opts: LayerOptions = options instanceof AbortSignal ? { signal: options } : options;
  const reader = await LayerReader.open(image, index, limits, opts);
  async function* run(): AsyncGenerator<Buffer> {
    try {
      yield* reader.chunks();
    } finally {
      reader.close();
    }
  }
  return Readable.from(run(), { objectMode: false });
}
