/**
 * The tar (.tar.gz) side of analysis archive files, streamed: an archive is read from a source that
 * can be opened as a stream (a spooled upload on disk, or bytes in memory), gunzipped on the fly
 * with a bound on what it expands to, and parsed by node-tar; every member is hashed as it passes
 * and only the members asked for are kept in memory. Anchore writes its `archive_manifest` last, so
 * the members worth keeping are chosen by name before the manifest is read. Hostile input (empty,
 * zip, zstd, broken gzip, not tar, too large expanded) is a BAD_INPUT naming the problem.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
// tar's parts by their own entry points: its main one is one file that also loads the packer and unpacker.
import { Parser } from 'tar/parse';
import type { ReadEntry } from 'tar/read-entry';
import { LadingError } from '../errors.js';
import { compressionOfMagic } from '../image/decompress.js';

/** The largest archive read, expanded. */
export const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;

/** Where an archive's bytes are: its first bytes (for the format) and a way to stream all of them. */
export interface ArchiveSource {
  head: Buffer;
  size: number;
  open(): Readable;
}

export function bufferSource(bytes: Buffer): ArchiveSource {
  return { head: bytes.subarray(0, 512), size: bytes.length, open: () => Readable.from([bytes]) };
}

/** Bytes [start, end) of a file (a spooled upload, or the archive_file part of a spooled form). */
export async function fileSource(path: string, start: number, end: number): Promise<ArchiveSource> {
  const head = Buffer.alloc(Math.min(512, Math.max(0, end - start)));
  const fh = await open(path, 'r');
  try {
    await fh.read(head, 0, head.length, start);
  } finally {
    await fh.close();
  }
  return { head, size: end - start, open: () => (end > start ? createReadStream(path, { start, end: end - 1 }) : Readable.from([])) };
}

export function bad(message: string): LadingError {
  return new LadingError('BAD_INPUT', `the analysis archive: ${message}`);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** One regular file as ustar: header, content, padding (member names here are short). */
export function tarMember(name: string, content: Buffer, mtime: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(content.length, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  const rest = content.length % 512;
  return Buffer.concat([h, content, Buffer.alloc(rest ? 512 - rest : 0)]);
}

/** What a pass over an archive found: every regular member's sha256, and the kept members' bytes. */
export interface TarScan {
  hashes: Map<string, string>;
  kept: Map<string, Buffer>;
}

/** The format check on the first bytes: the errors a wrong file gets before any streaming. */
function checkHead(src: ArchiveSource): boolean {
  if (src.size === 0) throw bad('the file is empty');
  if (src.head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) throw bad('this is a zip file; expected the tar.gz an analysis archive export writes');
  const kind = compressionOfMagic(src.head);
  if (kind === 'zstd') throw bad('zstd-compressed; expected a tar.gz');
  if (kind !== 'gzip' && src.size < 512) throw bad('not a tar archive (shorter than one tar header)');
  return kind === 'gzip';
}

/** The tar bytes of a source: gunzipped when it is gzip, never more than MAX_ARCHIVE_BYTES. */
async function* tarBytes(src: ArchiveSource, gzip: boolean): AsyncGenerator<Buffer> {
  const input = src.open();
  const stream = gzip ? input.pipe(createGunzip()) : input;
  if (gzip) input.on('error', (e) => stream.destroy(e));
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > MAX_ARCHIVE_BYTES) throw bad(`it expands to more than ${MAX_ARCHIVE_BYTES / 1024 / 1024} MiB`);
      yield chunk;
    }
  } catch (e) {
    if (e instanceof LadingError) throw e;
    if (gzip) throw bad(`not a readable gzip file (${(e as Error).message})`);
    throw e;
  } finally {
    input.destroy();
    stream.destroy();
  }
  if (total < 512) throw bad('not a tar archive (shorter than one tar header)');
}

/** The first of these events. */
function settled(emitter: NodeJS.EventEmitter, events: string[]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      for (const e of events) emitter.off(e, done);
      resolve();
    };
    for (const e of events) emitter.once(e, done);
  });
}

/**
 * One pass over a source's tar: every regular member hashed, those `keep` names kept (./ prefixes
 * dropped from names). A clear BAD_INPUT for anything that is not a readable (gzipped) tar.
 */
export async function scanTar(src: ArchiveSource, keep: (name: string) => boolean): Promise<TarScan> {
  const gzip = checkHead(src);
  const scan: TarScan = { hashes: new Map(), kept: new Map() };
  let failure: Error | undefined;
  const parser = new Parser({ strict: true, zstd: false, brotli: false, gzip: false });
  parser.on('entry', (entry: ReadEntry) => {
    if (entry.type !== 'File' && entry.type !== 'OldFile') {
      entry.resume();
      return;
    }
    const name = entry.path.replace(/^\.\//, '');
    const hash = createHash('sha256');
    const parts: Buffer[] | undefined = keep(name) ? [] : undefined;
    entry.on('data', (c: Buffer) => {
      hash.update(c);
      parts?.push(c);
    });
    entry.on('end', () => {
      scan.hashes.set(name, hash.digest('hex'));
      if (parts) scan.kept.set(name, Buffer.concat(parts));
    });
  });
  parser.on('error', (e: Error) => {
    failure ??= e;
  });
  parser.on('warn', (_code: string, message: string) => {
    failure ??= new Error(message);
  });
  const ended = settled(parser, ['end', 'close']);
  for await (const chunk of tarBytes(src, gzip)) {
    if (failure) break;
    if (!parser.write(chunk)) await settled(parser, ['drain', 'error', 'close']);
  }
  parser.end();
  await ended;
  if (failure) throw bad(`not a readable tar archive (${failure.message})`);
  if (!scan.hashes.size) throw bad('not a tar archive (no files in it)');
  return scan;
}

/** A member's bytes from a scan, checked against the sha256 the manifest names (when it names one). */
export function memberBytes(scan: TarScan, member: string, artifact: string, want: unknown): Buffer {
  const bytes = scan.kept.get(member);
  if (!bytes) throw bad(`artifact ${artifact} is listed in archive_manifest, but the archive has no member ${member}`);
  if (typeof want === 'string' && want.replace(/^sha256:/, '') !== scan.hashes.get(member)) {
    throw new LadingError('DIGEST_MISMATCH', `the analysis archive: member ${member} has sha256 ${sha256(bytes)}, but archive_manifest says ${want}`);
  }
  return bytes;
}
