/**
 * What one apply of a feed changed, as (namespace, name) keys in the `vuln_changes` log
 * (store/migrations/0012-vuln-changes.ts), so stored images are re-matched by what changed rather
 * than all of them:
 * - affected rows: every (namespace, name) of the source keeps an order-independent digest of its
 *   rows (the sum of per-row hashes) in `affected_digests`. A full apply computes the new digests
 *   from the rows it brings and compares them with the stored ones (a scoped one, which replaces
 *   only some namespaces of the source, compares only those); an incremental apply recomputes only
 *   the keys it touched (rows added, and rows of the vulnerability ids it replaced).
 * - vulnerability records: an id whose record is new, gone, or has another `modified` stamp
 *   changes every key an affected row of that id (or of a record aliasing it) lives under.
 * - the KEV catalogue: a CVE added to it or dropped from it changes the keys of every record that
 *   is (or aliases) that CVE, as a changed record does: the findings' KEV flag and the images' KEV
 *   counts follow. A KEV entry whose details changed (a due date) changes nothing stored.
 * Past MAX_KEYS_LISTED changed ids, the log gets one `*` row: everything changed.
 * EPSS updates change no key: no stored finding, count, diff or verdict depends on a score (the
 * reports read it live), and a daily score update touches nearly every CVE.
 */
import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import { chunks } from '../util/arrays.js';

/** Above this many changed vulnerability ids, the change is logged as "everything". */
export const MAX_IDS_LISTED = 20_000;
export const EVERYTHING = '*';
const MOD = 1n << 64n;
const IN_CHUNK = 500;

const keyOf = (namespace: string, name: string) => `${namespace}\0${name}`;

function rowHash(vulnId: string, nameKind: string, scheme: string, data: string): bigint {
  const h = createHash('sha1').update(vulnId).update('\0').update(nameKind).update('\0').update(scheme).update('\0').update(data).digest();
  return h.readBigUInt64BE(0);
}

const hex = (n: bigint) => n.toString(16).padStart(16, '0');

/**
 * `full`: the apply replaces everything the source had; `scoped`: it replaces every row of the
 * namespaces in the scope and upserts vulnerability records; `incremental`: it upserts.
 */
export type TrackerMode = 'full' | 'scoped' | 'incremental';

export class ChangeTracker {
  /** Full or scoped apply: the new digest of every key, from the rows brought. */
  private readonly sums = new Map<string, bigint>();
  /** Incremental apply: keys whose rows may have changed. */
  private readonly touched = new Set<string>();
  private readonly changedIds = new Set<string>();
  /** Full apply: (id → modified) of the source's records before it. */
  private oldMods = new Map<string, string | null>();
  private readonly newMods = new Map<string, string | null>();
  /** The KEV catalogue's CVEs before this apply, when it may change them. */
  private kevBefore: Set<string> | undefined;

  private readonly full: boolean;
  private readonly sumsKept: boolean;
  private readonly scope: Set<string>;

  constructor(private readonly source: string, mode: TrackerMode | boolean, scope: Iterable<string> = []) {
    const m: TrackerMode = mode === true ? 'full' : mode === false ? 'incremental' : mode;
    this.full = m === 'full';
    this.sumsKept = m !== 'incremental';
    this.scope = new Set(scope);
  }

  /** Scoped apply: these records of the source were deleted (no affected row was left to them). */
  removed(ids: Iterable<string>): void {
    for (const id of ids) this.changedIds.add(id);
  }

  /** Before a full apply deletes the source: remember its records' stamps. */
  async beforeFull(trx: Transaction<any>): Promise<void> {
    const rows = await trx.selectFrom('vulnerabilities').select(['id', 'modified']).where('source', '=', this.source).execute();
    this.oldMods = new Map(rows.map((r) => [String(r.id), r.modified === null ? null : String(r.modified)]));
  }

  /** Before an apply that writes KEV rows or replaces its source: remember which CVEs are in the catalogue. */
  async beforeKev(trx: Transaction<any>): Promise<void> {
    this.kevBefore ??= await kevCves(trx);
  }

  /** An affected row written by this apply. */
  addAffected(vulnId: string, namespace: string, name: string, nameKind: string, scheme: string, data: string): void {
    const key = keyOf(namespace, name);
    if (this.sumsKept) this.sums.set(key, ((this.sums.get(key) ?? 0n) + rowHash(vulnId, nameKind, scheme, data)) % MOD);
    else this.touched.add(key);
  }

  /** Incremental: the affected rows of these ids (in `namespace` only, when given) are about to be replaced; their keys are touched. */
  async beforeClear(trx: Transaction<any>, ids: string[], namespace?: string): Promise<void> {
    if (this.sumsKept || !ids.length) return;
    let query = trx.selectFrom('affected').select(['namespace', 'name']).distinct()
      .where('source', '=', this.source).where('vuln_id', 'in', ids);
    if (namespace !== undefined) query = query.where('namespace', '=', namespace);
    const rows = await query.execute();
    for (const r of rows) this.touched.add(keyOf(String(r.namespace), String(r.name)));
  }

  /** Vulnerability records about to be written (id → modified). */
  async beforeVulns(trx: Transaction<any>, records: Map<string, string | null>): Promise<void> {
    for (const [id, modified] of records) this.newMods.set(id, modified);
    if (this.full) return;
    const ids = [...records.keys()];
    const old = new Map<string, string | null>();
    for (const part of chunks(ids, IN_CHUNK)) {
      const rows = await trx.selectFrom('vulnerabilities').select(['id', 'modified']).where('source', '=', this.source).where('id', 'in', part).execute();
      for (const r of rows) old.set(String(r.id), r.modified === null ? null : String(r.modified));
    }
    for (const [id, modified] of records) {
      if (!old.has(id) || old.get(id) !== modified || modified === null) this.changedIds.add(id);
    }
  }

  /**
   * After the rows are written, inside the same transaction: update the stored digests and append
   * the changed keys to the log. Returns how many keys were logged (-1 for everything).
   */
  async finish(trx: Transaction<any>, at: Date): Promise<number> {
    const changed = new Set<string>();
    if (this.sumsKept) {
      if (this.full) {
        for (const [id, m] of this.newMods) if (!this.oldMods.has(id) || this.oldMods.get(id) !== m) this.changedIds.add(id);
        for (const id of this.oldMods.keys()) if (!this.newMods.has(id)) this.changedIds.add(id);
      }
      const scoped = (q: any) => (this.full ? q : q.where('namespace', 'in', [...this.scope]));
      const old = this.full || this.scope.size
        ? await scoped(trx.selectFrom('affected_digests').select(['namespace', 'name', 'digest']).where('source', '=', this.source)).execute() as Record<string, unknown>[]
        : [];
      const oldMap = new Map(old.map((r) => [keyOf(String(r.namespace), String(r.name)), String(r.digest)]));
      for (const [k, sum] of this.sums) if (oldMap.get(k) !== hex(sum)) changed.add(k);
      for (const k of oldMap.keys()) if (!this.sums.has(k)) changed.add(k);
      if (this.full || this.scope.size) await scoped(trx.deleteFrom('affected_digests').where('source', '=', this.source)).execute();
      await insertChunked(trx, 'affected_digests', [...this.sums].map(([k, sum]) => {
        const [namespace, name] = k.split('\0') as [string, string];
        return { source: this.source, namespace, name, digest: hex(sum) };
      }));
    } else {
      for (const k of this.touched) {
        const [namespace, name] = k.split('\0') as [string, string];
        const rows = await trx.selectFrom('affected').select(['vuln_id', 'name_kind', 'scheme', 'data'])
          .where('source', '=', this.source).where('namespace', '=', namespace).where('name', '=', name).execute();
        const old = await trx.selectFrom('affected_digests').select('digest')
          .where('source', '=', this.source).where('namespace', '=', namespace).where('name', '=', name).executeTakeFirst();
        if (!rows.length) {
          if (old) {
            changed.add(k);
            await trx.deleteFrom('affected_digests').where('source', '=', this.source).where('namespace', '=', namespace).where('name', '=', name).execute();
          }
          continue;
        }
        let sum = 0n;
        for (const r of rows) sum = (sum + rowHash(String(r.vuln_id), String(r.name_kind), String(r.scheme), String(r.data))) % MOD;
        const digest = hex(sum);
        if (old?.digest === digest) continue;
        changed.add(k);
        await trx.insertInto('affected_digests').values({ source: this.source, namespace, name, digest })
          .onConflict((oc) => oc.columns(['source', 'namespace', 'name']).doUpdateSet({ digest })).execute();
      }
    }
    if (this.kevBefore) {
      const after = await kevCves(trx);
      for (const cve of after) if (!this.kevBefore.has(cve)) this.changedIds.add(cve);
      for (const cve of this.kevBefore) if (!after.has(cve)) this.changedIds.add(cve);
    }
    const when = at.toISOString();
    if (this.changedIds.size > MAX_IDS_LISTED) {
      await trx.insertInto('vuln_changes').values({ source: this.source, namespace: EVERYTHING, name: EVERYTHING, created_at: when }).execute();
      return -1;
    }
    await keysOfIds(trx, [...this.changedIds], changed);
    await insertChunked(trx, 'vuln_changes', [...changed].map((k) => {
      const [namespace, name] = k.split('\0') as [string, string];
      return { source: this.source, namespace, name, created_at: when };
    }));
    return changed.size;
  }
}

async function kevCves(trx: Transaction<any>): Promise<Set<string>> {
  return new Set((await trx.selectFrom('kev').select('cve').execute()).map((r) => String(r.cve)));
}

/** Every key an affected row of these ids (or of records aliasing them) lives under, in any source. */
async function keysOfIds(trx: Transaction<any>, ids: string[], into: Set<string>): Promise<void> {
  for (const part of chunks(ids, IN_CHUNK)) {
    const direct = await trx.selectFrom('affected').select(['namespace', 'name']).distinct().where('vuln_id', 'in', part).execute();
    const viaAlias = await trx.selectFrom('aliases').innerJoin('affected', 'affected.vuln_id', 'aliases.vuln_id')
      .select(['affected.namespace', 'affected.name']).distinct().where('aliases.alias', 'in', part).execute();
    for (const r of [...direct, ...viaAlias]) into.add(keyOf(String(r.namespace), String(r.name)));
  }
}

async function insertChunked(trx: Transaction<any>, table: string, rows: Record<string, unknown>[]): Promise<void> {
  for (const part of chunks(rows, 500)) if (part.length) await trx.insertInto(table).values(part).execute();
}

/** After a whole-database restore: digests are unknown and everything may have changed. */
export async function restoredEverything(trx: Transaction<any>, at: Date): Promise<void> {
  await trx.deleteFrom('affected_digests').execute();
  await trx.insertInto('vuln_changes').values({ source: EVERYTHING, namespace: EVERYTHING, name: EVERYTHING, created_at: at.toISOString() }).execute();
}
