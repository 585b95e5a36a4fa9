/**
 * Turning a change into what people see: an event in the account's log (always) and, when the
 * tag's subscription of that type is active, a webhook notification with Anchore's payload for the
 * type (reference section 4.4). The analyzer, the re-match's delivery and the watchers call this;
 * given a transaction, the event and the notification are written in it (and the subscription read
 * through it), so they commit or roll back with what caused them.
 */
import type { Kysely } from 'kysely';
import type { NotificationType } from '../config/schema.js';
import type { EventStore } from '../store/events.js';
import type { Notifier } from './notify.js';
import type { SubscriptionStore } from '../store/subscriptions.js';
import type { Database } from '../store/schema.js';

export interface Announcement {
  account: string;
  /** The subscription (and notification) type. */
  type: Exclude<NotificationType, 'event_log'>;
  /** The subscription key: a fulltag. */
  key: string;
  /** The event recorded (a type of store/events.ts EVENT_TYPES); none when undefined. */
  event?: { type: string; resourceType?: string; level?: 'info' | 'error'; message?: string };
  /** The type's notification payload (and the event's details). */
  payload: Record<string, unknown>;
}

export class Announcer {
  constructor(
    private readonly subscriptions: Pick<SubscriptionStore, 'list'>,
    private readonly events: Pick<EventStore, 'add' | 'addMany'> | undefined,
    private readonly notifier: Pick<Notifier, 'notify' | 'enqueueMany'> | undefined,
  ) {}

  /** Record and notify (in `trx` when given); returns whether a notification was queued. */
  async announce(a: Announcement, trx?: Kysely<Database>): Promise<boolean> {
    if (a.event && this.events) {
      await this.events.add(a.account, {
        type: a.event.type,
        resource: { id: a.key, ...(a.event.resourceType ? { type: a.event.resourceType } : {}) },
        details: { ...a.payload, subscription_type: a.type },
        ...(a.event.level ? { level: a.event.level } : {}),
        ...(a.event.message ? { message: a.event.message } : {}),
      }, ...(trx ? [trx] : []));
    }
    if (!this.notifier) return false;
    const subs = await this.subscriptions.list(a.account, { key: a.key, type: a.type }, ...(trx ? [trx] : []));
    if (!subs.some((s) => s.active)) return false;
    return (await this.notifier.notify(a.account, a.type, a.key, a.payload, ...(trx ? [trx] : []))) !== undefined;
  }

  /**
   * Many announcements of one type whose subscriptions the caller read with a join (`subscribed`:
   * the tag's subscription of the type is active): every event and the subscribed ones'
   * notifications written with multi-row inserts (in `trx` when given); how many notifications.
   */
  async announceMany(type: Announcement['type'], items: readonly (Omit<Announcement, 'type'> & { subscribed: boolean })[], trx?: Kysely<Database>): Promise<number> {
    if (this.events) {
      const events = items.flatMap((a) => (a.event ? [{
        account: a.account,
        event: {
          type: a.event.type,
          resource: { id: a.key, ...(a.event.resourceType ? { type: a.event.resourceType } : {}) },
          details: { ...a.payload, subscription_type: type },
          ...(a.event.level ? { level: a.event.level } : {}),
          ...(a.event.message ? { message: a.event.message } : {}),
        },
      }] : []));
      await this.events.addMany(events, ...(trx ? [trx] : []));
    }
    if (!this.notifier) return 0;
    const notified = items.filter((a) => a.subscribed).map((a) => ({ account: a.account, subscriptionKey: a.key, payload: a.payload }));
    return this.notifier.enqueueMany(type, notified, trx);
  }
}
