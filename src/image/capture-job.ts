/**
 * Reading one regular file's content from its tar entry for the capture requests that selected it
 * (see capture.ts): its head decides magic and text; its marker search, at the end, `contains`.
 */
import type { ReadEntry } from 'tar/read-entry';
import type { Captures, Judgement } from './capture.js';
import type { Content } from './content.js';
import type { MarkerScan } from './markers.js';
import type { Node } from './tree.js';

/**
 * How much of a file that only marker-waiting requests want is held as the chunks it came in (no
 * copy, no spool file) before it is stored as a capture anyway while the search goes on.
 */
const HOLD_BYTES = 16 * 1024 * 1024;

/** The stream surface of a tar entry that a job uses. */
type EntryStream = Pick<ReadEntry, 'on' | 'pause' | 'resume'>;

/** Reading one regular file's content from its tar entry. */
export class Job {
  private decided = false;
  private held: Buffer[] = [];
  private heldBytes = 0;
  content: Content | null = null;
  /** Hardlinks made while the head was unknown: [link node, its candidate requests]. */
  readonly dependents: [Node, readonly number[]][] = [];
  /** The search for markers, while some request waits on it. */
  private scan: MarkerScan | null = null;
  /** Requests whose other conditions passed and that wait for the end of the content: [node, request indices]. */
  private readonly waiting: [Node, number[]][] = [];
  /** The nodes sharing this content (the file and its hardlinks), told what the search found. */
  private readonly sharers: Node[] = [];

  constructor(
    private readonly store: Captures,
    private readonly node: Node,
    private readonly candidates: readonly number[],
    private readonly size: number,
  ) {}

  /** At header time. Returns whether the entry's content must be read. */
  start(): boolean {
    this.node.capture!.job = this;
    if (this.size > 0 && this.store.maxMagic > 0) return true;
    this.decide(this.store.maxMagic > 0 ? Buffer.alloc(0) : null);
    if ((this.content !== null || this.scan !== null) && this.size > 0) return true;
    this.settle();
    return false;
  }

  attach(entry: EntryStream): void {
    entry.on('data', (chunk: Buffer) => {
      try {
        this.data(chunk, entry);
      } catch (e) {
        this.store.fail(e);
      }
    });
    entry.on('end', () => {
      try {
        if (!this.decided) this.decideFromHeld(entry);
        this.content?.finish();
        this.settle();
        if (this.content !== null && this.node.capture?.content === this.content && !this.node.removed) this.store.onComplete?.(this.node, this.content);
      } catch (e) {
        this.store.fail(e);
      }
    });
    entry.resume();
  }

  private data(chunk: Buffer, entry: EntryStream): void {
    if (this.decided) {
      if (this.content) this.push(chunk, entry);
      else if (this.scan) this.hold(chunk, entry);
      return;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes >= Math.min(this.size, this.store.maxMagic)) this.decideFromHeld(entry);
  }

  private decideFromHeld(entry: EntryStream): void {
    const n = Math.min(this.heldBytes, this.store.maxMagic);
    // Mostly the first chunk holds the whole head: a view of it, no copy (keepHead copies what it keeps).
    const first = this.held[0];
    let head: Buffer;
    if (first !== undefined && first.length >= n) head = first.subarray(0, n);
    else {
      head = Buffer.allocUnsafe(n);
      let at = 0;
      for (const c of this.held) {
        if (at >= n) break;
        at += c.copy(head, at, 0, Math.min(c.length, n - at));
      }
    }
    this.decide(head);
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    if (this.content) for (const c of held) this.push(c, entry);
    else if (this.scan) for (const c of held) this.hold(c, entry);
  }

  private push(chunk: Buffer, entry: EntryStream): void {
    this.scan?.push(chunk);
    this.write(chunk, entry);
  }

  private write(chunk: Buffer, entry: EntryStream | null): void {
    const content = this.content!;
    if (!content.write(chunk) && entry !== null) {
      entry.pause();
      content.out!.once('drain', () => entry.resume());
    }
  }

  /**
   * While only requests waiting on markers want the content, its chunks are kept as they came,
   * until a marker is seen or they grow past HOLD_BYTES: most such files have none and are then
   * never copied.
   */
  private hold(chunk: Buffer, entry: EntryStream): void {
    this.scan!.push(chunk);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes > HOLD_BYTES || this.scan!.found.includes(true)) this.materialize(entry);
  }

  /** Store the content as a capture from here on, the chunks held so far first. */
  private materialize(entry: EntryStream | null): void {
    this.content = this.store.newContent(this.size);
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const c of held) this.write(c, entry);
  }

  /** Settle which requests get this content, for the node and for hardlinks waiting on it. */
  private decide(head: Buffer | null): void {
    this.decided = true;
    const cap = this.node.capture!;
    cap.head = this.store.keepHead(head);
    const own = this.store.judge(this.candidates, head, true, this.size, 'pending');
    const links = this.dependents.filter(([link]) => !link.removed)
      .map(([link, cands]) => [link, this.store.judge(cands, head, true, this.size, 'pending')] as const);
    // Requests that take the content whatever it holds have it stored at once; those waiting on a
    // marker only have its chunks held (see hold).
    if ((own.hits.length > 0 && !this.node.removed) || links.some(([, j]) => j.hits.length > 0)) this.content = this.store.newContent(this.size);
    if ((own.pending.length > 0 && !this.node.removed) || links.some(([, j]) => j.pending.length > 0)) this.scan = this.store.markerScan();
    cap.skips = own.skips;
    this.sharers.push(this.node);
    if (own.hits.length > 0 && !this.node.removed && this.content) {
      cap.hits = own.hits;
      cap.content = this.content;
      this.content.refs++;
    }
    if (own.pending.length > 0 && !this.node.removed) this.waiting.push([this.node, own.pending]);
    for (const [link, j] of links) this.linkJudged(link, j);
  }

  /** A hardlink to this file, made before its content was all read. */
  link(link: Node, cands: readonly number[]): void {
    if (!this.decided) {
      this.dependents.push([link, cands]);
      return;
    }
    const cap = this.node.capture!;
    this.linkJudged(link, this.store.judge(cands, cap.head, true, link.size, this.scan ? 'pending' : null));
  }

  private linkJudged(link: Node, j: Judgement): void {
    if (j.hits.length > 0 && this.content === null && this.scan !== null) this.materialize(null);
    this.store.assignLink(link, j, this.content, this.node.capture!.head, this.node);
    // Until settled, a hardlink to this link waits here too.
    link.capture!.job = this;
    this.sharers.push(link);
    // Pending requests always come with a content (decide allocates one for them).
    if (j.pending.length > 0) this.waiting.push([link, j.pending]);
  }

  /** At the end of the content: the requests waiting on markers get it when one was seen; unwanted content is freed. */
  private settle(): void {
    for (const n of this.sharers) if (n.capture?.job === this) n.capture.job = null;
    this.node.capture!.job = null;
    const scan = this.scan;
    if (scan === null) return;
    this.scan = null;
    for (const n of this.sharers) if (n.capture) n.capture.found = scan.found;
    this.held = [];
    const content = this.content;
    // No marker was seen in a content only marker-waiting requests wanted: nothing was stored.
    if (content === null) return;
    for (const [n, pending] of this.waiting) {
      const cap = n.capture;
      const hits = pending.filter((i) => this.store.holdsMarker(i, scan.found));
      if (cap === null || n.removed || hits.length === 0) continue;
      cap.hits = [...cap.hits, ...hits].sort((a, b) => a - b);
      if (cap.content === null) {
        cap.content = content;
        content.refs++;
      }
    }
    if (content.refs === 0) this.store.discard(content);
  }
}
