/** Helpers shared by the squash tests: entry builders, an in-memory image, capture reads, LadingError rejections. */
import assert from 'node:assert/strict';
import { buildImage, type LayerSpec } from '../testkit/images.js';
import { memoryImage } from '../testkit/memory-image.js';
import type { TarEntry } from '../testkit/tar.js';
import { isLadingError } from '../errors.js';
import { squash, type SquashOptions, type SquashResult } from './squash.js';

export const file = (path: string, content: string | Buffer = '', extra: Partial<Extract<TarEntry, { type: 'file' }>> = {}): TarEntry =>
  ({ type: 'file', path, content, ...extra });
export const dir = (path: string, extra: Partial<Extract<TarEntry, { type: 'dir' }>> = {}): TarEntry => ({ type: 'dir', path, ...extra });
export const symlink = (path: string, target: string): TarEntry => ({ type: 'symlink', path, target });
export const hardlink = (path: string, target: string): TarEntry => ({ type: 'hardlink', path, target });

export function image(...layers: (TarEntry[] | LayerSpec)[]) {
  return memoryImage(buildImage({ layers: layers.map((l) => (Array.isArray(l) ? { entries: l } : l)) }));
}

export async function run(img: ReturnType<typeof image>, options: SquashOptions = {}): Promise<SquashResult> {
  return squash(img, options);
}

export const paths = (r: SquashResult): string[] => r.files.list().map((f) => f.path);

export async function text(r: SquashResult, id: string, path: string): Promise<string | undefined> {
  const c = r.captured(id).find((f) => f.path === path);
  return c ? (await c.read()).toString() : undefined;
}

/** A rejection with a LadingError of this code whose message matches. */
export async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isLadingError(e), `expected a LadingError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

