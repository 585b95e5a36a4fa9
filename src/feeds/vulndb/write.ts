/**
 * Writing a sync or an import: `apply` drains the driver's batches into a spool (validating each
 * record; a bad one is a warning and is skipped), then writes the spool in one short transaction.
 */
import { tmpdir } from 'node:os';
import type { Transaction } from 'kysely';
import { LadingError } from '../../errors.js';
import { ChangeTracker } from '../changes.js';
import type { Affected, EpssEntry, FeedBatch, KevEntry, Vulnerability } from '../model.js';
import { checkAffected, checkEpss, checkKev, checkVulnerability, isObj, nonEmpty } from './checks.js';
import { Spool, type SpoolRow } from './spool.js';
import { chunks, IN_CHUNK, insertRows, lockForWrite, ROWS_PER_CHUNK } from './sql.js';
import { writeState } from './state.js';
import { DATA_TABLES, VULNDB_TABLES, type ApplyCounts, type ApplyOptions, type ApplyResult, type StateUpdate, type VulnDbContext, type VulnDbTables } from './types.js';

/** The database, the INSERT texts built so far (one per statement shape), and how a successful apply records its sync state. */
export interface Writer {
  ctx: VulnDbContext;
  insertSql: Map<string, string>;
  writeState: typeof writeState;
}

/**
 * How an apply writes: `replace` deletes everything the source had first; `merge` (a full import
 * scoped by namespace) deletes every row of the namespaces it brings and keeps the others;
 * `update` upserts, replacing the affected rows of each vulnerability id it brings (of each
 * (id, namespace) pair, when scoped by namespace).
 */
type Plan = { mode: 'replace' } | { mode: 'merge'; namespaces: string[] } | { mode: 'update'; pairs: boolean };

/**
 * Apply one sync or import of `source` atomically. `full`: everything the source had
 * (vulnerabilities, aliases, affected, kev, epss) is replaced, or with `scope: 'namespace'` only
 * the namespaces the feed brings (the others are kept). Otherwise each vulnerability is upserted
 * by (source, id), and the affected rows of every vulnerability id seen in this apply (as a record
 * or in an affected record; with `scope: 'namespace'`, of that id in the namespaces it brings)
 * are replaced by the ones it brings. Bad records are skipped with a warning. A full apply that
 * brings nothing valid is refused, keeping the data.
 */
export async function apply(w: Writer, source: string, feed: { full: boolean; batches: AsyncIterable<FeedBatch> | Iterable<FeedBatch> }, state: StateUpdate,
  options: ApplyOptions = {}): Promise<ApplyResult> {
  if (!nonEmpty(source)) throw new LadingError('BAD_INPUT', 'apply: the source must be a non-empty string');
  if (typeof feed?.full !== 'boolean') throw new LadingError('BAD_INPUT', `${source}: the driver did not say whether its data is full or incremental`);
  const at = state.at ?? new Date();
  const t0 = Date.now();
  const spool = new Spool(options.spoolMemoryBytes ?? 64 << 20, options.tmpDir ?? tmpdir());
  try {
    const { counts, skipped, namespaces } = await spoolBatches(spool, source, feed.batches, options);
    await spool.finish();
    const records = counts.vulnerabilities + counts.affected + counts.kev + counts.epss;
    let full = feed.full;
    if (full && records === 0 && skipped === 0 && options.unchanged?.()) full = false;
    if (full && records === 0) {
      throw new LadingError('BAD_INPUT', skipped
        ? `${source}: all ${skipped} records were invalid; the previous data is kept`
        : `${source}: a full update brought no records; the previous data is kept`);
    }
    const t1 = Date.now();
    options.signal?.throwIfAborted();
    let changedKeys = 0;
    let plan = { mode: 'update', pairs: false } as Plan;
    let kept: string[] = [];
    await w.ctx.db.transaction().execute(async (trx) => {
      await lockForWrite(trx, w.ctx.dialect, at);
      ({ plan, kept } = await choosePlan(trx, source, full, options.scope === 'namespace', namespaces));
      const tracker = new ChangeTracker(source, plan.mode === 'replace' ? 'full' : plan.mode === 'merge' ? 'scoped' : 'incremental',
        plan.mode === 'merge' ? plan.namespaces : []);
      if (plan.mode === 'replace' || counts.kev > 0) await tracker.beforeKev(trx);
      let previousIds: string[] = [];
      if (plan.mode === 'replace') {
        await tracker.beforeFull(trx);
        await deleteSource(trx, source);
      } else if (plan.mode === 'merge') previousIds = await deleteNamespaces(trx, source, plan.namespaces);
      const written = new Set<string>();
      const seen = { cleared: new Set<string>(), written };
      let chunk: SpoolRow[] = [];
      for await (const row of spool.rows()) {
        chunk.push(row);
        if (chunk.length >= ROWS_PER_CHUNK) {
          await writeChunk(w, trx, source, plan, chunk, seen, tracker);
          chunk = [];
        }
      }
      if (chunk.length) await writeChunk(w, trx, source, plan, chunk, seen, tracker);
      if (plan.mode === 'merge') tracker.removed(await deleteOrphans(trx, source, previousIds, written));
      changedKeys = await tracker.finish(trx, at);
      await w.writeState(trx, source, state, at, records, skipped);
    });
    const mode = plan.mode === 'replace' ? 'replaced' : plan.mode === 'merge' ? 'merged' : 'updated';
    return { ...counts, full: plan.mode === 'replace', mode, namespaces: Object.fromEntries(namespaces), kept, records, skipped, changedKeys,
      readMs: t1 - t0, writeMs: Date.now() - t1 };
  } finally {
    await spool.dispose();
  }
}

/** The namespaces the source has stored now. */
async function storedNamespaces(trx: Transaction<VulnDbTables>, source: string): Promise<string[]> {
  const rows = await trx.selectFrom('affected').select('namespace').distinct().where('source', '=', source).execute();
  return rows.map((r) => String(r.namespace)).sort();
}

/**
 * The plan of an apply, and the stored namespaces it keeps untouched. Scoped by namespace, a full
 * feed that brings every namespace stored (any, when none is) is a plain replace; one that brings
 * no namespace while some are stored (records only) is an update.
 */
async function choosePlan(trx: Transaction<VulnDbTables>, source: string, full: boolean, byNamespace: boolean,
  brought: Map<string, number>): Promise<{ plan: Plan; kept: string[] }> {
  if (!byNamespace) return { plan: full ? { mode: 'replace' } : { mode: 'update', pairs: false }, kept: [] };
  const kept = (await storedNamespaces(trx, source)).filter((ns) => !brought.has(ns));
  if (!full) return { plan: { mode: 'update', pairs: true }, kept };
  if (kept.length === 0) return { plan: { mode: 'replace' }, kept };
  if (brought.size === 0) return { plan: { mode: 'update', pairs: true }, kept };
  return { plan: { mode: 'merge', namespaces: [...brought.keys()].sort() }, kept };
}

/** Delete the source's affected rows in these namespaces; returns the vulnerability ids they named. */
async function deleteNamespaces(trx: Transaction<VulnDbTables>, source: string, namespaces: string[]): Promise<string[]> {
  const ids = await trx.selectFrom('affected').select('vuln_id').distinct()
    .where('source', '=', source).where('namespace', 'in', namespaces).execute();
  await trx.deleteFrom('affected').where('source', '=', source).where('namespace', 'in', namespaces).execute();
  return ids.map((r) => String(r.vuln_id));
}

/** After a merge: the records of `ids` not written again and left with no affected row are deleted; returns them. */
async function deleteOrphans(trx: Transaction<VulnDbTables>, source: string, ids: string[], written: Set<string>): Promise<string[]> {
  const candidates = ids.filter((id) => !written.has(id));
  const gone: string[] = [];
  for (const part of chunks(candidates, IN_CHUNK)) {
    const still = await trx.selectFrom('affected').select('vuln_id').distinct().where('source', '=', source).where('vuln_id', 'in', part).execute();
    const keep = new Set(still.map((r) => String(r.vuln_id)));
    const drop = part.filter((id) => !keep.has(id));
    if (!drop.length) continue;
    await trx.deleteFrom('aliases').where('source', '=', source).where('vuln_id', 'in', drop).execute();
    await trx.deleteFrom('vulnerabilities').where('source', '=', source).where('id', 'in', drop).execute();
    gone.push(...drop);
  }
  return gone;
}

/** Check every record of the driver's batches and spool the valid ones; bad records are counted and warned about. */
async function spoolBatches(spool: Spool, source: string, batches: AsyncIterable<FeedBatch> | Iterable<FeedBatch>,
  options: ApplyOptions): Promise<{ counts: ApplyCounts; skipped: number; namespaces: Map<string, number> }> {
  const counts: ApplyCounts = { vulnerabilities: 0, affected: 0, kev: 0, epss: 0 };
  const namespaces = new Map<string, number>();
  let skipped = 0;
  const bad = (message: string) => {
    skipped++;
    options.warn?.(`${source}: skipped ${message}`);
  };
  for await (const batch of batches) {
    options.signal?.throwIfAborted();
    if (!isObj(batch)) {
      bad('a batch that is not an object');
      continue;
    }
    const lists = { vulnerabilities: batch.vulnerabilities, affected: batch.affected, kev: batch.kev, epss: batch.epss };
    for (const [k, list] of Object.entries(lists)) {
      if (list !== undefined && !Array.isArray(list)) bad(`a batch whose ${k} is not an array`);
    }
    for (const v of (Array.isArray(lists.vulnerabilities) ? lists.vulnerabilities : []) as Vulnerability[]) {
      const problem = checkVulnerability(v, source);
      if (problem) { bad(problem); continue; }
      await spool.add(['v', v.id, v.modified ?? null, [...new Set(v.aliases.filter((a) => a && a !== v.id))], JSON.stringify(v)]);
      counts.vulnerabilities++;
    }
    for (const a of (Array.isArray(lists.affected) ? lists.affected : []) as Affected[]) {
      const problem = checkAffected(a, source);
      if (problem) { bad(problem); continue; }
      const { vulnId, source: _s, namespace, name, nameKind, scheme, ...rest } = a;
      await spool.add(['a', vulnId, namespace, name, nameKind, scheme, JSON.stringify(rest)]);
      counts.affected++;
      namespaces.set(namespace, (namespaces.get(namespace) ?? 0) + 1);
    }
    for (const k of (Array.isArray(lists.kev) ? lists.kev : []) as KevEntry[]) {
      const problem = checkKev(k);
      if (problem) { bad(problem); continue; }
      await spool.add(['k', k.cve, JSON.stringify(k)]);
      counts.kev++;
    }
    for (const e of (Array.isArray(lists.epss) ? lists.epss : []) as EpssEntry[]) {
      const problem = checkEpss(e);
      if (problem) { bad(problem); continue; }
      await spool.add(['e', e.cve, e.score, e.percentile, e.date]);
      counts.epss++;
    }
  }
  return { counts, skipped, namespaces };
}

async function deleteSource(trx: Transaction<VulnDbTables>, source: string): Promise<void> {
  for (const t of DATA_TABLES) await trx.deleteFrom(t).where('source', '=', source).execute();
}

/** Which vulnerability ids (or id and namespace pairs) had their affected rows cleared, and which records were written, so far in this apply. */
interface Seen { cleared: Set<string>; written: Set<string> }

async function writeChunk(w: Writer, trx: Transaction<VulnDbTables>, source: string, plan: Plan, chunk: SpoolRow[],
  seen: Seen, tracker: ChangeTracker): Promise<void> {
  const vulns = new Map<string, unknown[]>();
  const aliasRows = new Map<string, unknown[]>();
  const aliasReset: string[] = [];
  const affected: unknown[][] = [];
  const kev = new Map<string, unknown[]>();
  const epss = new Map<string, unknown[]>();
  const clear: string[] = [];
  /** Scoped by namespace: namespace → ids whose rows there are replaced. */
  const clearIn = new Map<string, string[]>();
  const byId = plan.mode === 'update' && !plan.pairs;
  const byPair = plan.mode === 'update' && plan.pairs;
  const firstSight = (id: string, namespace?: string) => {
    const key = namespace === undefined ? id : `${id}\0${namespace}`;
    if (seen.cleared.has(key)) return;
    seen.cleared.add(key);
    if (namespace === undefined) clear.push(id);
    else clearIn.set(namespace, [...(clearIn.get(namespace) ?? []), id]);
  };
  for (const row of chunk) {
    switch (row[0]) {
      case 'v': {
        const [, id, modified, aliases, data] = row;
        if (byId) firstSight(id);
        if (plan.mode !== 'replace' || seen.written.has(id)) aliasReset.push(id);
        seen.written.add(id);
        const previous = vulns.get(id);
        if (previous) for (const a of JSON.parse(String(previous[2])) as string[]) aliasRows.delete(`${id}\0${a}`);
        vulns.set(id, [source, id, JSON.stringify(aliases), modified, data]);
        for (const a of aliases) aliasRows.set(`${id}\0${a}`, [source, id, a]);
        break;
      }
      case 'a': {
        const [, vulnId, namespace, name, nameKind, scheme, data] = row;
        if (byId) firstSight(vulnId);
        else if (byPair) firstSight(vulnId, namespace);
        affected.push([source, vulnId, namespace, name, nameKind, scheme, data]);
        tracker.addAffected(vulnId, namespace, name, nameKind, scheme, data);
        break;
      }
      case 'k':
        kev.set(row[1], [row[1], source, row[2]]);
        break;
      case 'e':
        epss.set(row[1], [row[1], source, row[2], row[3], row[4]]);
        break;
    }
  }
  for (const [namespace, ids] of clearIn) {
    await tracker.beforeClear(trx, ids, namespace);
    for (const part of chunks(ids, IN_CHUNK)) {
      await trx.deleteFrom('affected').where('source', '=', source).where('namespace', '=', namespace).where('vuln_id', 'in', part).execute();
    }
  }
  await tracker.beforeClear(trx, clear);
  if (vulns.size) await tracker.beforeVulns(trx, new Map([...vulns].map(([id, row]) => [id, (row[3] as string | null) ?? null])));
  for (const part of chunks(clear, IN_CHUNK)) {
    await trx.deleteFrom('affected').where('source', '=', source).where('vuln_id', 'in', part).execute();
  }
  for (const part of chunks([...new Set(aliasReset)], IN_CHUNK)) {
    await trx.deleteFrom('aliases').where('source', '=', source).where('vuln_id', 'in', part).execute();
  }
  await insertRows(trx, w.ctx.dialect, w.insertSql, 'vulnerabilities', VULNDB_TABLES.vulnerabilities!, [...vulns.values()],
    'on conflict ("source", "id") do update set "aliases" = excluded."aliases", "modified" = excluded."modified", "data" = excluded."data"');
  await insertRows(trx, w.ctx.dialect, w.insertSql, 'aliases', VULNDB_TABLES.aliases!, [...aliasRows.values()], 'on conflict do nothing');
  await insertRows(trx, w.ctx.dialect, w.insertSql, 'affected', VULNDB_TABLES.affected!, affected, '');
  await insertRows(trx, w.ctx.dialect, w.insertSql, 'kev', VULNDB_TABLES.kev!, [...kev.values()],
    'on conflict ("cve") do update set "source" = excluded."source", "data" = excluded."data"');
  await insertRows(trx, w.ctx.dialect, w.insertSql, 'epss', VULNDB_TABLES.epss!, [...epss.values()],
    'on conflict ("cve") do update set "source" = excluded."source", "score" = excluded."score", "percentile" = excluded."percentile", "date" = excluded."date"');
}
