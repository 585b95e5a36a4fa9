/** What the matcher needs from the vulnerability database (the store implements it; tests use memory). */
import type { Affected, EpssEntry, KevEntry, Vulnerability } from '../feeds/model.js';

/** A package name in a namespace, as the data is keyed (name already normalised). */
export interface AffectedKey {
  namespace: string;
  name: string;
}

/** The map key of an AffectedKey in affectedMany's answer. */
export function affectedKeyId(namespace: string, name: string): string {
  return `${namespace}\0${name}`;
}

export interface VulnLookup {
  /** Affected records for a package name in a namespace (name already normalised). */
  affected(namespace: string, name: string): Promise<Affected[]>;
  /**
   * The same for many keys at once (a few statements instead of one per key), by affectedKeyId;
   * a key without records may be absent. Each key's records come in the order affected() gives.
   */
  affectedMany?(keys: readonly AffectedKey[]): Promise<Map<string, Affected[]>>;
  /** Whether any affected record is stored in this namespace (a distro release such as `debian:12`). */
  hasNamespace?(namespace: string): Promise<boolean>;
  /**
   * Every source's record for these ids, and (unless `byAlias` is false) the records that list
   * one of them as an alias.
   */
  vulnerabilities(ids: string[], options?: { byAlias?: boolean }): Promise<Vulnerability[]>;
  kev(cves: string[]): Promise<Map<string, KevEntry>>;
  epss(cves: string[]): Promise<Map<string, EpssEntry>>;
}

/** An in-memory VulnLookup over batches of records: for tests and small offline data sets. */
export class MemoryLookup implements VulnLookup {
  private readonly byKey = new Map<string, Affected[]>();
  private readonly vulns: Vulnerability[] = [];
  private readonly kevs = new Map<string, KevEntry>();
  private readonly epsses = new Map<string, EpssEntry>();

  add(batch: { vulnerabilities?: Vulnerability[]; affected?: Affected[]; kev?: KevEntry[]; epss?: EpssEntry[] }): this {
    for (const a of batch.affected ?? []) {
      const k = affectedKeyId(a.namespace, a.name);
      const list = this.byKey.get(k) ?? [];
      list.push(a);
      this.byKey.set(k, list);
    }
    this.vulns.push(...(batch.vulnerabilities ?? []));
    for (const k of batch.kev ?? []) this.kevs.set(k.cve, k);
    for (const e of batch.epss ?? []) this.epsses.set(e.cve, e);
    return this;
  }

  async affected(namespace: string, name: string): Promise<Affected[]> {
    return this.byKey.get(affectedKeyId(namespace, name)) ?? [];
  }

  async affectedMany(keys: readonly AffectedKey[]): Promise<Map<string, Affected[]>> {
    const out = new Map<string, Affected[]>();
    for (const k of keys) {
      const id = affectedKeyId(k.namespace, k.name);
      const records = this.byKey.get(id);
      if (records) out.set(id, records);
    }
    return out;
  }

  async hasNamespace(namespace: string): Promise<boolean> {
    for (const list of this.byKey.values()) if (list.some((a) => a.namespace === namespace)) return true;
    return false;
  }

  async vulnerabilities(ids: string[], options: { byAlias?: boolean } = {}): Promise<Vulnerability[]> {
    const want = new Set(ids);
    const byAlias = options.byAlias !== false;
    return this.vulns.filter((v) => want.has(v.id) || (byAlias && v.aliases.some((a) => want.has(a))));
  }

  async kev(cves: string[]): Promise<Map<string, KevEntry>> {
    return new Map(cves.filter((c) => this.kevs.has(c)).map((c) => [c, this.kevs.get(c)!]));
  }

  async epss(cves: string[]): Promise<Map<string, EpssEntry>> {
    return new Map(cves.filter((c) => this.epsses.has(c)).map((c) => [c, this.epsses.get(c)!]));
  }
}
