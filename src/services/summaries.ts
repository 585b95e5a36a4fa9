/**
 * Image summaries for the web UI: what computes them and reads them; their rows (image_summaries,
 * image_summary_findings, vuln_trend) are read and written through store/summaries.ts.
 *
 * One row per image holds what lists filter and sort by: tags, severity counts, fixable and KEV
 * findings, the verdict of the newest stored policy evaluation, sizes, package count. `refresh`
 * recomputes a row from the stored state (catalog, cached vulnerability report, policy_evals); the
 * composition root (services/root.ts) subscribes it to the image lifecycle events: in the storing
 * transaction for a stored analysis (`refreshIn`) and for a stored evaluation (`verdictIn`, the
 * verdict only), after commit for an added image and a status change; a deleted image's row goes
 * in its transaction. A re-match moves the counts and rebuilds the finding pairs itself, set-based
 * (store/finding-sql.ts). `backfill` builds missing or stale rows (images
 * from before the table, or a hook that failed) and drops rows of deleted images. A list is one
 * indexed query over the summary table for the count and the page's keys (filters on the catalog
 * and the package index are their owners' subqueries), then the page's rows with their live
 * catalog columns (the analysis status); no SBOM is decoded per list request.
 *
 * Counts are the findings `GET /images/{digest}/vuln/all` reports by default: every match except
 * those the vendor will not fix (vendor_only=true).
 *
 * The per-image views (layers, packages, vulnerabilities, comparison) are functions of a stored
 * SBOM and its scan, below the store.
 */
import type { Kysely } from 'kysely';
import type { VulnDb } from '../feeds/vulndb.js';
import type { Action } from '../policy/model.js';
import type { Sbom } from '../sbom/model.js';
import type { Match } from '../vulns/model.js';
import type { CatalogStore } from '../store/catalog.js';
import { NOT_NEW, type ChangeContext } from '../store/lifecycle.js';
import { VulnReports } from './reports.js';
import { CatalogStore as CatalogReader } from '../store/catalog.js';
import { VulnDb as VulnData } from '../feeds/vulndb.js';
import type { Database, ImageSummariesTable } from '../store/schema.js';
import { storedFindingCounts } from '../store/findings.js';
import { imageStatusCounts } from '../store/catalog-queries.js';
import { eventsMentioning, recentEvents } from '../store/events.js';
import { deliveryAttempts, failedNotifications } from '../store/notifications.js';
import { evaluationsOf } from '../store/policies.js';
import {
  COUNT_COLUMNS, SEVERITIES, SummaryRows, inTransaction, removeImageSummary, setSummaryVerdict, summaryDescription, writeSummary,
  type JoinedRow, type SummaryPair, type SummaryQuery, type Verdict,
} from '../store/summaries.js';
import { countedMatches, countMatches, zeroCounts, type SeverityCounts, type VulnCounts } from './summary-counts.js';
import { describeSbom } from './summary-views.js';

export { SEVERITIES, SORTS, VERDICTS, removeImageSummary, type SummaryQuery, type SummarySort, type Verdict } from '../store/summaries.js';
export const VERDICT_OF: Record<Action, Verdict> = { go: 'pass', warn: 'warn', stop: 'fail' };

/** The contract's ImageSummary; timestamps as stored (the API formats them). */
export interface ImageSummary {
  imageDigest: string;
  imageId: string | null;
  tags: string[];
  registry: string | null;
  repository: string | null;
  analysis_status: string;
  image_status: string;
  distro: string | null;
  platform: string | null;
  image_size: number | null;
  layer_count: number | null;
  package_count: number | null;
  vulnerabilities: VulnCounts;
  verdict: Verdict | null;
  evaluated_at: string | null;
  created_at: string;
  analyzed_at: string | null;
  last_updated: string;
}

/** Where a recomputation reads (and writes): the store's own connections, or a transaction. */
interface SummarySource {
  db: Kysely<Database>;
  catalog: CatalogStore;
  reports: VulnReports;
  /** The image's row was inserted by the transaction of db (ChangeContext.newImage): it has no evaluation and no summary pairs yet. */
  newImage?: boolean;
}

async function latestVerdict(db: Kysely<Database>, account: string, imageDigest: string): Promise<{ verdict: Verdict; at: string } | undefined> {
  const [r] = await evaluationsOf(db, account, imageDigest, 1);
  return r ? { verdict: VERDICT_OF[r.final_action as Action] ?? 'fail', at: r.created_at } : undefined;
}

export class SummaryStore {
  private readonly db: Kysely<Database>;
  private readonly rows: SummaryRows;
  private readonly reports: VulnReports;
  private readonly now: () => Date;
  /** Accounts whose missing rows this process has already built. */
  private readonly backfilled = new Set<string>();
  /** Accounts known to have a trend point. */
  private readonly trending = new Set<string>();

  /** `rows`: the summary rows' store (the composition root's); default one over `db`. */
  constructor(db: Kysely<Database>, private readonly catalog: CatalogStore, private readonly vulndb: VulnDb, options: { now?: () => Date; reports?: VulnReports; rows?: SummaryRows } = {}) {
    this.db = db;
    this.rows = options.rows ?? new SummaryRows(db);
    this.reports = options.reports ?? new VulnReports(vulndb);
    this.now = options.now ?? (() => new Date());
  }

  /** Recompute an image's row from the stored state; removes it when the image is gone. */
  async refresh(account: string, imageDigest: string): Promise<void> {
    await this.recompute({ db: this.db, catalog: this.catalog, reports: this.reports }, account, imageDigest);
  }

  /**
   * The same inside the caller's transaction, reading what it has written (an analysis it stores):
   * the row is written before that transaction commits. The scan reads the vulnerability data
   * through the transaction too when it lives in the same database (SQLite has one connection).
   */
  async refreshIn(trx: Kysely<Database>, account: string, imageDigest: string, sbom?: Sbom, context: ChangeContext = NOT_NEW): Promise<void> {
    const vulndb = this.vulndb.sameDatabase(this.db)
      ? new VulnData({ kysely: trx, dialect: this.vulndb.dialect, location: this.vulndb.location, close: async () => {} })
      : this.vulndb;
    await this.recompute({ db: trx, catalog: new CatalogReader(trx), reports: this.reports.through(vulndb), newImage: context.newImage }, account, imageDigest, sbom);
  }

  /** Inside an evaluation's transaction: the row's verdict from the newest stored evaluation (the whole row when there is none yet). */
  async verdictIn(trx: Kysely<Database>, account: string, imageDigest: string): Promise<void> {
    const v = await latestVerdict(trx, account, imageDigest);
    if (!(await setSummaryVerdict(trx, account, imageDigest, v?.verdict ?? null, v?.at ?? null))) await this.refreshIn(trx, account, imageDigest);
  }

  private async recompute(src: SummarySource, account: string, imageDigest: string, given?: Sbom): Promise<void> {
    const image = await src.catalog.getImage(account, imageDigest);
    if (!image) {
      await inTransaction(src.db, (trx) => removeImageSummary(trx, account, imageDigest));
      return;
    }
    // The stored description is reused when the SBOM is not at hand (describing a given one is cheaper than reading it).
    const prev = given ? undefined : await summaryDescription(src.db, account, imageDigest);
    let sbom: Sbom | undefined = given;
    const loadSbom = async () => (sbom ??= await src.catalog.getSbom(account, imageDigest));
    let described: Pick<ImageSummariesTable, 'package_count' | 'distro' | 'platform' | 'sbom_at'> = { package_count: null, distro: null, platform: null, sbom_at: null };
    let counts = zeroCounts();
    let findings: Match[] = [];
    const analyzedAt = image.analysisStatus === 'analyzed' ? image.analyzedAt : undefined;
    if (analyzedAt !== undefined) {
      if (prev && prev.sbom_at === analyzedAt) described = { package_count: prev.package_count, distro: prev.distro, platform: prev.platform, sbom_at: analyzedAt };
      else {
        const s = await loadSbom();
        if (s) described = { ...describeSbom(s), sbom_at: analyzedAt };
      }
      if (described.sbom_at !== null) {
        const scan = await src.reports.scan({ account, imageDigest, analyzedAt }, async () => (await loadSbom())!);
        findings = countedMatches(scan?.matches ?? []);
        counts = countMatches(findings);
        // The re-match engine moves these counts by difference: the row keeps the engine's (equal when it is current).
        const kept = await storedFindingCounts(src.db, account, imageDigest);
        if (kept) counts = { Critical: kept.critical, High: kept.high, Medium: kept.medium, Low: kept.low, Negligible: kept.negligible, Unknown: kept.unknown, total: kept.total, fixable: kept.fixable, kev: kept.kev };
      }
    }
    const verdict = src.newImage ? undefined : await latestVerdict(src.db, account, imageDigest);
    const first = image.tags[0];
    const row: ImageSummariesTable = {
      account, image_digest: imageDigest,
      tags: JSON.stringify(image.tags.map((t) => t.fulltag)),
      search: [...image.tags.map((t) => t.fulltag), imageDigest].join('\n').toLowerCase(),
      registry: first?.registry ?? null, repository: first?.repo ?? null, tag_sort: first?.fulltag.toLowerCase() ?? '',
      ...described,
      image_size: image.metadata?.image_size ?? null, layer_count: image.metadata?.layer_count ?? null,
      critical: counts.Critical, high: counts.High, medium: counts.Medium, low: counts.Low, negligible: counts.Negligible, unknown: counts.Unknown,
      total: counts.total, fixable: counts.fixable, kev: counts.kev,
      verdict: verdict?.verdict ?? null, evaluated_at: verdict?.at ?? null,
      created_at: image.createdAt, analyzed_at: analyzedAt ?? null, refreshed_at: this.now().toISOString(),
    };
    const pairs = new Map<string, SummaryPair>();
    for (const m of findings) {
      for (const id of [m.vulnerability.id, ...m.vulnerability.aliases]) {
        const vuln_id = id.toUpperCase();
        pairs.set(`${vuln_id}\0${m.package.name}`, { vuln_id, package_name: m.package.name });
      }
    }
    await writeSummary(src.db, row, [...pairs.values()], { replacePairs: !src.newImage });
  }

  /**
   * Build the rows of images that have none or whose row predates their analysis (at most `limit`;
   * of one account when given), and drop rows of images that are gone. Returns how many were built.
   */
  async backfill(options: { account?: string; limit?: number } = {}): Promise<number> {
    const rows = await this.rows.stale(options);
    for (const r of rows) await this.refresh(r.account, r.image_digest);
    await this.rows.removeOrphans(options.account);
    return rows.length;
  }

  /**
   * Build an account's missing rows once (images from before the summary table): the database
   * remembers it was done (image_summary_backfills), so later processes read one row. Rows a
   * failed hook left missing or stale are rebuilt by the re-match cycle's backfill, and a listed
   * page's stale rows by the list itself.
   */
  async ensure(account: string): Promise<void> {
    if (this.backfilled.has(account)) return;
    if (!(await this.rows.backfilled(account))) {
      await this.backfill({ account });
      await this.rows.markBackfilled(account, this.now().toISOString());
    }
    this.backfilled.add(account);
  }

  // ------------------------------------------------------------------ reading

  async list(account: string, query: SummaryQuery = {}): Promise<{ total: number; page: number; limit: number; items: ImageSummary[] }> {
    await this.ensure(account);
    const page = query.page ?? 1;
    const limit = query.limit ?? 50;
    const { total, keys } = await this.rows.page(account, query);
    const fetch = async () => this.rows.joined(account, keys);
    let rows = await fetch();
    // An analysis stored a moment ago whose hook has not refreshed the row yet: refresh it now.
    const stale = rows.filter(isStale);
    if (stale.length) {
      for (const r of stale) await this.refresh(account, r.image_digest);
      rows = await fetch();
    }
    return { total, page, limit, items: rows.map(toSummary) };
  }

  /** One image's summary; undefined when the account has no such image. */
  async get(account: string, imageDigest: string): Promise<ImageSummary | undefined> {
    await this.ensure(account);
    let row = await this.row(account, imageDigest);
    if ((row && isStale(row)) || (!row && (await this.catalog.getImage(account, imageDigest)))) {
      await this.refresh(account, imageDigest);
      row = await this.row(account, imageDigest);
    }
    return row ? toSummary(row) : undefined;
  }

  private async row(account: string, imageDigest: string): Promise<JoinedRow | undefined> {
    return (await this.rows.joined(account, [imageDigest]))[0];
  }

  /** Image counts by status, finding totals, verdicts, the worst images (dashboard). */
  async overview(account: string): Promise<Overview> {
    await this.ensure(account);
    const statuses = await imageStatusCounts(this.db, account);
    const byStatus: Record<string, number> = { not_analyzed: 0, analyzing: 0, analyzed: 0, analysis_failed: 0 };
    for (const r of statuses) byStatus[r.analysis_status] = r.n;
    const { sums, verdicts: verdictRows } = await this.rows.totals(account);
    const verdicts: Record<Verdict | 'none', number> = { pass: 0, warn: 0, fail: 0, none: 0 };
    for (const r of verdictRows) verdicts[(r.verdict as Verdict | null) ?? 'none'] += Number(r.n);
    const n = (v: unknown) => Number(v ?? 0);
    const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, n(sums?.[COUNT_COLUMNS[s]])])) as SeverityCounts;
    const worst = await this.list(account, { sort: 'risk', order: 'desc', limit: 5, withFindings: true });
    return {
      images: { total: Object.values(byStatus).reduce((a, b) => a + b, 0), by_status: byStatus },
      vulnerabilities: { by_severity: bySeverity, total: n(sums?.total), fixable: n(sums?.fixable), kev: n(sums?.kev), images_affected: n(sums?.affected) },
      verdicts,
      worst_images: worst.items,
    };
  }

  // ------------------------------------------------------------------ trend

  /** Record a snapshot of the finding totals of an account (of every account with images when none is given). */
  async snapshotTrend(account?: string): Promise<void> {
    const accounts = account !== undefined ? [account]
      : await this.catalog.accounts();
    const at = this.now().toISOString();
    for (const a of accounts) {
      const { vulnerabilities } = await this.overview(a);
      const counts = { ...vulnerabilities.by_severity, total: vulnerabilities.total };
      await this.rows.addTrendPoint(a, at, JSON.stringify(counts));
    }
  }

  /** Snapshot an account's totals when it has none yet (its first image was analyzed). */
  async snapshotFirst(account: string): Promise<void> {
    // Trend points are pruned to the newest TREND_POINTS, never to none: once seen, an account keeps having one.
    if (this.trending.has(account)) return;
    if (!(await this.rows.hasTrend(account))) await this.snapshotTrend(account);
    this.trending.add(account);
  }

  /** The newest snapshots, oldest first. */
  async trend(account: string): Promise<({ at: string; total: number } & SeverityCounts)[]> {
    const rows = await this.rows.trendPoints(account);
    return rows.reverse().map((r) => ({ at: r.at, ...(JSON.parse(r.counts) as SeverityCounts & { total: number }) }));
  }

  // ------------------------------------------------------------------ what happened

  /** The newest events of an account. */
  async recentEvents(account: string, limit = 10): Promise<{ type: string; level: string; message: string; timestamp: string; resource: string | null }[]> {
    const rows = await recentEvents(this.db, account, limit);
    return rows.map((r) => ({ type: r.type, level: r.level.toUpperCase(), message: r.message, timestamp: r.timestamp, resource: r.resource_id }));
  }

  /** The newest webhook notifications of an account whose delivery failed or whose last attempt errored. */
  async failedDeliveries(account: string, limit = 10): Promise<FailedDelivery[]> {
    const rows = await failedNotifications(this.db, account, limit);
    if (!rows.length) return [];
    const attempts = await deliveryAttempts(this.db, rows.map((r) => r.id));
    const last = new Map(attempts.map((a) => [a.notification_id, a]));
    return rows.map((r) => ({
      notification_id: r.id, type: r.type, url: last.get(r.id)?.url ?? null, attempts: Number(r.attempts),
      last_error: r.last_error, last_attempt_at: last.get(r.id)?.at ?? r.last_updated,
    }));
  }

  /** An image's stored evaluations, newest first. */
  async verdicts(account: string, imageDigest: string, limit = 50): Promise<{ evaluated_at: string; final_action: string; verdict: Verdict; bundle_id: string; tag: string }[]> {
    const rows = await evaluationsOf(this.db, account, imageDigest, limit);
    return rows.map((r) => ({ evaluated_at: r.created_at, final_action: r.final_action, verdict: VERDICT_OF[r.final_action as Action] ?? 'fail', bundle_id: r.policy_id, tag: r.tag }));
  }

  /** Re-match changes of an image from its vuln_update events (one per change, not per tag), newest first. */
  async vulnChanges(account: string, imageDigest: string, limit = 50): Promise<{ at: string; added: number; removed: number; updated: number; detail: unknown }[]> {
    const rows = await eventsMentioning(this.db, account, 'user.checks.tag.vulnerabilities.update', imageDigest, limit * 4);
    const seen = new Set<string>();
    const out: { at: string; added: number; removed: number; updated: number; detail: unknown }[] = [];
    for (const r of rows) {
      const d = JSON.parse(r.details) as { imageDigest?: string; diff_vulnerability_result?: { added?: unknown[]; removed?: unknown[]; updated?: unknown[] } };
      const diff = d.diff_vulnerability_result;
      if (d.imageDigest !== imageDigest || !diff) continue;
      const key = `${r.timestamp.slice(0, 19)}\0${JSON.stringify(diff)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ at: r.timestamp, added: diff.added?.length ?? 0, removed: diff.removed?.length ?? 0, updated: diff.updated?.length ?? 0, detail: diff });
      if (out.length === limit) break;
    }
    return out;
  }
}

export interface Overview {
  images: { total: number; by_status: Record<string, number> };
  vulnerabilities: { by_severity: SeverityCounts; total: number; fixable: number; kev: number; images_affected: number };
  verdicts: Record<Verdict | 'none', number>;
  worst_images: ImageSummary[];
}

export interface FailedDelivery {
  notification_id: string;
  type: string;
  url: string | null;
  attempts: number;
  last_error: string | null;
  last_attempt_at: string;
}

/** A row older than the image's stored analysis. */
const isStale = (r: JoinedRow) => r.analysis_status === 'analyzed' && r.analyzed_at !== r.live_analyzed_at;

function toSummary(r: JoinedRow): ImageSummary {
  const n = (v: number | string | null) => (v === null ? null : Number(v));
  return {
    imageDigest: r.image_digest,
    imageId: r.image_id,
    tags: JSON.parse(r.tags) as string[],
    registry: r.registry,
    repository: r.repository,
    analysis_status: r.analysis_status,
    image_status: r.image_status,
    distro: r.distro,
    platform: r.platform,
    image_size: n(r.image_size),
    layer_count: n(r.layer_count),
    package_count: n(r.package_count),
    vulnerabilities: {
      Critical: Number(r.critical), High: Number(r.high), Medium: Number(r.medium), Low: Number(r.low), Negligible: Number(r.negligible), Unknown: Number(r.unknown),
      total: Number(r.total), fixable: Number(r.fixable), kev: Number(r.kev),
    },
    verdict: r.verdict as Verdict | null,
    evaluated_at: r.evaluated_at,
    created_at: r.created_at,
    analyzed_at: r.analyzed_at,
    last_updated: r.last_updated,
  };
}
