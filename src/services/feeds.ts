/**
 * The service's feed sync: every configured source synced in turn (feeds/sync.ts), with Anchore's
 * sync events (system.feeds.sync.started / completed / failed, and per source feed_started /
 * feed_completed / feed_failed), as a cycle (services/cycles.ts) so one sync runs at a time across
 * every process, and as the `POST /system/feeds` result shape.
 */
import type { LadingConfig } from '../config/schema.js';
import type { FeedDriver } from '../feeds/driver.js';
import { syncSource, type SyncResult } from '../feeds/sync.js';
import type { VulnDb } from '../feeds/vulndb.js';
import { anchoreGroup, feedOfSource, singleGroupOf } from '../feeds/groups.js';
import { LadingError } from '../errors.js';
import type { OutboundGuard } from '../image/registry/guard.js';
import type { CycleSpec } from './cycles.js';

export const FEED_SYNC_CYCLE = 'feed_sync';

export interface ServiceEvent {
  type: string;
  level: 'info' | 'error';
  message: string;
  resource: { type: string; id: string };
  details: Record<string, unknown>;
}

export type EmitEvent = (event: ServiceEvent) => Promise<void>;

export interface FeedSyncDeps {
  vulndb: VulnDb;
  config: Pick<LadingConfig, 'feeds'>;
  /** The drivers by source id (feeds/drivers/index.ts DRIVERS). */
  drivers: Record<string, FeedDriver>;
  emit?: EmitEvent;
  /** Told each source's warnings. */
  warn?: (message: string) => void;
  /** The service's outbound guard (image/registry/guard.ts) for the downloads. */
  guard?: OutboundGuard;
}

export interface FeedSyncReport {
  started: string;
  results: SyncResult[];
  /** Sources of disabled feeds, not synced. */
  skipped?: string[];
  durationMs: number;
}

/** Sync the configured sources (or `only` these); one failing source does not stop the others. */
export async function syncFeeds(deps: FeedSyncDeps, options: { only?: string[]; signal?: AbortSignal } = {}): Promise<FeedSyncReport> {
  const { config, drivers } = deps;
  let wanted = options.only?.length ? options.only : config.feeds.sources;
  const unknown = wanted.filter((s) => !drivers[s]);
  if (unknown.length) throw new LadingError('BAD_INPUT', `unknown feed source ${unknown.join(', ')} (known: ${Object.keys(drivers).sort().join(', ')})`);
  // Disabled feeds (PUT /system/feeds/{feed}?enabled=false) are not synced.
  const off = new Set((await deps.vulndb.feedSettings()).disabledFeeds);
  const skipped = wanted.filter((s) => off.has(feedOfSource(s)));
  wanted = wanted.filter((s) => !off.has(feedOfSource(s)));
  const emit = deps.emit ?? (async () => {});
  const started = new Date();
  const t0 = Date.now();
  await emit({ type: 'system.feeds.sync.started', level: 'info', message: 'Feed sync started', resource: { type: 'feeds', id: 'all' }, details: { sources: wanted } });
  const results: SyncResult[] = [];
  for (const id of wanted) {
    if (options.signal?.aborted) break;
    await emit({ type: 'system.feeds.sync.feed_started', level: 'info', message: `Feed sync started: ${id}`, resource: { type: 'feed', id }, details: {} });
    const baseUrl = (config.feeds.base_urls as Record<string, string | undefined>)[id];
    const r = await syncSource(deps.vulndb, drivers[id]!, {
      ...(baseUrl ? { baseUrl } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(deps.warn ? { warn: deps.warn } : {}),
      ...(deps.guard ? { http: { guard: deps.guard } } : {}),
    });
    results.push(r);
    await emit(r.ok
      ? { type: 'system.feeds.sync.feed_completed', level: 'info', message: `Feed sync completed: ${id}`, resource: { type: 'feed', id }, details: detailsOf(r) }
      : { type: 'system.feeds.sync.feed_failed', level: 'error', message: `Feed sync failed: ${id}: ${r.error}`, resource: { type: 'feed', id }, details: detailsOf(r) });
  }
  const failed = results.filter((r) => !r.ok).map((r) => r.source);
  await emit(failed.length
    ? { type: 'system.feeds.sync.failed', level: 'error', message: `Feed sync failed for ${failed.join(', ')}`, resource: { type: 'feeds', id: 'all' }, details: { failed } }
    : { type: 'system.feeds.sync.completed', level: 'info', message: 'Feed sync completed', resource: { type: 'feeds', id: 'all' }, details: { sources: wanted } });
  return { started: started.toISOString(), results, skipped, durationMs: Date.now() - t0 };
}

function detailsOf(r: SyncResult): Record<string, unknown> {
  return {
    ok: r.ok, not_modified: r.notModified, requests: r.requests, duration_ms: r.durationMs, warnings: r.warningCount,
    ...(r.applied ? { records: r.applied.records, full: r.applied.full, changed_keys: r.applied.changedKeys } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

/** One line per source, for the cycle's summary. */
export function describeReport(report: FeedSyncReport): string {
  return report.results.map((r) => `${r.source}: ${r.ok ? (r.notModified ? 'not modified' : `${r.applied?.records ?? 0} records`) : `failed (${r.error})`}`).join('; ');
}

const reports = new WeakMap<CycleSpec, FeedSyncReport>();

/** The report of the last sync this cycle object ran in this process. */
export function lastReport(spec: CycleSpec): FeedSyncReport | undefined {
  return reports.get(spec);
}

/** The feed sync as a cycle; `after` runs when it finishes (the re-match of stored images). */
export function feedSyncCycle(deps: FeedSyncDeps, intervalMs: number, after?: () => Promise<void>): CycleSpec {
  const spec: CycleSpec = {
    name: FEED_SYNC_CYCLE,
    intervalMs,
    async run(signal) {
      const report = await syncFeeds(deps, { signal });
      reports.set(spec, report);
      await after?.();
      const failed = report.results.filter((r) => !r.ok);
      if (failed.length === report.results.length && failed.length) throw new LadingError('NETWORK', describeReport(report));
      return describeReport(report);
    },
  };
  return spec;
}

/** Anchore's FeedSyncResults (the answer of POST /system/feeds): per Anchore feed, its groups this sync brought. */
export function anchoreSyncResults(report: FeedSyncReport): Record<string, unknown>[] {
  const byFeed = new Map<string, SyncResult[]>();
  for (const r of report.results) byFeed.set(feedOfSource(r.source), [...(byFeed.get(feedOfSource(r.source)) ?? []), r]);
  return [...byFeed].map(([feed, results]) => {
    const ok = results.every((r) => r.ok);
    const seconds = results.reduce((n, r) => n + r.durationMs, 0) / 1000;
    const groups = new Map<string, { count: number; seconds: number; errors: string[]; ok: boolean }>();
    for (const r of results) {
      const counts = r.applied ? Object.entries(r.applied.namespaces) : [];
      const names = singleGroupOf(feed) ? [[singleGroupOf(feed)!, r.applied?.records ?? 0] as const]
        : counts.length || r.ok ? counts.map(([ns, n]) => [anchoreGroup(ns), n] as const) : [[`${r.source} (all groups)`, 0] as const];
      for (const [name, n] of names) {
        const g = groups.get(name) ?? { count: 0, seconds: 0, errors: [], ok: true };
        g.count += n;
        g.seconds += r.durationMs / 1000;
        g.ok &&= r.ok;
        if (r.error) g.errors.push(`${r.source}: ${r.error}`);
        groups.set(name, g);
      }
    }
    return {
      feed, status: ok ? 'success' : 'failure', total_time_seconds: seconds,
      groups: [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([group, g]) => ({
        group, status: g.ok ? 'success' : 'failure', total_time_seconds: g.seconds, updated_record_count: g.count, updated_image_count: 0,
        ...(g.errors.length ? { error: g.errors.join('; ') } : {}),
      })),
      sources: results.map((r) => r.source),
    };
  });
}
