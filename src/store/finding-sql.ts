/**
 * The set-based statements of the findings engine (store/findings.ts): count deltas applied to
 * every image holding a changed tuple in one aggregated UPDATE, per-image diffs read by joining
 * the changed tuples' diff rows with the package rows, and counts recomputed from the findings.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import { anchoreGroup } from '../feeds/groups.js';

export const COUNTS = ['critical', 'high', 'medium', 'low', 'negligible', 'unknown', 'total', 'fixable', 'kev'] as const;
export type Counts = Record<(typeof COUNTS)[number], number>;

/** One finding as Anchore's vuln_update payload lists it. */
export interface FindingSummary {
  CVE_ID: string; Severity: string; Vulnerable_Package: string; Fix_Available: string; URL: string;
  Package_Name: string; Package_Version: string; Package_Type: string; Package_Path: string; Feed: string; Feed_Group: string;
}

export interface ImageFindingDiff {
  account: string;
  imageDigest: string;
  added: FindingSummary[];
  updated: FindingSummary[];
  removed: FindingSummary[];
}

export interface CountMismatch { account: string; imageDigest: string; stored: Counts; actual: Counts }

/** A finding row with its package, as vuln_update lists it. */
export function findingSummary(r: { vuln_id: string; severity: string; fix: string; url: string; feed_group: string; name: string; version: string; type: string; path: string }): FindingSummary {
  return {
    CVE_ID: r.vuln_id, Severity: r.severity, Vulnerable_Package: `${r.name}-${r.version}`, Fix_Available: r.fix, URL: r.url,
    Package_Name: r.name, Package_Version: r.version, Package_Type: r.type, Package_Path: r.path, Feed: 'vulnerabilities', Feed_Group: anchoreGroup(r.feed_group),
  };
}

const list = (cols: readonly string[], f: (c: string) => string) => sql.raw(cols.map(f).join(', '));

/** Add the per-tuple deltas (finding_tuple_delta) to every image holding those tuples; returns how many images moved. */
export async function applyDeltas(trx: Transaction<Database>, summaries: boolean): Promise<number> {
  const sums = list(COUNTS, (c) => `sum(x.${c}) as ${c}`);
  const r = await sql`update finding_images set ${list(COUNTS, (c) => `${c} = finding_images.${c} + d.${c}`)}
    from (select p.image_id, ${sums} from finding_tuple_delta x join finding_image_packages p on p.tuple_id = x.tuple_id group by p.image_id) as d
    where finding_images.id = d.image_id`.execute(trx);
  if (summaries) {
    await sql`update image_summaries set ${list(COUNTS, (c) => `${c} = image_summaries.${c} + d.${c}`)}
      from (select i.account, i.image_digest, ${sums} from finding_tuple_delta x join finding_image_packages p on p.tuple_id = x.tuple_id
        join finding_images i on i.id = p.image_id group by i.account, i.image_digest) as d
      where image_summaries.account = d.account and image_summaries.image_digest = d.image_digest`.execute(trx);
  }
  return Number(r.numAffectedRows ?? 0);
}

/**
 * The summary rows' (vulnerability id or alias, package name) pairs (image_summary_findings, what
 * "images with CVE-…" reads; services/summaries.ts writes the same pairs from a scan), rebuilt from
 * the engine's findings for each (summarized image, package name) holding a tuple whose findings
 * changed in this transaction (finding_tuple_diff): a name's pairs depend only on the image's
 * tuples of that name, so the other pairs stay. With `tupleIds`, only the (image, name)s holding
 * those tuples (the re-match passes the tuples whose pair set, vulnerability ids and aliases of
 * findings not vendor_only, changed: a new severity or fix leaves the pairs as they are);
 * without, those holding a tuple of finding_tuple_diff. One DELETE and one INSERT … SELECT per
 * call; the changed (image, name) set is computed once per statement (a materialized CTE), and each
 * (image, name) reaches its package rows through the few tuples of that name and the
 * (tuple_id, image_id) index, not by reading all of the image's packages.
 */
export async function refreshSummaryFindings(trx: Transaction<Database>, postgres: boolean, tupleIds?: readonly number[]): Promise<void> {
  if (tupleIds && !tupleIds.length) return;
  const source = tupleIds ? sql`(select id as tuple_id from finding_tuples where id in (${sql.join(tupleIds.map((id) => sql.lit(id)))}))`
    : sql`(select distinct tuple_id from finding_tuple_diff)`;
  const changed = sql`with c as ${postgres ? sql`materialized ` : sql``}(select distinct i.account, i.image_digest, i.id, t.name from ${source} d
    join finding_tuples t on t.id = d.tuple_id join finding_image_packages p on p.tuple_id = d.tuple_id join finding_images i on i.id = p.image_id)`;
  await sql`${changed} delete from image_summary_findings where exists (select 1 from c where c.account = image_summary_findings.account
    and c.image_digest = image_summary_findings.image_digest and c.name = image_summary_findings.package_name)`.execute(trx);
  const aliases = postgres ? sql`cross join lateral jsonb_array_elements_text(f.aliases::jsonb) as j(value)` : sql`cross join json_each(f.aliases) as j`;
  const from = sql`from c join image_summaries s on s.account = c.account and s.image_digest = c.image_digest
    join finding_tuples t on t.name = c.name join finding_image_packages p on p.tuple_id = t.id and p.image_id = c.id
    join tuple_findings f on f.tuple_id = t.id`;
  await sql`${changed} insert into image_summary_findings (account, image_digest, vuln_id, package_name)
    select c.account, c.image_digest, upper(f.vuln_id), c.name ${from} where f.vendor_only = 0
    union select c.account, c.image_digest, upper(j.value), c.name ${from} ${aliases} where f.vendor_only = 0`.execute(trx);
}

/** Image ids per page of per-image diffs. */
const DIFF_PAGE = 2000;

/**
 * The per-image diffs of this transaction's changed tuples (finding_tuple_diff), in pages of
 * images: only the images holding a changed tuple, found through the (tuple_id, image_id) index
 * page after page (keyset on the image id), not by walking every image's id range.
 */
export async function imageDiffs(trx: Transaction<Database>, onDiffs: (trx: Transaction<Database>, diffs: ImageFindingDiff[]) => Promise<void>): Promise<void> {
  let after = 0;
  for (;;) {
    const page = await sql<{ image_id: number | string }>`select distinct p.image_id from finding_image_packages p
      where p.tuple_id in (select distinct tuple_id from finding_tuple_diff) and p.image_id > ${after} order by p.image_id limit ${DIFF_PAGE}`.execute(trx);
    if (!page.rows.length) return;
    const lo = Number(page.rows[0]!.image_id);
    const hi = Number(page.rows[page.rows.length - 1]!.image_id);
    const rows = await trx.selectFrom('finding_tuple_diff as d')
      .innerJoin('finding_image_packages as p', 'p.tuple_id', 'd.tuple_id')
      .innerJoin('finding_images as i', 'i.id', 'p.image_id')
      .innerJoin('finding_tuples as t', 't.id', 'd.tuple_id')
      .select(['i.id', 'i.account', 'i.image_digest', 'p.path', 't.name', 't.version', 't.type', 'd.change', 'd.vuln_id', 'd.feed_group', 'd.severity', 'd.fix', 'd.url'])
      .where('p.image_id', '>=', lo).where('p.image_id', '<=', hi).orderBy('i.id').execute();
    const byImage = new Map<number, ImageFindingDiff>();
    for (const r of rows) {
      let d = byImage.get(Number(r.id));
      if (!d) byImage.set(Number(r.id), (d = { account: r.account, imageDigest: r.image_digest, added: [], updated: [], removed: [] }));
      d[r.change as 'added' | 'updated' | 'removed'].push(findingSummary(r));
    }
    if (byImage.size) await onDiffs(trx, [...byImage.values()]);
    after = hi;
  }
}

/** Counts of images from their findings (of these images, or all). */
async function aggregate(db: Kysely<Database>, imageIds?: number[]): Promise<Map<number, Counts>> {
  let q = db.selectFrom('finding_image_packages as p').innerJoin('tuple_findings as f', 'f.tuple_id', 'p.tuple_id')
    .select((eb) => [
      'p.image_id',
      ...(['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'] as const).map((s) =>
        eb.fn.sum<number>(eb.case().when('f.severity', '=', s).then(1).else(0).end()).as(s.toLowerCase())),
      eb.fn.countAll<number>().as('total'), eb.fn.sum<number>('f.fixable').as('fixable'), eb.fn.sum<number>('f.kev').as('kev'),
    ])
    .where('f.vendor_only', '=', 0).groupBy('p.image_id');
  if (imageIds) q = q.where('p.image_id', 'in', imageIds);
  const out = new Map<number, Counts>();
  for (const r of await q.execute()) out.set(Number(r.image_id), Object.fromEntries(COUNTS.map((c) => [c, Number(r[c] ?? 0)])) as Counts);
  return out;
}

const zero = (): Counts => Object.fromEntries(COUNTS.map((c) => [c, 0])) as Counts;

/** Set one image's counts from its findings, in one statement. */
export async function recountImage(trx: Kysely<Database>, imageId: number): Promise<void> {
  const bySeverity = (['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'] as const).map((s) => sql`coalesce(sum(case when f.severity = ${s} then 1 else 0 end), 0)`);
  await sql`update finding_images set (${list(COUNTS, (c) => c)}) = (
      select ${sql.join(bySeverity)}, count(*), coalesce(sum(f.fixable), 0), coalesce(sum(f.kev), 0)
      from finding_image_packages p join tuple_findings f on f.tuple_id = p.tuple_id
      where p.image_id = ${imageId} and f.vendor_only = 0)
    where id = ${imageId}`.execute(trx);
}

/** Every image (of these, or all) whose stored counts differ from a recomputation from its findings. */
export async function countMismatches(db: Kysely<Database>, imageIds?: number[]): Promise<CountMismatch[]> {
  const actual = await aggregate(db, imageIds);
  const out: CountMismatch[] = [];
  let q = db.selectFrom('finding_images').selectAll();
  if (imageIds) q = q.where('id', 'in', imageIds);
  for (const r of await q.execute()) {
    const stored = Object.fromEntries(COUNTS.map((c) => [c, Number(r[c] ?? 0)])) as Counts;
    const a = actual.get(Number(r.id)) ?? zero();
    if (COUNTS.some((c) => stored[c] !== a[c])) out.push({ account: r.account, imageDigest: r.image_digest, stored, actual: a });
  }
  return out;
}

/** A re-match that moved at least this share of an account's summary rows (and this many) refreshes the planner's view of them. */
const STATS_SHARE = 0.1;
const STATS_MIN_ROWS = 1000;

/**
 * After a re-match that moved many images' counts (PostgreSQL): the updated rows left
 * image_summaries' visibility map cleared and its statistics old until autovacuum comes by, so
 * the list's index-only scans read the heap for every row and plans go by old estimates. VACUUM
 * (ANALYZE) of image_summaries (one row per image: short) and ANALYZE of the pairs (sampled) fix
 * that now. Returns whether it ran. Outside any transaction (VACUUM cannot run in one).
 */
export async function refreshSummaryStats(db: Kysely<Database>, movedImages: number): Promise<boolean> {
  if (movedImages < STATS_MIN_ROWS) return false;
  const r = await sql<{ n: string | number }>`select reltuples::bigint as n from pg_class where relname = 'image_summaries' and relkind = 'r'`.execute(db);
  const rows = Number(r.rows[0]?.n ?? 0);
  if (rows > 0 && movedImages < rows * STATS_SHARE) return false;
  await sql`vacuum (analyze) image_summaries`.execute(db);
  await sql`analyze image_summary_findings`.execute(db);
  return true;
}
