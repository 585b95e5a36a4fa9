/**
 * One cache entry on disk: a header with the payload's length and sha256, then the payload (a
 * JSON part and binary blobs). A truncated or altered file fails the check and is never served.
 */
import { createHash } from 'node:crypto';

const MAGIC = Buffer.from('LDC1');
const HEADER = MAGIC.length + 8 + 32;

export interface EntryData {
  meta: unknown;
  blobs: Buffer[];
}

export function encodeEntry(data: EntryData): Buffer[] {
  const json = Buffer.from(JSON.stringify({ m: data.meta, b: data.blobs.map((b) => b.length) }));
  const jlen = Buffer.alloc(4);
  jlen.writeUInt32BE(json.length);
  const payload = [jlen, json, ...data.blobs];
  const hash = createHash('sha256');
  let length = 0;
  for (const p of payload) {
    hash.update(p);
    length += p.length;
  }
  const head = Buffer.alloc(HEADER);
  MAGIC.copy(head, 0);
  head.writeBigUInt64BE(BigInt(length), MAGIC.length);
  hash.digest().copy(head, MAGIC.length + 8);
  return [head, ...payload];
}

/** The entry, or undefined when the bytes are not a whole, intact entry. */
export function decodeEntry(buf: Buffer): EntryData | undefined {
  if (buf.length < HEADER || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const length = Number(buf.readBigUInt64BE(MAGIC.length));
  if (buf.length !== HEADER + length) return undefined;
  const payload = buf.subarray(HEADER);
  if (!createHash('sha256').update(payload).digest().equals(buf.subarray(MAGIC.length + 8, HEADER))) return undefined;
  const jlen = payload.readUInt32BE(0);
  if (4 + jlen > payload.length) return undefined;
  let parsed: { m: unknown; b: number[] };
  try {
    parsed = JSON.parse(payload.subarray(4, 4 + jlen).toString('utf8')) as { m: unknown; b: number[] };
  } catch {
    return undefined;
  }
  const blobs: Buffer[] = [];
  let at = 4 + jlen;
  for (const n of parsed.b) {
    if (at + n > payload.length) return undefined;
    blobs.push(payload.subarray(at, at + n));
    at += n;
  }
  return at === payload.length ? { meta: parsed.m, blobs } : undefined;
}
