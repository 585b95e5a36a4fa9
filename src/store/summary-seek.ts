/**
 * Deep pages of the image list without reading every row before them (store/summaries.ts
 * SummaryRows.page). Anchore's API pages by number (page, limit), which SQL answers with OFFSET:
 * page 150 read 7,450 index entries (and their heap rows) to throw them away. Instead, every page
 * read remembers the sort keys of its first row's predecessor and of its last row, by their
 * position in the list, per (account, filter, sort, order) and version of the account's summary
 * rows (image_summary_versions, migrations/0024-summary-versions.ts). A later page starts from the
 * nearest remembered position before it with a row comparison on the sort index
 * (`(created_at, image_digest) < (…)`), then skips only the rows between.
 *
 * The version is read in the page's own statement: a page seeked from a boundary of another
 * version (rows written meanwhile) is thrown away and read again by OFFSET, so a page is never
 * shifted. Under a steady stream of writes the boundaries are reset at every version and pages
 * cost what OFFSET costs.
 */

/** The values of a row's sort columns, in the sort's column order (image_digest last). */
export type SortKey = unknown[];

export interface Boundary { position: number; sortKey: SortKey; version: string }

interface Known { version: string; at: Map<number, SortKey> }

export class PageBoundaries {
  private readonly byKey = new Map<string, Known>();

  /** `maxKeys` lists (the least recently used dropped beyond), `perKey` positions each. */
  constructor(private readonly maxKeys = 500, private readonly perKey = 256) {}

  /** The nearest remembered row before `offset` (at a position < offset) of this list. */
  nearest(key: string, offset: number): Boundary | undefined {
    const known = this.byKey.get(key);
    if (!known) return undefined;
    this.byKey.delete(key);
    this.byKey.set(key, known);
    let best: number | undefined;
    for (const p of known.at.keys()) if (p < offset && (best === undefined || p > best)) best = p;
    return best === undefined ? undefined : { position: best, sortKey: known.at.get(best)!, version: known.version };
  }

  /** Remember the row at `position` of this list as read at `version` (forgetting other versions' rows). */
  record(key: string, version: string, position: number, sortKey: SortKey): void {
    let known = this.byKey.get(key);
    if (!known || known.version !== version) {
      known = { version, at: new Map() };
      this.byKey.delete(key);
      this.byKey.set(key, known);
      if (this.byKey.size > this.maxKeys) this.byKey.delete(this.byKey.keys().next().value!);
    }
    if (!known.at.has(position) && known.at.size >= this.perKey) known.at.delete(known.at.keys().next().value!);
    known.at.set(position, sortKey);
  }

  /** Forget a list's rows (its version moved). */
  forget(key: string): void {
    this.byKey.delete(key);
  }
}
