/**
 * Vulnerability reports for the API, cached: an image's scan is computed from its stored SBOM once
 * and reused until the image is analyzed again or the vulnerability data changes (every write to
 * the vulnerability database moves its `built` stamp, whichever process wrote it). Checking the
 * stamp is one indexed read, so a repeated `GET /images/{digest}/vuln/all` costs no SBOM read and
 * no matching. A small LRU bounds the memory.
 */
import type { VulnDb } from '../feeds/vulndb.js';
import type { Sbom } from '../sbom/model.js';
import type { ScanResult } from '../vulns/model.js';
import { markInherited } from '../vulns/inherited.js';
import { scanSbom } from '../vulns/scan.js';

export interface ReportSubject {
  account: string;
  imageDigest: string;
  /** When the stored analysis was made: a new analysis is a new report. */
  analyzedAt?: string;
}

interface Entry {
  built: string;
  result: ScanResult | undefined;
}

export class VulnReports {
  private readonly entries = new Map<string, Entry>();
  /** Whether the data (as of a `built` stamp) holds any records; shared with the caches made by `through`. */
  private readonly known: { data?: { built: string; any: boolean } };
  /** The keys of an image's packages inherited from its base (store/bases.ts), when set: every report marks its matches. */
  private inheritedOf: ((account: string, imageDigest: string) => Promise<ReadonlySet<string>>) | undefined;

  constructor(private readonly vulndb: VulnDb, private readonly max = 64, known: { data?: { built: string; any: boolean } } = {}) {
    this.known = known;
  }

  /**
   * A cache of `max` reports reading through another handle (a transaction's), that shares what
   * this one knows of whether the data holds records (it is told by the same `built` stamp).
   */
  /** Mark every report's matches `inheritedFromBase` from these keys (read per report: a base found later counts at once). */
  markInheritedBy(fn: (account: string, imageDigest: string) => Promise<ReadonlySet<string>>): this {
    this.inheritedOf = fn;
    return this;
  }

  through(vulndb: VulnDb, max = 1): VulnReports {
    return new VulnReports(vulndb, max, this.known);
  }

  /** The scan of an image; undefined when the vulnerability database holds no data. */
  async scan(subject: ReportSubject, sbom: () => Promise<Sbom>): Promise<ScanResult | undefined> {
    const result = await this.cachedScan(subject, sbom);
    return result && this.inheritedOf ? markInherited(result, await this.inheritedOf(subject.account, subject.imageDigest)) : result;
  }

  private async cachedScan(subject: ReportSubject, sbom: () => Promise<Sbom>): Promise<ScanResult | undefined> {
    const built = await this.built();
    if (built === undefined || !(await this.hasData(built))) return undefined;
    const key = `${subject.account}\0${subject.imageDigest}\0${subject.analyzedAt ?? ''}`;
    const hit = this.entries.get(key);
    if (hit && hit.built === built) {
      this.entries.delete(key); // most recently used last
      this.entries.set(key, hit);
      return hit.result;
    }
    const result = await scanSbom(await sbom(), this.vulndb, { input: subject.imageDigest });
    this.entries.set(key, { built, result });
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return result;
  }

  private built(): Promise<string | undefined> {
    return this.vulndb.built();
  }

  private async hasData(built: string): Promise<boolean> {
    if (this.known.data?.built !== built) {
      this.known.data = { built, any: await this.vulndb.hasAffected() };
    }
    return this.known.data.any;
  }
}
