/**
 * The analysis archive and its transition rules (Anchore's analysis_archive, tables from
 * store/migrations/0013-archive.ts). Archiving an image copies its stored analysis (the compressed SBOM,
 * read from its object store, and the manifest), tags, annotations and metadata into `archived_images` and then deletes the live image
 * (CatalogStore.deleteImage: packages, evaluations, matches go with it), in one transaction.
 *
 * Rules, as Anchore's archiver applies them every archive_tasks cycle, per account (its own rules
 * and every system_global rule):
 * - `archive` rules look at the working set: for each tag matching the selector (`*` wildcards),
 *   the images it named, newest first (tag last seen, then analyzed time); an image is a candidate
 *   under that tag when at least tag_versions_newer images are newer and its analysis is strictly
 *   older than analysis_age_days (negative: no limit), unless the rule's exclude selector matches
 *   and the exclusion has not expired (expiration_days after analysis; negative: never).
 * - `delete` rules look at the archive the same way (age from archived_at) and delete records.
 * - An image moves only when every one of its tags is a candidate of some rule (Anchore's
 *   TagRuleMatchMerger). Archive rules run first, then delete rules.
 * - A system_global archive rule with max_images_per_account selects by count alone: the
 *   account's oldest analyzed images (by analysis time) beyond that many are archived.
 * The periodic run of the rules is services/archive.ts's archiveCycle.
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Kysely } from 'kysely';
import type { Sbom } from '../sbom/model.js';
import { decodeDocument } from './objects/codec.js';
import type { CatalogStore, ImageTag } from './catalog.js';
import { evaluationsIn, type StoredEvaluation } from './policies.js';
import type { ArchiveRulesTable, ArchivedImagesTable, Database } from './schema.js';

export const TRANSITIONS = ['archive', 'delete'] as const;
export type Transition = (typeof TRANSITIONS)[number];

export interface Selector { registry: string; repository: string; tag: string }

export interface ArchiveRule {
  ruleId: string;
  account: string;
  selector: Selector;
  analysisAgeDays: number;
  tagVersionsNewer: number;
  transition: Transition;
  systemGlobal: boolean;
  maxImagesPerAccount?: number;
  exclude?: { selector: Selector; expirationDays: number };
  createdAt: string;
  lastUpdated: string;
}

export type NewRule = Omit<ArchiveRule, 'ruleId' | 'account' | 'createdAt' | 'lastUpdated'>;

export interface ArchivedImage {
  account: string;
  imageDigest: string;
  parentDigest?: string;
  imageId?: string;
  annotations: Record<string, unknown>;
  metadata?: unknown;
  tags: ImageTag[];
  sizeBytes: number;
  status: 'archived';
  imageCreatedAt: string;
  analyzedAt?: string;
  archivedAt: string;
  lastUpdated: string;
}

export type ArchiveOutcome = { digest: string; status: 'archived' } | { digest: string; status: 'error'; detail: string };


const DAY_MS = 86_400_000;

/** Whether text matches a selector field, `*` matching any run of characters. */
export function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(text);
}

function selects(s: Selector, t: { registry: string; repo: string; tag: string }): boolean {
  return globMatch(s.registry, t.registry) && globMatch(s.repository, t.repo) && globMatch(s.tag, t.tag);
}

function toRule(r: ArchiveRulesTable): ArchiveRule {
  return {
    ruleId: r.rule_id,
    account: r.account,
    selector: { registry: r.registry, repository: r.repository, tag: r.tag },
    analysisAgeDays: r.analysis_age_days,
    tagVersionsNewer: r.tag_versions_newer,
    transition: r.transition as Transition,
    systemGlobal: Number(r.system_global) === 1,
    ...(r.max_images_per_account !== null ? { maxImagesPerAccount: r.max_images_per_account } : {}),
    ...(r.exclude !== null ? { exclude: JSON.parse(r.exclude) as { selector: Selector; expirationDays: number } } : {}),
    createdAt: r.created_at,
    lastUpdated: r.last_updated,
  };
}

function toArchived(r: Omit<ArchivedImagesTable, 'sbom_gz' | 'manifest' | 'evaluations_gz'>): ArchivedImage {
  return {
    account: r.account,
    imageDigest: r.image_digest,
    ...(r.parent_digest !== null ? { parentDigest: r.parent_digest } : {}),
    ...(r.image_id !== null ? { imageId: r.image_id } : {}),
    annotations: JSON.parse(r.annotations) as Record<string, unknown>,
    ...(r.metadata !== null ? { metadata: JSON.parse(r.metadata) as unknown } : {}),
    tags: JSON.parse(r.tags) as ImageTag[],
    sizeBytes: Number(r.size_bytes),
    status: 'archived',
    imageCreatedAt: r.image_created_at,
    ...(r.analyzed_at !== null ? { analyzedAt: r.analyzed_at } : {}),
    archivedAt: r.archived_at,
    lastUpdated: r.last_updated,
  };
}

const ARCHIVED_COLUMNS = [
  'account', 'image_digest', 'parent_digest', 'image_id', 'annotations', 'metadata', 'tags', 'size_bytes', 'status',
  'image_created_at', 'analyzed_at', 'archived_at', 'last_updated',
] as const;

export class ArchiveStore {
  private readonly db: Kysely<Database>;
  private readonly now: () => Date;

  constructor(db: Kysely<Database>, private readonly catalog: CatalogStore, options: { now?: () => Date } = {}) {
    this.db = db;
    this.now = options.now ?? (() => new Date());
  }

  async addRule(account: string, rule: NewRule): Promise<ArchiveRule> {
    const t = this.now().toISOString();
    const ruleId = randomUUID().replace(/-/g, '');
    await this.db.insertInto('archive_rules').values({
      rule_id: ruleId, account, registry: rule.selector.registry, repository: rule.selector.repository, tag: rule.selector.tag,
      analysis_age_days: rule.analysisAgeDays, tag_versions_newer: rule.tagVersionsNewer, transition: rule.transition,
      system_global: rule.systemGlobal ? 1 : 0, max_images_per_account: rule.maxImagesPerAccount ?? null,
      exclude: rule.exclude ? JSON.stringify(rule.exclude) : null, created_at: t, last_updated: t,
    }).execute();
    return (await this.getRule(account, ruleId))!;
  }

  /** The account's rules and every system_global rule (or only one kind), oldest first. */
  async listRules(account: string, filter: { systemGlobal?: boolean } = {}): Promise<ArchiveRule[]> {
    let q = this.db.selectFrom('archive_rules').selectAll();
    if (filter.systemGlobal === true) q = q.where('system_global', '=', 1);
    else if (filter.systemGlobal === false) q = q.where('account', '=', account).where('system_global', '=', 0);
    else q = q.where((eb) => eb.or([eb('account', '=', account), eb('system_global', '=', 1)]));
    return (await q.orderBy('created_at').orderBy('rule_id').execute()).map(toRule);
  }

  /** A rule of the account, or a system_global one. */
  async getRule(account: string, ruleId: string): Promise<ArchiveRule | undefined> {
    const r = await this.db.selectFrom('archive_rules').selectAll().where('rule_id', '=', ruleId)
      .where((eb) => eb.or([eb('account', '=', account), eb('system_global', '=', 1)])).executeTakeFirst();
    return r ? toRule(r) : undefined;
  }

  async deleteRule(ruleId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('archive_rules').where('rule_id', '=', ruleId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async listArchived(account: string): Promise<ArchivedImage[]> {
    const rows = await this.db.selectFrom('archived_images').select(ARCHIVED_COLUMNS).where('account', '=', account)
      .orderBy('archived_at', 'desc').orderBy('image_digest').execute();
    return rows.map(toArchived);
  }

  async getArchived(account: string, imageDigest: string): Promise<ArchivedImage | undefined> {
    const r = await this.db.selectFrom('archived_images').select(ARCHIVED_COLUMNS).where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
    return r ? toArchived(r) : undefined;
  }

  /** The archived SBOM, decompressed. */
  async getArchivedSbom(account: string, imageDigest: string): Promise<Sbom | undefined> {
    const r = await this.db.selectFrom('archived_images').select('sbom_gz').where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
    return r ? decodeDocument<Sbom>(Buffer.from(r.sbom_gz)) : undefined;
  }

  /** The archived SBOM (decompressed), the manifest text and the evaluation history, for writing the archive file. */
  async getArchivedDocument(account: string, imageDigest: string): Promise<{ sbom: Sbom; manifest: string | null; evaluations: StoredEvaluation[] } | undefined> {
    const r = await this.db.selectFrom('archived_images').select(['sbom_gz', 'manifest', 'evaluations_gz'])
      .where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
    if (!r) return undefined;
    const evaluations = r.evaluations_gz ? decodeDocument<StoredEvaluation[]>(Buffer.from(r.evaluations_gz)) : [];
    return { sbom: decodeDocument<Sbom>(Buffer.from(r.sbom_gz)), manifest: r.manifest, evaluations };
  }

  async deleteArchived(account: string, imageDigest: string): Promise<boolean> {
    const r = await this.db.deleteFrom('archived_images').where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Archive an analyzed live image: copy its analysis, then delete it from the working set (one transaction). */
  async archiveImage(account: string, imageDigest: string): Promise<ArchiveOutcome> {
    const t = this.now().toISOString();
    return this.catalog.transaction(async (catalog, trx) => {
      const img = await catalog.getImage(account, imageDigest);
      if (!img) {
        const done = await trx.selectFrom('archived_images').select('image_digest').where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
        return done ? { digest: imageDigest, status: 'archived' } : { digest: imageDigest, status: 'error', detail: `no image ${imageDigest}` };
      }
      const analysis = await catalog.getStoredAnalysis(account, imageDigest);
      if (img.analysisStatus !== 'analyzed' || !analysis) return { digest: imageDigest, status: 'error', detail: `image ${imageDigest} is ${img.analysisStatus}; only analyzed images can be archived` };
      const gz = analysis.encoded;
      // The evaluation history goes with it (deleted with the live image below), oldest first.
      const evaluations = await evaluationsIn(trx, account, imageDigest);
      const evaluationsGz = evaluations.length ? gzipSync(Buffer.from(JSON.stringify(evaluations))) : null;
      await trx.insertInto('archived_images').values({
        account, image_digest: imageDigest, parent_digest: img.parentDigest ?? null, image_id: img.imageId ?? null,
        annotations: JSON.stringify(img.annotations), metadata: img.metadata ? JSON.stringify(img.metadata) : null, tags: JSON.stringify(img.tags),
        sbom_gz: gz, manifest: analysis.manifest, size_bytes: gz.length + Buffer.byteLength(analysis.manifest ?? ''), status: 'archived',
        image_created_at: img.createdAt, analyzed_at: img.analyzedAt ?? null, archived_at: t, last_updated: t, evaluations_gz: evaluationsGz,
      }).onConflict((oc) => oc.columns(['account', 'image_digest']).doUpdateSet({
        tags: JSON.stringify(img.tags), sbom_gz: gz, manifest: analysis.manifest, analyzed_at: img.analyzedAt ?? null, archived_at: t, last_updated: t,
        evaluations_gz: evaluationsGz,
      })).execute();
      await catalog.deleteImage(account, imageDigest);
      return { digest: imageDigest, status: 'archived' };
    });
  }

  /** Counts for GET /archives. */
  async summary(account: string): Promise<{ images: number; tags: number; bytes: number; imagesUpdated?: string; rules: number; rulesUpdated?: string }> {
    const archived = await this.listArchived(account);
    const rules = await this.listRules(account);
    const latest = (xs: string[]) => xs.sort().at(-1);
    const imagesUpdated = latest(archived.map((a) => a.lastUpdated));
    const rulesUpdated = latest(rules.map((r) => r.lastUpdated));
    return {
      images: archived.length,
      tags: archived.reduce((n, a) => n + a.tags.length, 0),
      bytes: archived.reduce((n, a) => n + a.sizeBytes, 0),
      ...(imagesUpdated ? { imagesUpdated } : {}),
      rules: rules.length,
      ...(rulesUpdated ? { rulesUpdated } : {}),
    };
  }

  /** Apply every rule to every account once; counts of what moved. */
  async applyRules(): Promise<{ archived: number; deleted: number; failed: number }> {
    const rules = (await this.db.selectFrom('archive_rules').selectAll().orderBy('created_at').orderBy('rule_id').execute()).map(toRule);
    const counts = { archived: 0, deleted: 0, failed: 0 };
    if (!rules.length) return counts;
    const accounts = new Set([
      ...(await this.catalog.accounts()),
      ...(await this.db.selectFrom('archived_images').select('account').distinct().execute()).map((r) => r.account),
    ]);
    const nowMs = this.now().getTime();
    for (const account of [...accounts].sort()) {
      const mine = rules.filter((r) => r.systemGlobal || r.account === account);
      const archiveRules = mine.filter((r) => r.transition === 'archive');
      if (archiveRules.length) {
        const live = (await this.catalog.listImages(account, { analysisStatus: 'analyzed' }))
          .map((i) => ({ digest: i.imageDigest, tags: i.tags, at: i.analyzedAt ?? i.lastUpdated }));
        const overCount = beyondMaxImages(live, archiveRules);
        const selected = fullyMatched(live, archiveRules.filter((r) => !isCountRule(r)), nowMs);
        for (const digest of [...new Set([...overCount, ...selected])]) {
          const r = await this.archiveImage(account, digest);
          if (r.status === 'archived') counts.archived++;
          else counts.failed++;
        }
      }
      const deleteRules = mine.filter((r) => r.transition === 'delete');
      if (deleteRules.length) {
        const archived = (await this.listArchived(account)).map((a) => ({ digest: a.imageDigest, tags: a.tags, at: a.archivedAt }));
        for (const digest of fullyMatched(archived, deleteRules, nowMs)) {
          if (await this.deleteArchived(account, digest)) counts.deleted++;
        }
      }
    }
    return counts;
  }
}

interface Entry { digest: string; tags: ImageTag[]; at: string }

/** A system_global rule with max_images_per_account: it selects by count alone (Anchore ignores its selector and ages). */
function isCountRule(r: ArchiveRule): boolean {
  return r.systemGlobal && r.maxImagesPerAccount !== undefined && r.maxImagesPerAccount > 0;
}

/**
 * The account's oldest analyzed images (by analysis time) beyond the smallest max_images_per_account
 * of its count rules, whatever their tags: what Anchore's archiver moves to keep the account under the limit.
 */
function beyondMaxImages(entries: Entry[], rules: ArchiveRule[]): string[] {
  const limits = rules.filter(isCountRule).map((r) => r.maxImagesPerAccount!);
  if (!limits.length) return [];
  const excess = entries.length - Math.min(...limits);
  if (excess <= 0) return [];
  return [...entries].sort((a, b) => a.at.localeCompare(b.at) || a.digest.localeCompare(b.digest)).slice(0, excess).map((e) => e.digest);
}

/** Digests every one of whose tags is a candidate of some rule (an untagged image is never moved). */
function fullyMatched(entries: Entry[], rules: ArchiveRule[], nowMs: number): string[] {
  const histories = new Map<string, { entry: Entry; seen: string }[]>();
  for (const e of entries) {
    for (const t of e.tags) {
      const list = histories.get(t.fulltag) ?? [];
      list.push({ entry: e, seen: t.lastUpdated });
      histories.set(t.fulltag, list);
    }
  }
  const matched = new Set<string>();
  for (const [fulltag, list] of histories) {
    list.sort((a, b) => b.seen.localeCompare(a.seen) || b.entry.at.localeCompare(a.entry.at) || a.entry.digest.localeCompare(b.entry.digest));
    const tag = list[0]!.entry.tags.find((t) => t.fulltag === fulltag)!;
    for (const rule of rules) {
      if (!selects(rule.selector, tag)) continue;
      list.forEach(({ entry }, depth) => {
        const ageMs = nowMs - Date.parse(entry.at);
        if (depth < rule.tagVersionsNewer) return;
        if (rule.analysisAgeDays >= 0 && !(ageMs > rule.analysisAgeDays * DAY_MS)) return;
        const ex = rule.exclude;
        if (ex && selects(ex.selector, tag) && (ex.expirationDays < 0 || ageMs <= ex.expirationDays * DAY_MS)) return;
        matched.add(`${entry.digest} ${fulltag}`);
      });
    }
  }
  return entries.filter((e) => e.tags.length > 0 && e.tags.every((t) => matched.has(`${e.digest} ${t.fulltag}`))).map((e) => e.digest);
}
