/**
 * Events: the per-account log of what happened (an analysis completed or failed, a tag moved, a
 * feed sync failed), with Anchore's taxonomy `category.subcategory.event`, its levels, messages and
 * resource types. `EventStore.add` records one; the API lists, filters, pages and deletes them.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { LadingError } from '../errors.js';
import type { CatalogImage } from './catalog.js';
import type { Database, EventsTable } from './schema.js';

export type EventLevel = 'info' | 'error';

export interface EventTypeInfo {
  /** The fully qualified type: category.subcategory.event. */
  type: string;
  category: string;
  subcategory: string;
  /** The last part (event), which may itself contain dots. */
  name: string;
  level: EventLevel;
  message: string;
  resourceType: string;
}

export const EVENT_CATEGORIES: Record<string, string> = {
  system: 'System events to indicate what is happening in the system. State changes, async processes, etc all generate events in this category.',
  user: 'User events are specific events of interest to a user and intended for human consumption as well as automation',
};

export const EVENT_SUBCATEGORIES: Record<string, Record<string, string>> = {
  user: {
    image: 'Events from image state/status',
    checks: 'Events from checks/policy evaluations on resources',
    policy: 'Events from policy content or configuration changes',
  },
  system: {
    image_analysis: 'Events from the image analysis/import process',
    analysis_archive: 'Events from the image analysis archiving process',
    repository: 'Events related to repository-watch operations',
    feeds: 'Events from data feed operations',
    service: 'Events from service state transitions',
    test: 'Test events with randomly generated content',
  },
};

/** [category, subcategory, event, level, resource type, message] */
const TAXONOMY: [string, string, string, EventLevel, string, string][] = [
  ['user', 'checks', 'tag.vulnerabilities.update', 'info', 'image_tag', 'Vulnerability update detected for tagged image'],
  ['user', 'checks', 'tag.policy_evaluation.update', 'info', 'image_tag', 'Policy evaluation update detected for a tagged image'],
  ['user', 'image', 'analysis.failed', 'error', 'image_tag', 'Failed to analyze image'],
  ['user', 'image', 'analysis.completed', 'info', 'image_tag', 'Image analysis available'],
  ['user', 'policy', 'active.updated', 'info', 'policy_bundle', 'Active policy bundle updated to a different bundle'],
  ['user', 'policy', 'active.content_change', 'info', 'policy_bundle', 'Active policy bundle content changed'],
  ['system', 'image_analysis', 'registry_lookup_failed', 'error', 'image_reference', 'Referenced image not found in registry'],
  ['system', 'image_analysis', 'failed', 'error', 'image_digest', 'Failed to analyze image'],
  ['system', 'image_analysis', 'completed', 'info', 'image_tag', 'Image successfully analyzed'],
  ['system', 'image_analysis', 'catalog_save_failed', 'error', 'image_digest', 'Failed to load image analysis from analyzer to catalog'],
  ['system', 'image_analysis', 'policy_engine_load_failed', 'error', 'image_digest', 'Failed to load image analysis from analyzer to policy engine'],
  ['system', 'image_analysis', 'restored_from_archive', 'info', 'image_digest', 'Archived image restored to active images'],
  ['system', 'image_analysis', 'restore_from_archive_failed', 'error', 'image_digest', 'Archived image restore to active images failed'],
  ['system', 'image_analysis', 'manifest_parse_fail', 'error', 'image_tag', 'Failed to parse image manifest for tag'],
  ['system', 'analysis_archive', 'image_archived', 'info', 'image_digest', 'Analyzed image added to archive'],
  ['system', 'analysis_archive', 'image_archive_failed', 'error', 'image_digest', 'Analyzed image migration to archive failed'],
  ['system', 'analysis_archive', 'archived_image_deleted', 'info', 'image_digest', 'Archived image analysis deleted'],
  ['system', 'analysis_archive', 'archived_image_delete_failed', 'error', 'image_digest', 'Archived image analysis deletion failed'],
  ['system', 'repository', 'list_tags_fail', 'error', 'repository', 'Failed to list tags in repository'],
  ['system', 'feeds', 'sync.started', 'info', 'feeds', 'Feeds sync task started'],
  ['system', 'feeds', 'sync.completed', 'info', 'feeds', 'Feeds sync task completed'],
  ['system', 'feeds', 'sync.failed', 'error', 'feeds', 'Feeds sync task failed'],
  ['system', 'feeds', 'sync.feed_started', 'info', 'feed', 'Feed sync started'],
  ['system', 'feeds', 'sync.feed_completed', 'info', 'feed', 'Feed sync completed'],
  ['system', 'feeds', 'sync.feed_failed', 'error', 'feed', 'Feed sync failed'],
  ['system', 'feeds', 'sync.group_started', 'info', 'feed_group', 'Feed group sync started'],
  ['system', 'feeds', 'sync.group_completed', 'info', 'feed_group', 'Feed group sync completed'],
  ['system', 'feeds', 'sync.group_failed', 'error', 'feed_group', 'Feed group sync failed'],
  ['system', 'service', 'state_transition.orphaned', 'error', 'service', 'Service orphaned'],
  ['system', 'service', 'state_transition.down', 'error', 'service', 'Service down'],
  ['system', 'service', 'removed', 'error', 'service', 'Service removed'],
  ['system', 'service', 'authz_plugin_healthcheck_failed', 'error', 'service', 'Configured authz plugin failing health check'],
  ['system', 'test', 'random_wisdom', 'info', 'wisdom', 'Unsolicited random wisdom of the moment'],
];

/** Every event type Lading records, by fully qualified type. */
export const EVENT_TYPES: ReadonlyMap<string, EventTypeInfo> = new Map(TAXONOMY.map(([category, subcategory, name, level, resourceType, message]) => {
  const type = `${category}.${subcategory}.${name}`;
  return [type, { type, category, subcategory, name, level, message, resourceType }];
}));

/** The types of the events the analyzer records (and the notifier delivers as analysis_update). */
export const ANALYSIS_COMPLETED = 'user.image.analysis.completed';
export const ANALYSIS_FAILED = 'user.image.analysis.failed';

/** Anchore's EventTypesList: categories → subcategories → events, each sorted by name. */
export function eventTypesList(): { name: string; description: string; subcategories: { name: string; description: string; events: { name: string; type: string; message: string; resource_type: string }[] }[] }[] {
  return Object.keys(EVENT_CATEGORIES).sort().map((category) => ({
    name: category,
    description: EVENT_CATEGORIES[category]!,
    subcategories: Object.keys(EVENT_SUBCATEGORIES[category] ?? {}).sort().map((sub) => ({
      name: sub,
      description: EVENT_SUBCATEGORIES[category]![sub]!,
      events: [...EVENT_TYPES.values()].filter((t) => t.category === category && t.subcategory === sub)
        .map((t) => ({ name: t.name, type: t.type, message: t.message, resource_type: t.resourceType })),
    })),
  }));
}

export interface EventSource {
  servicename: string | null;
  hostid: string | null;
  base_url: string | null;
  request_id?: string | null;
}

export interface NewEvent {
  /** A type of EVENT_TYPES. */
  type: string;
  /** The resource it is about (its type defaults to the event type's). */
  resource: { id: string | null; type?: string };
  details?: Record<string, unknown>;
  /** Default: the event type's. */
  level?: EventLevel;
  message?: string;
  /** Default: the store's source. */
  source?: Partial<EventSource>;
}

export interface EventRecord {
  generatedUuid: string;
  account: string;
  type: string;
  level: EventLevel;
  message: string;
  details: Record<string, unknown>;
  resource: { userId: string; type: string; id: string | null };
  source: EventSource & { request_id: string | null };
  timestamp: string;
  createdAt: string;
}

export interface EventFilter {
  sourceServicename?: string;
  sourceHostid?: string;
  /** Exact, a dotted prefix (`user.image` matches `user.image.analysis.failed`) or a `*` wildcard pattern. */
  eventType?: string;
  resourceType?: string;
  resourceId?: string;
  level?: string;
  /** ISO 8601 instants: events strictly after `since`, strictly before `before`. */
  since?: string;
  before?: string;
}

export interface EventPage {
  results: EventRecord[];
  nextPage: boolean;
  page: number;
}


function toRecord(r: EventsTable): EventRecord {
  let details: Record<string, unknown>;
  try {
    details = JSON.parse(r.details) as Record<string, unknown>;
  } catch {
    throw new LadingError('INTERNAL', `stored details of event ${r.generated_uuid} are not JSON`);
  }
  return {
    generatedUuid: r.generated_uuid,
    account: r.account,
    type: r.type,
    level: r.level as EventLevel,
    message: r.message,
    details,
    resource: { userId: r.account, type: r.resource_type, id: r.resource_id },
    source: { servicename: r.source_servicename, hostid: r.source_hostid, base_url: r.source_base_url, request_id: r.source_request_id },
    timestamp: r.timestamp,
    createdAt: r.created_at,
  };
}

/** `%`, `_` and `\` escaped for LIKE … ESCAPE '\'. */
function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Events per multi-row insert (14 columns each: well under either database's parameter limit). */
const EVENT_CHUNK = 200;

export class EventStore {
  private readonly db: Kysely<Database>;
  private readonly source: EventSource;
  private readonly now: () => Date;

  /** `source`: the service that records events through this store. */
  constructor(db: Kysely<Database>, options: { source?: Partial<EventSource>; now?: () => Date } = {}) {
    this.db = db;
    this.source = { servicename: null, hostid: null, base_url: null, ...options.source };
    this.now = options.now ?? (() => new Date());
  }

  /** Record an event in an account's log (through `db`: a caller's transaction; default the store's own). */
  async add(account: string, event: NewEvent, db: Kysely<Database> = this.db): Promise<EventRecord> {
    const row = this.rowOf(account, event, this.now().toISOString());
    await db.insertInto('events').values(row).execute();
    return toRecord(row);
  }

  /** Record many events with multi-row inserts (through `db`: a caller's transaction); how many. */
  async addMany(events: readonly { account: string; event: NewEvent }[], db: Kysely<Database> = this.db): Promise<number> {
    const t = this.now().toISOString();
    const rows = events.map((e) => this.rowOf(e.account, e.event, t));
    for (let i = 0; i < rows.length; i += EVENT_CHUNK) await db.insertInto('events').values(rows.slice(i, i + EVENT_CHUNK)).execute();
    return rows.length;
  }

  private rowOf(account: string, event: NewEvent, t: string): EventsTable {
    const info = EVENT_TYPES.get(event.type);
    if (!info) throw new LadingError('BAD_INPUT', `unknown event type ${event.type}`);
    const source = { ...this.source, ...event.source };
    return {
      generated_uuid: randomUUID().replace(/-/g, ''),
      account,
      type: info.type,
      level: event.level ?? info.level,
      message: event.message ?? info.message,
      details: JSON.stringify(event.details ?? {}),
      resource_type: event.resource.type ?? info.resourceType,
      resource_id: event.resource.id,
      source_servicename: source.servicename ?? null,
      source_hostid: source.hostid ?? null,
      source_base_url: source.base_url ?? null,
      source_request_id: source.request_id ?? null,
      timestamp: t,
      created_at: t,
    };
  }

  async get(account: string, id: string): Promise<EventRecord | undefined> {
    const r = await this.db.selectFrom('events').selectAll().where('account', '=', account).where('generated_uuid', '=', id).executeTakeFirst();
    return r ? toRecord(r) : undefined;
  }

  /** One page of an account's events, newest first (page from 1). */
  async list(account: string, filter: EventFilter = {}, paging: { page?: number; limit?: number } = {}): Promise<EventPage> {
    const page = paging.page ?? 1;
    const limit = paging.limit ?? 100;
    let q = this.db.selectFrom('events').selectAll().where('account', '=', account);
    if (filter.sourceServicename !== undefined) q = q.where('source_servicename', '=', filter.sourceServicename);
    if (filter.sourceHostid !== undefined) q = q.where('source_hostid', '=', filter.sourceHostid);
    if (filter.resourceType !== undefined) q = q.where('resource_type', '=', filter.resourceType);
    if (filter.resourceId !== undefined) q = q.where('resource_id', '=', filter.resourceId);
    if (filter.level !== undefined) q = q.where('level', '=', filter.level);
    if (filter.since !== undefined) q = q.where('timestamp', '>', filter.since);
    if (filter.before !== undefined) q = q.where('timestamp', '<', filter.before);
    const et = filter.eventType;
    if (et !== undefined) {
      if (et.includes('*')) {
        const pattern = et.split('*').map(likeEscape).join('%');
        q = q.where(sql<boolean>`${sql.ref('type')} like ${pattern} escape '\\'`);
      } else {
        const prefix = `${likeEscape(et.replace(/\.$/, ''))}.%`;
        q = q.where((eb) => eb.or([eb('type', '=', et), sql<boolean>`${sql.ref('type')} like ${prefix} escape '\\'`]));
      }
    }
    const rows = await q.orderBy('timestamp', 'desc').orderBy('generated_uuid', 'desc')
      .limit(limit + 1).offset((page - 1) * limit).execute();
    return { results: rows.slice(0, limit).map(toRecord), nextPage: rows.length > limit, page };
  }

  /** Remove one event; whether it existed. */
  async delete(account: string, id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('events').where('account', '=', account).where('generated_uuid', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Remove an account's events in a time window and/or of a level; the ids removed. */
  async deleteMatching(account: string, filter: Pick<EventFilter, 'since' | 'before' | 'level'> = {}): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      let q = trx.selectFrom('events').select('generated_uuid').where('account', '=', account);
      if (filter.since !== undefined) q = q.where('timestamp', '>', filter.since);
      if (filter.before !== undefined) q = q.where('timestamp', '<', filter.before);
      if (filter.level !== undefined) q = q.where('level', '=', filter.level);
      const ids = (await q.execute()).map((r) => r.generated_uuid);
      for (let i = 0; i < ids.length; i += 500) {
        await trx.deleteFrom('events').where('account', '=', account).where('generated_uuid', 'in', ids.slice(i, i + 500)).execute();
      }
      return ids;
    });
  }
}

/**
 * The outcome of an analysis in the account's log, one event per tag of the image (Anchore's
 * analysis_update payload: last_eval/curr_eval, plus the image digest and, on failure, the error).
 */
/** Anchore's analysis_update payload: the status before (analyzing) and after, with the annotations. */
export function analysisUpdatePayload(image: Pick<CatalogImage, 'imageDigest' | 'annotations'>, status: 'analyzed' | 'analysis_failed'): Record<string, unknown> {
  const { imageDigest, annotations } = image;
  return {
    last_eval: { imageDigest, analysis_status: 'analyzing', annotations },
    curr_eval: { imageDigest, analysis_status: status, annotations },
    annotations,
  };
}

export async function recordAnalysisOutcome(
  store: EventStore,
  image: Pick<CatalogImage, 'account' | 'imageDigest' | 'annotations' | 'tags'>,
  outcome: { status: 'analyzed' } | { status: 'analysis_failed'; reason: string },
  fulltag: string,
): Promise<void> {
  const tags = image.tags.length ? image.tags.map((t) => t.fulltag) : [fulltag];
  for (const tag of tags) {
    await store.add(image.account, {
      type: outcome.status === 'analyzed' ? ANALYSIS_COMPLETED : ANALYSIS_FAILED,
      resource: { id: tag },
      details: {
        imageDigest: image.imageDigest,
        ...analysisUpdatePayload(image, outcome.status),
        subscription_type: 'analysis_update',
        ...(outcome.status === 'analysis_failed' ? { error: outcome.reason } : {}),
      },
    });
  }
}

/** The newest events of an account (the dashboard's list), on the caller's connection. */
export async function recentEvents(db: Kysely<Database>, account: string, limit: number): Promise<Pick<EventsTable, 'type' | 'level' | 'message' | 'timestamp' | 'resource_id'>[]> {
  return db.selectFrom('events').select(['type', 'level', 'message', 'timestamp', 'resource_id'])
    .where('account', '=', account).orderBy('timestamp', 'desc').limit(limit).execute();
}

/** The newest events of one type of an account whose details mention `text`, at most `limit`. */
export async function eventsMentioning(db: Kysely<Database>, account: string, type: string, text: string, limit: number): Promise<Pick<EventsTable, 'timestamp' | 'details'>[]> {
  return db.selectFrom('events').select(['timestamp', 'details'])
    .where('account', '=', account).where('type', '=', type)
    .where('details', 'like', `%${text}%`).orderBy('timestamp', 'desc').limit(limit).execute();
}
