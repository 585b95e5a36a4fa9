/**
 * Captured file contents: analyzers name the files they want (exact paths, a predicate, leading
 * magic bytes, marker bytes found anywhere in the content) and get their final contents from the
 * same pass that builds the tree. Small files stay in memory; larger ones are spooled to a private scratch directory under names made from a
 * counter, never from image paths. Everything captured counts against maxCapturedBytes.
 */
import { createReadStream, createWriteStream, mkdtempSync, type WriteStream } from 'node:fs';
import { readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LadingError } from '../errors.js';
import { Content, ContentDropped } from './content.js';
import type { Limits } from './limits.js';
import { Job } from './capture-job.js';
import { MarkerScan } from './markers.js';
import { normalisePath, compareBytes } from './paths.js';
import { recordOf, type FileRecord, type Node, type Tree } from './tree.js';

export interface CaptureRequest {
  id: string;
  /** Exact absolute paths. */
  paths?: string[];
  /** A predicate on the absolute path (a name pattern, a directory). */
  match?: (path: string) => boolean;
  /**
   * The file must start with one of these byte strings (e.g. `\x7fELF`). With neither `paths` nor
   * `match`, every regular file is looked at; otherwise only those the path selects.
   */
  magic?: Buffer[];
  /**
   * The content must contain one of these byte strings somewhere (a build-info marker, a section
   * name). The file is searched as it streams by and kept only when one was seen. Judged after the
   * other conditions and maxBytes, so a file they turn away is never searched.
   */
  contains?: Buffer[];
  /** Files larger than this are not captured; they are listed by `skipped()` instead. */
  maxBytes?: number;
  /** Only files with no NUL byte in their first TEXT_PROBE bytes (text, not binary). */
  text?: boolean;
}

/** How many leading bytes decide whether a file is text (as the secrets scanner has always judged). */
export const TEXT_PROBE = 8192;

export interface CapturedFile {
  path: string;
  record: FileRecord;
  size: number;
  /** The whole content. Buffers of small files are shared: do not modify them. */
  read(): Promise<Buffer>;
  stream(): Readable;
}

export interface SkippedCapture {
  path: string;
  size: number;
  reason: string;
}

/** Per-node bookkeeping, kept on tree nodes that some request selected. */
export interface NodeCapture {
  content: Content | null;
  /** Indices of the requests this node's content is captured for. */
  hits: number[];
  /** Requests that selected the node but could not have it: [request index, reason]. */
  skips: [number, string][] | null;
  /** The first bytes of the content, when it was looked at (for hardlinks and magic). */
  head: Buffer | null;
  /** The entry's content is being read and its head, or whether it holds a marker, is not known yet. */
  job: Job | null;
  /** Which of the Captures' markers the content holds (by index), when it was searched for them. */
  found: readonly boolean[] | null;
}

/** What a judgement knows of the markers in a content: `pending` while it is still being read. */
export type Found = readonly boolean[] | null | 'pending';

interface CompiledRequest {
  index: number;
  id: string;
  match: ((path: string) => boolean) | null;
  magic: Buffer[] | null;
  maxBytes: number;
  text: boolean;
  /** Indices into Captures.markers: one of them must be in the content. */
  contains: number[] | null;
}

export { Content, ContentDropped, Job };

const EMPTY: readonly number[] = Object.freeze([]);

export interface Judgement {
  hits: number[];
  /** Requests that take the content if it holds one of their markers (known at its end). */
  pending: number[];
  skips: [number, string][] | null;
}

export class Captures {
  /** How many leading bytes are read before a file's requests are settled (magic strings, the text probe). */
  readonly maxMagic: number;
  /** The longest magic string: what a node keeps of its head. */
  private readonly magicLength: number;
  private readonly requests: CompiledRequest[];
  private readonly byPath = new Map<string, number[]>();
  private readonly matchers: CompiledRequest[] = [];
  private readonly unfiltered: number[] = [];
  /** Every distinct `contains` marker of the requests. */
  private readonly markers: Buffer[] = [];
  private live = 0;
  private counter = 0;
  private scratch: string | null = null;
  private readonly pending = new Set<Promise<void>>();
  private readonly open = new Set<WriteStream>();
  private readonly contents = new Set<Content>();
  private disposed = false;
  private error: unknown = null;
  /** Told about a failure that happens outside the parser's call stack (spool errors, limits). */
  onError: (e: unknown) => void = () => {};
  /** Told when a file's whole content has been read (a spooled one may still be closing: wait for `content.closed`). */
  onComplete: ((node: Node, content: Content) => void) | null = null;

  constructor(requests: CaptureRequest[], private readonly limits: Limits, private readonly scratchParent: string = tmpdir()) {
    const ids = new Set<string>();
    this.requests = requests.map((r, index) => {
      if (ids.has(r.id)) throw new LadingError('INTERNAL', `two capture requests have the id "${r.id}"`);
      ids.add(r.id);
      const c: CompiledRequest = {
        index, id: r.id, match: r.match ?? null,
        // An empty magic string matches every file, so the request then has no magic condition.
        magic: r.magic && r.magic.length > 0 && r.magic.every((m) => m.length > 0) ? r.magic : null,
        maxBytes: r.maxBytes ?? Number.POSITIVE_INFINITY,
        text: r.text === true,
        // As with magic, an empty marker is in every file: then there is no condition.
        contains: r.contains && r.contains.length > 0 && r.contains.every((m) => m.length > 0) ? r.contains.map((m) => this.markerIndex(m)) : null,
      };
      for (const p of r.paths ?? []) {
        const key = normalisePath(p);
        const list = this.byPath.get(key);
        if (list === undefined) this.byPath.set(key, [index]);
        else if (!list.includes(index)) list.push(index);
      }
      if (c.match) this.matchers.push(c);
      if (!c.match && !r.paths) this.unfiltered.push(index);
      return c;
    });
    this.magicLength = Math.max(0, ...this.requests.flatMap((r) => (r.magic ?? []).map((m) => m.length)));
    this.maxMagic = Math.max(this.magicLength, ...this.requests.filter((r) => r.text === true).map(() => TEXT_PROBE));
  }

  private markerIndex(m: Buffer): number {
    const i = this.markers.findIndex((x) => x.equals(m));
    return i >= 0 ? i : this.markers.push(Buffer.from(m)) - 1;
  }

  /** A search for every marker, for one content. */
  markerScan(): MarkerScan {
    return new MarkerScan(this.markers);
  }

  /** Whether a content in which the search found `found` holds one of the request's markers. */
  holdsMarker(index: number, found: readonly boolean[]): boolean {
    return this.requests[index]!.contains?.some((m) => found[m] === true) ?? true;
  }

  get scratchDir(): string | null {
    return this.scratch;
  }

  fail(e: unknown): void {
    this.error ??= e;
    this.onError(e);
  }

  /** The requests whose path selection takes this path. */
  candidates(path: string): readonly number[] {
    let out: number[] | null = null;
    const exact = this.byPath.get(path);
    if (exact !== undefined) out = exact.slice();
    for (const r of this.matchers) {
      if (out !== null && out.includes(r.index)) continue;
      if (r.match!(path)) (out ??= []).push(r.index);
    }
    for (const i of this.unfiltered) (out ??= []).push(i);
    return out ?? EMPTY;
  }

  /**
   * A regular file's header. Returns the job that will read its content, or null when no
   * request wants it (its content is then skipped without being looked at).
   */
  file(node: Node, path: string, size: number): Job | null {
    const cands = this.candidates(path);
    if (cands.length === 0) return null;
    node.capture = { content: null, hits: [], skips: null, head: null, job: null, found: null };
    const job = new Job(this, node, cands, size);
    return job.start() ? job : null;
  }

  /** A hardlink: it shares its target's content, when the target's content was captured. */
  hardlink(link: Node, path: string, target: Node): void {
    const cands = this.candidates(path);
    if (cands.length === 0) return;
    const tcap = target.capture;
    if (tcap?.job) {
      tcap.job.link(link, cands);
      return;
    }
    const headKnown = this.maxMagic === 0 || (tcap !== null && tcap.head !== null);
    const j = this.judge(cands, tcap?.head ?? null, headKnown, link.size, tcap?.found ?? null);
    if (j.hits.length > 0 && tcap?.content?.dropped === true) throw new ContentDropped(`hardlink ${path}: its target's content was already analyzed and dropped`);
    this.assignLink(link, j, tcap?.content ?? null, tcap?.head ?? null, target);
    // A hardlink to this link is judged on the same content.
    link.capture!.found = tcap?.found ?? null;
  }

  assignLink(link: Node, j: Judgement, content: Content | null, head: Buffer | null, target: Node): void {
    let skips = j.skips;
    let hits = j.hits;
    if (hits.length > 0 && (content === null || content.dead)) {
      const why = `hardlink target ${link.linkTarget ?? target.name} was not captured (only files selected by a capture request are read)`;
      skips = [...(skips ?? []), ...hits.map((i): [number, string] => [i, why])];
      hits = [];
    }
    link.capture = { content: null, hits, skips, head, job: null, found: null };
    if (hits.length > 0) {
      link.capture.content = content;
      content!.refs++;
    }
  }

  /**
   * What a node keeps of its head for later hardlinks: the longest magic's bytes, and a NUL after
   * them when the text probe found one further on, so that magic and text are judged the same on
   * the kept head as on the whole probe, without keeping TEXT_PROBE bytes for every file.
   */
  keepHead(head: Buffer | null): Buffer | null {
    if (head === null) return head;
    // The head may be a view of a larger chunk: what is kept is always a copy of its own.
    if (head.length <= this.magicLength) return Buffer.from(head);
    const kept = head.subarray(0, this.magicLength);
    return kept.includes(0) || !head.includes(0) ? Buffer.from(kept) : Buffer.concat([kept, Buffer.alloc(1)]);
  }

  /**
   * Which candidates take content with this head and size, and which wait for the markers found in
   * it (`pending` while it is read). An unknown head fails magic, and an unsearched content its
   * markers, with a reason.
   */
  judge(cands: readonly number[], head: Buffer | null, headKnown: boolean, size: number, found: Found): Judgement {
    const hits: number[] = [];
    const pending: number[] = [];
    let skips: [number, string][] | null = null;
    for (const i of cands) {
      const r = this.requests[i]!;
      if (r.magic) {
        if (!headKnown || head === null) {
          (skips ??= []).push([i, 'hardlink target content was not read, so its magic bytes are unknown']);
          continue;
        }
        if (!r.magic.some((m) => head.length >= m.length && head.subarray(0, m.length).equals(m))) continue;
      }
      if (r.text) {
        if (!headKnown || head === null) {
          (skips ??= []).push([i, 'hardlink target content was not read, so whether it is text is unknown']);
          continue;
        }
        if (head.includes(0)) continue;
      }
      if (size > r.maxBytes) {
        (skips ??= []).push([i, `${size} bytes is larger than maxBytes (${r.maxBytes})`]);
        continue;
      }
      if (r.contains) {
        // An empty content holds no (non-empty) marker.
        if (size === 0) continue;
        if (found === 'pending') {
          pending.push(i);
          continue;
        }
        if (found === null) {
          (skips ??= []).push([i, 'hardlink target content was not searched for marker bytes']);
          continue;
        }
        if (!this.holdsMarker(i, found)) continue;
      }
      hits.push(i);
    }
    return { hits, pending, skips };
  }

  newContent(size: number): Content {
    const max = this.limits.maxCapturedBytes;
    if (this.live + size > max) {
      throw new LadingError('LIMIT_EXCEEDED', `captured file contents would exceed maxCapturedBytes (${max} bytes)`);
    }
    this.live += size;
    const c = new Content(size);
    this.contents.add(c);
    if (size <= this.limits.inMemoryCaptureBytes) {
      c.mem = Buffer.alloc(size);
      return c;
    }
    c.file = join(this.ensureScratch(), String(++this.counter));
    const out = createWriteStream(c.file, { flags: 'wx', mode: 0o600 });
    c.out = out;
    out.on('error', (e) => this.fail(new LadingError('INTERNAL', `cannot spool a captured file to ${c.file}: ${e.message}`, { cause: e })));
    this.open.add(out);
    c.closed = new Promise<void>((resolve) => out.once('close', () => {
      this.open.delete(out);
      resolve();
    }));
    this.track(c.closed);
    return c;
  }

  private ensureScratch(): string {
    this.scratch ??= mkdtempSync(join(this.scratchParent, 'lading-squash-'));
    return this.scratch;
  }

  private track(p: Promise<void>): void {
    const q = p.catch(() => {}).finally(() => this.pending.delete(q));
    this.pending.add(q);
  }

  isTextRequest(index: number): boolean {
    return this.requests[index]?.text === true;
  }

  /**
   * Free a content's bytes while its node stays (its results were taken as it was read). Reading
   * it later, or hardlinking a wanted path to it, throws ContentDropped.
   */
  dropBytes(c: Content): void {
    if (c.dead || c.dropped) return;
    c.dropped = true;
    c.mem = null;
    if (c.file !== null) {
      const file = c.file;
      c.file = null;
      this.track(c.closed.then(() => unlink(file)));
    }
  }

  /** A node left the tree: drop its hold on captured content. */
  release(node: Node): void {
    const cap = node.capture;
    if (cap === null || cap.content === null) return;
    const c = cap.content;
    cap.content = null;
    if (--c.refs > 0) return;
    this.discard(c);
  }

  /** Free a content no node holds (its spool file, if any, is removed once closed). */
  discard(c: Content): void {
    if (c.dead) return;
    c.dead = true;
    this.live -= c.size;
    c.mem = null;
    this.contents.delete(c);
    if (c.file !== null) {
      const file = c.file;
      this.track(c.closed.then(() => unlink(file)));
    }
  }

  /** Wait until every spool file is written and every dropped one removed. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    if (this.error !== null) throw this.error;
  }

  /** Remove the scratch directory (stopping spool writes still under way); captured contents can no longer be read. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const out of this.open) out.destroy();
    for (const c of this.contents) c.mem = null;
    this.contents.clear();
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    if (this.scratch !== null) await rm(this.scratch, { recursive: true, force: true });
  }

  /** The final captures, per request id, from what is left in the tree. */
  collect(tree: Tree): { captured: Map<string, CapturedFile[]>; skipped: Map<string, SkippedCapture[]> } {
    const captured = new Map<string, CapturedFile[]>(this.requests.map((r) => [r.id, []]));
    const skipped = new Map<string, SkippedCapture[]>(this.requests.map((r) => [r.id, []]));
    for (const [node, path] of tree.walk()) {
      const cap = node.capture;
      if (cap === null) continue;
      if (cap.content !== null) {
        const file = this.capturedFile(node, path, cap.content);
        for (const i of cap.hits) captured.get(this.requests[i]!.id)!.push(file);
      }
      for (const [i, reason] of cap.skips ?? []) skipped.get(this.requests[i]!.id)!.push({ path, size: node.size, reason });
    }
    for (const list of captured.values()) list.sort((a, b) => compareBytes(a.path, b.path));
    for (const list of skipped.values()) list.sort((a, b) => compareBytes(a.path, b.path));
    return { captured, skipped };
  }

  private capturedFile(node: Node, path: string, c: Content): CapturedFile {
    const check = (): void => {
      if (this.disposed) throw new LadingError('INTERNAL', `captured content of ${path} was read after the squash result was disposed`);
    };
    return {
      path,
      record: recordOf(node, path),
      size: c.size,
      read: async () => {
        check();
        if (c.dropped) throw new ContentDropped(`captured content of ${path} was dropped`);
        return c.mem ?? readFile(c.file!);
      },
      stream: () => {
        check();
        if (c.dropped) throw new ContentDropped(`captured content of ${path} was dropped`);
        return c.mem ? Readable.from([c.mem], { objectMode: false }) : createReadStream(c.file!);
      },
    };
  }
}
