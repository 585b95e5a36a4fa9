/**
 * The re-match's outbox (table finding_changes, migrations/0019-finding-changes.ts and
 * 0026-finding-change-sets.ts), delivered by services/finding-changes.ts in two stages, each
 * done once:
 * - written in the re-match batch's own transaction, set-based (`recordChangeSet`): the batch's
 *   changed package variants' diff rows are kept (finding_change_diffs, keyed by the batch) and one
 *   row per image holding one of them is inserted by INSERT … SELECT: nothing per image in
 *   JavaScript, and only the changed variants' package rows are read;
 * - announced (`markAnnounced`, in the transaction that writes the vuln_update events and
 *   notifications): `announced` = 1;
 * - taken (`takeFindingChanges`, deleted in the transaction that stores the re-evaluations), with
 *   the diff rows of batches no row refers to any more.
 * An image's diff is its package rows joined with its batch's diff rows (`changeSetDiffs`); rows
 * written before 0026 carry their diff as JSON and no batch.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface FindingChangeRow { id: number; account: string; image_digest: string; diff: string; batch: number | null }

/** A diff row of a change-set row's image: the finding and the package that holds it. */
export interface ChangeSetDiffRow {
  id: number; change: string; vuln_id: string; feed_group: string; severity: string; fix: string; url: string;
  name: string; version: string; type: string; path: string;
}

/** A tag of a row's image, with whether its vuln_update subscription is active. */
export interface ChangeTagRow { id: number; fulltag: string; subscribed: boolean }

/** The catalog row of a row's image. */
export interface ChangeImageRow { id: number; analysis_status: string; annotations: string; analyzed_at: string | null }

/**
 * Inside the re-match batch's transaction, while finding_tuple_diff holds its diff rows: keep them
 * as change set `batch` and add one row per image holding a changed variant; how many rows.
 */
export async function recordChangeSet(trx: Kysely<Database>, batch: number, createdAt: string): Promise<number> {
  await sql`insert into finding_change_diffs (batch, tuple_id, change, vuln_id, feed_group, severity, fix, url)
    select ${batch}, tuple_id, change, vuln_id, feed_group, severity, fix, url from finding_tuple_diff`.execute(trx);
  const r = await sql`insert into finding_changes (account, image_digest, diff, created_at, batch, announced)
    select i.account, i.image_digest, '', ${createdAt}, ${batch}, 0 from finding_images i
    where i.id in (select p.image_id from finding_image_packages p where p.tuple_id in (select distinct tuple_id from finding_tuple_diff))
    order by i.id`.execute(trx);
  return Number(r.numAffectedRows ?? 0);
}

/** Whether any row waits (in either stage). */
export async function hasFindingChanges(db: Kysely<Database>): Promise<boolean> {
  return !!(await db.selectFrom('finding_changes').select('id').limit(1).executeTakeFirst());
}

/** Rows of a stage after id `after`, oldest first, at most `limit`. */
export async function findingChangesAfter(db: Kysely<Database>, stage: 'announce' | 'evaluate', after: number, limit: number): Promise<FindingChangeRow[]> {
  const rows = await db.selectFrom('finding_changes').select(['id', 'account', 'image_digest', 'diff', 'batch'])
    .where('announced', '=', stage === 'announce' ? 0 : 1).where('id', '>', after).orderBy('id').limit(limit).execute();
  return rows.map((r) => ({ ...r, id: Number(r.id), batch: r.batch === null ? null : Number(r.batch) }));
}

/** The diff rows of these change-set rows' images (their package rows joined with their batch's diff rows), by row, then vulnerability and package. */
export async function changeSetDiffs(db: Kysely<Database>, ids: number[]): Promise<ChangeSetDiffRow[]> {
  if (!ids.length) return [];
  const rows = await db.selectFrom('finding_changes as c')
    .innerJoin('finding_images as i', (j) => j.onRef('i.account', '=', 'c.account').onRef('i.image_digest', '=', 'c.image_digest'))
    .innerJoin('finding_image_packages as p', 'p.image_id', 'i.id')
    .innerJoin('finding_change_diffs as d', (j) => j.onRef('d.batch', '=', 'c.batch').onRef('d.tuple_id', '=', 'p.tuple_id'))
    .innerJoin('finding_tuples as t', 't.id', 'd.tuple_id')
    .select(['c.id', 'd.change', 'd.vuln_id', 'd.feed_group', 'd.severity', 'd.fix', 'd.url', 't.name', 't.version', 't.type', 'p.path'])
    .where('c.id', 'in', ids).orderBy('c.id').orderBy('d.vuln_id').orderBy('t.name').orderBy('p.path').execute();
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** The catalog rows of these rows' images (none for an image deleted since). */
export async function changeImages(db: Kysely<Database>, ids: number[]): Promise<ChangeImageRow[]> {
  if (!ids.length) return [];
  const rows = await db.selectFrom('finding_changes as c')
    .innerJoin('catalog_images as i', (j) => j.onRef('i.account', '=', 'c.account').onRef('i.image_digest', '=', 'c.image_digest'))
    .select(['c.id', 'i.analysis_status', 'i.annotations', 'i.analyzed_at']).where('c.id', 'in', ids).execute();
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** The tags of these rows' images, each with whether the account's vuln_update subscription of it is active (one join). */
export async function changeTags(db: Kysely<Database>, ids: number[]): Promise<ChangeTagRow[]> {
  if (!ids.length) return [];
  const rows = await db.selectFrom('finding_changes as c')
    .innerJoin('catalog_image_tags as t', (j) => j.onRef('t.account', '=', 'c.account').onRef('t.image_digest', '=', 'c.image_digest'))
    .leftJoin('subscriptions as s', (j) => j.onRef('s.account', '=', 't.account').onRef('s.subscription_key', '=', 't.fulltag')
      .on('s.subscription_type', '=', 'vuln_update').on('s.active', '=', 1))
    .select(['c.id', 't.fulltag', 's.subscription_id']).where('c.id', 'in', ids).orderBy('c.id').orderBy('t.created_at').orderBy('t.fulltag').execute();
  return rows.map((r) => ({ id: Number(r.id), fulltag: r.fulltag, subscribed: r.subscription_id !== null }));
}

/** Mark these rows announced inside the caller's transaction: the ids of those this transaction marked (not another's). */
export async function markAnnounced(trx: Kysely<Database>, ids: number[]): Promise<Set<number>> {
  if (!ids.length) return new Set();
  const rows = await trx.updateTable('finding_changes').set({ announced: 1 }).where('id', 'in', ids).where('announced', '=', 0).returning('id').execute();
  return new Set(rows.map((r) => Number(r.id)));
}

/** Take (delete) these announced rows inside the caller's transaction, and the diff rows no row needs any more: the ids of those still there. */
export async function takeFindingChanges(trx: Kysely<Database>, ids: number[]): Promise<Set<number>> {
  if (!ids.length) return new Set();
  const taken = await trx.deleteFrom('finding_changes').where('id', 'in', ids).where('announced', '=', 1).returning(['id', 'batch']).execute();
  const batches = [...new Set(taken.flatMap((r) => (r.batch === null ? [] : [Number(r.batch)])))];
  if (batches.length) {
    await trx.deleteFrom('finding_change_diffs').where('batch', 'in', batches)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('finding_changes as c').select('c.id').whereRef('c.batch', '=', 'finding_change_diffs.batch'))))
      .execute();
  }
  return new Set(taken.map((r) => Number(r.id)));
}

/** The tags these rows' images have stored evaluations as (any bundle). */
export async function changeEvaluatedTags(db: Kysely<Database>, ids: number[]): Promise<{ id: number; tag: string }[]> {
  if (!ids.length) return [];
  const rows = await db.selectFrom('finding_changes as c')
    .innerJoin('policy_evals as e', (j) => j.onRef('e.account', '=', 'c.account').onRef('e.image_digest', '=', 'c.image_digest'))
    .select(['c.id', 'e.tag']).distinct().where('c.id', 'in', ids).orderBy('c.id').orderBy('e.tag').execute();
  return rows.map((r) => ({ id: Number(r.id), tag: r.tag }));
}

/** The newest stored evaluation of each (row, tag) of these rows' images: its id, final action and bundle (as PolicyStore.latestEvaluation orders them); keys `id\0tag`. */
export async function changeLatestEvaluations(db: Kysely<Database>, ids: number[]): Promise<Map<string, { evalId: string; finalAction: string; policyId: string }>> {
  const out = new Map<string, { evalId: string; finalAction: string; policyId: string; createdAt: string }>();
  if (!ids.length) return out;
  const rows = await db.selectFrom('finding_changes as c')
    .innerJoin('policy_evals as e', (j) => j.onRef('e.account', '=', 'c.account').onRef('e.image_digest', '=', 'c.image_digest'))
    .select(['c.id', 'e.tag', 'e.eval_id', 'e.final_action', 'e.policy_id', 'e.created_at']).where('c.id', 'in', ids).execute();
  for (const r of rows) {
    const key = `${Number(r.id)}\0${r.tag}`;
    const had = out.get(key);
    if (!had || r.created_at > had.createdAt || (r.created_at === had.createdAt && r.eval_id > had.evalId)) {
      out.set(key, { evalId: r.eval_id, finalAction: r.final_action, policyId: r.policy_id, createdAt: r.created_at });
    }
  }
  return out;
}

/** The digest each of these tags of an account names now (its most recently seen, as CatalogStore.listImages latestOnly). */
export async function tagHolders(db: Kysely<Database>, account: string, fulltags: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < fulltags.length; i += 500) {
    const rows = await db.selectFrom('catalog_image_tags').select(['fulltag', 'image_digest']).where('account', '=', account)
      .where('fulltag', 'in', fulltags.slice(i, i + 500)).orderBy('last_updated', 'desc').orderBy('created_at', 'desc').execute();
    for (const r of rows) if (!out.has(r.fulltag)) out.set(r.fulltag, r.image_digest);
  }
  return out;
}
