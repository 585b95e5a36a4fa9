/**
 * What a layer record keeps of a tar stream: each entry's header and the stream's own warnings,
 * in tar order, so a layer can be applied to a tree again without reading its blob.
 */
import type { ReadEntry } from 'tar/read-entry';
import type { Job } from './capture.js';
import type { Node } from './tree.js';

/** A tar header as the tree needs it: what a layer record keeps of each entry. */
export interface TarHeader {
  /** The path as written in the layer. */
  path: string;
  /** node-tar's type name (File, Link, SymbolicLink, Directory, ...). */
  type: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkpath?: string;
  devmaj?: number;
  devmin?: number;
  /** A non-file entry whose header declares a body (read as having none, as Docker does). */
  body?: boolean;
  /** Content digest, when digests were computed (replay only). */
  sha256?: string;
}

/** One step of a layer, in tar order: an entry's header, or a warning of the stream itself. */
export type LayerEvent = TarHeader | { warn: string; counted?: boolean };

export interface LayerRecorder {
  /** A header; `placed` is the final path of a file or hardlink put in the tree (null when it was not), undefined for other types. */
  header(h: TarHeader, node: Node | null, placed: string | null | undefined): void;
  /** A warning about the stream (not about placing an entry); `counted` when it stands for a skipped entry. */
  warn(message: string, counted: boolean): void;
}

/** Replaying a recorded layer: where file contents come from and how each placement is checked. */
export interface ReplaySource {
  events: LayerEvent[];
  /** The content of the file at events[i], when it was kept. */
  content(i: number): Buffer | undefined;
  /** Called after each file or hardlink header with the final path it got (null: not placed). */
  placed(i: number, path: string | null): void;
}

/** Thrown by a replay that needs content that was not kept (the caller then reads the layer itself). */
export class ReplayGap extends Error {}

export function headerOf(e: ReadEntry): TarHeader {
  const t = e.mtime?.getTime();
  const h: TarHeader = {
    path: e.path, type: e.type, size: e.size ?? 0, mode: e.mode ?? 0, uid: e.uid ?? 0, gid: e.gid ?? 0,
    mtime: t === undefined || Number.isNaN(t) ? 0 : Math.floor(t / 1000),
  };
  if (e.linkpath !== undefined) h.linkpath = e.linkpath;
  if (e.header.devmaj !== undefined) h.devmaj = e.header.devmaj;
  if (e.header.devmin !== undefined) h.devmin = e.header.devmin;
  if (e.type !== 'File' && e.type !== 'OldFile' && e.type !== 'ContiguousFile' && e.remain > 0) h.body = true;
  return h;
}

/** Feeds one kept content to a capture job as a tar entry would. */
export function feedContent(job: Job, content: Buffer): void {
  const handlers: Record<string, ((x?: Buffer) => void)[]> = {};
  let started = false;
  job.attach({
    on(ev: string, fn: (x?: Buffer) => void) {
      (handlers[ev] ??= []).push(fn);
      return this;
    },
    pause() {
      return this;
    },
    resume() {
      if (started) return this;
      started = true;
      if (content.length > 0) for (const f of handlers.data ?? []) f(content);
      for (const f of handlers.end ?? []) f();
      return this;
    },
  } as unknown as Parameters<Job['attach']>[0]);
}

