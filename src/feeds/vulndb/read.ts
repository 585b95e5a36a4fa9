/**
 * The matcher's reads (VulnLookup): affected records by (namespace, name), one key or many at
 * once, vulnerability records by id or alias, KEV and EPSS by CVE. Many-key reads are a few
 * statements with long `IN` lists, written as text (see rawRows).
 */
import type { Affected, EpssEntry, KevEntry, Vulnerability } from '../model.js';
import type { SchemeId } from '../../versions/types.js';
import { affectedKeyId, type AffectedKey } from '../../vulns/lookup.js';
import { isStr } from './checks.js';
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

/**
 * Records of many keys: one statement per namespace and IN_CHUNK names (the same text for every
 * full chunk, so the prepared statement is reused), by affectedKeyId.
 */
export async function affectedMany(ctx: VulnDbContext, keys: readonly AffectedKey[]): Promise<Map<string, Affected[]>> {
  const names = new Map<string, Set<string>>();
  for (const k of keys) {
    const set = names.get(k.namespace);
    if (set) set.add(k.name);
    else names.set(k.namespace, new Set([k.name]));
  }
  const out = new Map<string, Affected[]>();
  for (const [namespace, set] of names) {
    const byName = new Map<string, Affected[]>();
    for (const part of chunks([...set], IN_CHUNK)) {
      const text = `select ${AFFECTED_MANY_COLUMNS} from "affected" where "namespace" = ${params(ctx.dialect, 1)} and "name" in (${params(ctx.dialect, part.length, 2)})`;
      for (const r of await rawRows<Omit<AffectedRow, 'namespace'>>(ctx, text, [namespace, ...part])) {
        const a = affectedFromRow(r, namespace);
        const list = byName.get(r.name);
        if (list) list.push(a);
        else byName.set(r.name, [a]);
      }
    }
    for (const [name, list] of byName) out.set(affectedKeyId(namespace, name), list);
  }
  return out;
}

/** Every source's record for these ids, and (unless byAlias is false) the records that list one of them as an alias. */
export async function vulnerabilities(ctx: VulnDbContext, ids: string[], options: { byAlias?: boolean } = {}): Promise<Vulnerability[]> {
  const want = [...new Set(ids.filter(isStr))];
  const out = new Map<string, Vulnerability>();
  const add = (rows: VulnerabilityRow[]) => {
    for (const r of rows) {
      const key = `${r.source}\0${r.id}`;
      if (out.has(key)) continue;
      const v = JSON.parse(r.data) as Vulnerability;
      v.id = r.id;
      v.source = r.source;
      out.set(key, v);
    }
  };
  for (const part of chunks(want, IN_CHUNK)) {
    const list = params(ctx.dialect, part.length);
    add(await rawRows<VulnerabilityRow>(ctx, `select "source", "id", "data" from "vulnerabilities" where "id" in (${list})`, part));
    if (options.byAlias === false) continue;
    add(await rawRows<VulnerabilityRow>(ctx, `select "v"."source", "v"."id", "v"."data" from "aliases" as "a"
      inner join "vulnerabilities" as "v" on "v"."source" = "a"."source" and "v"."id" = "a"."vuln_id"
      where "a"."alias" in (${list})`, part));
  }
  return [...out.values()];
}

export async function kev(ctx: VulnDbContext, cves: string[]): Promise<Map<string, KevEntry>> {
  const out = new Map<string, KevEntry>();
  for (const part of chunks([...new Set(cves)], IN_CHUNK)) {
    const rows = await rawRows<Pick<VulnDbTables['kev'], 'cve' | 'data'>>(ctx, `select "cve", "data" from "kev" where "cve" in (${params(ctx.dialect, part.length)})`, part);
    for (const r of rows) out.set(r.cve, { ...(JSON.parse(r.data) as KevEntry), cve: r.cve });
  }
  return out;
}

export async function epss(ctx: VulnDbContext, cves: string[]): Promise<Map<string, EpssEntry>> {
  const out = new Map<string, EpssEntry>();
  for (const part of chunks([...new Set(cves)], IN_CHUNK)) {
    const rows = await rawRows<Omit<VulnDbTables['epss'], 'source'>>(ctx,
      `select "cve", "score", "percentile", "date" from "epss" where "cve" in (${params(ctx.dialect, part.length)})`, part);
    for (const r of rows) out.set(r.cve, { cve: r.cve, score: Number(r.score), percentile: Number(r.percentile), date: r.date });
  }
  return out;
}
