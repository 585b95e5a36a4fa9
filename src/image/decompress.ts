/**
 * Layer decompression as pull-based async iterables, so a consumer that stops pulling (or a
 * byte limit that trips) stops the decompressor too: nothing runs ahead into unbounded memory.
 * gzip uses node's zlib; zstd uses the native zstd-napi binding when it loads, else fzstd.
 */
import { createRequire } from 'node:module';
import { pipeline, Readable, type TransformOptions } from 'node:stream';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { Decompress } from 'fzstd';

export type Compression = 'gzip' | 'zstd' | 'none';
export type ZstdImpl = 'native' | 'js';

/** What a layer media type says about compression; undefined when it does not say. */
export function compressionOfMediaType(mediaType: string): Compression | undefined {
  const mt = mediaType.toLowerCase();
  if (/[+.]gzip$/.test(mt)) return 'gzip';
  if (/[+.]zstd$/.test(mt)) return 'zstd';
  if (/[+.]tar$/.test(mt)) return 'none';
  return undefined;
}

/** What the first bytes say: gzip (1f 8b), zstd (a frame or a skippable frame), else plain tar. */
export function compressionOfMagic(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4) {
    const m = head.readUInt32LE(0);
    if (m === 0xfd2fb528 || (m & 0xfffffff0) === 0x184d2a50) return 'zstd';
  }
  return 'none';
}

/** A decompression bound was hit (the layers module turns it into LIMIT_EXCEEDED). */
export class DecompressLimitError extends Error {}

/** zstd frames needing a larger window are refused (zstd's own default limit, 2^27). */
export const MAX_ZSTD_WINDOW = 1 << 27;

interface NativeDCtx {
  decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number];
}

const moduleRequire = createRequire(import.meta.url);
let nativeDCtx: (new () => NativeDCtx) | null | undefined;

function loadNative(): (new () => NativeDCtx) | null {
  if (nativeDCtx === undefined) {
    try {
      nativeDCtx = (moduleRequire('zstd-napi/binding') as { DCtx: new () => NativeDCtx }).DCtx;
    } catch {
      nativeDCtx = null;
    }
  }
  return nativeDCtx;
}

/** Which zstd decoder is used when none is forced. */
export function zstdImpl(): ZstdImpl {
  return loadNative() ? 'native' : 'js';
}

export function decompressChunks(kind: Compression, input: AsyncIterable<Buffer>, zstd?: ZstdImpl): AsyncIterable<Buffer> {
  if (kind === 'gzip') return gunzip(input);
  if (kind === 'zstd') return (zstd ?? zstdImpl()) === 'native' ? zstdNative(input) : zstdJs(input);
  return input;
}

const READ_AHEAD = 1024 * 1024;

async function* gunzip(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  // The read-ahead lets zlib (on the thread pool) inflate the next chunks while this thread parses.
  const options: ZlibOptions & TransformOptions = { chunkSize: 1024 * 1024, readableHighWaterMark: READ_AHEAD, writableHighWaterMark: READ_AHEAD };
  const z = createGunzip(options);
  // Errors of either side reach the consumer through `z`, which the pipeline destroys with them.
  pipeline(Readable.from(input, { objectMode: false, highWaterMark: READ_AHEAD }), z, () => {});
  yield* chunksOf(z);
}

/**
 * The chunks of a stream as they were pushed. (A readable's own async iterator calls read(), which
 * concatenates everything buffered into one new Buffer: a copy of every byte.) At most a few chunks
 * wait here; beyond that the stream is paused, so backpressure reaches the producer.
 */
async function* chunksOf(stream: Readable): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  stream.on('data', (c: Buffer) => {
    queue.push(c);
    if (queue.length >= 8) stream.pause();
    poke();
  });
  stream.once('end', () => {
    ended = true;
    poke();
  });
  stream.once('error', (e) => {
    failure = e;
    poke();
  });
  stream.once('close', () => {
    if (!ended) failure ??= new Error('the stream closed before its end');
    poke();
  });
  try {
    for (;;) {
      const c = queue.shift();
      if (c !== undefined) {
        if (queue.length < 2 && stream.isPaused()) stream.resume();
        yield c;
        continue;
      }
      if (failure !== null) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stream.destroy();
  }
}

const NATIVE_OUT = 128 * 1024;

async function* zstdNative(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const DCtx = loadNative();
  if (!DCtx) throw new Error('the native zstd decoder (zstd-napi) is not available');
  const dctx = new DCtx();
  let inFrame = false;
  for await (const chunk of input) {
    let src: Buffer = chunk;
    for (;;) {
      // One call fills at most one output buffer, and the next call waits for the consumer.
      const dst = Buffer.allocUnsafe(NATIVE_OUT);
      const [ret, produced, consumed] = dctx.decompressStream(dst, src);
      src = src.subarray(consumed);
      if (produced > 0) yield dst.subarray(0, produced);
      if (src.length === 0 && (produced < dst.length || ret === 0)) {
        inFrame = ret !== 0;
        break;
      }
    }
  }
  if (inFrame) throw new Error('the zstd stream ends in the middle of a frame');
}

/** fzstd handles whole input pieces at a time, so they are kept small to bound the output of one push. */
const JS_SLICE = 1024;

async function* zstdJs(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const guard = new ZstdFrameGuard(MAX_ZSTD_WINDOW);
  const out: Uint8Array[] = [];
  const d = new Decompress((data) => {
    if (data.length > 0) out.push(data);
  });
  for await (const chunk of input) {
    for (let off = 0; off < chunk.length; off += JS_SLICE) {
      const piece = chunk.subarray(off, off + JS_SLICE);
      guard.feed(piece);
      d.push(piece);
      for (const o of out) yield Buffer.from(o.buffer, o.byteOffset, o.length);
      out.length = 0;
    }
  }
  guard.finish();
  d.push(new Uint8Array(0), true);
  for (const o of out) yield Buffer.from(o.buffer, o.byteOffset, o.length);
}

const S = { Magic: 0, SkipLen: 1, Fhd: 2, Header: 3, Block: 4, Skip: 5 } as const;
type S = (typeof S)[keyof typeof S];

/**
 * Walks the frame and block structure of a zstd stream without decoding it, to refuse frames
 * whose window would make the pure-JS decoder allocate too much, before it sees them.
 */
export class ZstdFrameGuard {
  private state: S = S.Magic;
  private need = 4;
  private got: number[] = [];
  private skip = 0;
  private after: S = S.Magic;
  private fhd = 0;
  private checksum = false;

  constructor(private readonly maxWindow: number) {}

  feed(buf: Uint8Array): void {
    let i = 0;
    while (i < buf.length) {
      if (this.state === S.Skip) {
        const n = Math.min(this.skip, buf.length - i);
        i += n;
        this.skip -= n;
        if (this.skip === 0) this.enter(this.after);
        continue;
      }
      this.got.push(buf[i++]!);
      if (this.got.length >= this.need) this.step();
    }
  }

  /** At the end of input: a frame must not be left open. */
  finish(): void {
    if (this.state !== S.Magic || this.got.length > 0) throw new Error('the zstd stream ends in the middle of a frame');
  }

  private enter(state: S, need = 0): void {
    this.state = state;
    this.got = [];
    this.need = state === S.Magic ? 4 : state === S.SkipLen ? 4 : state === S.Fhd ? 1 : state === S.Block ? 3 : need;
  }

  private goSkip(n: number, after: S): void {
    if (n === 0) return this.enter(after);
    this.skip = n;
    this.after = after;
    this.state = S.Skip;
    this.got = [];
  }

  private step(): void {
    const g = this.got;
    switch (this.state) {
      case S.Magic: {
        const m = (g[0]! | (g[1]! << 8) | (g[2]! << 16) | (g[3]! << 24)) >>> 0;
        if (m === 0xfd2fb528) return this.enter(S.Fhd);
        if ((m & 0xfffffff0) >>> 0 === 0x184d2a50) return this.enter(S.SkipLen);
        throw new Error('not zstd data (bad frame magic)');
      }
      case S.SkipLen:
        return this.goSkip((g[0]! | (g[1]! << 8) | (g[2]! << 16) | (g[3]! << 24)) >>> 0, S.Magic);
      case S.Fhd: {
        const fhd = (this.fhd = g[0]!);
        if (fhd & 0x08) throw new Error('corrupt zstd frame header (reserved bit set)');
        this.checksum = ((fhd >> 2) & 1) === 1;
        const single = (fhd >> 5) & 1;
        const fcsSize = [single ? 1 : 0, 2, 4, 8][fhd >> 6]!;
        const didSize = [0, 1, 2, 4][fhd & 3]!;
        return this.enter(S.Header, (single ? 0 : 1) + didSize + fcsSize);
      }
      case S.Header: {
        const fhd = this.fhd;
        const single = (fhd >> 5) & 1;
        let window: number;
        if (!single) {
          const wd = g[0]!;
          const base = 2 ** (10 + (wd >> 3));
          window = base + (base / 8) * (wd & 7);
        } else {
          const didSize = [0, 1, 2, 4][fhd & 3]!;
          const fcsSize = [1, 2, 4, 8][fhd >> 6]!;
          window = 0;
          for (let k = fcsSize - 1; k >= 0; k--) window = window * 256 + g[didSize + k]!;
          if (fcsSize === 2) window += 256;
        }
        if (window > this.maxWindow) {
          throw new DecompressLimitError(`a zstd frame needs a ${window}-byte window, over the limit of ${this.maxWindow}`);
        }
        return this.enter(S.Block);
      }
      case S.Block: {
        const b = g[0]! | (g[1]! << 8) | (g[2]! << 16);
        const last = b & 1;
        const type = (b >> 1) & 3;
        const size = b >>> 3;
        if (type === 3 || size > 128 * 1024) throw new Error('corrupt zstd block header');
        const payload = type === 1 ? 1 : size;
        if (!last) return this.goSkip(payload, S.Block);
        if (!this.checksum) return this.goSkip(payload, S.Magic);
        // Skip the payload, then the 4-byte checksum: both are plain skips back to back.
        return this.goSkip(payload + 4, S.Magic);
      }
      default:
        throw new Error('zstd guard: unexpected state');
    }
  }
}
