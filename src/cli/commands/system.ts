/**
 * `lading system status|wait|feeds list|feeds sync|feeds enable|feeds disable|feeds config|feeds
 * delete`: the health of a Lading service and its vulnerability feeds (`/system`, `/system/feeds`).
 * `feeds config FEED [--group G] --enable|--disable` and `feeds delete FEED [--group G]` are
 * anchore-cli's; `feeds enable|disable FEED [GROUP]` say the same shorter.
 */
import { Command } from 'commander';
import { addConnectionOptions } from '../client/connection.js';
import { ServiceError, type ServiceClient } from '../client/http.js';
import { parseSeconds, sleep, sortedTable, withService } from '../client/output.js';
import type { Feed, FeedSyncResult, ServiceState } from '../client/shapes.js';

export function statusText(states: ServiceState[]): string {
  const lines = states.map((s) => `Service ${s.servicename ?? 'ServiceName Unknown'} (${s.hostid ?? 'HostID Unknown'}, ${s.base_url ?? 'Base URL Unknown'}): ${s.status ? 'up' : `down (${s.status_message ?? 'Status Unknown'})`}`);
  const detail = states.find((s) => s.status)?.service_detail ?? states[0]?.service_detail;
  return `${lines.join('\n')}\n\nEngine DB Version: ${detail?.db_version ?? 'Not Found'}\nEngine Code Version: ${detail?.version ?? 'Not Found'}\n`;
}

/** A group's status: the service's (ok, failed, never), with the kind of the data (import) and a failed later sync. */
function groupStatus(g: Feed['groups'][number], on: boolean): string {
  if (!g.status) return on ? (g.last_sync ? 'ok' : 'pending') : '-';
  if (g.status === 'ok' && g.kind === 'import') return g.last_error ? 'ok(import,sync-failed)' : 'ok(import)';
  return g.status;
}

/** LastSync is the last successful sync or import; a failed attempt shows in Status (and its error below the table). */
export function feedsText(feeds: Feed[]): string {
  // Disabled: turned off (`disabled`, Lading's field); a server without it says so through `enabled`.
  const off = (x: { enabled?: boolean; disabled?: boolean }) => x.disabled ?? x.enabled === false;
  const rows = feeds.flatMap((f) => f.groups.map((g) => {
    const on = !off(f) && !off(g);
    return [off(f) ? `${f.name}(disabled)` : f.name, off(g) ? `${g.name}(disabled)` : g.name, g.last_sync || (on ? 'pending' : '-'),
      groupStatus(g, on), g.record_count ?? 'N/A'];
  }));
  const errors = feeds.flatMap((f) => f.groups.filter((g) => g.last_error).map((g) => `${f.name}/${g.name}: last attempt${g.last_attempt ? ` ${g.last_attempt}` : ''} failed: ${g.last_error}`));
  return sortedTable(['Feed', 'Group', 'LastSync', 'Status', 'RecordCount'], rows, 'Feed') + (errors.length ? `\n${errors.sort().join('\n')}\n` : '');
}

export function syncText(results: FeedSyncResult[]): string {
  const rows = results.flatMap((f) => (f.groups ?? []).map((g) => [f.feed, g.group, g.status, g.updated_record_count ?? 'N/A', `${(g.total_time_seconds ?? 0).toFixed(2)}s`]));
  return sortedTable(['Feed', 'Group', 'Status', 'Records Updated', 'Sync Duration'], rows, 'Feed');
}

function list(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

interface WaitOptions { timeout: number; interval: number; feedsready?: string[]; servicesready?: string[] }

/** What is still not ready: services not up (all, or the named ones) and feeds never synced (any, or the named ones). */
async function notReady(client: ServiceClient, o: WaitOptions): Promise<string[]> {
  const waiting: string[] = [];
  const { service_states: states } = await client.get<{ service_states: ServiceState[] }>('/system');
  for (const name of o.servicesready ?? states.map((s) => s.servicename ?? '')) {
    if (!states.some((s) => s.servicename === name && s.status)) waiting.push(`service ${name}`);
  }
  if (o.feedsready?.length === 0) return waiting;
  const feeds = await client.get<Feed[]>('/system/feeds');
  const synced = (f: Feed) => f.groups.some((g) => g.last_sync && (g.record_count ?? 0) > 0);
  if (!o.feedsready) {
    if (!feeds.some(synced)) waiting.push('a synced vulnerability feed');
  } else {
    for (const name of o.feedsready) if (!feeds.some((f) => f.name === name && synced(f))) waiting.push(`feed ${name}`);
  }
  return waiting;
}

export function systemCommand(): Command {
  const group = new Command('system').description('the health of a Lading service and its vulnerability feeds');

  addConnectionOptions(group.command('status'))
    .description('the service roles and whether they are up')
    .action(async (_o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const r = await svc.client.get<{ service_states: ServiceState[] }>('/system');
        svc.print(r, () => statusText(r.service_states));
      });
    });

  addConnectionOptions(group.command('wait'))
    .description('wait until the service is up and its vulnerability data synced')
    .option('--timeout <seconds>', 'give up after this long (-1: never)', parseSeconds('--timeout', true), 3600)
    .option('--interval <seconds>', 'time between checks', parseSeconds('--interval'), 5)
    .option('--feedsready <feeds>', 'comma-separated feeds that must have data (default: any feed; "" for none)', list)
    .option('--servicesready <roles>', 'comma-separated service roles that must be up (default: every one reported)', list)
    .action(async (o: WaitOptions, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const start = Date.now();
        for (;;) {
          const waiting = await notReady(svc.client, o);
          if (!waiting.length) {
            const r = await svc.client.get<{ service_states: ServiceState[] }>('/system');
            svc.print(r, () => statusText(r.service_states));
            return;
          }
          const left = o.timeout < 0 ? undefined : o.timeout - (Date.now() - start) / 1000;
          if (left !== undefined && left <= 0) throw new ServiceError(2, 'INTERNAL', `timed out after ${o.timeout}s waiting for ${waiting.join(', ')}`);
          process.stderr.write(`Waiting for ${waiting.join(', ')}\n`);
          await sleep(left !== undefined ? Math.min(o.interval, left) : o.interval);
        }
      });
    });

  const feeds = group.command('feeds').description('vulnerability feeds');
  addConnectionOptions(feeds.command('list'))
    .description('the feeds, their groups, last sync and record counts')
    .action(async (_o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const r = await svc.client.get<Feed[]>('/system/feeds');
        svc.print(r, () => feedsText(r));
      });
    });

  addConnectionOptions(feeds.command('sync'))
    .description('sync the vulnerability feeds now (waits for the sync)')
    .option('--flush', 'drop the stored data and sync from scratch')
    .action(async (o: { flush?: boolean }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const r = await svc.client.post<FeedSyncResult[]>('/system/feeds', undefined, { sync: true, ...(o.flush ? { flush: true } : {}) });
        svc.print(r, () => (Array.isArray(r) ? syncText(r) : 'Success\n'));
      });
    });
  feedToggleCommands(feeds);
  return group;
}

/** The feed path of a feed and optional group: /system/feeds/{feed}[/{group}]. */
function feedPath(feed: string, group?: string): string {
  return `/system/feeds/${encodeURIComponent(feed)}${group !== undefined ? `/${encodeURIComponent(group)}` : ''}`;
}

/** PUT /system/feeds/{feed}[/{group}] {enabled}, then the feed as the service now reports it. */
async function setEnabled(cmd: Command, feed: string, group: string | undefined, enabled: boolean): Promise<void> {
  await withService(cmd, async (svc) => {
    const r = await svc.client.put<Feed | Feed[]>(feedPath(feed, group), { enabled });
    svc.print(r, () => feedsText(Array.isArray(r) ? r : [r]));
  });
}

function feedToggleCommands(feeds: Command): void {
  for (const enabled of [true, false]) {
    addConnectionOptions(feeds.command(`${enabled ? 'enable' : 'disable'} <feed> [group]`))
      .description(`${enabled ? 'enable' : 'disable'} a feed, or one group of it (admin)${enabled ? '' : ': sync and matching skip it'}`)
      .action(async (feed: string, group: string | undefined, _o: unknown, cmd: Command) => setEnabled(cmd, feed, group, enabled));
  }

  addConnectionOptions(feeds.command('config <feed>'))
    .description("enable or disable a feed or one of its groups (admin; anchore-cli's form)")
    .option('--group <group>', 'only this group of the feed')
    .option('--enable', 'enable it')
    .option('--disable', 'disable it: sync and matching skip it')
    .action(async (feed: string, o: { group?: string; enable?: boolean; disable?: boolean }, cmd: Command) => {
      if (o.enable === o.disable) throw new ServiceError(2, 'BAD_INPUT', 'give one of --enable or --disable');
      await setEnabled(cmd, feed, o.group, o.enable === true);
    });

  addConnectionOptions(feeds.command('delete <feed> [group]'))
    .description("delete a disabled feed's (or group's) stored vulnerability data (admin)")
    .option('--group <group>', 'only this group of the feed (the same as the GROUP argument)')
    .action(async (feed: string, positional: string | undefined, o: { group?: string }, cmd: Command) => {
      if (positional !== undefined && o.group !== undefined && positional !== o.group) throw new ServiceError(2, 'BAD_INPUT', `two groups given: ${positional} and --group ${o.group}`);
      await withService(cmd, async (svc) => {
        const r = await svc.client.delete<Feed | Feed[]>(feedPath(feed, positional ?? o.group));
        svc.print(r, () => feedsText(Array.isArray(r) ? r : [r]));
      });
    });
}
