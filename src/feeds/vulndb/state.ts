/** Per-source sync state (read, failures, the state a successful apply writes), status, and the meta table. */
import type { Transaction } from 'kysely';
import { isObj, isStr } from './checks.js';
import type { SourceStatus, StateUpdate, SyncKind, SyncState, Validator, VulnDbContext, VulnDbTables } from './types.js';

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

export async function syncState(ctx: VulnDbContext, source: string): Promise<SyncState | undefined> {
  const r = await ctx.db.selectFrom('sync_state').selectAll().where('source', '=', source).executeTakeFirst();
  return r ? stateFromRow(r) : undefined;
}

export async function syncStates(ctx: VulnDbContext): Promise<SyncState[]> {
  const rows = await ctx.db.selectFrom('sync_state').selectAll().orderBy('source').execute();
  return rows.map(stateFromRow);
}

/**
 * Record a failed sync or import: the data, cursor, validators and last success stay as they were.
 * A failed online sync of a source whose data came from a successful import leaves its status ok
 * and its kind `import` (the imported data is what is stored); the error is kept beside it.
 */
export async function recordFailure(ctx: VulnDbContext, source: string, kind: SyncKind, error: string, at: Date = new Date()): Promise<void> {
  const when = at.toISOString();
  const prev = await ctx.db.selectFrom('sync_state').select(['kind', 'status']).where('source', '=', source).executeTakeFirst();
  const keepsImport = kind === 'sync' && prev?.kind === 'import' && prev.status === 'ok';
  const set = keepsImport ? { last_sync: when, error } : { kind, last_sync: when, status: 'failed', error };
  await ctx.db.insertInto('sync_state')
    .values({ source, kind, last_sync: when, status: 'failed', error, records: 0, warnings: 0, cursor: '{}', validators: '{}' })
    .onConflict((oc) => oc.column('source').doUpdateSet(set))
    .execute();
}

/** Per source: rows stored, last sync and success, age, status. Sorted by source. */
export async function status(ctx: VulnDbContext, now: Date = new Date()): Promise<SourceStatus[]> {
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
    const rows = await ctx.db.selectFrom(table).select(['source', (eb) => eb.fn.countAll().as('n')]).groupBy('source').execute();
    for (const r of rows) {
      const s = entry(String(r.source));
      s.counts[table] = Number(r.n);
      s.records += Number(r.n);
    }
  }
  for (const st of await syncStates(ctx)) {
    const s = entry(st.source);
    s.kind = st.kind;
    s.status = st.status;
    s.warnings = st.warnings;
    if (st.lastSync) s.lastSync = st.lastSync;
    if (st.lastSuccess) {
      s.lastSuccess = st.lastSuccess;
      s.ageSeconds = Math.max(0, Math.round((now.getTime() - Date.parse(st.lastSuccess)) / 1000));
    }
    if (st.error) s.error = st.error;
  }
  return [...bySource.values()].sort((a, b) => a.source.localeCompare(b.source));
}

/** Every row of the meta table (the vulnerability database's keys and those other modules keep there). */
export async function meta(ctx: VulnDbContext): Promise<Record<string, string>> {
  const rows = await ctx.db.selectFrom('meta').select(['key', 'value']).execute();
  return Object.fromEntries(rows.map((r) => [String(r.key), String(r.value)]));
}

/** One meta value, undefined when the key is not set. */
export async function metaValue(ctx: VulnDbContext, key: string): Promise<string | undefined> {
  const row = await ctx.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

/** Set one meta value (other modules keep their own keys here, such as a re-match cursor). */
export async function setMetaValue(ctx: VulnDbContext, key: string, value: string): Promise<void> {
  await ctx.db.insertInto('meta').values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
}

export async function writeState(trx: Transaction<VulnDbTables>, source: string, update: StateUpdate, at: Date, records: number, warnings: number): Promise<void> {
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
