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
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CompiledQuery, sql, type Kysely, type Transaction } from 'kysely';
import { LadingError } from '../errors.js';
import { ChangeTracker, restoredEverything } from './changes.js';
import type { VulnLookup } from '../vulns/lookup.js';
import type { SchemeId } from '../versions/types.js';
import type { Affected, EpssEntry, FeedBatch, KevEntry, Vulnerability } from './model.js';
import { SEVERITY_ORDER } from './model.js';
import { isPlainObject as isObj } from '../util/objects.js';
import { chunks } from '../util/arrays.js';

/** What VulnDb needs of an open database (store/db.ts DatabaseHandle satisfies it). */
export interface VulnDbHandle {
  kysely: Kysely<any>;
  dialect: 'sqlite' | 'postgres';
  location: string;
  close(): Promise<void>;
}

/**
 * Where the database lives (the CLI's and, by default, the service's: src/config uses the same file): $LADING_DATA_DIR/lading.db, else
 * $XDG_DATA_HOME/lading/lading.db, else ~/.local/share/lading/lading.db.
 */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LADING_DATA_DIR) return join(env.LADING_DATA_DIR, 'lading.db');
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'lading', 'lading.db');
  return join(env.HOME || homedir(), '.local', 'share', 'lading', 'lading.db');
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
}

export interface ApplyCounts {
  vulnerabilities: number;
  affected: number;
  kev: number;
  epss: number;
}

export interface ApplyResult extends ApplyCounts {
  full: boolean;
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

const DATA_TABLES = ['vulnerabilities', 'aliases', 'affected', 'kev', 'epss'] as const;

/** The rows of the shared `meta` table that belong to the vulnerability database (dumped and restored). */
export const VULNDB_META_KEYS = ['vulndb_schema', 'built'] as const;

// ---------------------------------------------------------------------------------------------
// Record validation: a problem as a sentence naming the record and field, or undefined when fine.

const SEVERITIES = new Set<string>(SEVERITY_ORDER);
const SCHEME_IDS: Record<SchemeId, true> = {
  dpkg: true, rpm: true, apk: true, semver: true, pep440: true, maven: true, gem: true, go: true, nuget: true, composer: true,
};
const SCHEMES = new Set(Object.keys(SCHEME_IDS));
const FIX_STATES = new Set(['fixed', 'not-fixed', 'wont-fix', 'not-affected', 'unknown']);

const isStr = (v: unknown): v is string => typeof v === 'string';
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const strArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const optStr = (v: unknown) => v === undefined || isStr(v);
const label = (v: unknown) => (isStr(v) && v ? JSON.stringify(v).slice(0, 80) : '(no id)');

export function checkVulnerability(v: unknown, source: string): string | undefined {
  if (!isObj(v)) return `a vulnerability that is not an object`;
  const what = `vulnerability ${label(v.id)}`;
  if (!nonEmpty(v.id)) return `${what}: id must be a non-empty string`;
  if (v.source !== source) return `${what}: source ${JSON.stringify(v.source)} is not the feed's (${source})`;
  if (!strArray(v.aliases)) return `${what}: aliases must be an array of strings`;
  for (const f of ['summary', 'description', 'published', 'modified', 'withdrawn'] as const) {
    if (!optStr(v[f])) return `${what}: ${f} must be a string`;
  }
  if (v.severity !== undefined && !SEVERITIES.has(v.severity as string)) return `${what}: unknown severity ${JSON.stringify(v.severity)}`;
  if (!Array.isArray(v.cvss)) return `${what}: cvss must be an array`;
  for (const c of v.cvss) {
    if (!isObj(c) || !isStr(c.source) || !isStr(c.version) || !isStr(c.vector) || typeof c.baseScore !== 'number' || !Number.isFinite(c.baseScore)) {
      return `${what}: each cvss entry needs source, version, vector (strings) and a numeric baseScore`;
    }
    if (c.type !== undefined && c.type !== 'Primary' && c.type !== 'Secondary') return `${what}: cvss type must be Primary or Secondary`;
  }
  if (!strArray(v.references)) return `${what}: references must be an array of strings`;
  return undefined;
}

export function checkAffected(a: unknown, source: string): string | undefined {
  if (!isObj(a)) return `an affected record that is not an object`;
  const what = `affected record of ${label(a.vulnId)} for ${label(a.namespace)}/${label(a.name)}`;
  if (!nonEmpty(a.vulnId)) return `${what}: vulnId must be a non-empty string`;
  if (a.source !== source) return `${what}: source ${JSON.stringify(a.source)} is not the feed's (${source})`;
  if (!nonEmpty(a.namespace)) return `${what}: namespace must be a non-empty string`;
  if (!nonEmpty(a.name)) return `${what}: name must be a non-empty string`;
  if (a.nameKind !== 'source' && a.nameKind !== 'binary') return `${what}: nameKind must be "source" or "binary"`;
  if (!SCHEMES.has(a.scheme as string)) return `${what}: unknown version scheme ${JSON.stringify(a.scheme)}`;
  if (!Array.isArray(a.ranges)) return `${what}: ranges must be an array`;
  for (const r of a.ranges) {
    if (!isObj(r) || !optStr(r.introduced) || !optStr(r.fixed) || !optStr(r.lastAffected)) {
      return `${what}: each range is an object whose introduced, fixed and lastAffected are strings`;
    }
  }
  if (!strArray(a.versions)) return `${what}: versions must be an array of strings`;
  if (!FIX_STATES.has(a.state as string)) return `${what}: unknown fix state ${JSON.stringify(a.state)}`;
  if (!strArray(a.fixedVersions)) return `${what}: fixedVersions must be an array of strings`;
  if (a.severity !== undefined && !SEVERITIES.has(a.severity as string)) return `${what}: unknown severity ${JSON.stringify(a.severity)}`;
  if (!optStr(a.moduleStream)) return `${what}: moduleStream must be a string`;
  return undefined;
}

export function checkKev(k: unknown): string | undefined {
  if (!isObj(k)) return `a KEV entry that is not an object`;
  const what = `KEV entry ${label(k.cve)}`;
  if (!nonEmpty(k.cve)) return `${what}: cve must be a non-empty string`;
  if (!nonEmpty(k.dateAdded)) return `${what}: dateAdded must be a non-empty string`;
  for (const f of ['vendorProject', 'product', 'vulnerabilityName', 'dueDate', 'knownRansomwareCampaignUse', 'requiredAction'] as const) {
    if (!optStr(k[f])) return `${what}: ${f} must be a string`;
  }
  return undefined;
}

export function checkEpss(e: unknown): string | undefined {
  if (!isObj(e)) return `an EPSS entry that is not an object`;
  const what = `EPSS entry ${label(e.cve)}`;
  if (!nonEmpty(e.cve)) return `${what}: cve must be a non-empty string`;
  for (const f of ['score', 'percentile'] as const) {
    const n = e[f];
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 1) return `${what}: ${f} must be a number from 0 to 1`;
  }
  if (!nonEmpty(e.date)) return `${what}: date must be a non-empty string`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Spool: the validated rows of one apply, as JSON lines, in memory and then in a temporary file.

type SpoolRow =
  | ['v', string, string | null, string[], string]
  | ['a', string, string, string, string, string, string]
  | ['k', string, string]
  | ['e', string, number, number, string];

class Spool {
  private mem: SpoolRow[] = [];
  private memBytes = 0;
  private pending: string[] = [];
  private pendingBytes = 0;
  private dir?: string;
  private file?: string;
  private out?: WriteStream;

  constructor(private readonly memoryLimit: number, private readonly tmpDir: string) {}

  async add(row: SpoolRow): Promise<void> {
    if (!this.out) {
      this.mem.push(row);
      // roughly the JSON size: the data column dominates
      this.memBytes += 64 + (typeof row[row.length - 1] === 'string' ? (row[row.length - 1] as string).length : 0);
      if (this.memBytes > this.memoryLimit) await this.toFile();
      return;
    }
    const line = JSON.stringify(row);
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes > 1 << 20) await this.flush();
  }

  private async toFile(): Promise<void> {
    this.dir = await mkdtemp(join(this.tmpDir, 'lading-spool-'));
    this.file = join(this.dir, 'rows.jsonl');
    this.out = createWriteStream(this.file);
    const rows = this.mem;
    this.mem = [];
    this.memBytes = 0;
    for (const row of rows) {
      const line = JSON.stringify(row);
      this.pending.push(line);
      this.pendingBytes += line.length;
      if (this.pendingBytes > 1 << 20) await this.flush();
    }
    await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.out || !this.pending.length) return;
    const ok = this.out.write(this.pending.join('\n') + '\n');
    this.pending = [];
    this.pendingBytes = 0;
    if (!ok) await once(this.out, 'drain');
  }

  async finish(): Promise<void> {
    if (!this.out) return;
    await this.flush();
    const out = this.out;
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }

  /** Whether the rows went to a file. */
  get spilled(): boolean {
    return this.file !== undefined;
  }

  async *rows(): AsyncGenerator<SpoolRow> {
    if (!this.file) {
      yield* this.mem;
      return;
    }
    const rl = createInterface({ input: createReadStream(this.file), crlfDelay: Infinity });
    try {
      for await (const line of rl) if (line) yield JSON.parse(line) as SpoolRow;
    } finally {
      rl.close();
    }
  }

  async dispose(): Promise<void> {
    this.mem = [];
    if (this.out && !this.out.closed) this.out.destroy();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

const IN_CHUNK = 500;
const ROWS_PER_CHUNK = 2000;
/** Well under SQLite's 32766 and PostgreSQL's 65535 bound parameters per statement. */
const MAX_PARAMS = 8000;

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

function parseJsonObject(text: unknown): Record<string, unknown> {
  if (!isStr(text)) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return isObj(v) ? v : {};
  } catch {
    return {};
  }
}

function stateFromRow(r: Record<string, unknown>): SyncState {
  const cursor = parseJsonObject(r.cursor);
  const validators = parseJsonObject(r.validators);
  return {
    source: String(r.source),
    kind: r.kind === 'import' ? 'import' : 'sync',
    ...(isStr(r.last_sync) ? { lastSync: r.last_sync } : {}),
    ...(isStr(r.last_success) ? { lastSuccess: r.last_success } : {}),
    records: Number(r.records ?? 0),
    warnings: Number(r.warnings ?? 0),
    status: r.status === 'failed' ? 'failed' : 'ok',
    ...(isStr(r.error) && r.error ? { error: r.error } : {}),
    cursor: Object.fromEntries(Object.entries(cursor).filter(([, v]) => isStr(v))) as Record<string, string>,
    validators: Object.fromEntries(Object.entries(validators).filter(([, v]) => isObj(v))) as Record<string, Validator>,
  };
}

function affectedFromRow(r: Record<string, unknown>): Affected {
  // Assigning onto the parsed object is much cheaper than spreading it into a new one.
  const a = JSON.parse(r.data as string) as Affected;
  a.vulnId = r.vuln_id as string;
  a.source = r.source as string;
  a.namespace = r.namespace as string;
  a.name = r.name as string;
  a.nameKind = r.name_kind === 'source' ? 'source' : 'binary';
  a.scheme = r.scheme as SchemeId;
  return a;
}

export class VulnDb implements VulnLookup {
  readonly db: Kysely<any>;
  readonly dialect: 'sqlite' | 'postgres';
  readonly location: string;
  private readonly handle: VulnDbHandle;
  private readonly insertSqlCache = new Map<string, string>();

  constructor(handle: VulnDbHandle) {
    this.handle = handle;
    this.db = handle.kysely;
    this.dialect = handle.dialect;
    this.location = handle.location;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  // ---- VulnLookup ---------------------------------------------------------------------------

  async affected(namespace: string, name: string): Promise<Affected[]> {
    const rows = await this.db.selectFrom('affected')
      .select(['source', 'vuln_id', 'namespace', 'name', 'name_kind', 'scheme', 'data'])
      .where('namespace', '=', namespace).where('name', '=', name)
      .execute();
    return rows.map(affectedFromRow);
  }

  async vulnerabilities(ids: string[]): Promise<Vulnerability[]> {
    const want = [...new Set(ids.filter(isStr))];
    const out = new Map<string, Vulnerability>();
    const add = (rows: Record<string, unknown>[]) => {
      for (const r of rows) {
        const key = `${r.source}\0${r.id}`;
        if (out.has(key)) continue;
        const v = JSON.parse(r.data as string) as Vulnerability;
        v.id = r.id as string;
        v.source = r.source as string;
        out.set(key, v);
      }
    };
    for (const part of chunks(want, IN_CHUNK)) {
      add(await this.db.selectFrom('vulnerabilities').select(['source', 'id', 'data']).where('id', 'in', part).execute());
      add(await this.db.selectFrom('aliases as a')
        .innerJoin('vulnerabilities as v', (j) => j.onRef('v.source', '=', 'a.source').onRef('v.id', '=', 'a.vuln_id'))
        .select(['v.source', 'v.id', 'v.data'])
        .where('a.alias', 'in', part)
        .execute());
    }
    return [...out.values()];
  }

  async kev(cves: string[]): Promise<Map<string, KevEntry>> {
    const out = new Map<string, KevEntry>();
    for (const part of chunks([...new Set(cves)], IN_CHUNK)) {
      const rows = await this.db.selectFrom('kev').select(['cve', 'data']).where('cve', 'in', part).execute();
      for (const r of rows) out.set(r.cve, { ...(JSON.parse(r.data) as KevEntry), cve: r.cve });
    }
    return out;
  }

  async epss(cves: string[]): Promise<Map<string, EpssEntry>> {
    const out = new Map<string, EpssEntry>();
    for (const part of chunks([...new Set(cves)], IN_CHUNK)) {
      const rows = await this.db.selectFrom('epss').select(['cve', 'score', 'percentile', 'date']).where('cve', 'in', part).execute();
      for (const r of rows) out.set(r.cve, { cve: r.cve, score: Number(r.score), percentile: Number(r.percentile), date: r.date });
    }
    return out;
  }

  // ---- state and status ---------------------------------------------------------------------

  async syncState(source: string): Promise<SyncState | undefined> {
    const r = await this.db.selectFrom('sync_state').selectAll().where('source', '=', source).executeTakeFirst();
    return r ? stateFromRow(r) : undefined;
  }

  async syncStates(): Promise<SyncState[]> {
    const rows = await this.db.selectFrom('sync_state').selectAll().orderBy('source').execute();
    return rows.map(stateFromRow);
  }

  /** Record a failed sync or import: the data, cursor, validators and last success stay as they were. */
  async recordFailure(source: string, kind: SyncKind, error: string, at: Date = new Date()): Promise<void> {
    const when = at.toISOString();
    await this.db.insertInto('sync_state')
      .values({ source, kind, last_sync: when, status: 'failed', error, records: 0, warnings: 0, cursor: '{}', validators: '{}' })
      .onConflict((oc) => oc.column('source').doUpdateSet({ kind, last_sync: when, status: 'failed', error }))
      .execute();
  }

  /** Per source: rows stored, last sync and success, age, status. Sorted by source. */
  async status(now: Date = new Date()): Promise<SourceStatus[]> {
    const bySource = new Map<string, SourceStatus>();
    const entry = (source: string): SourceStatus => {
      let s = bySource.get(source);
      if (!s) {
        s = { source, counts: { vulnerabilities: 0, affected: 0, kev: 0, epss: 0 }, records: 0, status: 'never', warnings: 0 };
        bySource.set(source, s);
      }
      return s;
    };
    for (const table of ['vulnerabilities', 'affected', 'kev', 'epss'] as const) {
      const rows = await this.db.selectFrom(table).select(['source', (eb) => eb.fn.countAll().as('n')]).groupBy('source').execute();
      for (const r of rows) {
        const s = entry(String(r.source));
        s.counts[table] = Number(r.n);
        s.records += Number(r.n);
      }
    }
    for (const st of await this.syncStates()) {
      const s = entry(st.source);
      s.kind = st.kind;
      s.status = st.status;
      s.warnings = st.warnings;
      if (st.lastSync) s.lastSync = st.lastSync;
      if (st.lastSuccess) {
        s.lastSuccess = st.lastSuccess;
        s.ageSeconds = Math.max(0, Math.round((now.getTime() - Date.parse(st.lastSuccess)) / 1000));
      }
      if (st.error && st.status === 'failed') s.error = st.error;
    }
    return [...bySource.values()].sort((a, b) => a.source.localeCompare(b.source));
  }

  async meta(): Promise<Record<string, string>> {
    const rows = await this.db.selectFrom('meta').select(['key', 'value']).execute();
    return Object.fromEntries(rows.map((r) => [String(r.key), String(r.value)]));
  }

  // ---- writing ------------------------------------------------------------------------------

  /**
   * Apply one sync or import of `source` atomically. `full`: everything the source had
   * (vulnerabilities, aliases, affected, kev, epss) is replaced. Otherwise each vulnerability is
   * upserted by (source, id), and the affected rows of every vulnerability id seen in this apply
   * (as a record or in an affected record) are replaced by the ones it brings. Bad records are
   * skipped with a warning. A full apply that brings nothing valid is refused, keeping the data.
   */
  async apply(source: string, feed: { full: boolean; batches: AsyncIterable<FeedBatch> | Iterable<FeedBatch> }, state: StateUpdate,
    options: ApplyOptions = {}): Promise<ApplyResult> {
    if (!nonEmpty(source)) throw new LadingError('BAD_INPUT', 'apply: the source must be a non-empty string');
    if (typeof feed?.full !== 'boolean') throw new LadingError('BAD_INPUT', `${source}: the driver did not say whether its data is full or incremental`);
    const at = state.at ?? new Date();
    const t0 = Date.now();
    const spool = new Spool(options.spoolMemoryBytes ?? 64 << 20, options.tmpDir ?? tmpdir());
    const counts: ApplyCounts = { vulnerabilities: 0, affected: 0, kev: 0, epss: 0 };
    let skipped = 0;
    const bad = (message: string) => {
      skipped++;
      options.warn?.(`${source}: skipped ${message}`);
    };
    try {
      for await (const batch of feed.batches) {
        options.signal?.throwIfAborted();
        if (!isObj(batch)) {
          bad('a batch that is not an object');
          continue;
        }
        const lists = { vulnerabilities: batch.vulnerabilities, affected: batch.affected, kev: batch.kev, epss: batch.epss };
        for (const [k, list] of Object.entries(lists)) {
          if (list !== undefined && !Array.isArray(list)) bad(`a batch whose ${k} is not an array`);
        }
        for (const v of (Array.isArray(lists.vulnerabilities) ? lists.vulnerabilities : []) as Vulnerability[]) {
          const problem = checkVulnerability(v, source);
          if (problem) { bad(problem); continue; }
          await spool.add(['v', v.id, v.modified ?? null, [...new Set(v.aliases.filter((a) => a && a !== v.id))], JSON.stringify(v)]);
          counts.vulnerabilities++;
        }
        for (const a of (Array.isArray(lists.affected) ? lists.affected : []) as Affected[]) {
          const problem = checkAffected(a, source);
          if (problem) { bad(problem); continue; }
          const { vulnId, source: _s, namespace, name, nameKind, scheme, ...rest } = a;
          await spool.add(['a', vulnId, namespace, name, nameKind, scheme, JSON.stringify(rest)]);
          counts.affected++;
        }
        for (const k of (Array.isArray(lists.kev) ? lists.kev : []) as KevEntry[]) {
          const problem = checkKev(k);
          if (problem) { bad(problem); continue; }
          await spool.add(['k', k.cve, JSON.stringify(k)]);
          counts.kev++;
        }
        for (const e of (Array.isArray(lists.epss) ? lists.epss : []) as EpssEntry[]) {
          const problem = checkEpss(e);
          if (problem) { bad(problem); continue; }
          await spool.add(['e', e.cve, e.score, e.percentile, e.date]);
          counts.epss++;
        }
      }
      await spool.finish();
      const records = counts.vulnerabilities + counts.affected + counts.kev + counts.epss;
      let full = feed.full;
      if (full && records === 0 && skipped === 0 && options.unchanged?.()) full = false;
      if (full && records === 0) {
        throw new LadingError('BAD_INPUT', skipped
          ? `${source}: all ${skipped} records were invalid; the previous data is kept`
          : `${source}: a full update brought no records; the previous data is kept`);
      }
      const t1 = Date.now();
      options.signal?.throwIfAborted();
      let changedKeys = 0;
      await this.db.transaction().execute(async (trx) => {
        await this.lockForWrite(trx, at);
        const tracker = new ChangeTracker(source, full);
        if (full) {
          await tracker.beforeFull(trx);
          await this.deleteSource(trx, source);
        }
        const affectedCleared = new Set<string>();
        const vulnWritten = new Set<string>();
        let chunk: SpoolRow[] = [];
        for await (const row of spool.rows()) {
          chunk.push(row);
          if (chunk.length >= ROWS_PER_CHUNK) {
            await this.writeChunk(trx, source, full, chunk, affectedCleared, vulnWritten, tracker);
            chunk = [];
          }
        }
        if (chunk.length) await this.writeChunk(trx, source, full, chunk, affectedCleared, vulnWritten, tracker);
        changedKeys = await tracker.finish(trx, at);
        await this.writeState(trx, source, state, at, records, skipped);
      });
      return { ...counts, full, records, skipped, changedKeys, readMs: t1 - t0, writeMs: Date.now() - t1 };
    } finally {
      await spool.dispose();
    }
  }

  /** The first statement of every write transaction: takes the writer lock. */
  private async lockForWrite(trx: Transaction<any>, at: Date): Promise<void> {
    if (this.dialect === 'postgres') {
      // One writer at a time across processes (a transaction-scoped advisory lock).
      await sql`select pg_advisory_xact_lock(${LOCK_KEY})`.execute(trx);
    }
    // On SQLite a write first takes the write lock, waiting out the busy timeout (a read first
    // could fail at its first write instead, with SQLITE_BUSY).
    await trx.insertInto('meta').values({ key: 'built', value: at.toISOString() })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: at.toISOString() })).execute();
  }

  private async deleteSource(trx: Transaction<any>, source: string): Promise<void> {
    for (const t of DATA_TABLES) await trx.deleteFrom(t).where('source', '=', source).execute();
  }

  private async writeChunk(trx: Transaction<any>, source: string, full: boolean, chunk: SpoolRow[],
    affectedCleared: Set<string>, vulnWritten: Set<string>, tracker: ChangeTracker): Promise<void> {
    const vulns = new Map<string, unknown[]>();
    const aliasRows = new Map<string, unknown[]>();
    const aliasReset: string[] = [];
    const affected: unknown[][] = [];
    const kev = new Map<string, unknown[]>();
    const epss = new Map<string, unknown[]>();
    const clear: string[] = [];
    const firstSight = (id: string) => {
      if (affectedCleared.has(id)) return;
      affectedCleared.add(id);
      if (!full) clear.push(id);
    };
    for (const row of chunk) {
      switch (row[0]) {
        case 'v': {
          const [, id, modified, aliases, data] = row;
          firstSight(id);
          if (!full || vulnWritten.has(id)) aliasReset.push(id);
          vulnWritten.add(id);
          const previous = vulns.get(id);
          if (previous) for (const a of JSON.parse(String(previous[2])) as string[]) aliasRows.delete(`${id}\0${a}`);
          vulns.set(id, [source, id, JSON.stringify(aliases), modified, data]);
          for (const a of aliases) aliasRows.set(`${id}\0${a}`, [source, id, a]);
          break;
        }
        case 'a': {
          const [, vulnId, namespace, name, nameKind, scheme, data] = row;
          firstSight(vulnId);
          affected.push([source, vulnId, namespace, name, nameKind, scheme, data]);
          tracker.addAffected(vulnId, namespace, name, nameKind, scheme, data);
          break;
        }
        case 'k':
          kev.set(row[1], [row[1], source, row[2]]);
          break;
        case 'e':
          epss.set(row[1], [row[1], source, row[2], row[3], row[4]]);
          break;
      }
    }
    await tracker.beforeClear(trx, clear);
    if (vulns.size) await tracker.beforeVulns(trx, new Map([...vulns].map(([id, row]) => [id, (row[3] as string | null) ?? null])));
    for (const part of chunks(clear, IN_CHUNK)) {
      await trx.deleteFrom('affected').where('source', '=', source).where('vuln_id', 'in', part).execute();
    }
    for (const part of chunks([...new Set(aliasReset)], IN_CHUNK)) {
      await trx.deleteFrom('aliases').where('source', '=', source).where('vuln_id', 'in', part).execute();
    }
    await this.insertRows(trx, 'vulnerabilities', VULNDB_TABLES.vulnerabilities!, [...vulns.values()],
      'on conflict ("source", "id") do update set "aliases" = excluded."aliases", "modified" = excluded."modified", "data" = excluded."data"');
    await this.insertRows(trx, 'aliases', VULNDB_TABLES.aliases!, [...aliasRows.values()], 'on conflict do nothing');
    await this.insertRows(trx, 'affected', VULNDB_TABLES.affected!, affected, '');
    await this.insertRows(trx, 'kev', VULNDB_TABLES.kev!, [...kev.values()],
      'on conflict ("cve") do update set "source" = excluded."source", "data" = excluded."data"');
    await this.insertRows(trx, 'epss', VULNDB_TABLES.epss!, [...epss.values()],
      'on conflict ("cve") do update set "source" = excluded."source", "score" = excluded."score", "percentile" = excluded."percentile", "date" = excluded."date"');
  }

  /** Multi-row INSERTs with bound parameters; the statement text is built once per shape. */
  private async insertRows(trx: Transaction<any>, table: string, columns: readonly string[], rows: unknown[][], conflict: string): Promise<void> {
    const per = Math.max(1, Math.min(1000, Math.floor(MAX_PARAMS / columns.length)));
    for (let i = 0; i < rows.length; i += per) {
      const part = rows.slice(i, i + per);
      const key = `${table}\0${part.length}\0${conflict}`;
      let text = this.insertSqlCache.get(key);
      if (!text) {
        let n = 0;
        const tuple = () => `(${columns.map(() => (this.dialect === 'postgres' ? `$${++n}` : '?')).join(', ')})`;
        const values = Array.from({ length: part.length }, tuple).join(', ');
        text = `insert into ${q(table)} (${columns.map(q).join(', ')}) values ${values}${conflict ? ` ${conflict}` : ''}`;
        if (this.insertSqlCache.size > 256) this.insertSqlCache.clear();
        this.insertSqlCache.set(key, text);
      }
      await trx.executeQuery(CompiledQuery.raw(text, part.flat()));
    }
  }

  private async writeState(trx: Transaction<any>, source: string, update: StateUpdate, at: Date, records: number, warnings: number): Promise<void> {
    const prev = await trx.selectFrom('sync_state').selectAll().where('source', '=', source).executeTakeFirst();
    const old = prev ? stateFromRow(prev) : undefined;
    const cursor = update.cursor === undefined ? old?.cursor ?? {} : update.cursor ?? {};
    const validators = update.validators === undefined ? old?.validators ?? {} : update.validators ?? {};
    const when = at.toISOString();
    const row = {
      source, kind: update.kind, last_sync: when, last_success: when, records, warnings, status: 'ok', error: null,
      cursor: JSON.stringify(cursor), validators: JSON.stringify(validators),
    };
    const { source: _s, ...set } = row;
    await trx.insertInto('sync_state').values(row).onConflict((oc) => oc.column('source').doUpdateSet(set)).execute();
  }

  // ---- whole-database dump and restore (the file format lives in import.ts) -------------------

  /** Every row of every VulnDb table, table by table, from one consistent snapshot. */
  async dump(onRow: (table: string, values: unknown[]) => Promise<void> | void): Promise<void> {
    const builder = this.dialect === 'postgres' ? this.db.transaction().setIsolationLevel('repeatable read') : this.db.transaction();
    await builder.execute(async (trx) => {
      for (const [table, columns] of Object.entries(VULNDB_TABLES)) {
        const cols = columns.map(q).join(', ');
        const where = table === 'meta' ? ` where "key" in (${VULNDB_META_KEYS.map((k) => `'${k}'`).join(', ')})` : '';
        if (this.dialect === 'postgres') {
          await sql.raw(`declare lading_dump no scroll cursor for select ${cols} from ${q(table)}${where}`).execute(trx);
          for (;;) {
            const res = await sql.raw<Record<string, unknown>>('fetch 2000 from lading_dump').execute(trx);
            if (!res.rows.length) break;
            for (const r of res.rows) await onRow(table, columns.map((c) => r[c] ?? null));
          }
          await sql.raw('close lading_dump').execute(trx);
        } else {
          let query = trx.selectFrom(table).select(columns as string[]);
          if (table === 'meta') query = query.where('key', 'in', [...VULNDB_META_KEYS]);
          for await (const r of query.stream(1000)) {
            await onRow(table, columns.map((c) => (r as Record<string, unknown>)[c] ?? null));
          }
        }
      }
    });
  }

  /**
   * Replace every VulnDb table's rows with `rows` (each a table name and a row object by column
   * name), validating each, in one transaction: a bad row throws and nothing changes.
   * `check` runs once the rows are written, inside the transaction (a bundle's trailer check).
   */
  async restore(rows: AsyncIterable<{ table: string; row: Record<string, unknown>; where: string }>, check?: () => void): Promise<Record<string, number>> {
    const counts: Record<string, number> = Object.fromEntries(Object.keys(VULNDB_TABLES).map((t) => [t, 0]));
    await this.db.transaction().execute(async (trx) => {
      await this.lockForWrite(trx, new Date());
      for (const t of [...DATA_TABLES, 'sync_state']) await trx.deleteFrom(t).execute();
      await trx.deleteFrom('meta').where('key', 'in', [...VULNDB_META_KEYS]).execute();
      const pending = new Map<string, unknown[][]>();
      const flush = async (table: string) => {
        const list = pending.get(table);
        if (!list?.length) return;
        pending.set(table, []);
        const conflict = table === 'meta' ? 'on conflict ("key") do update set "value" = excluded."value"' : '';
        await this.insertRows(trx, table, VULNDB_TABLES[table]!, list, conflict);
      };
      for await (const { table, row, where } of rows) {
        const columns = VULNDB_TABLES[table];
        if (!columns) throw new LadingError('BAD_INPUT', `${where}: unknown table "${table}"`);
        const problem = checkStoredRow(table, row);
        if (problem) throw new LadingError('BAD_INPUT', `${where}: ${table}: ${problem}`);
        // other modules' meta keys are theirs: a bundle neither carries nor replaces them
        if (table === 'meta' && !(VULNDB_META_KEYS as readonly unknown[]).includes(row.key)) continue;
        const list = pending.get(table) ?? [];
        list.push(columns.map((c) => row[c] ?? null));
        pending.set(table, list);
        counts[table] = (counts[table] ?? 0) + 1;
        if (list.length >= 1000) await flush(table);
      }
      for (const t of pending.keys()) await flush(t);
      check?.();
      await restoredEverything(trx, new Date());
      // The schema marker belongs to this database's migrations, not to the bundle.
      await trx.insertInto('meta').values({ key: 'vulndb_schema', value: String(VULNDB_SCHEMA) })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(VULNDB_SCHEMA) })).execute();
    });
    return counts;
  }
}

/** pg_advisory_xact_lock key for VulnDb writers ("LADV"). */
const LOCK_KEY = 0x4c414456;

function jsonField<T>(row: Record<string, unknown>, column: string, check: (v: unknown) => v is T): T | string {
  const text = row[column];
  if (!isStr(text)) return `${column} must be a JSON string`;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return `${column} is not valid JSON`;
  }
  return check(v) ? v : `${column} has the wrong shape`;
}

const isAnyObj = (v: unknown): v is Record<string, unknown> => isObj(v);

/** Validate a stored row (as a bundle carries it) of one VulnDb table. */
export function checkStoredRow(table: string, row: Record<string, unknown>): string | undefined {
  const need = (cols: string[]) => cols.find((c) => !nonEmpty(row[c]));
  const optional = (cols: string[]) => cols.find((c) => row[c] !== null && row[c] !== undefined && !isStr(row[c]));
  switch (table) {
    case 'meta': {
      const m = need(['key']) ?? (isStr(row.value) ? undefined : 'value');
      return m && `${m} must be a string`;
    }
    case 'vulnerabilities': {
      const m = need(['source', 'id']) ?? optional(['modified']);
      if (m) return `${m} must be a string`;
      const aliases = jsonField(row, 'aliases', strArray);
      if (isStr(aliases)) return aliases;
      const data = jsonField(row, 'data', isAnyObj);
      if (isStr(data)) return data;
      if (data.id !== row.id) return `data.id ${JSON.stringify(data.id)} differs from id ${JSON.stringify(row.id)}`;
      return checkVulnerability(data, String(row.source));
    }
    case 'aliases': {
      const m = need(['source', 'vuln_id', 'alias']);
      return m && `${m} must be a non-empty string`;
    }
    case 'affected': {
      const m = need(['source', 'vuln_id', 'namespace', 'name', 'name_kind', 'scheme']);
      if (m) return `${m} must be a non-empty string`;
      const data = jsonField(row, 'data', isAnyObj);
      if (isStr(data)) return data;
      return checkAffected({ ...data, vulnId: row.vuln_id, source: row.source, namespace: row.namespace, name: row.name, nameKind: row.name_kind, scheme: row.scheme }, String(row.source));
    }
    case 'kev': {
      const m = need(['cve', 'source']);
      if (m) return `${m} must be a non-empty string`;
      const data = jsonField(row, 'data', isAnyObj);
      if (isStr(data)) return data;
      if (data.cve !== row.cve) return `data.cve differs from cve`;
      return checkKev(data);
    }
    case 'epss': {
      const m = need(['cve', 'source']);
      if (m) return `${m} must be a non-empty string`;
      return checkEpss({ cve: row.cve, score: row.score, percentile: row.percentile, date: row.date });
    }
    case 'sync_state': {
      const m = need(['source', 'kind', 'status']) ?? optional(['last_sync', 'last_success', 'error']);
      if (m) return `${m} must be a string`;
      for (const c of ['records', 'warnings']) if (typeof row[c] !== 'number' || !Number.isInteger(row[c])) return `${c} must be an integer`;
      for (const c of ['cursor', 'validators']) {
        const v = jsonField(row, c, isAnyObj);
        if (isStr(v)) return v;
      }
      return undefined;
    }
    default:
      return `unknown table`;
  }
}
