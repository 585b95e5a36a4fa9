/**
 * Subscriptions: per account, one record per (key, type), as Anchore keeps them. A tag (the
 * fulltag `registry/repo:tag`) has four: tag_update (the watcher polls it for a new digest),
 * policy_eval, vuln_update and analysis_update (the notifier delivers those changes); a repository
 * (`registry/repo`) has repo_update (the watcher adds its new tags), whose value is the JSON text
 * `{"autosubscribe", "lookuptag", "tagcount"}`. The id is Anchore's: md5 of `account+key+type`.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, SubscriptionsTable } from './schema.js';

export const SUBSCRIPTION_TYPES = ['policy_eval', 'tag_update', 'vuln_update', 'analysis_update', 'repo_update'] as const;
export type SubscriptionType = (typeof SUBSCRIPTION_TYPES)[number];

/** The subscriptions every added tag gets. */
export const TAG_SUBSCRIPTION_TYPES = ['policy_eval', 'tag_update', 'vuln_update', 'analysis_update'] as const satisfies readonly SubscriptionType[];

/** The value of a repo_update subscription (stored as JSON text). */
export interface RepoUpdateValue {
  autosubscribe: boolean;
  lookuptag: string;
  tagcount: number;
}

export interface Subscription {
  subscriptionId: string;
  account: string;
  type: SubscriptionType;
  key: string;
  value: string | null;
  active: boolean;
  createdAt: string;
  lastUpdated: string;
}

export interface NewSubscription {
  key: string;
  type: SubscriptionType;
  value?: string | null;
  active?: boolean;
}


/** Anchore's subscription id: md5 of `account+key+type`. */
export function subscriptionId(account: string, key: string, type: string): string {
  return createHash('md5').update([account, key, type].join('+'), 'utf8').digest('hex');
}

function toSubscription(r: SubscriptionsTable): Subscription {
  return {
    subscriptionId: r.subscription_id,
    account: r.account,
    type: r.subscription_type as SubscriptionType,
    key: r.subscription_key,
    value: r.subscription_value,
    active: Number(r.active) === 1,
    createdAt: r.created_at,
    lastUpdated: r.last_updated,
  };
}

export class SubscriptionStore {
  private readonly db: Kysely<Database>;
  private readonly now: () => Date;

  constructor(db: Kysely<Database>, options: { now?: () => Date } = {}) {
    this.db = db;
    this.now = options.now ?? (() => new Date());
  }

  /** A record as it would be stored, without storing it (repo add's dry run). */
  draft(account: string, input: NewSubscription): Subscription {
    const t = this.now().toISOString();
    return {
      subscriptionId: subscriptionId(account, input.key, input.type), account, type: input.type, key: input.key,
      value: input.value ?? null, active: input.active ?? false, createdAt: t, lastUpdated: t,
    };
  }

  /** Store a new subscription; undefined when the account already has one of that key and type. */
  async add(account: string, input: NewSubscription): Promise<Subscription | undefined> {
    const s = this.draft(account, input);
    const r = await this.db.insertInto('subscriptions').values({
      account, subscription_id: s.subscriptionId, subscription_type: s.type, subscription_key: s.key,
      subscription_value: s.value, active: s.active ? 1 : 0, created_at: s.createdAt, last_updated: s.lastUpdated,
    }).onConflict((oc) => oc.columns(['account', 'subscription_id']).doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0 ? s : undefined;
  }

  async get(account: string, id: string): Promise<Subscription | undefined> {
    const r = await this.db.selectFrom('subscriptions').selectAll().where('account', '=', account).where('subscription_id', '=', id).executeTakeFirst();
    return r ? toSubscription(r) : undefined;
  }

  /** An account's subscriptions, optionally of one key and/or type, oldest first (read through `db`: a caller's transaction; default the store's own). */
  async list(account: string, filter: { key?: string; type?: SubscriptionType } = {}, db: Kysely<Database> = this.db): Promise<Subscription[]> {
    let q = db.selectFrom('subscriptions').selectAll().where('account', '=', account);
    if (filter.key !== undefined) q = q.where('subscription_key', '=', filter.key);
    if (filter.type !== undefined) q = q.where('subscription_type', '=', filter.type);
    const rows = await q.orderBy('created_at').orderBy('subscription_key').orderBy('subscription_type').execute();
    return rows.map(toSubscription);
  }

  /** Every account's active subscriptions of a type (what the watcher and notifier act on). */
  async listActive(type: SubscriptionType): Promise<Subscription[]> {
    const rows = await this.db.selectFrom('subscriptions').selectAll().where('subscription_type', '=', type).where('active', '=', 1)
      .orderBy('account').orderBy('subscription_key').execute();
    return rows.map(toSubscription);
  }

  /** Change only `active` and/or the value; undefined when there is no such subscription. */
  async update(account: string, id: string, change: { active?: boolean; value?: string | null }): Promise<Subscription | undefined> {
    await this.db.updateTable('subscriptions').set({
      last_updated: this.now().toISOString(),
      ...(change.active !== undefined ? { active: change.active ? 1 : 0 } : {}),
      ...(change.value !== undefined ? { subscription_value: change.value } : {}),
    }).where('account', '=', account).where('subscription_id', '=', id).execute();
    return this.get(account, id);
  }

  /** Remove one subscription; whether it existed. */
  async delete(account: string, id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('subscriptions').where('account', '=', account).where('subscription_id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /**
   * The four subscriptions of an added tag, created if missing (inactive), then analysis_update
   * activated and, with autosubscribe, tag_update too. Nothing is ever deactivated here.
   */
  async ensureTagSubscriptions(account: string, fulltag: string, options: { autosubscribe: boolean }): Promise<Subscription[]> {
    await this.subscribeTag(account, fulltag, options);
    return this.list(account, { key: fulltag }).then((l) => l.filter((s) => s.type !== 'repo_update'));
  }

  /**
   * ensureTagSubscriptions without reading them back: two statements, each safe to repeat (the
   * missing rows inserted, then the wanted ones activated), so no transaction is needed.
   */
  async subscribeTag(account: string, fulltag: string, options: { autosubscribe: boolean }): Promise<void> {
    const activate: SubscriptionType[] = options.autosubscribe ? ['analysis_update', 'tag_update'] : ['analysis_update'];
    const t = this.now().toISOString();
    await this.db.insertInto('subscriptions').values(TAG_SUBSCRIPTION_TYPES.map((type) => ({
      account, subscription_id: subscriptionId(account, fulltag, type), subscription_type: type, subscription_key: fulltag, subscription_value: null,
      active: activate.includes(type) ? 1 : 0, created_at: t, last_updated: t,
    }))).onConflict((oc) => oc.columns(['account', 'subscription_id']).doNothing()).execute();
    await this.db.updateTable('subscriptions').set({ active: 1, last_updated: t })
      .where('account', '=', account).where('subscription_key', '=', fulltag)
      .where('subscription_type', 'in', activate).where('active', '=', 0).execute();
  }

  /** Remove a tag's four subscriptions; how many were removed. */
  async removeTagSubscriptions(account: string, fulltag: string): Promise<number> {
    const r = await this.db.deleteFrom('subscriptions').where('account', '=', account).where('subscription_key', '=', fulltag)
      .where('subscription_type', 'in', [...TAG_SUBSCRIPTION_TYPES]).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
