/**
 * The package index (table image_packages, migrations/0009-image-packages.ts): one row per
 * package of each stored image, written in the transaction that stores its analysis and removed
 * with the image (the lifecycle subscriptions of services/root.ts). The queries across an
 * account's images built on it are in services/packages.ts; the image list filters by it through
 * `imagesWithPackage`.
 */
import type { Kysely, SelectQueryBuilder } from 'kysely';
import { isOsType } from '../sbom/ecosystems.js';
import type { Package } from '../sbom/model.js';
import { lookupKeys } from '../vulns/namespace.js';
import { chunks } from '../util/arrays.js';
import { insertRows, type BulkColumn } from './bulk.js';
import { NOT_NEW, type ChangeContext } from './lifecycle.js';
import type { Database, ImagePackagesTable } from './schema.js';

/** Names per IN (...) list. */
const IN_CHUNK = 500;

/**
 * The other name vulnerability feeds key a package by, when it differs from its own: the source
 * package of an OS package, the normalised ecosystem name of a language package (PEP 503,
 * `group:artifact` for Maven).
 */
function lookupName(p: Package): string | undefined {
  const other = isOsType(p.type) ? p.sourceName : lookupKeys(p, undefined)[0]?.name;
  return other !== undefined && other !== p.name ? other : undefined;
}

const INDEX_COLUMNS: BulkColumn[] = ['account', 'image_digest', 'name', 'version', 'type', 'purl', 'path', 'lookup_name'].map((name) => ({ name, type: 'text' }));

/** Replace an image's rows in the index with these packages (inside the caller's transaction): one delete (none for a new image), one set-based insert. */
export async function indexImagePackages(db: Kysely<Database>, account: string, imageDigest: string, packages: readonly Package[], context: ChangeContext = NOT_NEW): Promise<void> {
  if (!context.newImage) await removeImagePackages(db, account, imageDigest);
  const rows = packages.map((p) => [account, imageDigest, p.name, p.version, p.type, p.purl, p.locations[0]?.path ?? null, lookupName(p) ?? null]);
  await insertRows(db, 'image_packages', INDEX_COLUMNS, rows);
}

export async function removeImagePackages(db: Kysely<Database>, account: string, imageDigest: string): Promise<void> {
  await db.deleteFrom('image_packages').where('account', '=', account).where('image_digest', '=', imageDigest).execute();
}

/** A subquery of the digests of an account's images holding a package of this name, to filter by. */
export function imagesWithPackage(db: Kysely<Database>, account: string, name: string): SelectQueryBuilder<Database, 'image_packages', { image_digest: string }> {
  return db.selectFrom('image_packages').select('image_digest').where('account', '=', account).where('name', '=', name);
}

export class PackageIndex {
  constructor(private readonly db: Kysely<Database>) {}

  /** The index rows of an account's packages of this name (and types, version), by image digest, version and type. */
  async rows(account: string, q: { name: string; types?: readonly string[]; version?: string }): Promise<ImagePackagesTable[]> {
    let query = this.db.selectFrom('image_packages').selectAll().where('account', '=', account).where('name', '=', q.name);
    if (q.version !== undefined) query = query.where('version', '=', q.version);
    if (q.types) query = query.where('type', 'in', [...q.types]);
    return query.orderBy('image_digest').orderBy('version').orderBy('type').execute();
  }

  /** Digests of the account's images holding a package by one of these names (own or lookup name), sorted. */
  async imagesWithNames(account: string, names: string[]): Promise<string[]> {
    const digests = new Set<string>();
    for (const part of chunks(names, IN_CHUNK)) {
      const rows = await this.db.selectFrom('image_packages').select('image_digest').distinct()
        .where('account', '=', account)
        .where((eb) => eb.or([eb('name', 'in', part), eb('lookup_name', 'in', part)]))
        .execute();
      for (const r of rows) digests.add(r.image_digest);
    }
    return [...digests].sort();
  }
}
