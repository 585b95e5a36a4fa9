/**
 * Uploads on disk: a request body spooled to a temporary file (bounded, so a large upload never sits
 * in memory), and the one field of a `multipart/form-data` body (RFC 7578) that a route reads, found
 * by streaming over that file: the parts between `--boundary` lines, each with its headers, the
 * field named by Content-Disposition's `name`, answered as the byte range of its content in the
 * file. Enough for the file uploads Anchore's API takes (`archive_file`).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { ApiError } from './errors.js';

/** A spooled upload: its file, size, and remove() (idempotent). */
export interface Spooled { path: string; size: number; remove(): Promise<void> }

/** Write a request body to a new temporary file, refusing (413) a body over `limit` bytes. */
export async function spoolUpload(body: Readable, limit: number): Promise<Spooled> {
  const dir = await mkdtemp(join(tmpdir(), 'lading-upload-'));
  const path = join(dir, 'body');
  const remove = () => rm(dir, { recursive: true, force: true });
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > limit) done(new ApiError(413, `the upload is larger than ${Math.floor(limit / 1024 / 1024)} MiB`));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(body, counter, createWriteStream(path, { mode: 0o600 }));
  } catch (e) {
    await remove();
    if (e instanceof ApiError) throw e;
    throw new ApiError(400, `invalid request: the upload was cut short (${(e as Error).message})`);
  }
  return { path, size, remove };
}

/** The boundary of a multipart content type. */
function boundaryOf(contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  if (!b || b.length > 200) throw new ApiError(400, 'invalid request: multipart/form-data without a boundary');
  return b;
}

const MAX_PART_HEADERS = 16 * 1024;

/** A forward-only byte search over a stream: absolute offsets, the bytes before the cursor dropped. */
class Scanner {
  private buf = Buffer.alloc(0);
  private base = 0;
  private at = 0;
  private readonly it: AsyncIterator<Buffer>;

  constructor(input: AsyncIterable<Buffer>) {
    this.it = input[Symbol.asyncIterator]();
  }

  private async more(): Promise<boolean> {
    const r = await this.it.next();
    if (r.done) return false;
    this.buf = Buffer.concat([this.buf.subarray(this.at), r.value]);
    this.base += this.at;
    this.at = 0;
    return true;
  }

  /** The absolute offset of needle at or after the cursor, or -1 at the end; keeps the bytes from the cursor when `retain`. */
  async find(needle: Buffer, retain = false): Promise<number> {
    for (;;) {
      const i = this.buf.indexOf(needle, this.at);
      if (i >= 0) return this.base + i;
      if (retain && this.buf.length - this.at > MAX_PART_HEADERS) throw new ApiError(400, 'invalid request: a multipart part has no end of headers');
      if (!retain) this.at = Math.max(this.at, this.buf.length - needle.length + 1);
      if (!(await this.more())) return -1;
    }
  }

  /** The next n bytes from the cursor (fewer at the end). */
  async peek(n: number): Promise<Buffer> {
    while (this.buf.length - this.at < n && (await this.more()));
    return this.buf.subarray(this.at, this.at + n);
  }

  /** Bytes [from, to) (absolute), which must still be held. */
  slice(from: number, to: number): Buffer {
    return this.buf.subarray(from - this.base, to - this.base);
  }

  seek(offset: number): void {
    this.at = offset - this.base;
  }
}

/** Content-Disposition's field name of a part's headers. */
function fieldName(headers: string): string | undefined {
  const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? '';
  return /;\s*name="([^"]*)"/i.exec(disposition)?.[1] ?? /;\s*name=([^;\s]+)/i.exec(disposition)?.[1];
}

/**
 * The byte range [start, end) of field `name`'s content in a spooled multipart body, or undefined
 * when the form has no such field; a clear 400 for a body that is not a well-formed form.
 */
export async function formFieldRange(contentType: string, file: string, name: string): Promise<{ start: number; end: number } | undefined> {
  const boundary = boundaryOf(contentType);
  const delimiter = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  const stream = createReadStream(file);
  try {
    const s = new Scanner(stream as AsyncIterable<Buffer>);
    let at = await s.find(delimiter);
    if (at < 0) throw new ApiError(400, 'invalid request: the multipart body has no part (its boundary does not occur)');
    for (;;) {
      const start = at + delimiter.length;
      s.seek(start);
      if ((await s.peek(2)).toString('latin1') === '--') return undefined; // the closing delimiter
      const headersEnd = await s.find(Buffer.from('\r\n\r\n'), true);
      if (headersEnd < 0) throw new ApiError(400, 'invalid request: a multipart part has no end of headers');
      const field = fieldName(s.slice(start, headersEnd).toString('utf8'));
      s.seek(headersEnd + 4);
      const end = await s.find(next);
      if (end < 0) throw new ApiError(400, 'invalid request: the multipart body is cut short (no closing boundary)');
      if (field === name) return { start: headersEnd + 4, end };
      at = end + 2;
    }
  } finally {
    stream.destroy();
  }
}
