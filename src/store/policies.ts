/**
 * Policy bundles per account (table policy_bundles, migrations/0004-catalog.ts) and the stored
 * evaluations of images against them (table policy_evals, migrations/0005-policy-evals.ts).
 *
 * Bundles: every account has exactly one active bundle. An account starts with Lading's default
 * bundle, active, installed on first use (ensureDefaultBundle). A bundle is checked strictly when
 * added or replaced (any error-level problem refuses it); activating one deactivates the others in
 * one statement; the active bundle cannot be deactivated or deleted, only replaced as active.
 *
 * Evaluations: each check of an image as a tag is kept (the evaluation document, compressed) so
 * that history can be shown and a later evaluation compared with the previous one.
 */
import { createHash, randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PostgresAdapter, type Kysely } from 'kysely';
import { LadingError } from '../errors.js';
import { DEFAULT_BUNDLE, describeProblem, loadBundle, type Action, type PolicyEvaluationDoc, type Problem } from '../policy/index.js';
import type { Database, PolicyBundlesTable, PolicyEvalsTable } from './schema.js';
import { Lifecycle, type LifecycleEvents } from './lifecycle.js';
import { isPlainObject as isObj } from '../util/objects.js';


export interface PolicyBundleRecord {
  policyId: string;
  name?: string;
  comment?: string;
  active: boolean;
  bundle: Record<string, unknown>;
  createdAt: string;
  lastUpdated: string;
}

export interface StoredEvaluation {
  evalId: string;
  imageDigest: string;
  /** The tag evaluated, `registry/repo:tag`. */
  tag: string;
  policyId: string;
  finalAction: Action;
  status: 'pass' | 'fail';
  createdAt: string;
  /** Anchore's PolicyEvaluation document. */
  doc: PolicyEvaluationDoc;
}

export type NewEvaluation = Omit<StoredEvaluation, 'evalId' | 'createdAt'> & { createdAt?: Date };

/** A bundle's problems that refuse it, as one message; undefined when it may be stored. */
export function bundleRejection(bundle: unknown): { message: string; problems: Problem[] } | undefined {
  const problems = loadBundle(bundle, { strict: true }).problems.filter((p) => p.fatal || p.severity === 'error');
  if (!problems.length) return undefined;
  return { message: `bundle failed validation: ${problems.map(describeProblem).join('; ')}`, problems };
}


function toRecord(r: PolicyBundlesTable): PolicyBundleRecord {
  let bundle: Record<string, unknown>;
  try {
    bundle = JSON.parse(r.bundle) as Record<string, unknown>;
  } catch {
    throw new LadingError('INTERNAL', `stored policy bundle ${r.policy_id} is not JSON`);
  }
  return {
    policyId: r.policy_id,
    ...(r.name !== null ? { name: r.name } : {}),
    ...(typeof bundle.comment === 'string' ? { comment: bundle.comment } : {}),
    active: Number(r.active) === 1,
    bundle,
    createdAt: r.created_at,
    lastUpdated: r.last_updated,
  };
}

/** A policy_evals row as a stored evaluation (its document decompressed). */
export function toEvaluation(r: PolicyEvalsTable): StoredEvaluation {
  return {
    evalId: r.eval_id,
    imageDigest: r.image_digest,
    tag: r.tag,
    policyId: r.policy_id,
    finalAction: r.final_action as Action,
    status: r.status === 'pass' ? 'pass' : 'fail',
    createdAt: r.created_at,
    doc: JSON.parse(gunzipSync(Buffer.from(r.doc_gz)).toString('utf8')) as PolicyEvaluationDoc,
  };
}

/** Remove an image's stored evaluations (inside the catalog's image delete). */
export async function removeEvaluations(trx: Kysely<Database>, account: string, imageDigest: string): Promise<void> {
  await (trx).deleteFrom('policy_evals').where('account', '=', account).where('image_digest', '=', imageDigest).execute();
}

/** An image's stored evaluations, oldest first (an archive keeps them). */
export async function evaluationsIn(trx: Kysely<Database>, account: string, imageDigest: string): Promise<StoredEvaluation[]> {
  return (await trx.selectFrom('policy_evals').selectAll().where('account', '=', account).where('image_digest', '=', imageDigest)
    .orderBy('created_at').orderBy('eval_id').execute()).map(toEvaluation);
}

export class PolicyStore {
  private readonly db: Kysely<Database>;
  private readonly now: () => Date;

  readonly lifecycle: Lifecycle;

  /** `lifecycle`: told of every stored evaluation (store/lifecycle.ts); default: nobody. */
  constructor(db: Kysely<Database>, options: { now?: () => Date; lifecycle?: Lifecycle } = {}) {
    this.db = db;
    this.now = options.now ?? (() => new Date());
    this.lifecycle = options.lifecycle ?? new Lifecycle();
  }

  // ------------------------------------------------------------------ bundles

  /** Give an account the default bundle, active, if it has no bundle at all. */
  async ensureDefaultBundle(account: string): Promise<void> {
    const any = await this.db.selectFrom('policy_bundles').select('policy_id').where('account', '=', account).executeTakeFirst();
    if (any) return;
    const t = this.now().toISOString();
    await this.db.insertInto('policy_bundles').values({
      account, policy_id: DEFAULT_BUNDLE.id, name: DEFAULT_BUNDLE.name, bundle: JSON.stringify(DEFAULT_BUNDLE), active: 1, created_at: t, last_updated: t,
    }).onConflict((oc) => oc.columns(['account', 'policy_id']).doNothing()).execute();
  }

  /** A bundle by id, or the active one when no id is given. */
  async getBundle(account: string, policyId?: string): Promise<PolicyBundleRecord | undefined> {
    await this.ensureDefaultBundle(account);
    let q = this.db.selectFrom('policy_bundles').selectAll().where('account', '=', account);
    q = policyId === undefined ? q.where('active', '=', 1) : q.where('policy_id', '=', policyId);
    const r = await q.executeTakeFirst();
    return r ? toRecord(r) : undefined;
  }

  /** Every bundle of an account, oldest first. */
  async listBundles(account: string): Promise<PolicyBundleRecord[]> {
    await this.ensureDefaultBundle(account);
    const rows = await this.db.selectFrom('policy_bundles').selectAll().where('account', '=', account).orderBy('created_at').orderBy('policy_id').execute();
    return rows.map(toRecord);
  }

  /**
   * Store a bundle (Anchore's add: a bundle with an id already stored replaces it and keeps its
   * active flag). A bundle without an id gets md5(account:name), as Anchore gave it. BAD_INPUT
   * names every problem when the bundle is refused. A new bundle is inactive.
   */
  async addBundle(account: string, doc: unknown): Promise<{ record: PolicyBundleRecord; created: boolean }> {
    if (!isObj(doc)) throw new LadingError('BAD_INPUT', 'a policy bundle must be a JSON object');
    const bundle = { ...doc };
    if ((bundle.id === undefined || bundle.id === '') && typeof bundle.name === 'string' && bundle.name) {
      bundle.id = createHash('md5').update(`${account}:${bundle.name}`).digest('hex');
    }
    const rejected = bundleRejection(bundle);
    if (rejected) throw new LadingError('BAD_INPUT', rejected.message);
    const policyId = bundle.id as string;
    await this.ensureDefaultBundle(account);
    const t = this.now().toISOString();
    const name = typeof bundle.name === 'string' ? bundle.name : null;
    const created = await this.db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('policy_bundles').select('policy_id').where('account', '=', account).where('policy_id', '=', policyId).executeTakeFirst();
      if (existing) {
        await trx.updateTable('policy_bundles').set({ bundle: JSON.stringify(bundle), name, last_updated: t })
          .where('account', '=', account).where('policy_id', '=', policyId).execute();
        return false;
      }
      await trx.insertInto('policy_bundles').values({ account, policy_id: policyId, name, bundle: JSON.stringify(bundle), active: 0, created_at: t, last_updated: t }).execute();
      return true;
    });
    return { record: (await this.getBundle(account, policyId))!, created };
  }

  /**
   * Anchore's PUT: replace the bundle content (when given; its id must be the policy id) and
   * activate it when `active` is true. Deactivating the active bundle is refused (activate another
   * instead). NOT_FOUND when the account has no such bundle.
   */
  async updateBundle(account: string, policyId: string, update: { bundle?: unknown; active?: boolean }): Promise<PolicyBundleRecord> {
    const current = await this.getBundle(account, policyId);
    if (!current) throw new LadingError('NOT_FOUND', `no policy bundle ${policyId}`);
    if (current.active && update.active === false) {
      throw new LadingError('BAD_INPUT', `policy bundle ${policyId} is active: it cannot be deactivated, only replaced by activating another bundle`);
    }
    if (update.bundle !== undefined) {
      if (!isObj(update.bundle)) throw new LadingError('BAD_INPUT', 'policybundle: must be a JSON object');
      if (update.bundle.id !== policyId) {
        throw new LadingError('BAD_INPUT', `policybundle.id ${JSON.stringify(update.bundle.id)} is not the policy id ${policyId}`);
      }
      await this.addBundle(account, update.bundle);
    }
    if (update.active === true && !current.active) await this.activateBundle(account, policyId);
    return (await this.getBundle(account, policyId))!;
  }

  /** Make one bundle the account's active one and every other inactive, in one statement. */
  async activateBundle(account: string, policyId: string): Promise<PolicyBundleRecord> {
    await this.ensureDefaultBundle(account);
    const t = this.now().toISOString();
    await this.db.transaction().execute(async (trx) => {
      // Lock the account's bundles in one order first: concurrent activations then queue up
      // instead of deadlocking on PostgreSQL (SQLite has a single writer anyway).
      let rows = trx.selectFrom('policy_bundles').select('policy_id').where('account', '=', account).orderBy('policy_id');
      if (this.db.getExecutor().adapter instanceof PostgresAdapter) rows = rows.forUpdate();
      const exists = (await rows.execute()).some((r) => r.policy_id === policyId);
      if (!exists) throw new LadingError('NOT_FOUND', `no policy bundle ${policyId}`);
      await trx.updateTable('policy_bundles')
        .set((eb) => ({
          active: eb.case().when('policy_id', '=', policyId).then(1).else(0).end(),
          last_updated: eb.case().when('policy_id', '=', policyId).then(t).else(eb.ref('last_updated')).end(),
        }))
        .where('account', '=', account).execute();
    });
    return (await this.getBundle(account, policyId))!;
  }

  /** Delete an inactive bundle; the active one is refused (BAD_INPUT), a missing one NOT_FOUND. */
  async deleteBundle(account: string, policyId: string): Promise<void> {
    const current = await this.getBundle(account, policyId);
    if (!current) throw new LadingError('NOT_FOUND', `no policy bundle ${policyId}`);
    if (current.active) throw new LadingError('BAD_INPUT', `policy bundle ${policyId} is active: activate another bundle, then delete this one`);
    await this.db.deleteFrom('policy_bundles').where('account', '=', account).where('policy_id', '=', policyId).where('active', '=', 0).execute();
  }

  // ------------------------------------------------------------------ evaluations

  async saveEvaluation(account: string, e: NewEvaluation): Promise<StoredEvaluation> {
    const { stored, event } = await this.db.transaction().execute((trx) => this.saveEvaluationIn(trx, account, e));
    await this.lifecycle.committed('evaluationStored', event);
    return stored;
  }

  /**
   * The same inside the caller's transaction (with the in-transaction subscribers of
   * evaluationStored); the caller tells the lifecycle `committed('evaluationStored', event)` after its commit.
   */
  async saveEvaluationIn(trx: Kysely<Database>, account: string, e: NewEvaluation): Promise<{ stored: StoredEvaluation; event: LifecycleEvents['evaluationStored'] }> {
    const stored: StoredEvaluation = {
      evalId: randomUUID(), imageDigest: e.imageDigest, tag: e.tag, policyId: e.policyId, finalAction: e.finalAction, status: e.status,
      createdAt: (e.createdAt ?? this.now()).toISOString(), doc: e.doc,
    };
    const event = { account, imageDigest: stored.imageDigest, tag: stored.tag, finalAction: stored.finalAction };
    await trx.insertInto('policy_evals').values({
      account, eval_id: stored.evalId, image_digest: stored.imageDigest, tag: stored.tag, policy_id: stored.policyId,
      final_action: stored.finalAction, status: stored.status, doc_gz: gzipSync(Buffer.from(JSON.stringify(stored.doc))), created_at: stored.createdAt,
    }).execute();
    await this.lifecycle.inside(trx, 'evaluationStored', event);
    return { stored, event };
  }

  /** The tags an image has stored evaluations as (any bundle). */
  async evaluatedTags(account: string, imageDigest: string): Promise<string[]> {
    const rows = await this.db.selectFrom('policy_evals').select('tag').distinct().where('account', '=', account).where('image_digest', '=', imageDigest).orderBy('tag').execute();
    return rows.map((r) => r.tag);
  }

  /** Stored evaluations of an image as a tag, newest first (optionally of one bundle only). */
  async listEvaluations(account: string, imageDigest: string, tag: string, policyId?: string): Promise<StoredEvaluation[]> {
    let q = this.db.selectFrom('policy_evals').selectAll().where('account', '=', account).where('image_digest', '=', imageDigest).where('tag', '=', tag);
    if (policyId !== undefined) q = q.where('policy_id', '=', policyId);
    const rows = await q.orderBy('created_at', 'desc').orderBy('eval_id', 'desc').execute();
    return rows.map(toEvaluation);
  }

  /** Stored evaluations of an account by id (those found). */
  async evaluationsByIds(account: string, evalIds: readonly string[]): Promise<Map<string, StoredEvaluation>> {
    const out = new Map<string, StoredEvaluation>();
    for (let i = 0; i < evalIds.length; i += 500) {
      const rows = await this.db.selectFrom('policy_evals').selectAll().where('account', '=', account).where('eval_id', 'in', evalIds.slice(i, i + 500)).execute();
      for (const r of rows) out.set(r.eval_id, toEvaluation(r));
    }
    return out;
  }

  /** The newest stored evaluation of an image as a tag, under any bundle. */
  async latestEvaluation(account: string, imageDigest: string, tag: string): Promise<StoredEvaluation | undefined> {
    const r = await this.db.selectFrom('policy_evals').selectAll().where('account', '=', account).where('image_digest', '=', imageDigest).where('tag', '=', tag)
      .orderBy('created_at', 'desc').orderBy('eval_id', 'desc').limit(1).executeTakeFirst();
    return r ? toEvaluation(r) : undefined;
  }
}

/** An image's stored evaluations (final action, time, bundle, tag), newest first, at most `limit` (on the caller's connection or transaction). */
export async function evaluationsOf(db: Kysely<Database>, account: string, imageDigest: string, limit: number): Promise<Pick<PolicyEvalsTable, 'created_at' | 'final_action' | 'policy_id' | 'tag'>[]> {
  return db.selectFrom('policy_evals').select(['created_at', 'final_action', 'policy_id', 'tag'])
    .where('account', '=', account).where('image_digest', '=', imageDigest).orderBy('created_at', 'desc').orderBy('eval_id', 'desc').limit(limit).execute();
}
