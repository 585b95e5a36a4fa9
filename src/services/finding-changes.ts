/**
 * What a re-match's changed findings cause, delivered from an outbox (tables finding_changes and
 * finding_change_diffs, store/finding-changes.ts) so a process that dies between the re-match's
 * commit and the announcements loses nothing and sends nothing twice:
 * - `recordChangeSet`, inside the re-match batch's own transaction (services/freshness.ts,
 *   store/findings.ts onChangeSet): the batch's changed package variants' diff rows and one row per
 *   image holding one, both by INSERT … SELECT;
 * - `deliver`, after that commit and on every later re-match run (whichever process runs it), in
 *   two stages, each page one transaction that claims its rows (a row another process claimed is
 *   skipped), so each stage happens once per row:
 *   1. announce: per page of images, their diffs (one join of their package rows with the change
 *      set), tags and which tags have an active vuln_update subscription (one join) are read; the
 *      transaction marks the rows announced, and writes the `user.checks.tag.vulnerabilities.update`
 *      events of every tag and the `vuln_update` notifications of the subscribed ones, each with
 *      multi-row inserts;
 *   2. evaluate: per page, the images' evaluated tags and newest evaluations are read at once; a
 *      tag last evaluated under the account's active bundle, when that bundle has no
 *      vulnerabilities gate, is skipped (its verdict cannot follow from a data change: the reason
 *      is in the result and the cycle's summary), the others' evaluations are
 *      re-done outside any transaction with the bundle compiled once per run; the transaction
 *      deletes the rows, stores the evaluations (the summary verdict follows) and, for a tag whose
 *      final action flipped while it still names the image, records
 *      `user.checks.tag.policy_evaluation.update` and queues the `policy_eval` notification.
 *   After each commit the lifecycle hears `findingsChanged` (stage 1) and `evaluationStored` (2).
 * So the notifications are all queued before the (slower) re-evaluations start.
 */
import type { Kysely } from 'kysely';
import { vulnerabilityDependent, type CompiledBundle } from '../policy/index.js';
import {
  changeEvaluatedTags, changeImages, changeLatestEvaluations, changeSetDiffs, changeTags, findingChangesAfter, hasFindingChanges, markAnnounced,
  recordChangeSet, tagHolders, takeFindingChanges, type ChangeImageRow, type FindingChangeRow,
} from '../store/finding-changes.js';
import { findingSummary, type FindingSummary } from '../store/finding-sql.js';
import type { CatalogStore } from '../store/catalog.js';
import type { LifecycleEvents, Lifecycle } from '../store/lifecycle.js';
import type { NewEvaluation, PolicyStore } from '../store/policies.js';
import type { Database } from '../store/schema.js';
import { describeError } from '../errors.js';
import type { Announcer } from './announce.js';
import { bundleOf, evaluateWith, policyEvalAnnouncement } from './check.js';
import type { VulnReports } from './reports.js';

export interface FindingChangeDeps {
  db: Kysely<Database>;
  lifecycle: Lifecycle;
  catalog: CatalogStore;
  policies: PolicyStore;
  reports: VulnReports;
  /** Where the events and notifications go; without one only evaluations and lifecycle events. */
  announcer?: Pick<Announcer, 'announce' | 'announceMany'>;
}

export interface DeliveryResult {
  /** Outbox rows delivered whole (one per image and re-match batch whose findings changed). */
  delivered: number;
  /** Rows announced (their events and notifications written). */
  announced: number;
  /** vuln_update notifications queued. */
  notified: number;
  /** Evaluations re-done and stored. */
  evaluations: number;
  /** Of those, tags whose final action changed. */
  flipped: number;
  /**
   * Re-evaluations (image and tag) skipped, and why (each reason once): the tag's newest evaluation
   * was made under the active bundle and that bundle has no vulnerabilities gate, or the account's
   * bundle cannot be used.
   */
  skipped: number;
  skipReasons: string[];
}

type Diff = { added: FindingSummary[]; updated: FindingSummary[]; removed: FindingSummary[] };
/** The account's active bundle compiled, and whether its verdicts can follow from vulnerability data (`skip`: why not); or why it cannot be used. */
type Bundle = { policyId: string; bundle: CompiledBundle; skip?: string } | { error: string };

/** A re-evaluation, prepared outside the transaction. */
interface Reevaluation { row: FindingChangeRow; next: NewEvaluation; previousId: string | undefined; previousAction: string | undefined }

/** Outbox rows per announce page, and per evaluate page (one transaction each). */
const ANNOUNCE_PAGE = 500;
const EVALUATE_PAGE = 100;

const emptyDiff = (): Diff => ({ added: [], updated: [], removed: [] });

function annotationsOf(image: ChangeImageRow | undefined): Record<string, unknown> {
  try {
    const a: unknown = image ? JSON.parse(image.annotations) : {};
    return a && typeof a === 'object' ? a as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

export class FindingChanges {
  constructor(private readonly deps: FindingChangeDeps) {}

  /** Inside the re-match batch's transaction (finding_tuple_diff filled): its change set and one row per changed image; how many rows. */
  async recordChangeSet(trx: Kysely<Database>, batch: number): Promise<number> {
    return recordChangeSet(trx, batch, new Date().toISOString());
  }

  /** Whether rows wait for delivery (a run that died after its re-match committed). */
  async pending(): Promise<boolean> {
    return hasFindingChanges(this.deps.db);
  }

  /** Deliver every waiting row: every announcement first, then every re-evaluation, a page (one transaction) at a time. */
  async deliver(options: { page?: number; signal?: AbortSignal; onProgress?: (phase: 'announced' | 'evaluated') => void } = {}): Promise<DeliveryResult> {
    const total: DeliveryResult = { delivered: 0, announced: 0, notified: 0, evaluations: 0, flipped: 0, skipped: 0, skipReasons: [] };
    for (let after = 0; !options.signal?.aborted;) {
      const rows = await findingChangesAfter(this.deps.db, 'announce', after, options.page ?? ANNOUNCE_PAGE);
      if (!rows.length) break;
      after = rows[rows.length - 1]!.id;
      const r = await this.announcePage(rows);
      total.announced += r.announced;
      total.notified += r.notified;
    }
    options.onProgress?.('announced');
    const bundles = new Map<string, Bundle>();
    const reasons = new Set<string>();
    for (let after = 0; !options.signal?.aborted;) {
      const rows = await findingChangesAfter(this.deps.db, 'evaluate', after, options.page ?? EVALUATE_PAGE);
      if (!rows.length) break;
      after = rows[rows.length - 1]!.id;
      const r = await this.evaluatePage(rows, bundles, reasons);
      total.delivered += r.delivered;
      total.evaluations += r.evaluations;
      total.flipped += r.flipped;
      total.skipped += r.skipped;
    }
    total.skipReasons = [...reasons];
    options.onProgress?.('evaluated');
    return total;
  }

  /** Each row's vuln_update diff: from its change set (one join for the page), or the JSON an older row carries. */
  private async diffsOf(rows: FindingChangeRow[]): Promise<Map<number, Diff>> {
    const out = new Map<number, Diff>();
    for (const r of rows) if (r.batch === null) out.set(r.id, JSON.parse(r.diff) as Diff);
    for (const d of await changeSetDiffs(this.deps.db, rows.filter((r) => r.batch !== null).map((r) => r.id))) {
      let diff = out.get(d.id);
      if (!diff) out.set(d.id, (diff = emptyDiff()));
      diff[d.change as keyof Diff].push(findingSummary(d));
    }
    return out;
  }

  /** Stage 1 for a page: claim the rows, write every tag's event and the subscribed tags' notifications in one transaction. */
  private async announcePage(rows: FindingChangeRow[]): Promise<{ announced: number; notified: number }> {
    const { db, announcer, lifecycle } = this.deps;
    const ids = rows.map((r) => r.id);
    const diffs = await this.diffsOf(rows);
    const images = new Map((await changeImages(db, ids)).map((i) => [i.id, i]));
    const tags = new Map<number, { fulltag: string; subscribed: boolean }[]>();
    for (const t of await changeTags(db, ids)) tags.set(t.id, [...(tags.get(t.id) ?? []), t]);
    const { mine, notified } = await db.transaction().execute(async (trx) => {
      const mine = await markAnnounced(trx, ids);
      const items = rows.filter((r) => mine.has(r.id) && images.has(r.id) && diffs.has(r.id)).flatMap((r) => (tags.get(r.id) ?? []).map((t) => ({
        account: r.account, key: t.fulltag, subscribed: t.subscribed, event: { type: 'user.checks.tag.vulnerabilities.update' },
        payload: { imageDigest: r.image_digest, diff_vulnerability_result: diffs.get(r.id)!, annotations: annotationsOf(images.get(r.id)) },
      })));
      return { mine, notified: announcer && items.length ? await announcer.announceMany('vuln_update', items, trx) : 0 };
    });
    for (const r of rows) {
      if (mine.has(r.id)) await lifecycle.committed('findingsChanged', { account: r.account, imageDigest: r.image_digest, diff: diffs.get(r.id) ?? emptyDiff() });
    }
    return { announced: mine.size, notified };
  }

  /** The account's active bundle, compiled once per delivery, or why its images are not re-evaluated. */
  private async bundle(account: string, bundles: Map<string, Bundle>): Promise<Bundle> {
    let b = bundles.get(account);
    if (!b) {
      try {
        const found = await bundleOf(this.deps.policies, account, undefined);
        b = vulnerabilityDependent(found.bundle) ? found
          : { ...found, skip: `account ${account}: the active bundle ${found.policyId} has no vulnerabilities gate, so a change of vulnerability data cannot change its verdicts` };
      } catch (e) {
        b = { error: `account ${account}: ${describeError(e)}` };
      }
      bundles.set(account, b);
    }
    return b;
  }

  /** Outside any transaction: the page's re-evaluations (images analyzed, with evaluated tags, under a vulnerability-dependent bundle), and the page's catalog rows. */
  private async reevaluations(rows: FindingChangeRow[], bundles: Map<string, Bundle>, reasons: Set<string>): Promise<{ out: Reevaluation[]; skipped: number; images: Map<number, ChangeImageRow> }> {
    const { db, catalog, reports } = this.deps;
    const ids = rows.map((r) => r.id);
    const images = new Map((await changeImages(db, ids)).map((i) => [i.id, i]));
    const evaluated = new Map<number, string[]>();
    for (const t of await changeEvaluatedTags(db, ids)) evaluated.set(t.id, [...(evaluated.get(t.id) ?? []), t.tag]);
    const latest = await changeLatestEvaluations(db, ids);
    const out: Reevaluation[] = [];
    const seen = new Set<string>();
    let skipped = 0;
    for (const row of rows) {
      const image = images.get(row.id);
      const tags = evaluated.get(row.id) ?? [];
      const key = `${row.account}\0${row.image_digest}`;
      if (!image || image.analysis_status !== 'analyzed' || !tags.length || seen.has(key)) continue;
      seen.add(key);
      const bundle = await this.bundle(row.account, bundles);
      // A tag last evaluated under the active bundle keeps its verdict when the bundle reads no vulnerabilities; others are re-done.
      const todo = 'error' in bundle ? [] : tags.filter((tag) => !bundle.skip || latest.get(`${row.id}\0${tag}`)?.policyId !== bundle.policyId);
      const why = 'error' in bundle ? bundle.error : bundle.skip;
      if (todo.length < tags.length && why) {
        skipped += tags.length - todo.length;
        reasons.add(why);
      }
      if (!todo.length || 'error' in bundle) continue;
      const sbom = await catalog.getSbom(row.account, row.image_digest);
      if (!sbom) continue;
      const scan = await reports.scan({ account: row.account, imageDigest: row.image_digest, ...(image.analyzed_at ? { analyzedAt: image.analyzed_at } : {}) }, async () => sbom);
      for (const tag of todo) {
        const previous = latest.get(`${row.id}\0${tag}`);
        out.push({ row, next: evaluateWith(bundle, row.account, { imageDigest: row.image_digest, tag, sbom, scan }), previousId: previous?.evalId, previousAction: previous?.finalAction });
      }
    }
    return { out, skipped, images };
  }

  /** Stage 2 for a page: re-evaluate outside, then one transaction takes the rows, stores the evaluations and announces the flips. */
  private async evaluatePage(rows: FindingChangeRow[], bundles: Map<string, Bundle>, reasons: Set<string>): Promise<Omit<DeliveryResult, 'announced' | 'notified' | 'skipReasons'>> {
    const { db, lifecycle, policies, announcer } = this.deps;
    const { out, skipped, images } = await this.reevaluations(rows, bundles, reasons);
    const flips = out.filter((e) => e.previousAction !== undefined && e.previousAction !== e.next.finalAction);
    const byAccount = new Map<string, Reevaluation[]>();
    for (const e of flips) byAccount.set(e.row.account, [...(byAccount.get(e.row.account) ?? []), e]);
    const previous = new Map<string, Awaited<ReturnType<PolicyStore['evaluationsByIds']>>>();
    const holders = new Map<string, Map<string, string>>();
    for (const [account, es] of byAccount) {
      previous.set(account, await policies.evaluationsByIds(account, es.map((e) => e.previousId!)));
      holders.set(account, await tagHolders(db, account, [...new Set(es.map((e) => e.next.tag))]));
    }
    const stored: LifecycleEvents['evaluationStored'][] = [];
    const taken = await db.transaction().execute(async (trx) => {
      const mine = await takeFindingChanges(trx, rows.map((r) => r.id));
      for (const e of out.filter((x) => mine.has(x.row.id))) {
        const saved = await policies.saveEvaluationIn(trx, e.row.account, e.next);
        stored.push(saved.event);
        const before = e.previousId ? previous.get(e.row.account)?.get(e.previousId) : undefined;
        if (!announcer || !before || before.finalAction === saved.stored.finalAction) continue;
        if (holders.get(e.row.account)?.get(e.next.tag) !== e.row.image_digest) continue;
        await announcer.announce(policyEvalAnnouncement(e.row.account, e.next.tag, before, saved.stored, annotationsOf(images.get(e.row.id))), trx);
      }
      return mine;
    });
    for (const e of stored) await lifecycle.committed('evaluationStored', e);
    return { delivered: taken.size, evaluations: stored.length, flipped: flips.filter((e) => taken.has(e.row.id)).length, skipped };
  }
}
