/**
 * The matcher's reads (VulnLookup): affected records by (namespace, name), one key or many at
 * once, vulnerability records by id or alias, KEV and EPSS by CVE. Many-key reads are a few
 * statements with long `IN` lists, written as text (see rawRows). The matcher's reads go through
 * a RecordCache (cache.ts): rows already parsed under the current data version are not read again.
 */
import type { Affected, EpssEntry, KevEntry, Vulnerability } from '../model.js';
import type { SchemeId } from '../../versions/types.js';
import { affectedKeyId, type AffectedKey } from '../../vulns/lookup.js';
import { isStr } from './checks.js';
import type { RecordCache } from './cache.js';
import { chunks, IN_CHUNK, params, rawRows } from './sql.js';
import type { VulnDbContext, VulnDbTables } from './types.js';

type AffectedRow = VulnDbTables['affected'];
type VulnerabilityRow = Pick<VulnDbTables['vulnerabilities'], 'source' | 'id' | 'data'>;

/** An Affected record from its row, in `namespace` (affectedMany's statements do not read the column: they name it). */
function affectedFromRow(r: Omit<AffectedRow, 'namespace'>, namespace: string): Affected {
  // Assigning onto the parsed object is much cheaper than spreading it into a new one.
  const a = JSON.parse(r.data) as Affected;
  a.vulnId = r.vuln_id;
  a.source = r.source;
  a.namespace = namespace;
  a.name = r.name;
  a.nameKind = r.name_kind === 'source' ? 'source' : 'binary';
  a.scheme = r.scheme as SchemeId;
  return a;
}

export async function affected(ctx: VulnDbContext, namespace: string, name: string): Promise<Affected[]> {
  const rows = await ctx.db.selectFrom('affected')
    .select(['source', 'vuln_id', 'namespace', 'name', 'name_kind', 'scheme', 'data'])
    .where('namespace', '=', namespace).where('name', '=', name)
    .execute();
  return rows.map((r) => affectedFromRow(r, r.namespace));
}

/** Every affected record of one vulnerability record (every namespace), by namespace and name. */
export async function affectedOf(ctx: VulnDbContext, source: string, vulnId: string): Promise<Affected[]> {
  const rows = await ctx.db.selectFrom('affected')
    .select(['source', 'vuln_id', 'namespace', 'name', 'name_kind', 'scheme', 'data'])
    .where('source', '=', source).where('vuln_id', '=', vulnId)
    .orderBy('namespace').orderBy('name')
    .execute();
  return rows.map((r) => affectedFromRow(r, r.namespace));
}

/** Whether any affected record is stored (the (namespace, name) index answers it). */
export async function hasNamespace(ctx: VulnDbContext, namespace: string): Promise<boolean> {
  const row = await ctx.db.selectFrom('affected').select('vuln_id').where('namespace', '=', namespace).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** The columns affectedMany reads: the namespace is the statement's own. */
const AFFECTED_MANY_COLUMNS = '"source", "vuln_id", "name", "name_kind", "scheme", "data"';

const NONE: readonly Affected[] = Object.freeze([]);

/** Keys by namespace, with the records of those the cache knows put in `out` (by affectedKeyId) already. */
function uncachedKeys(keys: readonly AffectedKey[], cache: RecordCache, out: Map<string, Affected[]>): Map<string, Set<string>> {
  const names = new Map<string, Set<string>>();
  for (const k of keys) {
    const hit = cache.affected.get(affectedKeyId(k.namespace, k.name));
    if (hit) {
      if (hit.length) out.set(affectedKeyId(k.namespace, k.name), hit as Affected[]);
      continue;
    }
    const set = names.get(k.namespace);
    if (set) set.add(k.name);
    else names.set(k.namespace, new Set([k.name]));
  }
  return names;
}

/**
 * Records of many keys, by affectedKeyId: those the cache holds from it, the others with one
 * statement per namespace and IN_CHUNK names (the same text for every full chunk, so the prepared
 * statement is reused), then kept in the cache (a key without records too). The lists are frozen.
 */
export async function affectedMany(ctx: VulnDbContext, keys: readonly AffectedKey[], cache: RecordCache): Promise<Map<string, Affected[]>> {
  const out = new Map<string, Affected[]>();
  for (const [namespace, set] of uncachedKeys(keys, cache, out)) {
    const byName = new Map<string, Affected[]>();
    for (const part of chunks([...set], IN_CHUNK)) {
      const text = `select ${AFFECTED_MANY_COLUMNS} from "affected" where "namespace" = ${params(ctx.dialect, 1)} and "name" in (${params(ctx.dialect, part.length, 2)})`;
      const rows = await rawRows<Omit<AffectedRow, 'namespace'>>(ctx, text, [namespace, ...part]);
      cache.room(rows.length + part.length);
      for (const r of rows) {
        const a = affectedFromRow(r, namespace);
        const list = byName.get(r.name);
        if (list) list.push(a);
        else byName.set(r.name, [a]);
      }
    }
    for (const name of set) {
      const id = affectedKeyId(namespace, name);
      const list = byName.get(name);
      cache.affected.set(id, list ? Object.freeze(list) : NONE);
      if (list) out.set(id, list);
    }
  }
  return out;
}

function vulnerabilityFromRow(r: VulnerabilityRow): Vulnerability {
  const v = JSON.parse(r.data) as Vulnerability;
  v.id = r.id;
  v.source = r.source;
  return v;
}

/** The statements of vulnerabilities(): by id, then (unless byAlias is false) by alias; `columns` of the vulnerabilities row `v`. */
function vulnerabilityStatements(dialect: VulnDbContext['dialect'], count: number, columns: string, byAlias: boolean): string[] {
  const list = params(dialect, count);
  const statements = [`select ${columns} from "vulnerabilities" as "v" where "v"."id" in (${list})`];
  if (byAlias) {
    statements.push(`select ${columns} from "aliases" as "a"
      inner join "vulnerabilities" as "v" on "v"."source" = "a"."source" and "v"."id" = "a"."vuln_id"
      where "a"."alias" in (${list})`);
  }
  return statements;
}

/** Parsed records of these (source, id) keys: from the cache, the others read by id (and kept). */
async function recordsByKey(ctx: VulnDbContext, keys: readonly { source: string; id: string }[], cache: RecordCache): Promise<Map<string, Vulnerability>> {
  const found = new Map<string, Vulnerability>();
  const missing = new Set<string>();
  for (const k of keys) {
    const key = `${k.source}\0${k.id}`;
    const v = cache.vulnerabilities.get(key);
    if (v) found.set(key, v);
    else missing.add(k.id);
  }
  for (const part of chunks([...missing], IN_CHUNK)) {
    const rows = await rawRows<VulnerabilityRow>(ctx, vulnerabilityStatements(ctx.dialect, part.length, '"v"."source", "v"."id", "v"."data"', false)[0]!, part);
    cache.room(rows.length);
    for (const r of rows) {
      const v = vulnerabilityFromRow(r);
      const key = `${r.source}\0${r.id}`;
      cache.vulnerabilities.set(key, v);
      found.set(key, v);
    }
  }
  return found;
}

/**
 * Every source's record for these ids, and (unless byAlias is false) the records that list one of
 * them as an alias, in the order the statements give them. With records in the cache the
 * statements read only the rows' keys, and the records not cached yet are read by id after.
 */
export async function vulnerabilities(ctx: VulnDbContext, ids: string[], options: { byAlias?: boolean }, cache: RecordCache): Promise<Vulnerability[]> {
  const want = [...new Set(ids.filter(isStr))];
  const byAlias = options.byAlias !== false;
  const out = new Map<string, Vulnerability>();
  const warm = cache.vulnerabilities.size > 0;
  for (const part of chunks(want, IN_CHUNK)) {
    if (!warm) {
      for (const text of vulnerabilityStatements(ctx.dialect, part.length, '"v"."source", "v"."id", "v"."data"', byAlias)) {
        const rows = await rawRows<VulnerabilityRow>(ctx, text, part);
        cache.room(rows.length);
        for (const r of rows) {
          const key = `${r.source}\0${r.id}`;
          if (out.has(key)) continue;
          const v = cache.vulnerabilities.get(key) ?? vulnerabilityFromRow(r);
          cache.vulnerabilities.set(key, v);
          out.set(key, v);
        }
      }
      continue;
    }
    const keys: { source: string; id: string }[] = [];
    for (const text of vulnerabilityStatements(ctx.dialect, part.length, '"v"."source", "v"."id"', byAlias)) {
      for (const k of await rawRows<{ source: string; id: string }>(ctx, text, part)) keys.push(k);
    }
    const records = await recordsByKey(ctx, keys, cache);
    for (const k of keys) {
      const key = `${k.source}\0${k.id}`;
      const v = records.get(key);
      // A record deleted between the two reads is left out, as if the first had not seen it.
      if (v && !out.has(key)) out.set(key, v);
    }
  }
  return [...out.values()];
}

/** Entries of these CVEs: from the cache, the others by `statement` (kept, and a CVE without one as null). */
async function byCve<E>(ctx: VulnDbContext, cves: string[], known: Map<string, E | null>, cache: RecordCache,
  statement: (list: string) => string, entry: (row: Record<string, unknown>) => E & { cve: string }): Promise<Map<string, E>> {
  const out = new Map<string, E>();
  const missing: string[] = [];
  for (const c of new Set(cves)) {
    const hit = known.get(c);
    if (hit === undefined) missing.push(c);
    else if (hit !== null) out.set(c, hit);
  }
  for (const part of chunks(missing, IN_CHUNK)) {
    const rows = await rawRows<Record<string, unknown>>(ctx, statement(params(ctx.dialect, part.length)), part);
    cache.room(part.length);
    for (const r of rows) {
      const e = entry(r);
      out.set(e.cve, e);
    }
    for (const c of part) known.set(c, out.get(c) ?? null);
  }
  return out;
}

export function kev(ctx: VulnDbContext, cves: string[], cache: RecordCache): Promise<Map<string, KevEntry>> {
  return byCve(ctx, cves, cache.kev, cache, (list) => `select "cve", "data" from "kev" where "cve" in (${list})`,
    (r) => ({ ...(JSON.parse(r.data as string) as KevEntry), cve: r.cve as string }));
}

export function epss(ctx: VulnDbContext, cves: string[], cache: RecordCache): Promise<Map<string, EpssEntry>> {
  return byCve(ctx, cves, cache.epss, cache, (list) => `select "cve", "score", "percentile", "date" from "epss" where "cve" in (${list})`,
    (r) => ({ cve: r.cve as string, score: Number(r.score), percentile: Number(r.percentile), date: r.date as string }));
}
