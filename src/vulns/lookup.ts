/** What the matcher needs from the vulnerability database (the store implements it; tests use memory). */
import type { Affected, EpssEntry, KevEntry, Vulnerability } from '../feeds/model.js';

export interface VulnLookup {
  /** Affected records for a package name in a namespace (name already normalised). */
  affected(namespace: string, name: string): Promise<Affected[]>;
  /** Every source's record for these ids, and for records that list them as aliases. */
  vulnerabilities(ids: string[]): Promise<Vulnerability[]>;
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
      const k = `${a.namespace}\0${a.name}`;
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
    return this.byKey.get(`${namespace}\0${name}`) ?? [];
  }

  async vulnerabilities(ids: string[]): Promise<Vulnerability[]> {
    const want = new Set(ids);
    return this.vulns.filter((v) => want.has(v.id) || v.aliases.some((a) => want.has(a)));
  }

  async kev(cves: string[]): Promise<Map<string, KevEntry>> {
    return new Map(cves.filter((c) => this.kevs.has(c)).map((c) => [c, this.kevs.get(c)!]));
  }

  async epss(cves: string[]): Promise<Map<string, EpssEntry>> {
    return new Map(cves.filter((c) => this.epsses.has(c)).map((c) => [c, this.epsses.get(c)!]));
  }
}
