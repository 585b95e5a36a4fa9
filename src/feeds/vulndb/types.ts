/** The vulnerability database's types, table layout and constants. */
import type { Kysely } from 'kysely';
import type { VulnDbTables } from '../tables.js';

export type { VulnDbTables } from '../tables.js';

/**
 * What VulnDb needs of an open database: one holding (at least) the vulnerability tables. store/db.ts
 * DatabaseHandle satisfies it: its `Database` includes VulnDbTables.
 */
export interface VulnDbHandle<DB extends VulnDbTables = VulnDbTables> {
  kysely: Kysely<DB>;
  dialect: 'sqlite' | 'postgres';
  location: string;
  close(): Promise<void>;
}

/** HTTP validators remembered for one URL. */
export interface Validator {
  etag?: string;
  lastModified?: string;
}

export type SyncKind = 'sync' | 'import';

export interface SyncState {
  source: string;
  kind: SyncKind;
  /** When the last attempt started (ISO 8601). */
  lastSync?: string;
  /** When the last successful attempt started. */
  lastSuccess?: string;
  /** Records written by the last successful attempt. */
  records: number;
  /** Records skipped as invalid in the last successful attempt. */
  warnings: number;
  status: 'ok' | 'failed';
  error?: string;
  cursor: Record<string, string>;
  validators: Record<string, Validator>;
}

/** What a successful apply records in sync_state, in the same transaction. */
export interface StateUpdate {
  kind: SyncKind;
  /** When the sync or import started; default now. */
  at?: Date;
  /** The driver cursor to keep: an object replaces the stored one, null clears it, undefined keeps it. */
  cursor?: Record<string, string> | null;
  /** Per-URL validators: an object replaces the stored ones, null clears them, undefined keeps them. */
  validators?: Record<string, Validator> | null;
}

export interface ApplyOptions {
  /** Told about every skipped record. */
  warn?: (message: string) => void;
  signal?: AbortSignal;
  /** Spool bigger than this (bytes of JSON) goes to a temporary file. Default 64 MiB. */
  spoolMemoryBytes?: number;
  /** Where the temporary spool file goes; default the OS temp dir. */
  tmpDir?: string;
  /**
   * Asked when a full apply brought no records: true (the source said nothing changed, e.g.
   * every request was 304) makes it a no-op that keeps the data instead of an error.
   */
  unchanged?: () => boolean;
  /**
   * `source` (default): a full feed replaces everything the source had. `namespace` (imports):
   * it replaces only the namespaces it brings (a release such as `alpine:3.9`) and keeps the
   * others, and an incremental one replaces a vulnerability's rows only in the namespaces it brings.
   */
  scope?: 'source' | 'namespace';
}

export interface ApplyCounts {
  vulnerabilities: number;
  affected: number;
  kev: number;
  epss: number;
}

export interface ApplyResult extends ApplyCounts {
  /** Whether everything the source had was replaced (mode `replaced`). */
  full: boolean;
  /** `replaced`: the source's data is what this apply brought; `merged`: the namespaces it brought were replaced, the others kept; `updated`: upserted. */
  mode: 'replaced' | 'merged' | 'updated';
  /** Affected records written, per namespace. */
  namespaces: Record<string, number>;
  /** The source's namespaces this apply left as they were (scope `namespace` only). */
  kept: string[];
  /** vulnerabilities + affected + kev + epss written. */
  records: number;
  /** Records rejected by validation. */
  skipped: number;
  /** (namespace, name) keys logged as changed for re-matching stored images; -1: everything. */
  changedKeys: number;
  /** Time spent, in ms: draining the driver, and writing in the transaction. */
  readMs: number;
  writeMs: number;
}

export interface SourceStatus {
  source: string;
  kind?: SyncKind;
  /** Rows stored now for this source. */
  counts: ApplyCounts;
  /** The sum of counts. */
  records: number;
  lastSync?: string;
  lastSuccess?: string;
  /** Seconds since the last success. */
  ageSeconds?: number;
  /** `never`: data without any recorded sync (or nothing at all). */
  status: 'ok' | 'failed' | 'never';
  /**
   * The last attempt's error: with status `failed`, the data is that of the last success (if any);
   * with status `ok` and kind `import`, an online sync failed after the import, whose data stays.
   */
  error?: string;
  /** Warnings of the last successful sync or import. */
  warnings: number;
}

/**
 * The layout version of the tables below (meta `vulndb_schema`, and bundle headers). A migration
 * that changes them bumps it; bundles of older layouts stay readable (columns map by name).
 */
export const VULNDB_SCHEMA = 1;

/** The columns of every table VulnDb owns, in the order bundles write them. */
export const VULNDB_TABLES: Record<string, readonly string[]> = {
  meta: ['key', 'value'],
  vulnerabilities: ['source', 'id', 'aliases', 'modified', 'data'],
  aliases: ['source', 'vuln_id', 'alias'],
  affected: ['source', 'vuln_id', 'namespace', 'name', 'name_kind', 'scheme', 'data'],
  kev: ['cve', 'source', 'data'],
  epss: ['cve', 'source', 'score', 'percentile', 'date'],
  sync_state: ['source', 'kind', 'last_sync', 'last_success', 'records', 'warnings', 'status', 'error', 'cursor', 'validators'],
};

export const DATA_TABLES = ['vulnerabilities', 'aliases', 'affected', 'kev', 'epss'] as const;

/** The rows of the shared `meta` table that belong to the vulnerability database (dumped and restored). */
export const VULNDB_META_KEYS = ['vulndb_schema', 'built'] as const;

/** What the functions under vulndb/ work with: the typed database and its dialect. */
export interface VulnDbContext {
  db: Kysely<VulnDbTables>;
  dialect: 'sqlite' | 'postgres';
}
