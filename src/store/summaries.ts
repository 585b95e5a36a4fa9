/**
 * The image summary rows (tables image_summaries, image_summary_findings and vuln_trend,
 * migrations/0015-image-summaries.ts): what the web UI's lists filter and sort by, one row per
 * image, its (vulnerability id or alias, package) pairs, and per account the trend of its finding
 * totals. services/summaries.ts computes the rows (from the catalog, the vulnerability report and
 * the stored evaluations) and reads them through here; the re-match moves their counts set-based
 * (store/finding-sql.ts). Other owners' tables are filtered by through their subqueries
 * (store/catalog-queries.ts, store/package-index.ts).
 */
import { sql, type Expression, type Kysely, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { Severity } from '../feeds/model.js';
import { severityRank } from '../vulns/model.js';
import { insertRows, type BulkColumn } from './bulk.js';
import { imageAnalysisTimes, imageAnalysisTimesQuery, imageDigests, liveImages, taggedImageDigests, type LiveImage } from './catalog-queries.js';
import { imagesWithPackage } from './package-index.js';
import { PageBoundaries, type Boundary } from './summary-seek.js';
import type { Database, ImageSummariesTable } from './schema.js';
import { chunks } from '../util/arrays.js';

export const SEVERITIES = ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'] as const satisfies readonly Severity[];
export const VERDICTS = ['pass', 'warn', 'fail'] as const;
export type Verdict = (typeof VERDICTS)[number];

export const SORTS = ['created_at', 'analyzed_at', 'tag', 'risk', 'critical', 'high', 'total', 'packages', 'size'] as const;
export type SummarySort = (typeof SORTS)[number];

export interface SummaryQuery {
  q?: string;
  registry?: string;
  repository?: string;
  analysisStatus?: string;
  /** `none`: never evaluated. */
  verdict?: Verdict | 'none';
  severity?: Severity;
  fixable?: boolean;
  package?: string;
  vulnerability?: string;
  sort?: SummarySort;
  order?: 'asc' | 'desc';
  page?: number;
  limit?: number;
  /** Only images with at least one finding. */
  withFindings?: boolean;
}

/** A summary row with what is read live from the image row beside it. */
export type JoinedRow = ImageSummariesTable & LiveImage;

/** A (vulnerability id or alias, package name) pair of an image's findings. */
export interface SummaryPair { vuln_id: string; package_name: string }

export const COUNT_COLUMNS = { Critical: 'critical', High: 'high', Medium: 'medium', Low: 'low', Negligible: 'negligible', Unknown: 'unknown' } as const satisfies Record<Severity, string>;
const SORT_COLUMNS: Record<SummarySort, (keyof ImageSummariesTable)[]> = {
  created_at: ['created_at'], analyzed_at: ['analyzed_at'], tag: ['tag_sort'], risk: ['critical', 'high', 'medium', 'low'],
  critical: ['critical'], high: ['high'], total: ['total'], packages: ['package_count'], size: ['image_size'],
};
const NULLABLE_SORTS: ReadonlySet<keyof ImageSummariesTable> = new Set(['analyzed_at', 'package_count', 'image_size']);
const TOTAL_COLUMNS = ['critical', 'high', 'medium', 'low', 'negligible', 'unknown', 'total', 'fixable', 'kev'] as const;
/** Trend points kept per account. */
export const TREND_POINTS = 30;

const SUMMARY_FINDING_COLUMNS: BulkColumn[] = ['account', 'image_digest', 'vuln_id', 'package_name'].map((name) => ({ name, type: 'text' }));

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** fn in db's transaction when it is one, else in a new one. */
export function inTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/** The stored description of an image's SBOM (reused while its analysis is the same). */
export async function summaryDescription(db: Kysely<Database>, account: string, imageDigest: string): Promise<Pick<ImageSummariesTable, 'sbom_at' | 'package_count' | 'distro' | 'platform'> | undefined> {
  return db.selectFrom('image_summaries').select(['sbom_at', 'package_count', 'distro', 'platform'])
    .where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
}

/**
 * Write an image's row and replace its finding pairs (in db's transaction, or a new one).
 * `replacePairs: false`: the image has none yet (its row is new in db's transaction), so none are deleted first.
 */
export async function writeSummary(db: Kysely<Database>, row: ImageSummariesTable, pairs: SummaryPair[], options: { replacePairs?: boolean } = {}): Promise<void> {
  const { account, image_digest: imageDigest, ...update } = row;
  await inTransaction(db, async (trx) => {
    await trx.insertInto('image_summaries').values(row).onConflict((oc) => oc.columns(['account', 'image_digest']).doUpdateSet(update)).execute();
    if (options.replacePairs !== false) await trx.deleteFrom('image_summary_findings').where('account', '=', account).where('image_digest', '=', imageDigest).execute();
    await insertRows(trx, 'image_summary_findings', SUMMARY_FINDING_COLUMNS, pairs.map((p) => [account, imageDigest, p.vuln_id, p.package_name]));
  });
}

/** Set an image's verdict; false when it has no row. */
export async function setSummaryVerdict(db: Kysely<Database>, account: string, imageDigest: string, verdict: Verdict | null, at: string | null): Promise<boolean> {
  const r = await db.updateTable('image_summaries').set({ verdict, evaluated_at: at })
    .where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Remove an image's summary row and findings (in the deleting transaction). */
export async function removeImageSummary(db: Kysely<Database>, account: string, imageDigest: string): Promise<void> {
  for (const t of ['image_summaries', 'image_summary_findings'] as const) {
    await db.deleteFrom(t).where('account', '=', account).where('image_digest', '=', imageDigest).execute();
  }
}

/** The query's filters when they read image_summaries alone (its count is cached by the account's version), else undefined. */
function countKey(account: string, query: SummaryQuery): string | undefined {
  if (query.analysisStatus !== undefined || query.registry !== undefined || query.repository !== undefined || query.package !== undefined || query.vulnerability !== undefined) return undefined;
  return JSON.stringify([account, query.q?.toLowerCase() ?? '', query.verdict ?? '', query.severity ?? '', query.fixable ?? '', query.withFindings ?? false]);
}

/** Cached counts kept per SummaryRows (the oldest dropped beyond this). */
const COUNT_CACHE = 1000;

export class SummaryRows {
  /** Counts of filters over image_summaries alone, with the account's version they were read at (migrations/0024-summary-versions.ts). */
  private readonly counts = new Map<string, { version: string; total: number }>();
  /** Remembered page boundaries for deep pages (store/summary-seek.ts). */
  private readonly boundaries = new PageBoundaries();

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * The number of rows `base` selects. A filter over the summary columns alone is counted once per
   * version of the account's rows: the version moves when a transaction that wrote them commits, and
   * it is read in the same statement (snapshot) as the count, so a cached count is never stale.
   */
  private async count(account: string, query: SummaryQuery, base: SelectQueryBuilder<Database & { s: ImageSummariesTable }, 's', object>): Promise<number> {
    const key = countKey(account, query);
    const version = () => this.db.selectFrom('image_summary_versions').select('version').where('account', '=', account);
    if (key !== undefined) {
      const hit = this.counts.get(key);
      if (hit && hit.version === String((await version().executeTakeFirst())?.version ?? '')) return hit.total;
    }
    const r = await base.select((eb) => [eb.fn.countAll().as('n'), version().as('v')]).executeTakeFirst();
    const total = Number(r?.n ?? 0);
    if (key !== undefined) {
      this.counts.delete(key);
      this.counts.set(key, { version: String(r?.v ?? ''), total });
      if (this.counts.size > COUNT_CACHE) this.counts.delete(this.counts.keys().next().value!);
    }
    return total;
  }

  /** Images that have no row or whose row predates their analysis (of one account when given), at most `limit`: one anti-join in the database. */
  async stale(options: { account?: string; limit?: number } = {}): Promise<{ account: string; image_digest: string }[]> {
    let q = this.db.selectFrom(imageAnalysisTimesQuery(this.db, options.account).as('i')).select(['i.account', 'i.image_digest'])
      .where((eb) => eb.not(eb.exists(eb.selectFrom('image_summaries as s').select('s.image_digest')
        .whereRef('s.account', '=', 'i.account').whereRef('s.image_digest', '=', 'i.image_digest')
        .where(sql<SqlBool>`coalesce(s.analyzed_at, '') = coalesce(i.analyzed_at, '')`))));
    if (options.limit !== undefined) q = q.limit(options.limit);
    return q.execute();
  }

  /** Whether an account's rows of images from before the summary table were built (migrations/0025-image-list-search.ts). */
  async backfilled(account: string): Promise<boolean> {
    return !!(await this.db.selectFrom('image_summary_backfills').select('account').where('account', '=', account).executeTakeFirst());
  }

  /** Note that an account's rows were built. */
  async markBackfilled(account: string, at: string): Promise<void> {
    await this.db.insertInto('image_summary_backfills').values({ account, completed_at: at }).onConflict((oc) => oc.column('account').doNothing()).execute();
  }

  /** Drop rows and pairs of images that are gone (of one account when given). */
  async removeOrphans(account?: string): Promise<void> {
    if (account !== undefined) {
      // One anti-join per table, in the database: no list of the account's images read into the process.
      const live = imageDigests(this.db, account).where('image_digest', '=', sql.ref<string>('o.image_digest'));
      await this.db.deleteFrom('image_summaries as o').where('o.account', '=', account).where((eb) => eb.not(eb.exists(live))).execute();
      await this.db.deleteFrom('image_summary_findings as o').where('o.account', '=', account).where((eb) => eb.not(eb.exists(live))).execute();
      return;
    }
    const images = new Set((await imageAnalysisTimes(this.db, account)).map((i) => `${i.account}\0${i.image_digest}`));
    for (const t of ['image_summaries', 'image_summary_findings'] as const) {
      let q = this.db.selectFrom(t).select(['account', 'image_digest']).distinct();
      if (account !== undefined) q = q.where('account', '=', account);
      const gone = new Map<string, string[]>();
      for (const r of await q.execute()) if (!images.has(`${r.account}\0${r.image_digest}`)) gone.set(r.account, [...(gone.get(r.account) ?? []), r.image_digest]);
      // Deleted only when still gone now: an image added meanwhile keeps its row.
      for (const [a, digests] of gone) {
        for (const part of chunks(digests, 500)) {
          await this.db.deleteFrom(t).where('account', '=', a).where('image_digest', 'in', part).where('image_digest', 'not in', imageDigests(this.db, a)).execute();
        }
      }
    }
  }

  /** The number of an account's rows a query selects, and the keys of its page in its order. */
  async page(account: string, query: SummaryQuery): Promise<{ total: number; keys: string[] }> {
    const page = query.page ?? 1;
    const limit = query.limit ?? 50;
    const base = this.filtered(account, query);
    const total = await this.count(account, query, base);
    const offset = (page - 1) * limit;
    if (total <= offset) return { total, keys: [] };
    const dir = query.order ?? 'desc';
    const cols = [...SORT_COLUMNS[query.sort ?? 'created_at'], 'image_digest' as const];
    const filter = countKey(account, query);
    // Seeked from a remembered row only where the rows' version covers the filter and no sort column has nulls.
    const listKey = filter !== undefined && !cols.some((c) => NULLABLE_SORTS.has(c)) ? JSON.stringify([filter, cols, dir]) : undefined;
    const read = async (from?: Boundary) => {
      let q = base.select([...cols.map((c) => `s.${c}` as const), (eb) => eb.selectFrom('image_summary_versions').select('version').where('account', '=', account).as('v')]);
      if (from) q = q.where(sql<SqlBool>`(${sql.join(cols.map((c) => sql.ref(`s.${c}`)))}) ${sql.raw(dir === 'asc' ? '>' : '<')} (${sql.join(from.sortKey)})`);
      for (const col of cols) {
        // Nulls (not analyzed yet) first ascending, last descending, on both databases; the other columns have none.
        q = NULLABLE_SORTS.has(col) ? q.orderBy(`s.${col}`, (ob) => (dir === 'asc' ? ob.asc().nullsFirst() : ob.desc().nullsLast())) : q.orderBy(`s.${col}`, dir);
      }
      // One row before the page too (when there is one to skip): the boundary a re-read of this page seeks from.
      const skip = offset - (from ? from.position + 1 : 0);
      const lead = skip > 0 ? 1 : 0;
      const rows = await q.limit(limit + lead).offset(skip - lead).execute();
      return { rows: rows as unknown as Record<string, unknown>[], first: offset - lead, lead };
    };
    const from = listKey !== undefined ? this.boundaries.nearest(listKey, offset) : undefined;
    let r = await read(from);
    if (from && (r.rows.length === 0 || String(r.rows[0]!.v ?? '') !== from.version)) {
      // The rows changed since the boundary was read: the page again by its offset.
      this.boundaries.forget(listKey!);
      r = await read();
    }
    if (listKey !== undefined && r.rows.length) {
      const version = String(r.rows[0]!.v ?? '');
      for (const k of new Set([0, r.rows.length - 1])) this.boundaries.record(listKey, version, r.first + k, cols.map((c) => r.rows[k]![c]));
    }
    return { total, keys: r.rows.slice(r.lead).map((row) => row.image_digest as string) };
  }

  /** The account's rows a query's filters select. */
  private filtered(account: string, query: SummaryQuery) {
    return this.db.selectFrom('image_summaries as s').where('s.account', '=', account).where((eb) => {
      const conds: Expression<SqlBool>[] = [];
      if (query.analysisStatus !== undefined) conds.push(eb('s.image_digest', 'in', imageDigests(this.db, account, query.analysisStatus)));
      if (query.q) conds.push(sql<SqlBool>`s.search like ${`%${escapeLike(query.q.toLowerCase())}%`} escape '\\'`);
      if (query.registry !== undefined) conds.push(eb('s.image_digest', 'in', taggedImageDigests(this.db, account, 'registry', query.registry)));
      if (query.repository !== undefined) conds.push(eb('s.image_digest', 'in', taggedImageDigests(this.db, account, 'repo', query.repository)));
      if (query.verdict === 'none') conds.push(eb('s.verdict', 'is', null));
      else if (query.verdict !== undefined) conds.push(eb('s.verdict', '=', query.verdict));
      if (query.severity !== undefined) {
        const worse = SEVERITIES.filter((s) => severityRank(s) >= severityRank(query.severity!));
        conds.push(eb.or(worse.map((s) => eb(`s.${COUNT_COLUMNS[s]}`, '>', 0))));
      }
      if (query.fixable !== undefined) conds.push(eb('s.fixable', query.fixable ? '>' : '=', 0));
      if (query.withFindings) conds.push(eb('s.total', '>', 0));
      if (query.package !== undefined) conds.push(eb('s.image_digest', 'in', imagesWithPackage(this.db, account, query.package)));
      if (query.vulnerability !== undefined) {
        conds.push(eb.exists(eb.selectFrom('image_summary_findings as f').select('f.image_digest')
          .whereRef('f.account', '=', 's.account').whereRef('f.image_digest', '=', 's.image_digest').where('f.vuln_id', '=', query.vulnerability.toUpperCase())));
      }
      return eb.and(conds);
    });
  }

  /** The rows of these images of an account that exist, with their live columns, in the keys' order. */
  async joined(account: string, keys: string[]): Promise<JoinedRow[]> {
    if (!keys.length) return [];
    const rows = await this.db.selectFrom('image_summaries').selectAll().where('account', '=', account).where('image_digest', 'in', keys).execute();
    const live = await liveImages(this.db, account, keys);
    const byDigest = new Map(rows.flatMap((r) => {
      const l = live.get(r.image_digest);
      return l ? [[r.image_digest, { ...r, ...l }] as const] : [];
    }));
    return keys.flatMap((k) => byDigest.get(k) ?? []);
  }

  /** An account's finding totals over its images' rows, and how many rows per verdict. */
  async totals(account: string): Promise<{ sums: Partial<Record<(typeof TOTAL_COLUMNS)[number] | 'affected', unknown>> | undefined; verdicts: { verdict: string | null; n: number }[] }> {
    const rows = this.db.selectFrom('image_summaries as s').where('s.account', '=', account).where('s.image_digest', 'in', imageDigests(this.db, account));
    const sums = await rows.select((eb) => [
      ...TOTAL_COLUMNS.map((c) => eb.fn.sum<number>(`s.${c}`).as(c)),
      eb.fn.sum<number>(eb.case().when('s.total', '>', 0).then(1).else(0).end()).as('affected'),
    ]).executeTakeFirst();
    const verdicts = await rows.select(['s.verdict', (eb) => eb.fn.countAll().as('n')]).groupBy('s.verdict').execute();
    return { sums, verdicts: verdicts.map((r) => ({ verdict: r.verdict, n: Number(r.n) })) };
  }

  /** Add a trend point and keep the newest TREND_POINTS. */
  async addTrendPoint(account: string, at: string, counts: string): Promise<void> {
    await this.db.insertInto('vuln_trend').values({ account, at, counts }).execute();
    const keep = await this.db.selectFrom('vuln_trend').select('at').where('account', '=', account).orderBy('at', 'desc').offset(TREND_POINTS - 1).limit(1).executeTakeFirst();
    if (keep) await this.db.deleteFrom('vuln_trend').where('account', '=', account).where('at', '<', keep.at).execute();
  }

  async hasTrend(account: string): Promise<boolean> {
    return !!(await this.db.selectFrom('vuln_trend').select('at').where('account', '=', account).limit(1).executeTakeFirst());
  }

  /** The newest trend points, newest first. */
  async trendPoints(account: string): Promise<{ at: string; counts: string }[]> {
    return this.db.selectFrom('vuln_trend').select(['at', 'counts']).where('account', '=', account).orderBy('at', 'desc').limit(TREND_POINTS).execute();
  }
}
