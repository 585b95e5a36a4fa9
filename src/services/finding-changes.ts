/**
 * What a re-match's changed findings cause, delivered from an outbox (table finding_changes,
 * store/migrations/0019-finding-changes.ts) so a process that dies between the re-match's commit
 * and the announcements loses nothing:
 * - `record`, inside the re-match's own transaction (services/freshness.ts, store/findings.ts
 *   onDiffs): one row per image whose findings changed, with its vuln_update diff;
 * - `deliver`, after that commit and on every later re-match run (whichever process runs it):
 *   page by page, outside any transaction, each image's stored policy evaluations are re-done
 *   against the account's active bundle with the current data (the tags the image has stored
 *   evaluations as; an image never evaluated gets none, as nobody asked for its verdict); then ONE
 *   transaction per page deletes the rows it takes (a row another process took is skipped), records
 *   `user.checks.tag.vulnerabilities.update` per tag and queues the `vuln_update` notifications of
 *   active subscriptions, stores the new evaluations (the summary row's verdict follows in the same
 *   transaction) and, for a tag whose final action flipped while it still names the image, records
 *   `user.checks.tag.policy_evaluation.update` and queues the `policy_eval` notification. After the
 *   commit the lifecycle hears `findingsChanged` and `evaluationStored`.
 * A killed delivery rolls back whole, and its rows wait for the next run: events and notifications
 * are written once.
 */
import { findingChangesAfter, hasFindingChanges, recordFindingChanges, takeFindingChanges } from '../store/finding-changes.js';
import type { Kysely } from 'kysely';
import type { CatalogImage, CatalogStore } from '../store/catalog.js';
import type { FindingSummary, ImageFindingDiff } from '../store/findings.js';
import type { LifecycleEvents, Lifecycle } from '../store/lifecycle.js';
import type { NewEvaluation, PolicyStore, StoredEvaluation } from '../store/policies.js';
import type { Database } from '../store/schema.js';
import type { Announcer } from './announce.js';
import { evaluateCheck, policyEvalAnnouncement } from './check.js';
import type { VulnReports } from './reports.js';

export interface FindingChangeDeps {
  db: Kysely<Database>;
  lifecycle: Lifecycle;
  catalog: CatalogStore;
  policies: PolicyStore;
  reports: VulnReports;
  /** Where the events and notifications go; without one only evaluations and lifecycle events. */
  announcer?: Pick<Announcer, 'announce'>;
}

export interface DeliveryResult {
  /** Outbox rows delivered (one per image and re-match batch whose findings changed). */
  delivered: number;
  /** Evaluations re-done and stored. */
  evaluations: number;
  /** Of those, tags whose final action changed. */
  flipped: number;
}

type Diff = { added: FindingSummary[]; updated: FindingSummary[]; removed: FindingSummary[] };

/** A re-evaluation, prepared outside the transaction. */
interface Reevaluation {
  next: NewEvaluation;
  previous: StoredEvaluation | undefined;
  /** The tag names this image now (a flip is announced only then). */
  current: boolean;
}

interface Prepared {
  id: number;
  account: string;
  imageDigest: string;
  diff: Diff;
  image: CatalogImage | undefined;
  evaluations: Reevaluation[];
}

/** Outbox rows per delivery page (one transaction each). */
const PAGE = 100;

export class FindingChanges {
  constructor(private readonly deps: FindingChangeDeps) {}

  /** Inside the re-match's transaction: one row per image whose findings changed. */
  async record(trx: Kysely<Database>, diffs: readonly ImageFindingDiff[]): Promise<void> {
    const at = new Date().toISOString();
    const rows = diffs.filter((d) => d.added.length + d.updated.length + d.removed.length > 0)
      .map((d) => ({ account: d.account, image_digest: d.imageDigest, diff: JSON.stringify({ added: d.added, updated: d.updated, removed: d.removed }), created_at: at }));
    await recordFindingChanges(trx, rows);
  }

  /** Whether rows wait for delivery (a run that died after its re-match committed). */
  async pending(): Promise<boolean> {
    return hasFindingChanges(this.deps.db);
  }

  /** Deliver every waiting row, a page (one transaction) at a time. */
  async deliver(options: { page?: number; signal?: AbortSignal } = {}): Promise<DeliveryResult> {
    const total: DeliveryResult = { delivered: 0, evaluations: 0, flipped: 0 };
    let after = 0;
    while (!options.signal?.aborted) {
      const rows = await findingChangesAfter(this.deps.db, after, options.page ?? PAGE);
      if (!rows.length) break;
      after = Number(rows[rows.length - 1]!.id);
      const prepared = await this.prepare(rows.map((r) => ({ id: Number(r.id), account: r.account, imageDigest: r.image_digest, diff: JSON.parse(r.diff) as Diff })));
      const r = await this.deliverPage(prepared);
      total.delivered += r.delivered;
      total.evaluations += r.evaluations;
      total.flipped += r.flipped;
    }
    return total;
  }

  /** Outside any transaction: each row's image, and the re-evaluations of each image (once per page). */
  private async prepare(rows: Omit<Prepared, 'image' | 'evaluations'>[]): Promise<Prepared[]> {
    const done = new Set<string>();
    const out: Prepared[] = [];
    for (const r of rows) {
      const key = `${r.account}\0${r.imageDigest}`;
      const image = await this.deps.catalog.getImage(r.account, r.imageDigest);
      const evaluations = image && !done.has(key) ? await this.reevaluations(image) : [];
      done.add(key);
      out.push({ ...r, image, evaluations });
    }
    return out;
  }

  /** The image's evaluations re-done with the account's active bundle, for every tag it has stored evaluations as. */
  private async reevaluations(image: CatalogImage): Promise<Reevaluation[]> {
    const { catalog, policies, reports } = this.deps;
    const { account, imageDigest } = image;
    if (image.analysisStatus !== 'analyzed') return [];
    const tags = await policies.evaluatedTags(account, imageDigest);
    if (!tags.length) return [];
    const sbom = await catalog.getSbom(account, imageDigest);
    if (!sbom) return [];
    const scan = await reports.scan({ account, imageDigest, ...(image.analyzedAt ? { analyzedAt: image.analyzedAt } : {}) }, async () => sbom);
    const out: Reevaluation[] = [];
    for (const tag of tags) {
      const previous = await policies.latestEvaluation(account, imageDigest, tag);
      const next = await evaluateCheck(policies, account, { imageDigest, tag, sbom, scan });
      const current = (await catalog.listImages(account, { fulltag: tag, latestOnly: true }))[0]?.imageDigest === imageDigest;
      out.push({ next, previous, current });
    }
    return out;
  }

  /** One transaction: take the page's rows (those still there), write what they cause; then tell the lifecycle. */
  private async deliverPage(page: Prepared[]): Promise<DeliveryResult> {
    const { db, lifecycle } = this.deps;
    const stored: LifecycleEvents['evaluationStored'][] = [];
    let flipped = 0;
    const taken = await db.transaction().execute(async (trx) => {
      const mine = await takeFindingChanges(trx, page.map((p) => p.id));
      const took = page.filter((p) => mine.has(p.id));
      for (const p of took) {
        await this.announceDiff(trx, p);
        for (const e of p.evaluations) {
          const saved = await this.deps.policies.saveEvaluationIn(trx, p.account, e.next);
          stored.push(saved.event);
          if (!e.previous || e.previous.finalAction === saved.stored.finalAction) continue;
          flipped++;
          if (e.current && this.deps.announcer) {
            await this.deps.announcer.announce(policyEvalAnnouncement(p.account, e.next.tag, e.previous, saved.stored, p.image?.annotations ?? {}), trx);
          }
        }
      }
      return took;
    });
    for (const p of taken) await lifecycle.committed('findingsChanged', { account: p.account, imageDigest: p.imageDigest, diff: p.diff });
    for (const e of stored) await lifecycle.committed('evaluationStored', e);
    return { delivered: taken.length, evaluations: stored.length, flipped };
  }

  /** A vuln_update event per tag of the image, and the notification where its subscription is active. */
  private async announceDiff(trx: Kysely<Database>, p: Prepared): Promise<void> {
    if (!this.deps.announcer || !p.image) return;
    for (const t of p.image.tags) {
      await this.deps.announcer.announce({
        account: p.account, type: 'vuln_update', key: t.fulltag,
        event: { type: 'user.checks.tag.vulnerabilities.update' },
        payload: { imageDigest: p.imageDigest, diff_vulnerability_result: p.diff, annotations: p.image.annotations },
      }, trx);
    }
  }
}
