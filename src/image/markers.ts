/**
 * A rolling search for byte strings in content that arrives in chunks: a marker is found wherever
 * it lies, split across chunk boundaries included, while only the last (longest marker - 1) bytes
 * already seen are kept between chunks.
 */
export class MarkerScan {
  /** found[i]: markers[i] occurs in the bytes pushed so far. */
  readonly found: boolean[];
  private left: number;
  private tail: Buffer = Buffer.alloc(0);
  private readonly keep: number;

  constructor(private readonly markers: readonly Buffer[]) {
    if (markers.some((m) => m.length === 0)) throw new Error('MarkerScan: an empty marker');
    this.found = markers.map(() => false);
    this.left = markers.length;
    this.keep = Math.max(0, ...markers.map((m) => m.length - 1));
  }

  /** Every marker was seen: later bytes need not be looked at. */
  get done(): boolean {
    return this.left === 0;
  }

  push(chunk: Buffer): void {
    if (this.left === 0 || chunk.length === 0) return;
    const keep = this.keep;
    // The seam: the previous bytes' tail followed by this chunk's first bytes, for a marker split
    // between them (one lying wholly on either side is found there as well, which is harmless).
    if (this.tail.length > 0) this.search(Buffer.concat([this.tail, chunk.subarray(0, keep)]));
    this.search(chunk);
    if (this.left === 0 || keep === 0) return;
    // A copy, so that a small tail does not keep a large chunk alive.
    this.tail = chunk.length >= keep
      ? Buffer.from(chunk.subarray(chunk.length - keep))
      : Buffer.from(Buffer.concat([this.tail, chunk]).subarray(-keep));
  }

  private search(buf: Buffer): void {
    for (let i = 0; i < this.markers.length; i++) {
      if (!this.found[i] && buf.indexOf(this.markers[i]!) >= 0) {
        this.found[i] = true;
        this.left--;
      }
    }
  }
}
