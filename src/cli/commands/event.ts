/**
 * `lading event list|get|del`: the service's event log (`/events`: analysis completed or failed,
 * feed syncs, policy and vulnerability changes).
 */
import { Command } from 'commander';
import { LadingError } from '../../errors.js';
import { addConnectionOptions } from '../client/connection.js';
import { seg, type Query } from '../client/http.js';
import { sortedTable, success, withService } from '../client/output.js';
import type { EventList, EventRecord } from '../client/shapes.js';

interface ListOptions {
  since?: string;
  before?: string;
  level?: string;
  service?: string;
  host?: string;
  eventType?: string;
  resourceType?: string;
  all?: boolean;
  full?: boolean;
}

export function eventsText(events: EventRecord[], full: boolean): string {
  const head = full ? ['Timestamp', 'Level', 'Event', 'ResourceType', 'Resource', 'Service', 'Host', 'ID'] : ['Timestamp', 'Level', 'Event', 'Resource', 'ID'];
  return sortedTable(head, events.map(({ event: e, generated_uuid: id, created_at }) => {
    const at = e.timestamp ?? created_at;
    return full
      ? [at, e.level, e.type, e.resource?.type, e.resource?.id, e.source?.servicename, e.source?.hostid, id]
      : [at, e.level, e.type, e.resource?.id, id];
  }));
}

export function eventCommand(): Command {
  const group = new Command('event').description('the event log of a Lading service');

  addConnectionOptions(group.command('list').argument('[resource]', 'only events about this resource id (an image digest, a tag, ...)'))
    .description('list events, newest first')
    .option('--since <time>', 'only events at or after this time (ISO 8601)')
    .option('--before <time>', 'only events before this time (ISO 8601)')
    .option('--level <level>', 'info or error')
    .option('--service <name>', 'only events from this service role')
    .option('--host <id>', 'only events from this host id')
    .option('--event-type <type>', 'event type or prefix (user.image.analysis, system.feeds.sync.failed, ...)')
    .option('--resource-type <type>', 'image_tag, image_digest, feeds, ...')
    .option('--all', 'every page, not only the first')
    .option('--full', 'also show resource type, service and host')
    .action(async (resource: string | undefined, o: ListOptions, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const query: Query = {
          source_servicename: o.service, source_hostid: o.host, event_type: o.eventType, resource_type: o.resourceType,
          resource_id: resource, level: o.level, since: o.since, before: o.before,
        };
        const first = await svc.client.get<EventList>('/events', query);
        const results = [...first.results];
        for (let page = 2, more = first.next_page; o.all && more; page++) {
          const next = await svc.client.get<EventList>('/events', { ...query, page });
          results.push(...next.results);
          more = next.next_page && next.results.length > 0;
        }
        const payload = o.all ? { ...first, results, next_page: false, item_count: results.length } : first;
        svc.print(payload, () => eventsText(results, o.full === true));
      });
    });

  addConnectionOptions(group.command('get').argument('<id>', 'event id'))
    .description('one event with its details')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const r = await svc.client.get<EventRecord>(`/events/${seg(id)}`);
        const { stringify } = await import('yaml');
        svc.print(r, () => stringify(r.event));
      });
    });

  addConnectionOptions(group.command('del').argument('[id]', 'event id; without it, the events selected by --since/--before, or --all'))
    .description('delete one event, or events by time')
    .option('--since <time>', 'delete events at or after this time')
    .option('--before <time>', 'delete events before this time')
    .option('--all', 'delete every event')
    .action(async (id: string | undefined, o: { since?: string; before?: string; all?: boolean }, cmd: Command) => {
      if (!id && !o.since && !o.before && !o.all) throw new LadingError('BAD_INPUT', 'give an event id, --since/--before, or --all');
      await withService(cmd, async (svc) => {
        if (id) {
          const r = await svc.client.delete<unknown>(`/events/${seg(id)}`);
          svc.print(r, () => success());
          return;
        }
        const ids = await svc.client.delete<string[]>('/events', { since: o.since, before: o.before });
        svc.print(ids, () => (ids.length ? `Deleted ${ids.length} events\n` : 'No matching events found\n'));
      });
    });
  return group;
}
