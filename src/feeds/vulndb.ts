/**
 * The vulnerability database: normalised feed records in SQL (SQLite or PostgreSQL through
 * kysely), read by the matcher through VulnLookup and written by sync/import through `apply`.
 *
 * Tables (created by store/migrations/0001-vulndb.ts):
 * - vulnerabilities (source, id) → aliases, modified, data (the whole Vulnerability as JSON)
 * - aliases (source, vuln_id, alias), indexed by alias
 * - affected (source, vuln_id, namespace, name, name_kind, scheme, data: the rest as JSON),
 *   indexed by (namespace, name) and (source, vuln_id)
 * - kev (cve) → source, data; epss (cve) → source, score, percentile, date
 * - sync_state (source) → kind, last sync / success, records, warnings, status, error, cursor, validators
 * - meta (key) → value: `vulndb_schema`, `built` (the last successful apply)
 *
 * `apply` first drains the driver's batches (network and parsing happen here, validating each
 * record: a bad one is a warning and is skipped) into a spool, in memory up to a limit and then in
 * a temporary file. Only then does it open one transaction and write the spool in multi-row
 * statements. The transaction is short (no network inside it) and all-or-nothing: any error rolls
 * it back and the previous data stays as it was.
 */
import type { Kysely } from 'kysely';
import type { AffectedKey, VulnLookup } from '../vulns/lookup.js';
import type { Affected, EpssEntry, FeedBatch, KevEntry, Vulnerability } from './model.js';
import { RecordCache } from './vulndb/cache.js';
import { dump, restore } from './vulndb/dump.js';
import * as read from './vulndb/read.js';
import * as state from './vulndb/state.js';
import * as settings from './vulndb/settings.js';
import type { FeedSettings } from './vulndb/settings.js';
import { feedOfSource } from './groups.js';
import type { ApplyOptions, ApplyResult, SourceStatus, StateUpdate, SyncKind, SyncState, VulnDbContext, VulnDbHandle, VulnDbTables } from './vulndb/types.js';
import { apply, type Writer } from './vulndb/write.js';

export { defaultDbPath } from './vulndb/path.js';
export type { FeedSettings } from './vulndb/settings.js';
export { checkAffected, checkEpss, checkKev, checkStoredRow, checkVulnerability } from './vulndb/checks.js';
export { VULNDB_META_KEYS, VULNDB_SCHEMA, VULNDB_TABLES } from './vulndb/types.js';
export type {
  ApplyCounts, ApplyOptions, ApplyResult, SourceStatus, StateUpdate, SyncKind, SyncState, Validator, VulnDbHandle,
} from './vulndb/types.js';

/**
 * `DB` is the whole schema of the database the tables live in (store/schema.ts `Database` in the
 * service, VulnDbTables alone elsewhere); VulnDb sees only its own tables of it.
 */
export class VulnDb<DB extends VulnDbTables = VulnDbTables> implements VulnLookup {
  /** Its tables, for tests to look at rows; code reads and writes them through the methods below. */
  readonly db: Kysely<VulnDbTables>;
  readonly dialect: 'sqlite' | 'postgres';
  readonly location: string;
  private readonly handle: VulnDbHandle;
  private readonly ctx: VulnDbContext;
  private readonly writer: Writer;
  /** Parsed records of the matcher's reads, kept while the data's version stays the same. */
  private readonly cache = new RecordCache();

  constructor(handle: VulnDbHandle<DB>) {
    // Kysely<DB> is invariant in DB, so seeing a database through a subset of its tables is a
    // cast; it is sound because VulnDb's queries name only those tables.
    this.handle = handle as unknown as VulnDbHandle;
    this.db = this.handle.kysely;
    this.dialect = handle.dialect;
    this.location = handle.location;
    this.ctx = { db: this.db, dialect: handle.dialect };
    // Through the method, looked up at each apply: the last step inside the write transaction.
    this.writer = { ctx: this.ctx, insertSql: new Map(), writeState: (...args) => this.writeState(...args) };
  }

  /** Whether this database is the one `db` queries (the service keeps its tables and the vulnerability data in one database). */
  sameDatabase<T>(db: Kysely<T>): boolean {
    return (this.handle.kysely as object) === db;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  // ---- VulnLookup (vulndb/read.ts) -------------------------------------------------------------

  async affected(namespace: string, name: string): Promise<Affected[]> {
    const off = await this.disabled();
    if (off?.groups.has(namespace)) return [];
    const list = await read.affected(this.ctx, namespace, name);
    return off ? list.filter((a) => !off.sources.has(a.source)) : list;
  }

  /** The matcher's many-key read; lists and records are shared through the cache (vulndb/cache.ts): read them, never change them. */
  async affectedMany(keys: readonly AffectedKey[]): Promise<Map<string, Affected[]>> {
    const off = await this.disabled();
    const all = await read.affectedMany(this.ctx, off ? keys.filter((k) => !off.groups.has(k.namespace)) : keys, this.cache);
    if (off?.sources.size) for (const [k, list] of all) all.set(k, list.filter((a) => !off.sources.has(a.source)));
    return all;
  }

  /** Every affected record of one vulnerability record, in every namespace. */
  affectedOf(source: string, vulnId: string): Promise<Affected[]> {
    return read.affectedOf(this.ctx, source, vulnId);
  }

  async hasNamespace(namespace: string): Promise<boolean> {
    if ((await this.disabled())?.groups.has(namespace)) return false;
    return read.hasNamespace(this.ctx, namespace);
  }

  /** Records by id or alias; shared through the cache: read them, never change them. */
  async vulnerabilities(ids: string[], options: { byAlias?: boolean } = {}): Promise<Vulnerability[]> {
    const off = await this.disabled();
    const list = await read.vulnerabilities(this.ctx, ids, options, this.cache);
    return off?.sources.size ? list.filter((v) => !off.sources.has(v.source)) : list;
  }

  async kev(cves: string[]): Promise<Map<string, KevEntry>> {
    return (await this.disabled())?.sources.has('kev') ? new Map() : read.kev(this.ctx, cves, this.cache);
  }

  async epss(cves: string[]): Promise<Map<string, EpssEntry>> {
    return (await this.disabled())?.sources.has('epss') ? new Map() : read.epss(this.ctx, cves, this.cache);
  }

  // ---- disabled feeds and groups, deleting their data (vulndb/settings.ts) ----------------------

  /** The disabled feeds (Anchore names) and groups (namespaces). */
  feedSettings(): Promise<FeedSettings> {
    return settings.readSettings(this.ctx);
  }

  /** Enable or disable a feed (`vulnerabilities`, `nvdv2`...) or a group (a namespace); stored images are re-matched. */
  setFeedEnabled(kind: 'feed' | 'group', name: string, enabled: boolean): Promise<FeedSettings> {
    return settings.setEnabled(this.ctx, kind, name, enabled);
  }

  /** Delete every row of these sources and their sync state; returns the rows deleted. */
  deleteSources(sources: string[]): Promise<number> {
    return settings.deleteSources(this.ctx, sources);
  }

  /** Delete a namespace's affected rows (and the records left without any); returns the rows deleted. */
  deleteNamespace(namespace: string): Promise<number> {
    return settings.deleteNamespace(this.ctx, namespace);
  }

  /** Per (namespace, source): the affected rows stored. */
  namespaceCounts(): Promise<{ namespace: string; source: string; rows: number }[]> {
    return settings.namespaceCounts(this.ctx);
  }

  /**
   * What the matcher leaves out: the sources of disabled feeds, the disabled namespaces; undefined
   * when nothing is disabled. The same statement reads the data's version, and the record cache
   * is emptied when it changed (another process's import, a restore...).
   */
  private async disabled(): Promise<{ sources: { has(source: string): boolean; size: number }; groups: Set<string> } | undefined> {
    const { settings: s, version } = await settings.readSettingsAndVersion(this.ctx);
    this.cache.check(version);
    if (!s.disabledFeeds.length && !s.disabledGroups.length) return undefined;
    const feeds = new Set(s.disabledFeeds);
    return { sources: { has: (source) => feeds.has(feedOfSource(source)), size: feeds.size }, groups: new Set(s.disabledGroups) };
  }

  // ---- state, status and meta (vulndb/state.ts) ------------------------------------------------

  syncState(source: string): Promise<SyncState | undefined> {
    return state.syncState(this.ctx, source);
  }

  syncStates(): Promise<SyncState[]> {
    return state.syncStates(this.ctx);
  }

  /** Record a failed sync or import: the data, cursor, validators and last success stay as they were. */
  recordFailure(source: string, kind: SyncKind, error: string, at: Date = new Date()): Promise<void> {
    return state.recordFailure(this.ctx, source, kind, error, at);
  }

  /** Per source: rows stored, last sync and success, age, status. Sorted by source. */
  status(now: Date = new Date()): Promise<SourceStatus[]> {
    return state.status(this.ctx, now);
  }

  /** Every meta row (the database's own keys, `vulndb_schema` and `built`, and those other modules keep there). */
  meta(): Promise<Record<string, string>> {
    return state.meta(this.ctx);
  }

  /** When the data last changed (the last apply or restore began), ISO 8601; undefined before any. */
  built(): Promise<string | undefined> {
    return state.metaValue(this.ctx, 'built');
  }

  /** One meta value: for modules that keep a key of their own in the meta table. */
  metaValue(key: string): Promise<string | undefined> {
    return state.metaValue(this.ctx, key);
  }

  setMetaValue(key: string, value: string): Promise<void> {
    return state.setMetaValue(this.ctx, key, value);
  }

  /** Whether any affected record is stored. */
  async hasAffected(): Promise<boolean> {
    return (await this.ctx.db.selectFrom('affected').select('vuln_id').limit(1).executeTakeFirst()) !== undefined;
  }

  // ---- writing (vulndb/write.ts, vulndb/dump.ts) -----------------------------------------------

  /**
   * Apply one sync or import of `source` atomically. `full`: everything the source had
   * (vulnerabilities, aliases, affected, kev, epss) is replaced. Otherwise each vulnerability is
   * upserted by (source, id), and the affected rows of every vulnerability id seen in this apply
   * (as a record or in an affected record) are replaced by the ones it brings. Bad records are
   * skipped with a warning. A full apply that brings nothing valid is refused, keeping the data.
   */
  apply(source: string, feed: { full: boolean; batches: AsyncIterable<FeedBatch> | Iterable<FeedBatch> }, update: StateUpdate,
    options: ApplyOptions = {}): Promise<ApplyResult> {
    return apply(this.writer, source, feed, update, options);
  }

  private writeState(...args: Parameters<typeof state.writeState>): Promise<void> {
    return state.writeState(...args);
  }

  /** Every row of every VulnDb table, table by table, from one consistent snapshot. */
  dump(onRow: (table: string, values: unknown[]) => Promise<void> | void): Promise<void> {
    return dump(this.ctx, onRow);
  }

  /**
   * Replace every VulnDb table's rows with `rows` (each a table name and a row object by column
   * name), validating each, in one transaction: a bad row throws and nothing changes.
   * `check` runs once the rows are written, inside the transaction (a bundle's trailer check).
   */
  restore(rows: AsyncIterable<{ table: string; row: Record<string, unknown>; where: string }>, check?: () => void): Promise<Record<string, number>> {
    return restore(this.writer, rows, check);
  }
}
