/**
 * Which feeds and groups are disabled (Anchore's `PUT /system/feeds/{feed}[/{group}]`), kept in
 * the meta table under `feed_settings` so every process and the matcher see the same: a disabled
 * feed's sources are not synced by the service and their records are not read by the matcher; a
 * disabled group's namespace is left out of syncs (its stored rows stay) and of matching. Feeds
 * are Anchore's names (`vulnerabilities`, `nvdv2`, feeds/groups.ts), groups Lading's namespaces.
 * Changing them, or deleting a feed's or a group's data, logs "everything changed" in
 * `vuln_changes`, so stored images are re-matched.
 */
import type { Kysely, Transaction } from 'kysely';
import { EVERYTHING } from '../changes.js';
import type { AffectedDigestsTable, VulnChangesTable } from '../tables.js';
import { chunks, DATA_VERSION_KEY, IN_CHUNK, lockForWrite } from './sql.js';
import { DATA_TABLES, type VulnDbContext, type VulnDbTables } from './types.js';

type Tables = VulnDbTables & { affected_digests: AffectedDigestsTable; vuln_changes: VulnChangesTable };
const dbOf = (ctx: VulnDbContext) => ctx.db as unknown as Kysely<Tables>;

export const FEED_SETTINGS_KEY = 'feed_settings';

export interface FeedSettings {
  disabledFeeds: string[];
  disabledGroups: string[];
}

const NONE: FeedSettings = { disabledFeeds: [], disabledGroups: [] };

function parse(text: string | undefined): FeedSettings {
  if (!text) return NONE;
  try {
    const v = JSON.parse(text) as Partial<FeedSettings>;
    const strings = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
    return { disabledFeeds: strings(v.disabledFeeds), disabledGroups: strings(v.disabledGroups) };
  } catch {
    return NONE;
  }
}

export async function readSettings(ctx: VulnDbContext): Promise<FeedSettings> {
  const row = await ctx.db.selectFrom('meta').select('value').where('key', '=', FEED_SETTINGS_KEY).executeTakeFirst();
  return parse(row?.value);
}

const SETTINGS_AND_VERSION = [FEED_SETTINGS_KEY, DATA_VERSION_KEY, 'built'];

/**
 * The settings and the data's version in one statement: `data_version` (changed by every write,
 * sql.ts lockForWrite) and `built` (which writers older than data_version stamp too).
 */
export async function readSettingsAndVersion(ctx: VulnDbContext): Promise<{ settings: FeedSettings; version: string }> {
  const rows = await ctx.db.selectFrom('meta').select(['key', 'value']).where('key', 'in', SETTINGS_AND_VERSION).execute();
  const value = (key: string) => rows.find((r) => r.key === key)?.value;
  return { settings: parse(value(FEED_SETTINGS_KEY)), version: `${value(DATA_VERSION_KEY) ?? ''}\0${value('built') ?? ''}` };
}

async function everythingChanged(trx: Transaction<Tables>, at: Date): Promise<void> {
  await trx.insertInto('vuln_changes').values({ source: EVERYTHING, namespace: EVERYTHING, name: EVERYTHING, created_at: at.toISOString() }).execute();
}

/** Enable or disable a feed (`kind: 'feed'`, an Anchore feed name) or a group (a namespace); returns the new settings. */
export async function setEnabled(ctx: VulnDbContext, kind: 'feed' | 'group', name: string, enabled: boolean, at = new Date()): Promise<FeedSettings> {
  return dbOf(ctx).transaction().execute(async (trx) => {
    await lockForWrite(trx as unknown as Transaction<VulnDbTables>, ctx.dialect, at);
    const row = await trx.selectFrom('meta').select('value').where('key', '=', FEED_SETTINGS_KEY).executeTakeFirst();
    const s = parse(row?.value);
    const list = new Set(kind === 'feed' ? s.disabledFeeds : s.disabledGroups);
    const before = list.has(name);
    if (enabled) list.delete(name);
    else list.add(name);
    const next = kind === 'feed' ? { ...s, disabledFeeds: [...list].sort() } : { ...s, disabledGroups: [...list].sort() };
    const value = JSON.stringify(next);
    await trx.insertInto('meta').values({ key: FEED_SETTINGS_KEY, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
    if (before === enabled) await everythingChanged(trx, at);
    return next;
  });
}

/** Delete every row these sources have (records, affected, KEV, EPSS, digests) and their sync state; returns the rows deleted. */
export async function deleteSources(ctx: VulnDbContext, sources: string[], at = new Date()): Promise<number> {
  if (!sources.length) return 0;
  return dbOf(ctx).transaction().execute(async (trx) => {
    await lockForWrite(trx as unknown as Transaction<VulnDbTables>, ctx.dialect, at);
    let n = 0;
    for (const t of [...DATA_TABLES, 'affected_digests' as const, 'sync_state' as const]) {
      const r = await trx.deleteFrom(t).where('source', 'in', sources).executeTakeFirst();
      if (t !== 'sync_state' && t !== 'affected_digests') n += Number(r.numDeletedRows);
    }
    await everythingChanged(trx, at);
    return n;
  });
}

/**
 * Delete a namespace's affected rows (of every source), and the records that named it and are
 * left with no affected row in any other namespace; returns the affected rows deleted.
 */
export async function deleteNamespace(ctx: VulnDbContext, namespace: string, at = new Date()): Promise<number> {
  return dbOf(ctx).transaction().execute(async (trx) => {
    await lockForWrite(trx as unknown as Transaction<VulnDbTables>, ctx.dialect, at);
    const named = await trx.selectFrom('affected').select(['source', 'vuln_id']).distinct().where('namespace', '=', namespace).execute();
    const r = await trx.deleteFrom('affected').where('namespace', '=', namespace).executeTakeFirst();
    await trx.deleteFrom('affected_digests').where('namespace', '=', namespace).execute();
    const bySource = new Map<string, string[]>();
    for (const x of named) bySource.set(String(x.source), [...(bySource.get(String(x.source)) ?? []), String(x.vuln_id)]);
    for (const [source, ids] of bySource) {
      for (const part of chunks(ids, IN_CHUNK)) {
        const still = new Set((await trx.selectFrom('affected').select('vuln_id').distinct().where('source', '=', source).where('vuln_id', 'in', part).execute())
          .map((x) => String(x.vuln_id)));
        const drop = part.filter((id) => !still.has(id));
        if (!drop.length) continue;
        await trx.deleteFrom('aliases').where('source', '=', source).where('vuln_id', 'in', drop).execute();
        await trx.deleteFrom('vulnerabilities').where('source', '=', source).where('id', 'in', drop).execute();
      }
    }
    await everythingChanged(trx, at);
    return Number(r.numDeletedRows);
  });
}

/** Per (namespace, source): the affected rows stored. */
export async function namespaceCounts(ctx: VulnDbContext): Promise<{ namespace: string; source: string; rows: number }[]> {
  const rows = await ctx.db.selectFrom('affected').select(['namespace', 'source', (eb) => eb.fn.countAll().as('n')]).groupBy(['namespace', 'source']).execute();
  return rows.map((r) => ({ namespace: String(r.namespace), source: String(r.source), rows: Number(r.n) })).sort((a, b) => a.namespace.localeCompare(b.namespace) || a.source.localeCompare(b.source));
}
