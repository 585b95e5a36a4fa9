/**
 * Image and vulnerability-data lifecycle events: what happened to an image (or to the data its
 * findings come from), told to whoever keeps something derived from it (the package index, the
 * summary rows, the re-match index, reports, events and notifications) instead of each caller
 * remembering every refresh.
 *
 * Three kinds of subscriber:
 * - preparing (`beforeTransaction`): run before the transaction of an `analysisStored` change, where
 *   slow reads belong (matching the image against the vulnerability data: on SQLite a read through
 *   the database inside the transaction would wait for that very transaction); each returns the
 *   step to run inside the transaction. The store prepares the event (or its caller does, with
 *   `prepare`, when it opens the transaction itself) and runs the steps before the in-transaction
 *   subscribers.
 * - in-transaction (`inTransaction`): run by the store inside the transaction that makes the
 *   change, with that transaction (and a ChangeContext: whether the image is new in it); an error
 *   rolls the change back. For what must never be out of
 *   step with the stored image: the package index and the summary row of a stored analysis, and
 *   the removal of everything keyed by a deleted image.
 * - after-commit (`afterCommit`): run once the change is committed, in subscription order; an
 *   error is reported to `onError` and never undoes the change or reaches the caller. For what
 *   may lag a moment or talks to the outside: summary refreshes that scan, events, webhooks.
 *
 * Events not tied to a transaction (`findingsChanged`, `vulnDataChanged`) have only after-commit
 * subscribers.
 */
import type { Kysely } from 'kysely';
import type { Sbom } from '../sbom/model.js';
import type { Database } from './schema.js';

export interface ImageRef {
  account: string;
  imageDigest: string;
}

export interface LifecycleEvents {
  /** A tag now names the image (a new image, a new tag, or a forced re-analysis): catalog addImage. */
  imageAdded: ImageRef;
  /** An analysis was stored (by an analyzer or an import) and the image marked analyzed: catalog saveAnalysis. */
  analysisStored: ImageRef & { sbom: Sbom };
  /** The analysis status changed without a new analysis (analyzing, analysis_failed, not_analyzed): catalog setStatus. */
  imageStatusChanged: ImageRef & { status: string };
  /** The image, its tags and its analysis were removed (deleted or archived): catalog deleteImage. */
  imageDeleted: ImageRef;
  /** A policy evaluation of the image was stored: policies saveEvaluation. */
  evaluationStored: ImageRef & { tag: string; finalAction: string };
  /** A re-match changed the image's findings; `diff` is the vuln_update diff. Told once the re-match's outbox row for it is delivered (services/finding-changes.ts). */
  findingsChanged: ImageRef & { diff: unknown };
  /** Vulnerability data changed (a sync or an import of `source`). */
  vulnDataChanged: { source: string };
}

export type LifecycleEventName = keyof LifecycleEvents;
/** The events stores emit inside their transactions. */
export type TransactionalEventName = 'imageAdded' | 'analysisStored' | 'imageStatusChanged' | 'imageDeleted' | 'evaluationStored';

/**
 * What the storing transaction knows about the change beyond the event: `newImage`, the image's row
 * was inserted by this very transaction, so nothing keyed by the image can exist yet (every
 * in-transaction `imageDeleted` subscriber removes what it keeps in the transaction that deletes
 * the row): a subscriber may skip deleting the image's previous rows.
 */
export interface ChangeContext {
  newImage: boolean;
}

export const NOT_NEW: ChangeContext = Object.freeze({ newImage: false });

export type InTransactionSubscriber<K extends LifecycleEventName> = (trx: Kysely<Database>, event: LifecycleEvents[K], context: ChangeContext) => Promise<void>;
export type AfterCommitSubscriber<K extends LifecycleEventName> = (event: LifecycleEvents[K]) => Promise<void>;

/** What a preparing subscriber returns: its work inside the transaction. */
export type InTransactionStep = (trx: Kysely<Database>, context: ChangeContext) => Promise<void>;
export type PreparingSubscriber<K extends LifecycleEventName> = (event: LifecycleEvents[K]) => Promise<InTransactionStep>;
/** The prepared steps of one event, to pass to the store that makes the change. */
export interface PreparedEvent<K extends TransactionalEventName> {
  name: K;
  event: LifecycleEvents[K];
  steps: InTransactionStep[];
}

type AnySubscriber = (...args: never[]) => Promise<unknown>;

export interface AfterCommitOptions {
  /**
   * Not run for an image when a later event of this name for the same image committed in the same
   * transaction (its in-transaction subscribers already did the work with the final state).
   */
  unlessFollowedBy?: TransactionalEventName;
}

/** One committed event, as a store publishes the events of a transaction. */
export interface CommittedEvent {
  name: LifecycleEventName;
  event: LifecycleEvents[LifecycleEventName];
}

const sameImage = (a: unknown, b: unknown): boolean => {
  const x = a as Partial<ImageRef>;
  const y = b as Partial<ImageRef>;
  return x.account !== undefined && x.account === y.account && x.imageDigest === y.imageDigest;
};

export class Lifecycle {
  private readonly inTrx = new Map<LifecycleEventName, AnySubscriber[]>();
  private readonly after = new Map<LifecycleEventName, { fn: AnySubscriber; options: AfterCommitOptions }[]>();
  private readonly preparing = new Map<LifecycleEventName, AnySubscriber[]>();

  constructor(private readonly onError: (event: LifecycleEventName, error: unknown) => void = () => {}) {}

  /** Run `fn` inside the transaction of every `name` change, before it commits. */
  inTransaction<K extends TransactionalEventName>(name: K, fn: InTransactionSubscriber<K>): this {
    this.inTrx.set(name, [...(this.inTrx.get(name) ?? []), fn as AnySubscriber]);
    return this;
  }

  /** Run `fn` before the transaction of every `name` change; the step it returns runs inside it. */
  beforeTransaction<K extends TransactionalEventName>(name: K, fn: PreparingSubscriber<K>): this {
    this.preparing.set(name, [...(this.preparing.get(name) ?? []), fn as AnySubscriber]);
    return this;
  }

  /** Outside any transaction: every preparing subscriber of the event, in order. */
  async prepare<K extends TransactionalEventName>(name: K, event: LifecycleEvents[K]): Promise<PreparedEvent<K>> {
    const steps: InTransactionStep[] = [];
    for (const fn of (this.preparing.get(name) ?? []) as PreparingSubscriber<K>[]) steps.push(await fn(event));
    return { name, event, steps };
  }

  /** Run `fn` after every committed `name` change. */
  afterCommit<K extends LifecycleEventName>(name: K, fn: AfterCommitSubscriber<K>, options: AfterCommitOptions = {}): this {
    this.after.set(name, [...(this.after.get(name) ?? []), { fn: fn as AnySubscriber, options }]);
    return this;
  }

  /**
   * Called by a store inside its transaction: the prepared steps, then every in-transaction
   * subscriber, in order; errors propagate. An event with preparing subscribers must come prepared.
   */
  async inside<K extends TransactionalEventName>(trx: Kysely<Database>, name: K, event: LifecycleEvents[K], prepared?: PreparedEvent<K>, context: ChangeContext = NOT_NEW): Promise<void> {
    if (prepared && (prepared.name !== name || prepared.event !== event)) throw new Error(`lifecycle: the ${prepared.name} event prepared is not this ${name} event`);
    if (!prepared && this.preparing.get(name)?.length) throw new Error(`lifecycle: ${name} must be prepared before its transaction (Lifecycle.prepare)`);
    for (const step of prepared?.steps ?? []) await step(trx, context);
    for (const fn of (this.inTrx.get(name) ?? []) as InTransactionSubscriber<K>[]) await fn(trx, event, context);
  }

  /**
   * Called once the change is committed: every after-commit subscriber, in order; errors go to
   * onError. `later`: the events the same transaction committed after this one.
   */
  async committed<K extends LifecycleEventName>(name: K, event: LifecycleEvents[K], later: readonly CommittedEvent[] = []): Promise<void> {
    for (const { fn, options } of this.after.get(name) ?? []) {
      const covering = options.unlessFollowedBy;
      if (covering && later.some((l) => l.name === covering && sameImage(l.event, event))) continue;
      try {
        await (fn as AfterCommitSubscriber<K>)(event);
      } catch (e) {
        this.onError(name, e);
      }
    }
  }

  /** The events one transaction committed, in order (each told of the ones after it). */
  async committedAll(events: readonly CommittedEvent[]): Promise<void> {
    for (const [i, e] of events.entries()) await this.committed(e.name, e.event as never, events.slice(i + 1));
  }
}
