/**
 * The parsed-record cache of VulnDb's readers: affected records by (namespace, name), vulnerability
 * records by (source, id), KEV and EPSS entries by CVE, each parsed from its row once and kept
 * while the data stays the same. A repeated match (the service re-matching stored images, a scan
 * after a scan in one process) then skips most of the rows' transfer and all of their JSON.
 *
 * The data's version is the meta rows `data_version` (a fresh random token written by every write
 * transaction, lockForWrite) and `built`: the readers read them on every call (one small
 * statement, which also reads the feed settings) and the cache empties itself when they differ
 * from those it was filled under. A `lading db import` or sync in another process, a restore, a
 * feed or group disabled or deleted: each changes `data_version`, so no stale record is served.
 *
 * Cached records are shared between calls: callers must not change them (the matcher and the
 * services only read them). The lists of affected records are frozen; freezing every record
 * deeply was measured to add ~80 ms CPU to a first 500-package match, so records are not. The
 * cache holds at most MAX_ENTRIES entries (rows and the keys known to have none); past that it
 * starts again empty.
 */
import type { Affected, EpssEntry, KevEntry, Vulnerability } from '../model.js';

/** Entries kept before the cache starts again: about 100-200 MB of parsed records at most. */
export const MAX_ENTRIES = 200_000;

export class RecordCache {
  private version: string | undefined;
  private entries = 0;
  /** Affected records by affectedKeyId; an empty list for a key known to have none. */
  readonly affected = new Map<string, readonly Affected[]>();
  /** Vulnerability records by `source\0id`. */
  readonly vulnerabilities = new Map<string, Vulnerability>();
  /** KEV and EPSS entries by CVE; null for a CVE known to have none. */
  readonly kev = new Map<string, KevEntry | null>();
  readonly epss = new Map<string, EpssEntry | null>();

  /** Empties the cache unless `version` is the one it was filled under. */
  check(version: string): void {
    if (version === this.version) return;
    this.clear();
    this.version = version;
  }

  clear(): void {
    this.affected.clear();
    this.vulnerabilities.clear();
    this.kev.clear();
    this.epss.clear();
    this.entries = 0;
  }

  /** Count `n` more entries; past MAX_ENTRIES everything is dropped first (the caller then adds its own). */
  room(n: number): void {
    if (this.entries + n > MAX_ENTRIES) this.clear();
    this.entries += n;
  }
}
