/**
 * An image's layers as people read them: each with the Dockerfile instruction (history entry) that
 * made it, so a package or file can be traced to the line that put it there.
 */
import type { Sbom } from './model.js';

export interface LayerView {
  index: number;
  digest: string;
  size: number;
  instruction: string | null;
  created: string | null;
  package_count: number;
}

/** A history entry's created_by as a Dockerfile line: `#(nop)` prefixes dropped, shell commands as RUN. */
export function cleanInstruction(createdBy: string): string {
  const s = createdBy.trim().replace(/\s+# buildkit$/, '');
  const nop = /^\/bin\/sh -c #\(nop\)\s+/.exec(s);
  if (nop) return s.slice(nop[0].length).trim();
  if (s.startsWith('/bin/sh -c ')) return `RUN ${s.slice('/bin/sh -c '.length).trim()}`;
  return s;
}

/** The layers with the history entry that made each (where history and layers line up, as Docker lists them). */
export function layersOf(sbom: Sbom): LayerView[] {
  const { history, layers } = sbom.source;
  const made = history.filter((h) => !h.emptyLayer);
  const aligned = made.length === layers.length;
  const counts = new Map<number, number>();
  for (const p of sbom.packages) {
    const l = p.locations[0]?.layer;
    if (l !== undefined) counts.set(l, (counts.get(l) ?? 0) + 1);
  }
  return layers.map((l, i) => {
    const h = aligned ? made[i] : undefined;
    const createdBy = h?.createdBy ?? l.createdBy;
    return {
      index: l.index, digest: l.digest, size: l.uncompressedSize ?? l.size,
      instruction: createdBy ? cleanInstruction(createdBy) : null, created: h?.created ?? null, package_count: counts.get(l.index) ?? 0,
    };
  });
}
