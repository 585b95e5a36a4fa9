/**
 * How an analysis document is kept: its JSON, compressed with zstd (the native zstd-napi binding;
 * gzip when that does not load), gzip, or not at all, whichever the configuration asks, and kept
 * uncompressed when compressing would not make it smaller. The bytes say what they are (the gzip
 * and zstd magic numbers; anything else is the JSON itself), so every document ever written,
 * including the gzip ones of earlier versions, reads back without a column saying how.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { gunzipSync, gzipSync } from 'node:zlib';
import { decompress as fzstdDecompress } from 'fzstd';
import { compressionOfMagic } from '../../image/decompress.js';

export const COMPRESSIONS = ['zstd', 'gzip', 'none'] as const;
export type DocumentCompression = (typeof COMPRESSIONS)[number];

/** The default levels: zstd 6 is as fast as gzip 6 here and a fifth smaller (docs/configuration.md). */
export const DEFAULT_LEVEL: Record<DocumentCompression, number> = { zstd: 6, gzip: 6, none: 0 };

export interface CodecOptions {
  compression: DocumentCompression;
  /** zstd 1-19, gzip 1-9; default DEFAULT_LEVEL. */
  level?: number;
}

interface ZstdNapi {
  compress(data: Uint8Array, params?: { compressionLevel?: number }): Buffer;
  decompress(data: Uint8Array): Buffer;
}

const moduleRequire = createRequire(import.meta.url);
let native: ZstdNapi | null | undefined;

function zstdNapi(): ZstdNapi | null {
  if (native === undefined) {
    try {
      native = moduleRequire('zstd-napi') as ZstdNapi;
    } catch {
      native = null;
    }
  }
  return native;
}

/** The compression actually used for a configured one: zstd needs the native binding to write. */
export function effectiveCompression(c: DocumentCompression): DocumentCompression {
  return c === 'zstd' && !zstdNapi() ? 'gzip' : c;
}

function compress(json: Buffer, options: CodecOptions): Buffer {
  const kind = effectiveCompression(options.compression);
  if (kind === 'none') return json;
  const level = options.compression === kind && options.level !== undefined ? options.level : DEFAULT_LEVEL[kind];
  if (kind === 'gzip') return gzipSync(json, { level: Math.min(level, 9) });
  return zstdNapi()!.compress(json, { compressionLevel: level });
}

/** A document's stored bytes: its JSON compressed as configured, or the JSON when that is no smaller. */
export function encodeDocument(value: unknown, options: CodecOptions): Buffer {
  const json = Buffer.from(JSON.stringify(value));
  const packed = compress(json, options);
  return packed.length < json.length ? packed : json;
}

/** The JSON text of stored bytes (gzip, zstd or plain); throws the codec's error on corrupt bytes. */
export function decodeDocumentText(bytes: Buffer): string {
  switch (compressionOfMagic(bytes)) {
    case 'gzip':
      return gunzipSync(bytes).toString('utf8');
    case 'zstd': {
      const n = zstdNapi();
      return (n ? n.decompress(bytes) : Buffer.from(fzstdDecompress(bytes))).toString('utf8');
    }
    default:
      return bytes.toString('utf8');
  }
}

/** The value of stored bytes; throws on corrupt bytes or text that is not JSON. */
export function decodeDocument<T>(bytes: Buffer): T {
  return JSON.parse(decodeDocumentText(bytes)) as T;
}

/** What the stored bytes are, for status output. */
export function encodingOf(bytes: Buffer): DocumentCompression {
  return compressionOfMagic(bytes) === 'none' ? 'none' : (compressionOfMagic(bytes) as DocumentCompression);
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
