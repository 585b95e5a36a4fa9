/**
 * The squashed file tree of an image. Nodes hang from their parent directory (so deleting a
 * subtree is one map deletion), carry their metadata and the layer that last wrote them, and know
 * nothing about tar. Records with path strings are made only when someone asks for them.
 */
import { compareBytes, HIGH_UNITS, parseImagePath, sortBytes } from './paths.js';
import { LadingError } from '../errors.js';
import type { NodeCapture } from './capture.js';

export type FileType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface FileRecord {
  /** Absolute and normalised: '/etc/passwd'. */
  path: string;
  type: FileType;
  /** Permission bits plus setuid, setgid and sticky. */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of content; for a hardlink, its target's size. */
  size: number;
  /** Modification time, seconds since the epoch. */
  mtime: number;
  /** A symlink's target as written in the layer, or a hardlink's normalised absolute target. */
  linkTarget?: string;
  /** Index of the layer that last wrote this path. */
  layer: number;
  devMajor?: number;
  devMinor?: number;
  /** Hex sha256 of the content (regular files and hardlinks), when digests were asked for. */
  sha256?: string;
}

/** The read side of a squashed tree, as analyzers see it. */
export interface FileTree {
  /** Number of paths, the root excluded. */
  readonly size: number;
  /** The record at exactly this path; symlinks are not followed. */
  get(path: string): FileRecord | undefined;
  has(path: string): boolean;
  /** The record this path leads to when symlinks are followed inside the image root (at most 40 hops). */
  resolve(path: string): FileRecord | undefined;
  /** Names in a directory (symlinks not followed), in byte order; undefined when not a directory. */
  readdir(path: string): string[] | undefined;
  /** Every record but the root's, sorted by path in UTF-8 byte order. */
  list(): FileRecord[];
}

export const MAX_SYMLINK_HOPS = 40;
/** Path components one resolution may visit through symlinks (a long target repeated 40 times is still bounded). */
export const MAX_RESOLVE_STEPS = 8192;
/** Components visited through symlinks over a whole image: hostile symlink mazes cannot make the squash hang. */
export const MAX_TOTAL_RESOLVE_STEPS = 50_000_000;

export class Node {
  readonly name: string;
  parent: Node | null;
  type: FileType;
  layer: number;
  children: Map<string, Node> | null;
  mode = 0;
  uid = 0;
  gid = 0;
  size = 0;
  mtime = 0;
  linkTarget: string | undefined = undefined;
  devMajor: number | undefined = undefined;
  devMinor: number | undefined = undefined;
  /** Hex sha256 of a regular file's content (and a hardlink's), when the squash computes digests. */
  sha256: string | undefined = undefined;
  /** Set when the node left the tree (replaced, whited out), while captures are tracked. */
  removed = false;
  /** The layer whose opaque marker or whiteout last pruned this directory (so it is not walked twice). */
  prunedAt = -1;
  /** Captured content and capture bookkeeping, when some request wanted this path. */
  capture: NodeCapture | null = null;

  constructor(name: string, parent: Node | null, type: FileType, layer: number) {
    this.name = name;
    this.parent = parent;
    this.type = type;
    this.layer = layer;
    this.children = type === 'dir' ? new Map() : null;
  }
}

export type ResolveFailure = 'missing' | 'not-a-directory' | 'symlink-loop';

/** Components parts[i..end) still to walk. */
interface Slice {
  parts: string[];
  i: number;
  end: number;
}

export function recordOf(node: Node, path: string): FileRecord {
  const r: FileRecord = { path, type: node.type, mode: node.mode, uid: node.uid, gid: node.gid, size: node.size, mtime: node.mtime, layer: node.layer };
  if (node.linkTarget !== undefined) r.linkTarget = node.linkTarget;
  if (node.devMajor !== undefined) r.devMajor = node.devMajor;
  if (node.devMinor !== undefined) r.devMinor = node.devMinor;
  if (node.sha256 !== undefined) r.sha256 = node.sha256;
  return r;
}

export class Tree implements FileTree {
  readonly root = new Node('', null, 'dir', 0);
  /** Called for every node of a removed subtree, when set (capture bookkeeping). */
  onDetach: ((node: Node) => void) | null = null;
  /** After resolveDir: whether a symlink was followed on the way. */
  followed = false;
  /** After a failed resolveDir: why, and the node where it failed (if any). */
  failure: ResolveFailure = 'missing';
  failedAt: Node | null = null;
  private frozen: { list: FileRecord[] } | null = null;
  private resolveSteps = 0;
  private readonly splitLinks = new WeakMap<Node, string[]>();

  constructor() {
    this.root.mode = 0o755;
  }

  /** No more changes: records may be cached from now on. */
  freeze(): void {
    this.frozen = { list: this.collect() };
  }

  // ---- building -------------------------------------------------------------------------

  /**
   * The directory named by the first `count` components, following symlinks chroot-style (an
   * absolute target starts at the image root, `..` stops at the root, at most 40 hops). Missing
   * directories are created (mode 0755, owner 0:0, stamped with `layer`) when `create` is set.
   * Returns null on failure, with `failure` and `failedAt` telling why.
   */
  resolveDir(parts: string[], count: number, create: boolean, layer: number): Node | null {
    this.followed = false;
    let cur = this.root;
    for (let i = 0; i < count; i++) {
      const name = parts[i]!;
      let child = cur.children!.get(name);
      if (child === undefined) {
        if (!create) return this.fail('missing', cur);
        child = this.implicitDir(cur, name, layer);
      } else if (child.type !== 'dir') {
        if (child.type !== 'symlink') return this.fail('not-a-directory', child);
        return this.follow(cur, child, { parts, i: i + 1, end: count }, create, layer);
      }
      cur = child;
    }
    return cur;
  }

  /** A symlink target split into components, once per symlink. */
  private linkParts(link: Node): string[] {
    let parts = this.splitLinks.get(link);
    if (parts === undefined) {
      parts = (link.linkTarget ?? '').split('/');
      this.splitLinks.set(link, parts);
    }
    return parts;
  }

  /**
   * Continue a resolution at a symlink. Pending components are kept as slices of their arrays
   * (the rest of the entry's path, then each link target), so a hop costs O(1), and every hop
   * and component counts against a per-path and a per-image budget.
   */
  private follow(dir: Node, link: Node, rest: Slice, create: boolean, layer: number): Node | null {
    this.followed = true;
    const pending: Slice[] = [rest];
    let cur = dir;
    let next: Node | null = link;
    let hops = 0;
    let steps = 0;
    for (;;) {
      if (++steps > MAX_RESOLVE_STEPS) return this.fail('symlink-loop', next ?? cur);
      if (++this.resolveSteps > MAX_TOTAL_RESOLVE_STEPS) {
        throw new LadingError('LIMIT_EXCEEDED', `resolving paths through symlinks took more than ${MAX_TOTAL_RESOLVE_STEPS} steps; the image looks built to exhaust scanners`);
      }
      if (next !== null) {
        if (++hops > MAX_SYMLINK_HOPS) return this.fail('symlink-loop', next);
        if (!next.linkTarget) return this.fail('not-a-directory', next);
        const parts = this.linkParts(next);
        pending.push({ parts, i: 0, end: parts.length });
        if (next.linkTarget.charCodeAt(0) === 0x2f) cur = this.root;
        next = null;
        continue;
      }
      let top = pending[pending.length - 1];
      while (top !== undefined && top.i >= top.end) {
        pending.pop();
        top = pending[pending.length - 1];
      }
      if (top === undefined) return cur;
      const name = top.parts[top.i++]!;
      if (name === '' || name === '.') continue;
      if (name === '..') {
        cur = cur.parent ?? this.root;
        continue;
      }
      const child = cur.children!.get(name);
      if (child === undefined) {
        if (!create) return this.fail('missing', cur);
        cur = this.implicitDir(cur, name, layer);
      } else if (child.type === 'dir') {
        cur = child;
      } else if (child.type === 'symlink') {
        next = child;
      } else {
        return this.fail('not-a-directory', child);
      }
    }
  }

  private fail(reason: ResolveFailure, at: Node | null): null {
    this.failure = reason;
    this.failedAt = at;
    return null;
  }

  private implicitDir(parent: Node, name: string, layer: number): Node {
    const node = new Node(name, parent, 'dir', layer);
    node.mode = 0o755;
    parent.children!.set(name, node);
    return node;
  }

  /**
   * Put a node of `type` at parent/name, replacing whatever is there. A directory over a
   * directory keeps the old node (and its children) and only restamps it; anything else drops
   * the old node with its whole subtree, as overlay and containerd do.
   */
  place(parent: Node, name: string, type: FileType, layer: number): Node {
    const old = parent.children!.get(name);
    if (old !== undefined) {
      if (old.type === 'dir' && type === 'dir') {
        old.layer = layer;
        return old;
      }
      this.detach(old);
    }
    const node = new Node(name, parent, type, layer);
    parent.children!.set(name, node);
    return node;
  }

  /** Remove a node and its subtree. */
  detach(node: Node): void {
    node.parent?.children?.delete(node.name);
    node.removed = true;
    const onDetach = this.onDetach;
    if (onDetach === null) return;
    const stack = [node];
    for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
      n.removed = true;
      onDetach(n);
      if (n.children) for (const c of n.children.values()) stack.push(c);
    }
  }

  /**
   * A whiteout `.wh.NAME` in `layer`: NAME and what is under it goes, as far as it came from lower
   * layers. Entries written by `layer` itself stay, whatever their order in the tar.
   */
  whiteout(parent: Node, name: string, layer: number): void {
    const child = parent.children!.get(name);
    if (child === undefined) return;
    if (child.type === 'dir') {
      const keep = this.prune(child, layer) || child.layer >= layer;
      if (!keep) this.detach(child);
    } else if (child.layer < layer) {
      this.detach(child);
    }
  }

  /**
   * An opaque directory in `layer`: every descendant written by a lower layer goes, except
   * directories that still lead to something `layer` wrote. Returns whether anything is left.
   */
  prune(top: Node, layer: number): boolean {
    // A directory already pruned for this layer holds only entries of this layer (and directories
    // leading to them): it is not walked again, so repeated or nested markers cost no more than one.
    if (top.prunedAt === layer) return top.children!.size > 0;
    interface Frame { dir: Node; it: Iterator<Node>; any: boolean }
    const stack: Frame[] = [{ dir: top, it: top.children!.values(), any: false }];
    for (;;) {
      const f = stack[stack.length - 1]!;
      const r = f.it.next();
      if (r.done) {
        stack.pop();
        f.dir.prunedAt = layer;
        const up = stack[stack.length - 1];
        if (up === undefined) return f.any;
        if (f.any || f.dir.layer >= layer) up.any = true;
        else this.detach(f.dir);
        continue;
      }
      const child = r.value;
      if (child.type === 'dir') {
        if (child.prunedAt !== layer) stack.push({ dir: child, it: child.children!.values(), any: false });
        else if (child.children!.size > 0 || child.layer >= layer) f.any = true;
        else this.detach(child);
      } else if (child.layer >= layer) {
        f.any = true;
      } else {
        this.detach(child);
      }
    }
  }

  /** '/a/b' for a node (iterative: hostile trees can be deep). */
  pathOf(node: Node): string {
    const names: string[] = [];
    for (let n: Node | null = node; n !== null && n.parent !== null; n = n.parent) names.push(n.name);
    return '/' + names.reverse().join('/');
  }

  // ---- reading ----------------------------------------------------------------------------

  lookup(path: string): Node | undefined {
    let cur: Node | undefined = this.root;
    for (const name of parseImagePath(path).parts) {
      cur = cur.children?.get(name);
      if (cur === undefined) return undefined;
    }
    return cur;
  }

  /** The node a path leads to, following every symlink (the last one too) inside the root. */
  resolveNode(path: string): Node | undefined {
    const stack = path.split('/').reverse();
    let cur = this.root;
    let hops = 0;
    for (let name = stack.pop(); name !== undefined; name = stack.pop()) {
      if (name === '' || name === '.') continue;
      if (name === '..') {
        cur = cur.parent ?? this.root;
        continue;
      }
      const child = cur.children!.get(name);
      if (child === undefined) return undefined;
      if (child.type === 'symlink') {
        if (++hops > MAX_SYMLINK_HOPS || !child.linkTarget) return undefined;
        const comps = child.linkTarget.split('/');
        for (let j = comps.length - 1; j >= 0; j--) stack.push(comps[j]!);
        if (child.linkTarget.charCodeAt(0) === 0x2f) cur = this.root;
        continue;
      }
      if (child.type !== 'dir') return stack.every((s) => s === '') ? child : undefined;
      cur = child;
    }
    return cur;
  }

  get size(): number {
    if (this.frozen) return this.frozen.list.length;
    let n = 0;
    const stack = [this.root];
    for (let d = stack.pop(); d !== undefined; d = stack.pop()) {
      for (const c of d.children!.values()) {
        n++;
        if (c.children) stack.push(c);
      }
    }
    return n;
  }

  get(path: string): FileRecord | undefined {
    const node = this.lookup(path);
    return node && recordOf(node, this.pathOf(node));
  }

  has(path: string): boolean {
    return this.lookup(path) !== undefined;
  }

  resolve(path: string): FileRecord | undefined {
    const node = this.resolveNode(path);
    return node && recordOf(node, this.pathOf(node));
  }

  readdir(path: string): string[] | undefined {
    const node = this.lookup(path);
    return node?.children ? sortBytes([...node.children.keys()]) : undefined;
  }

  list(): FileRecord[] {
    return this.frozen ? this.frozen.list.slice() : this.collect();
  }

  /** Every node below the root with its path, unsorted. */
  *walk(): Generator<[Node, string]> {
    const stack: [Node, string][] = [[this.root, '']];
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      const [dir, prefix] = top;
      for (const c of dir.children!.values()) {
        const p = prefix + '/' + c.name;
        yield [c, p];
        if (c.children) stack.push([c, p]);
      }
    }
  }

  private collect(): FileRecord[] {
    const out: FileRecord[] = [];
    let high = false;
    for (const [node, path] of this.walk()) {
      out.push(recordOf(node, path));
      if (!high && HIGH_UNITS.test(node.name)) high = true;
    }
    // Without code units from U+D800 up, UTF-16 order is UTF-8 byte order and the plain comparison is faster.
    return high ? out.sort((a, b) => compareBytes(a.path, b.path)) : out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
