/**
 * Set-based re-matching (tables from migrations/0016-findings.ts; tuples from finding-tuples.ts).
 *
 * An image's findings are its packages' tuples' findings, so:
 * - storing an image is `prepareImage` (outside any transaction: the tuples not known yet are
 *   matched) then `storeImage(trx, …)` inside the transaction that stores the analysis: the
 *   image's package rows, and its counts by one aggregate;
 * - after a vulnerability-data change, `rematch` reads the changed (namespace, name) keys from the
 *   vuln_changes log since its cursor, matches only the distinct tuples under them (a few thousand
 *   even at 100,000 images), and in ONE transaction per batch replaces their findings, applies
 *   the per-tuple count deltas to every image holding them with one aggregated UPDATE (and to
 *   image_summaries when asked, with the changed images' finding pairs rebuilt by one
 *   INSERT … SELECT), hands the per-image diffs to `onDiffs` (in the transaction) and
 *   advances the cursor. A killed process leaves the previous batch's state: counts and cursor
 *   move together.
 * Counts are vuln/all's default: every finding but vendor_only (wont-fix).
 */
import { SqliteIntrospector, type Kysely, type Transaction } from 'kysely';
import type { Sbom } from '../sbom/model.js';
import { NOT_NEW, type ChangeContext } from './lifecycle.js';
import type { Database } from './schema.js';
import type { VulnLookup } from '../vulns/lookup.js';
import { matchTuples, tupleKeys, tupleOf, tupleText, type TupleFinding, type TuplePackage } from './finding-tuples.js';
import { insertRows, type BulkColumn } from './bulk.js';
import { EVERYTHING } from '../feeds/changes.js';
import { changedKeysAfter, changesAfter, lockCursor, logChanges, moveCursor, newestChangeId, readCursor } from '../feeds/change-log.js';
import { applyDeltas, COUNTS, countMismatches, findingSummary, imageDiffs, recountImage, refreshSummaryFindings, refreshSummaryStats, type CountMismatch, type Counts, type FindingSummary, type ImageFindingDiff } from './finding-sql.js';

export type { CountMismatch, Counts, ImageFindingDiff, FindingSummary } from './finding-sql.js';

/** What `prepareImage` found: the image's package tuples, and findings of those that were new. */
export interface PreparedImage {
  packages: { text: string; path: string }[];
  tuples: Map<string, TuplePackage>;
  matched: Map<string, TupleFinding[]>;
  /** The newest vuln_changes id when the new tuples were matched. */
  seenChange: number;
}

export interface RematchOptions {
  /** Change rows per batch (one transaction each). */
  batchChanges?: number;
  /** Also apply the count deltas to image_summaries (the list and dashboard) and rebuild the changed images' finding pairs (image_summary_findings). */
  summaries?: boolean;
  /**
   * Called in each batch's transaction while finding_tuple_diff holds its changed variants' diff
   * rows, with the batch's key (the newest change id it consumed): what store/finding-changes.ts
   * recordChangeSet keeps, set-based.
   */
  onChangeSet?: (trx: Transaction<Database>, batch: number) => Promise<void>;
  /** Called in each batch's transaction with its per-image diffs (in pages). */
  onDiffs?: (trx: Transaction<Database>, diffs: ImageFindingDiff[]) => Promise<void>;
  /** For the crash test: called in each batch's transaction just before it commits. */
  beforeCommit?: () => Promise<void>;
}

export interface FindingsRematchResult {
  batches: number;
  changes: number;
  tuples: number;
  /** Tuples whose findings changed. */
  changedTuples: number;
  /** Images whose counts moved. */
  images: number;
  /** Of the time, ms spent rebuilding the summary rows' finding pairs. */
  pairsMs: number;
}

export const CURSOR_KEY = 'findings_seq';

const col = (name: string, type: BulkColumn['type'] = 'text'): BulkColumn => ({ name, type });
const PACKAGE_COLUMNS = [col('image_id', 'integer'), col('tuple_id', 'integer'), col('path')];
const TUPLE_COLUMNS = [col('tuple'), col('name'), col('version'), col('type'), col('package')];
const KEY_COLUMNS = [col('namespace'), col('name'), col('tuple_id', 'integer')];
const FINDING_COLUMNS = [col('tuple_id', 'integer'), col('vuln_id'), col('feed_group'), col('severity'), col('fix'), col('url'),
  col('fixable', 'integer'), col('vendor_only', 'integer'), col('kev', 'integer'), col('aliases')];
const CHUNK = 500;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** What a tuple's findings give the summary pairs: the ids and aliases of those not vendor_only (compared as written; the SQL upper-cases). */
function pairKeys(findings: readonly TupleFinding[]): string {
  const keys = new Set<string>();
  for (const f of findings) {
    if (f.vendor_only) continue;
    keys.add(f.vuln_id);
    const aliases: unknown = f.aliases ? JSON.parse(f.aliases) : [];
    if (Array.isArray(aliases)) for (const a of aliases) keys.add(String(a));
  }
  return [...keys].sort().join('\0');
}

const same = (a: TupleFinding, b: TupleFinding) => a.severity === b.severity && a.fix === b.fix && a.url === b.url
  && a.fixable === b.fixable && a.vendor_only === b.vendor_only && a.kev === b.kev && a.aliases === b.aliases;

export function countsOf(findings: readonly TupleFinding[]): Counts {
  const c = Object.fromEntries(COUNTS.map((k) => [k, 0])) as Counts;
  for (const f of findings) {
    if (f.vendor_only) continue;
    c[f.severity.toLowerCase() as keyof Counts]++;
    c.total++;
    c.fixable += f.fixable;
    c.kev += f.kev;
  }
  return c;
}

/** An image's counts as the engine keeps them, read through `db` (a transaction too); undefined when it has no row for the image. */
export async function storedFindingCounts(db: Kysely<Database>, account: string, imageDigest: string): Promise<Counts | undefined> {
  return db.selectFrom('finding_images').select([...COUNTS]).where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
}

export class FindingsStore {
  private readonly postgres: boolean;

  constructor(private readonly db: Kysely<Database>, private readonly lookup: VulnLookup) {
    this.postgres = !(db.introspection instanceof SqliteIntrospector);
  }

  /** Outside any transaction: the image's tuples, with the unknown ones matched. */
  async prepareImage(sbom: Sbom): Promise<PreparedImage> {
    const seenChange = await this.newestChange(this.db);
    const tuples = new Map<string, TuplePackage>();
    const packages: PreparedImage['packages'] = [];
    for (const p of sbom.packages) {
      const t = tupleOf(p, sbom.distro);
      if (!tupleKeys(t).length) continue;
      const text = tupleText(t);
      tuples.set(text, t);
      packages.push({ text, path: p.locations[0]?.path ?? 'None' });
    }
    const known = await this.tupleIds(this.db, [...tuples.keys()]);
    const unknown = [...tuples.keys()].filter((k) => !known.has(k));
    const byIndex = new Map(unknown.map((k, i) => [i, tuples.get(k)!]));
    const found = await matchTuples(byIndex, this.lookup);
    const matched = new Map(unknown.map((k, i) => [k, found.get(i)!]));
    return { packages, tuples, matched, seenChange };
  }

  /** Inside the transaction that stores the analysis: the image's package rows (one set-based insert) and counts (one UPDATE). */
  async storeImage(trx: Kysely<Database>, account: string, imageDigest: string, prepared: PreparedImage, context: ChangeContext = NOT_NEW): Promise<void> {
    if (!context.newImage) await this.removeImage(trx, account, imageDigest);
    const image = await trx.insertInto('finding_images').values({ account, image_digest: imageDigest }).returning('id').executeTakeFirstOrThrow();
    const ids = await this.ensureTuples(trx, prepared);
    const rows = prepared.packages.map((p) => [Number(image.id), ids.get(p.text)!, p.path]);
    await insertRows(trx, 'finding_image_packages', PACKAGE_COLUMNS, rows);
    await recountImage(trx, Number(image.id));
  }

  /** Inside the image's delete transaction. */
  async removeImage(trx: Kysely<Database>, account: string, imageDigest: string): Promise<void> {
    const gone = await trx.deleteFrom('finding_images').where('account', '=', account).where('image_digest', '=', imageDigest).returning('id').execute();
    if (gone.length) await trx.deleteFrom('finding_image_packages').where('image_id', 'in', gone.map((r) => r.id)).execute();
  }

  /** An image's stored counts (undefined when not stored). */
  async counts(account: string, imageDigest: string): Promise<Counts | undefined> {
    return storedFindingCounts(this.db, account, imageDigest);
  }

  /** An image's current findings, as vuln_update lists them (by vulnerability, then package). */
  async findingsOf(account: string, imageDigest: string): Promise<FindingSummary[]> {
    const rows = await this.db.selectFrom('finding_images as i').innerJoin('finding_image_packages as p', 'p.image_id', 'i.id')
      .innerJoin('tuple_findings as f', 'f.tuple_id', 'p.tuple_id').innerJoin('finding_tuples as t', 't.id', 'p.tuple_id')
      .select(['f.vuln_id', 'f.severity', 'f.fix', 'f.url', 'f.feed_group', 't.name', 't.version', 't.type', 'p.path'])
      .where('i.account', '=', account).where('i.image_digest', '=', imageDigest).orderBy('f.vuln_id').orderBy('t.name').execute();
    return rows.map((r) => findingSummary(r));
  }

  /** Whether the vulnerability data changed since the last re-match (whichever process changed it). */
  async behind(): Promise<boolean> {
    return (await this.newestChange(this.db)) > (await this.cursor(this.db));
  }

  /** Re-match what changed since the cursor, batch by batch, until caught up. */
  async rematch(options: RematchOptions = {}): Promise<FindingsRematchResult> {
    const total: FindingsRematchResult = { batches: 0, changes: 0, tuples: 0, changedTuples: 0, images: 0, pairsMs: 0 };
    for (;;) {
      const r = await this.rematchBatch(options);
      if (r === 'done') {
        if (options.summaries && this.postgres) await refreshSummaryStats(this.db, total.images);
        return total;
      }
      if (r === 'raced') continue;
      total.batches++;
      total.changes += r.changes;
      total.tuples += r.tuples;
      total.changedTuples += r.changedTuples;
      total.images += r.images;
      total.pairsMs += r.pairsMs;
    }
  }

  private async rematchBatch(options: RematchOptions): Promise<Omit<FindingsRematchResult, 'batches'> | 'done' | 'raced'> {
    const cursor = await this.cursor(this.db);
    const changes = await changesAfter(this.db, cursor, options.batchChanges ?? 20_000);
    if (!changes.length) return 'done';
    const last = Number(changes[changes.length - 1]!.id);
    const tuples = await this.tuplesUnder(changes);
    const fresh = await matchTuples(tuples, this.lookup);
    return this.db.transaction().execute(async (trx) => {
      if ((await this.lockCursor(trx)) !== cursor) return 'raced' as const;
      const ids = [...tuples.keys()];
      if (this.postgres) for (const part of chunks(ids)) await trx.selectFrom('finding_tuples').select('id').where('id', 'in', part).forUpdate().execute();
      const { changed: changedTuples, pairTuples } = await this.replaceFindings(trx, fresh);
      const images = await applyDeltas(trx, options.summaries ?? false);
      const t0 = performance.now();
      // Chunks may share a package name: each rebuilds all of that name's pairs, so the last one leaves them whole.
      if (options.summaries) for (const part of chunks(pairTuples, 5000)) await refreshSummaryFindings(trx, this.postgres, part);
      const pairsMs = performance.now() - t0;
      if (options.onChangeSet) await options.onChangeSet(trx, last);
      if (options.onDiffs) await imageDiffs(trx, options.onDiffs);
      await trx.deleteFrom('finding_tuple_diff').execute();
      await trx.deleteFrom('finding_tuple_delta').execute();
      await moveCursor<Database>(trx, CURSOR_KEY, last);
      await options.beforeCommit?.();
      return { changes: changes.length, tuples: ids.length, changedTuples, images, pairsMs };
    });
  }

  /** Store the new findings of tuples whose findings changed, with their count deltas and diffs; how many changed, and those whose summary pairs changed. */
  private async replaceFindings(trx: Transaction<Database>, fresh: Map<number, TupleFinding[]>): Promise<{ changed: number; pairTuples: number[] }> {
    const old = new Map<number, TupleFinding[]>();
    for (const part of chunks([...fresh.keys()])) {
      const rows = await trx.selectFrom('tuple_findings').selectAll().where('tuple_id', 'in', part).execute();
      for (const { tuple_id, ...f } of rows) old.set(Number(tuple_id), [...(old.get(Number(tuple_id)) ?? []), f]);
    }
    const deltas: ({ tuple_id: number } & Counts)[] = [];
    const diffs: { tuple_id: number; change: string; vuln_id: string; feed_group: string; severity: string; fix: string; url: string }[] = [];
    const findings: (TupleFinding & { tuple_id: number })[] = [];
    const changed: number[] = [];
    const pairTuples: number[] = [];
    for (const [id, now] of fresh) {
      const before = old.get(id) ?? [];
      const key = (f: TupleFinding) => `${f.vuln_id}\0${f.feed_group}`;
      const was = new Map(before.map((f) => [key(f), f]));
      const is = new Map(now.map((f) => [key(f), f]));
      const row = (change: string, f: TupleFinding) => ({ tuple_id: id, change, vuln_id: f.vuln_id, feed_group: f.feed_group, severity: f.severity, fix: f.fix, url: f.url });
      let differs = was.size !== is.size;
      for (const [k, f] of is) {
        const o = was.get(k);
        if (!o) diffs.push(row('added', f));
        else if (o.severity !== f.severity || o.fix !== f.fix || o.url !== f.url) diffs.push(row('updated', f));
        if (!o || !same(o, f)) differs = true;
      }
      for (const [k, f] of was) if (!is.has(k)) diffs.push(row('removed', f));
      if (!differs) continue;
      changed.push(id);
      if (pairKeys(before) !== pairKeys(now)) pairTuples.push(id);
      findings.push(...now.map((f) => ({ tuple_id: id, ...f })));
      const a = countsOf(now);
      const b = countsOf(before);
      const d = Object.fromEntries(COUNTS.map((c) => [c, a[c] - b[c]])) as Counts;
      if (COUNTS.some((c) => d[c] !== 0)) deltas.push({ tuple_id: id, ...d });
    }
    for (const part of chunks(changed)) await trx.deleteFrom('tuple_findings').where('tuple_id', 'in', part).execute();
    for (const part of chunks(findings, 300)) await trx.insertInto('tuple_findings').values(part).execute();
    for (const part of chunks(deltas, 300)) await trx.insertInto('finding_tuple_delta').values(part).execute();
    for (const part of chunks(diffs, 300)) await trx.insertInto('finding_tuple_diff').values(part).execute();
    return { changed: changed.length, pairTuples };
  }

  /** The tuples under the changed keys (every tuple when the log says everything changed). */
  private async tuplesUnder(changes: { namespace: string; name: string }[]): Promise<Map<number, TuplePackage>> {
    const out = new Map<number, TuplePackage>();
    const add = (rows: { id: number; package: string }[]) => { for (const r of rows) out.set(Number(r.id), JSON.parse(r.package) as TuplePackage); };
    if (changes.some((c) => c.namespace === EVERYTHING)) {
      add(await this.db.selectFrom('finding_tuples').select(['id', 'package']).execute());
      return out;
    }
    const byNamespace = new Map<string, Set<string>>();
    for (const c of changes) byNamespace.set(c.namespace, (byNamespace.get(c.namespace) ?? new Set()).add(c.name));
    for (const [namespace, names] of byNamespace) {
      for (const part of chunks([...names])) {
        add(await this.db.selectFrom('finding_tuple_keys as k').innerJoin('finding_tuples as t', 't.id', 'k.tuple_id')
          .select(['t.id', 't.package']).where('k.namespace', '=', namespace).where('k.name', 'in', part).execute());
      }
    }
    return out;
  }

  /**
   * The ids of the prepared tuples, inserting the new ones with the findings `prepareImage`
   * matched. Tuples another transaction inserted meanwhile keep theirs; a new tuple whose keys
   * changed since it was matched gets a change row, so the next re-match matches it again.
   */
  private async ensureTuples(trx: Kysely<Database>, prepared: PreparedImage): Promise<Map<string, number>> {
    const ids = await this.tupleIds(trx, [...prepared.tuples.keys()], this.postgres);
    const missing = [...prepared.tuples.keys()].filter((text) => !ids.has(text));
    if (!missing.length) return ids;
    const rows = missing.map((text) => {
      const t = prepared.tuples.get(text)!;
      return [text, t.name, t.version, t.type, JSON.stringify(t)];
    });
    const inserted = new Map<string, number>();
    for (const r of await insertRows(trx, 'finding_tuples', TUPLE_COLUMNS, rows, { onConflictDoNothing: ['tuple'], returning: ['id', 'tuple'] })) {
      inserted.set(String(r.tuple), Number(r.id));
    }
    const raced = missing.filter((text) => !inserted.has(text));
    for (const [text, id] of await this.tupleIds(trx, raced, this.postgres)) ids.set(text, id);
    const created = missing.filter((text) => inserted.has(text)).map((text): [string, number] => [text, inserted.get(text)!]);
    for (const [text, id] of created) ids.set(text, id);
    if (!created.length) return ids;
    const keys = created.flatMap(([text, id]) => tupleKeys(prepared.tuples.get(text)!).map((k) => ({ ...k, tuple_id: id })));
    await insertRows(trx, 'finding_tuple_keys', KEY_COLUMNS, keys.map((k) => [k.namespace, k.name, k.tuple_id]));
    const findings = created.flatMap(([text, id]) => prepared.matched.get(text)!.map((f) => FINDING_COLUMNS.map((c) => (c.name === 'tuple_id' ? id : f[c.name as keyof TupleFinding]))));
    await insertRows(trx, 'tuple_findings', FINDING_COLUMNS, findings);
    const later = await changedKeysAfter(trx, prepared.seenChange);
    const changed = new Set(later.map((c) => `${c.namespace}\0${c.name}`));
    const stale = later.some((c) => c.namespace === EVERYTHING) ? keys : keys.filter((k) => changed.has(`${k.namespace}\0${k.name}`));
    await logChanges(trx, 'findings', stale.map((k) => ({ namespace: k.namespace, name: k.name })));
    return ids;
  }

  private async tupleIds(db: Kysely<Database>, texts: string[], share = false): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const part of chunks(texts)) {
      let q = db.selectFrom('finding_tuples').select(['id', 'tuple']).where('tuple', 'in', part);
      if (share) q = q.forShare();
      for (const r of await q.execute()) out.set(r.tuple, Number(r.id));
    }
    return out;
  }

  private async newestChange(db: Kysely<Database>): Promise<number> {
    return newestChangeId(db);
  }

  private async cursor(db: Kysely<Database>): Promise<number> {
    return readCursor(db, CURSOR_KEY);
  }

  /** The cursor, locked until the transaction ends (PostgreSQL; SQLite has one writer). */
  private async lockCursor(trx: Transaction<Database>): Promise<number> {
    return lockCursor<Database>(trx, CURSOR_KEY, this.postgres);
  }

  /** Which of these images have rows in the engine (keys `account\0digest`). */
  async indexedImages(images: { account: string; image_digest: string }[]): Promise<Set<string>> {
    const out = new Set<string>();
    const byAccount = new Map<string, string[]>();
    for (const i of images) byAccount.set(i.account, [...(byAccount.get(i.account) ?? []), i.image_digest]);
    for (const [account, digests] of byAccount) {
      for (const part of chunks(digests)) {
        const rows = await this.db.selectFrom('finding_images').select('image_digest').where('account', '=', account).where('image_digest', 'in', part).execute();
        for (const r of rows) out.add(`${account}\0${r.image_digest}`);
      }
    }
    return out;
  }

  /** Images (of these ids, or all) whose stored counts differ from their findings' aggregate (should be none). */
  async verify(imageIds?: number[]): Promise<CountMismatch[]> {
    return countMismatches(this.db, imageIds);
  }
}
