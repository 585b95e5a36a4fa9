/**
 * Anchore's feed operations, under Anchore's names (feeds/groups.ts: feed `vulnerabilities` with
 * groups `debian:12`, `github:npm`..., feed `nvdv2` with `nvdv2:cves`, and Lading's `kev`, `epss`):
 * - `GET /system/feeds`: every feed and its groups, with record counts and sync times; `enabled`
 *   is true only when the feed (and group) is enabled and this service syncs it.
 * - `POST /system/feeds`: sync now (admin), as FeedSyncResults.
 * - `PUT /system/feeds/{feed}[/{group}]?enabled=true|false` (or a body `{"enabled": bool}`):
 *   a disabled feed is not synced and the matcher ignores its data; a disabled group is left out
 *   of syncs (its data stays) and of matching. Stored images are re-matched.
 * - `DELETE /system/feeds/{feed}[/{group}]`: delete the data of a disabled feed or group (409 while enabled, as Anchore).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiDeps } from '../app.js';
import { accountOf, userOf } from '../context.js';
import { isoZ } from '../views.js';
import { ApiError } from '../errors.js';
import { ADMIN_ACCOUNT } from '../../store/accounts.js';
import { anchoreSyncResults, lastReport, type FeedSyncReport } from '../../services/feeds.js';
import { ANCHORE_FEEDS, VULNERABILITIES_FEED, anchoreGroup, feedOfSource, namespaceOfGroup, singleGroupOf, sourcesOfFeed } from '../../feeds/groups.js';
import { DRIVERS } from '../../feeds/drivers/index.js';
import type { FeedSettings, SourceStatus } from '../../feeds/vulndb.js';

interface FeedData {
  status: SourceStatus[];
  counts: { namespace: string; source: string; rows: number }[];
  settings: FeedSettings;
  /** The sources this service syncs. */
  synced: Set<string>;
}

async function feedData(deps: ApiDeps): Promise<FeedData> {
  return {
    status: await deps.vulndb.status(),
    counts: await deps.vulndb.namespaceCounts(),
    settings: await deps.vulndb.feedSettings(),
    synced: new Set(deps.feedSync && deps.config.feeds.enabled ? deps.config.feeds.sources : []),
  };
}

const latest = (xs: (string | undefined)[]) => xs.filter((x): x is string => !!x).sort().at(-1);
const earliest = (xs: (string | undefined)[]) => xs.filter((x): x is string => !!x).sort()[0];

function sourceView(s: SourceStatus, synced: boolean): Record<string, unknown> {
  return {
    name: s.source, synced, status: s.status, kind: s.kind ?? null, record_count: s.records,
    last_sync: isoZ(s.lastSuccess), last_attempt: isoZ(s.lastSync), last_error: s.error ?? null,
  };
}

/** How a group's sources fared: failed when one failed, else ok when one has data, else never; the latest attempt and the first error. */
function health(sources: SourceStatus[]): Record<string, unknown> {
  const status = sources.some((s) => s.status === 'failed') ? 'failed' : sources.some((s) => s.status === 'ok') ? 'ok' : 'never';
  return {
    status, kind: sources.find((s) => s.status === 'ok')?.kind ?? null,
    last_attempt: isoZ(latest(sources.map((s) => s.lastSync))), last_error: sources.find((s) => s.error)?.error ?? null,
  };
}

/** The groups of one feed: a namespace each (vulnerabilities), or the feed's one group. */
function groupsOf(feed: string, sources: SourceStatus[], d: FeedData, feedOn: boolean): Record<string, unknown>[] {
  const single = singleGroupOf(feed);
  if (single) {
    const synced = sources.some((s) => d.synced.has(s.source));
    return [{
      name: single, created_at: isoZ(earliest(sources.map((s) => s.lastSuccess))), last_sync: isoZ(latest(sources.map((s) => s.lastSuccess))),
      record_count: sources.reduce((n, s) => n + s.records, 0), enabled: feedOn && synced, synced, ...health(sources),
    }];
  }
  const bySource = new Map(sources.map((s) => [s.source, s]));
  const namespaces = new Set([...d.counts.filter((c) => bySource.has(c.source)).map((c) => c.namespace), ...d.settings.disabledGroups]);
  return [...namespaces].map((ns) => {
    const rows = d.counts.filter((c) => c.namespace === ns && bySource.has(c.source));
    const from = rows.map((r) => bySource.get(r.source)!);
    const synced = from.some((s) => d.synced.has(s.source));
    const on = !d.settings.disabledGroups.includes(ns);
    return {
      name: anchoreGroup(ns), created_at: isoZ(earliest(from.map((s) => s.lastSuccess))), last_sync: isoZ(latest(from.map((s) => s.lastSuccess))),
      record_count: rows.reduce((n, r) => n + r.rows, 0), enabled: feedOn && on && synced, synced, disabled: !on,
      sources: rows.map((r) => r.source), ...health(from),
    };
  }).sort((a, b) => a.name.localeCompare(b.name));
}

/** One FeedMetadata, or undefined for a feed with no data, no sync and no setting. */
function feedView(feed: string, d: FeedData, always = false): Record<string, unknown> | undefined {
  const sources = d.status.filter((s) => feedOfSource(s.source) === feed);
  const configured = [...d.synced].filter((s) => feedOfSource(s) === feed);
  const off = d.settings.disabledFeeds.includes(feed);
  if (!always && !sources.length && !configured.length && !off) return undefined;
  const synced = configured.length > 0;
  return {
    name: feed,
    created_at: isoZ(earliest(sources.map((s) => s.lastSuccess))),
    updated_at: isoZ(latest(sources.map((s) => s.lastSync))),
    last_full_sync: isoZ(latest(sources.map((s) => s.lastSuccess))),
    enabled: !off && synced,
    synced,
    disabled: off,
    groups: groupsOf(feed, sources, d, !off),
    sources: sources.map((s) => sourceView(s, d.synced.has(s.source))),
  };
}

async function requireAdmin(req: FastifyRequest, deps: ApiDeps, what: string): Promise<void> {
  const account = await accountOf(req, deps, 'write');
  if (account !== ADMIN_ACCOUNT || userOf(req).accountType !== 'admin') throw new ApiError(403, `only the admin account can ${what}`);
}

/** `enabled` from the query (Anchore's form) or a JSON body `{"enabled": bool}`. */
function enabledOf(req: FastifyRequest): boolean {
  const q = (req.query as Record<string, unknown>).enabled;
  const b = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>).enabled : undefined;
  const v = q ?? b;
  if (v === true || v === 'true' || v === 'True') return true;
  if (v === false || v === 'false' || v === 'False') return false;
  throw new ApiError(400, v === undefined
    ? 'enabled is required: PUT with ?enabled=true or ?enabled=false (or a body {"enabled": true|false})'
    : `invalid enabled: ${JSON.stringify(v).slice(0, 100)} is not true or false`);
}

function knownFeed(feed: string): string[] {
  const sources = sourcesOfFeed(feed, Object.keys(DRIVERS));
  if (!sources) throw new ApiError(404, `no feed ${JSON.stringify(feed)} (feeds: ${ANCHORE_FEEDS.join(', ')})`);
  return sources;
}

/** The namespace a group of the vulnerabilities feed names; 404 when it has no data and no setting. */
async function knownGroup(deps: ApiDeps, group: string): Promise<string> {
  const ns = namespaceOfGroup(group);
  const d = await feedData(deps);
  const has = d.counts.some((c) => c.namespace === ns && feedOfSource(c.source) === VULNERABILITIES_FEED) || d.settings.disabledGroups.includes(ns);
  if (!has) throw new ApiError(404, `no group ${JSON.stringify(group)} in feed ${VULNERABILITIES_FEED} (GET /system/feeds lists them)`);
  return ns;
}

/** POST /system/feeds: sync now and answer with the results (admin only; a sync already running is a 409). */
async function syncFeedsNow(deps: ApiDeps, req: FastifyRequest) {
  await requireAdmin(req, deps, 'sync feeds');
  const q = req.query as Record<string, unknown>;
  if (q.flush === 'true' || q.flush === 'True') throw new ApiError(400, 'flush is not supported: each sync replaces or updates a source\'s data as its feed says');
  if (!deps.feedSync || !deps.cycles) throw new ApiError(409, 'feed sync is disabled in this service\'s configuration (feeds.enabled: false); load data with `lading db import`');
  let report: FeedSyncReport | undefined;
  const spec = deps.feedSync;
  const outcome = await deps.cycles.runNow({
    ...spec,
    run: async (signal) => {
      const summary = await spec.run(signal);
      report = lastReport(spec);
      return summary;
    },
  });
  if (!outcome) {
    const state = (await deps.cycles.states()).find((c) => c.name === spec.name);
    throw new ApiError(409, `a feed sync is already running (started ${isoZ(state?.lastStarted) ?? 'recently'} by ${state?.leaseOwner ?? 'another process'})`);
  }
  if (outcome.status === 'failed' && !report) throw new ApiError(502, `feed sync failed: ${outcome.error}`);
  return report ? anchoreSyncResults(report) : [];
}

export function feedsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/system/feeds', async (req) => {
    await accountOf(req, deps, 'read');
    const d = await feedData(deps);
    return ANCHORE_FEEDS.map((f) => feedView(f, d)).filter((f) => f !== undefined);
  });

  // Anchore's POST /system/feeds: sync now. One sync runs at a time across every process.
  app.post('/system/feeds', async (req) => syncFeedsNow(deps, req));

  app.put('/system/feeds/:feed', async (req) => {
    await requireAdmin(req, deps, 'enable or disable feeds');
    const { feed } = req.params as { feed: string };
    knownFeed(feed);
    await deps.vulndb.setFeedEnabled('feed', feed, enabledOf(req));
    return feedView(feed, await feedData(deps), true);
  });

  app.put('/system/feeds/:feed/:group', async (req) => {
    await requireAdmin(req, deps, 'enable or disable feed groups');
    const { feed, group } = req.params as { feed: string; group: string };
    knownFeed(feed);
    const enabled = enabledOf(req);
    const single = singleGroupOf(feed);
    if (single !== undefined && group !== single) throw new ApiError(404, `no group ${JSON.stringify(group)} in feed ${feed} (its one group is ${single})`);
    if (single !== undefined) await deps.vulndb.setFeedEnabled('feed', feed, enabled);
    else await deps.vulndb.setFeedEnabled('group', await knownGroup(deps, group), enabled);
    return [feedView(feed, await feedData(deps), true)];
  });

  app.delete('/system/feeds/:feed', async (req) => {
    await requireAdmin(req, deps, 'delete feed data');
    const { feed } = req.params as { feed: string };
    const sources = knownFeed(feed);
    if (!(await deps.vulndb.feedSettings()).disabledFeeds.includes(feed)) throw new ApiError(409, `feed ${feed} is enabled: disable it first (PUT /system/feeds/${feed}?enabled=false)`);
    await deps.vulndb.deleteSources(sources);
    return feedView(feed, await feedData(deps), true);
  });

  app.delete('/system/feeds/:feed/:group', async (req) => {
    await requireAdmin(req, deps, 'delete feed data');
    const { feed, group } = req.params as { feed: string; group: string };
    const sources = knownFeed(feed);
    const single = singleGroupOf(feed);
    const settings = await deps.vulndb.feedSettings();
    if (single !== undefined) {
      if (group !== single) throw new ApiError(404, `no group ${JSON.stringify(group)} in feed ${feed} (its one group is ${single})`);
      if (!settings.disabledFeeds.includes(feed)) throw new ApiError(409, `group ${group} is enabled: disable it first (PUT /system/feeds/${feed}/${group}?enabled=false)`);
      await deps.vulndb.deleteSources(sources);
    } else {
      const ns = await knownGroup(deps, group);
      if (!settings.disabledGroups.includes(ns) && !settings.disabledFeeds.includes(feed)) {
        throw new ApiError(409, `group ${group} is enabled: disable it first (PUT /system/feeds/${feed}/${group}?enabled=false)`);
      }
      await deps.vulndb.deleteNamespace(ns);
    }
    return feedView(feed, await feedData(deps), true);
  });
}
