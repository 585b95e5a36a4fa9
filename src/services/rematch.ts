/**
 * Stored images kept current with the vulnerability data, without re-analysis.
 * - When an image is analyzed, `indexImage` records the (namespace, name) keys its packages are
 *   looked up under (image_match_keys) and its vulnerability summary (image_vuln_results): the
 *   baseline.
 * - After feed updates (any process: the service's sync or `lading db import`), `rematch` reads
 *   the changed keys logged since its cursor (feeds/changes.ts), finds the images under them
 *   through the index, re-matches only the packages under changed keys from the stored SBOM,
 *   and diffs the new summary against the baseline: added, updated (same finding, other
 *   severity, fix or link), removed. Each non-empty diff is stored and handed to `onDiff`
 *   (vuln_update events and notifications).
 * Summaries use the fields of Anchore's vuln_update payload.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Kysely } from 'kysely';
import type { Sbom } from '../sbom/model.js';
import type { VulnDb } from '../feeds/vulndb.js';
import { EVERYTHING } from '../feeds/changes.js';
import { lookupKeys } from '../vulns/namespace.js';
import { scanSbom } from '../vulns/scan.js';
import type { Match } from '../vulns/model.js';
import type { Database } from '../store/schema.js';

/** One finding as Anchore's vuln_update payload lists it. */
export interface VulnSummary {
  CVE_ID: string;
  Severity: string;
  Vulnerable_Package: string;
  Fix_Available: string;
  URL: string;
  Package_Name: string;
  Package_Version: string;
  Package_Type: string;
  Package_Path: string;
  Feed: string;
  Feed_Group: string;
}

export interface VulnDiff {
  added: VulnSummary[];
  updated: VulnSummary[];
  removed: VulnSummary[];
}

export interface ImageDiff {
  account: string;
  imageDigest: string;
  diff: VulnDiff;
}

export interface RematchResult {
  /** Change rows read from the log. */
  changes: number;
  /** Distinct keys they named (-1: everything). */
  keys: number;
  /** Images re-matched. */
  images: number;
  /** Images whose findings changed. */
  changed: number;
  durationMs: number;
}

const CURSOR_KEY = 'rematch_seq';
const KEY_CHUNK = 400;
/** Change rows handled per pass; the rest wait for the next. */
const MAX_CHANGES_PER_PASS = 200_000;

const keyOf = (namespace: string, name: string) => `${namespace}\0${name}`;

export function summarise(m: Match): VulnSummary {
  const v = m.vulnerability;
  const p = m.package;
  const cve = [v.id, ...v.aliases].find((a) => a.startsWith('CVE-'));
  return {
    CVE_ID: v.id,
    Severity: v.severity,
    Vulnerable_Package: `${p.name}-${p.version}`,
    Fix_Available: v.fixedVersions.length ? v.fixedVersions.join(',') : 'None',
    URL: v.references[0] ?? (cve ? `https://nvd.nist.gov/vuln/detail/${cve}` : 'None'),
    Package_Name: p.name,
    Package_Version: p.version,
    Package_Type: p.type,
    Package_Path: p.locations[0]?.path ?? 'None',
    Feed: 'vulnerabilities',
    Feed_Group: m.match.namespace,
  };
}

/** Identity of a finding: vulnerability, feed group, package name, version and path. */
const identity = (s: VulnSummary) => [s.CVE_ID, s.Feed_Group, s.Package_Name, s.Package_Version, s.Package_Path].join('\0');
/** Identity of the package a finding is about. */
const packageOf = (s: Pick<VulnSummary, 'Package_Name' | 'Package_Version' | 'Package_Type' | 'Package_Path'>) =>
  [s.Package_Name, s.Package_Version, s.Package_Type, s.Package_Path].join('\0');

export function diffSummaries(before: VulnSummary[], after: VulnSummary[]): VulnDiff {
  const old = new Map(before.map((s) => [identity(s), s]));
  const now = new Map(after.map((s) => [identity(s), s]));
  const added: VulnSummary[] = [];
  const updated: VulnSummary[] = [];
  const removed: VulnSummary[] = [];
  for (const [k, s] of now) {
    const o = old.get(k);
    if (!o) added.push(s);
    else if (o.Severity !== s.Severity || o.Fix_Available !== s.Fix_Available || o.URL !== s.URL) updated.push(s);
  }
  for (const [k, s] of old) if (!now.has(k)) removed.push(s);
  return { added, updated, removed };
}

export const isEmptyDiff = (d: VulnDiff) => !d.added.length && !d.updated.length && !d.removed.length;


export interface RematchOptions {
  now?: () => Date;
  /** Told about each image whose findings changed (after the new summary is stored). */
  onDiff?: (d: ImageDiff) => Promise<void>;
}

/** Drop an image's index rows and baseline (inside the image's delete transaction). */
export async function removeImageMatches(trx: Kysely<Database>, account: string, imageDigest: string): Promise<void> {
  for (const t of ['image_match_keys', 'image_vuln_results'] as const) {
    await trx.deleteFrom(t).where('account', '=', account).where('image_digest', '=', imageDigest).execute();
  }
}

export class Rematcher {
  private readonly db: Kysely<Database>;
  private readonly now: () => Date;

  constructor(db: Kysely<Database>, private readonly vulndb: VulnDb, private readonly options: RematchOptions = {}) {
    this.db = db;
    this.now = options.now ?? (() => new Date());
  }

  /** Index a freshly analyzed image and store its baseline summary. */
  async indexImage(account: string, imageDigest: string, sbom: Sbom): Promise<VulnSummary[]> {
    const keys = new Set<string>();
    for (const p of sbom.packages) for (const k of lookupKeys(p, sbom.distro)) keys.add(keyOf(k.namespace, k.name));
    const summaries = await this.scan(sbom);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('image_match_keys').where('account', '=', account).where('image_digest', '=', imageDigest).execute();
      const rows = [...keys].map((k) => {
        const [namespace, name] = k.split('\0') as [string, string];
        return { account, image_digest: imageDigest, namespace, name };
      });
      for (let i = 0; i < rows.length; i += 500) await trx.insertInto('image_match_keys').values(rows.slice(i, i + 500)).execute();
      await this.writeResults(trx, account, imageDigest, summaries);
    });
    return summaries;
  }

  /**
   * Index analyzed images that have no baseline yet (imported SBOMs, images analyzed before the
   * index existed, or a hook that failed); at most `limit` per call. Returns how many.
   */
  async backfill(limit = 200): Promise<number> {
    const rows = await this.db.selectFrom('catalog_images as i')
      .leftJoin('image_vuln_results as r', (j) => j.onRef('r.account', '=', 'i.account').onRef('r.image_digest', '=', 'i.image_digest'))
      .select(['i.account', 'i.image_digest']).where('i.analysis_status', '=', 'analyzed').where('r.image_digest', 'is', null)
      .limit(limit).execute();
    let n = 0;
    for (const r of rows) {
      const a = await this.db.selectFrom('catalog_analyses').select('sbom_gz').where('account', '=', r.account).where('image_digest', '=', r.image_digest).executeTakeFirst();
      if (!a) continue;
      await this.indexImage(r.account, r.image_digest, JSON.parse(gunzipSync(Buffer.from(a.sbom_gz)).toString('utf8')) as Sbom);
      n++;
    }
    return n;
  }

  /** The stored summary of an image (undefined before its first index). */
  async results(account: string, imageDigest: string): Promise<VulnSummary[] | undefined> {
    const r = await this.db.selectFrom('image_vuln_results').select('results').where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
    return r ? (JSON.parse(gunzipSync(Buffer.from(r.results, 'base64')).toString('utf8')) as VulnSummary[]) : undefined;
  }

  /** Re-match the images the changes since the cursor concern; advance the cursor. */
  async rematch(signal?: AbortSignal): Promise<RematchResult> {
    const t0 = Date.now();
    const cursorRow = await this.db.selectFrom('meta').select('value').where('key', '=', CURSOR_KEY).executeTakeFirst();
    const cursor = cursorRow ? Number(cursorRow.value) : 0;
    const rows = await this.db.selectFrom('vuln_changes').select(['id', 'namespace', 'name']).where('id', '>', cursor)
      .orderBy('id').limit(MAX_CHANGES_PER_PASS).execute();
    if (!rows.length) return { changes: 0, keys: 0, images: 0, changed: 0, durationMs: Date.now() - t0 };
    const last = Number(rows[rows.length - 1]!.id);
    const everything = rows.some((r) => r.namespace === EVERYTHING);
    const keys = new Set(rows.map((r) => keyOf(r.namespace, r.name)));

    // image → the changed keys it has (undefined: re-match all of it)
    const images = new Map<string, Set<string> | undefined>();
    if (everything) {
      const all = await this.db.selectFrom('catalog_images').select(['account', 'image_digest']).where('analysis_status', '=', 'analyzed').execute();
      for (const r of all) images.set(`${r.account}\0${r.image_digest}`, undefined);
    } else {
      const byNamespace = new Map<string, string[]>();
      for (const k of keys) {
        const [ns, name] = k.split('\0') as [string, string];
        byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), name]);
      }
      for (const [ns, names] of byNamespace) {
        for (let i = 0; i < names.length; i += KEY_CHUNK) {
          const hits = await this.db.selectFrom('image_match_keys').select(['account', 'image_digest', 'name'])
            .where('namespace', '=', ns).where('name', 'in', names.slice(i, i + KEY_CHUNK)).execute();
          for (const h of hits) {
            const id = `${h.account}\0${h.image_digest}`;
            const set = images.get(id) ?? new Set<string>();
            set.add(keyOf(ns, h.name));
            images.set(id, set);
          }
        }
      }
    }

    let changed = 0;
    for (const [id, changedKeys] of images) {
      signal?.throwIfAborted();
      const [account, imageDigest] = id.split('\0') as [string, string];
      const diff = await this.rematchImage(account, imageDigest, changedKeys);
      if (diff && !isEmptyDiff(diff)) {
        changed++;
        await this.options.onDiff?.({ account, imageDigest, diff });
      }
    }
    await this.db.insertInto('meta').values({ key: CURSOR_KEY, value: String(last) })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(last) })).execute();
    return { changes: rows.length, keys: everything ? -1 : keys.size, images: images.size, changed, durationMs: Date.now() - t0 };
  }

  /**
   * Re-match one image: only the packages under `changedKeys` (all of them when undefined or
   * without a baseline); findings of the other packages are kept from the baseline.
   */
  private async rematchImage(account: string, imageDigest: string, changedKeys: Set<string> | undefined): Promise<VulnDiff | undefined> {
    const row = await this.db.selectFrom('catalog_analyses').select('sbom_gz').where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
    if (!row) return undefined;
    const sbom = JSON.parse(gunzipSync(Buffer.from(row.sbom_gz)).toString('utf8')) as Sbom;
    const before = await this.results(account, imageDigest);
    let after: VulnSummary[];
    if (!before || !changedKeys) {
      after = await this.scan(sbom);
    } else {
      const touched = sbom.packages.filter((p) => lookupKeys(p, sbom.distro).some((k) => changedKeys.has(keyOf(k.namespace, k.name))));
      const touchedIds = new Set(touched.map((p) => packageOf({
        Package_Name: p.name, Package_Version: p.version, Package_Type: p.type, Package_Path: p.locations[0]?.path ?? 'None',
      })));
      const fresh = await this.scan({ ...sbom, packages: touched });
      after = [...before.filter((s) => !touchedIds.has(packageOf(s))), ...fresh];
    }
    await this.writeResults(this.db, account, imageDigest, after);
    // Without a baseline there is nothing to compare with: this run sets it.
    return before ? diffSummaries(before, after) : undefined;
  }

  private async scan(sbom: Sbom): Promise<VulnSummary[]> {
    const result = await scanSbom(sbom, this.vulndb, { input: sbom.source.manifestDigest ?? sbom.source.imageId ?? 'image', db: { sources: [] } });
    return result.matches.map(summarise);
  }

  private async writeResults(db: Kysely<Database>, account: string, imageDigest: string, summaries: VulnSummary[]): Promise<void> {
    const results = gzipSync(JSON.stringify(summaries)).toString('base64');
    const updated_at = this.now().toISOString();
    await db.insertInto('image_vuln_results').values({ account, image_digest: imageDigest, results, updated_at })
      .onConflict((oc) => oc.columns(['account', 'image_digest']).doUpdateSet({ results, updated_at })).execute();
  }
}
