/**
 * The bytes of one captured file, in memory or in a spool file, shared by the hardlinks that
 * point to it (see capture.ts).
 */
import type { WriteStream } from 'node:fs';

/** A content freed after use was wanted again (a hardlink to it, a late read): the caller takes another way. */
export class ContentDropped extends Error {}

/** The content of one captured file, shared by the hardlinks that point to it. */
export class Content {
  readonly size: number;
  refs = 0;
  written = 0;
  dead = false;
  /** The bytes were freed after use while the node stays (Captures.dropBytes). */
  dropped = false;
  mem: Buffer | null = null;
  file: string | null = null;
  out: WriteStream | null = null;
  /** Settles when the spool file is closed (immediately for memory). */
  closed: Promise<void> = Promise.resolve();

  constructor(size: number) {
    this.size = size;
  }

  /** Store a chunk; false means wait for the spool file's 'drain'. */
  write(chunk: Buffer): boolean {
    const room = this.size - this.written;
    if (room <= 0) return true;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.written += part.length;
    if (this.dead) return true;
    if (this.mem) {
      part.copy(this.mem, this.written - part.length);
      return true;
    }
    return this.out ? this.out.write(part) : true;
  }

  finish(): void {
    this.out?.end();
  }
}
