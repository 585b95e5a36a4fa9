/**
 * Base images of the catalog's analyzed images (issue 19; tables of 0021-image-bases): each image's
 * layer chain ids, its base (the analyzed image whose layers are the longest proper prefix of its
 * own, or the one its OCI base annotations name) and which of its packages it inherited from it.
 * Kept current both ways: a newly analyzed image gets its base, and every stored image built on it
 * whose base shares fewer layers gets it as its base. The rules are sbom/base.ts's plain functions.
 */
import type { Kysely } from 'kysely';
import { annotatedBase, chainIds, findBase, inheritedPackages, type BaseCandidate, type BaseImage } from '../sbom/base.js';
import type { Sbom } from '../sbom/model.js';
import type { CatalogStore } from './catalog.js';
import { NOT_NEW, type ChangeContext } from './lifecycle.js';
import type { Database } from './schema.js';

/** The base recorded for an image. */
export interface StoredBase extends BaseImage {
  /** Keys (sbom/base.ts packageKey) of the image's packages inherited from it. */
  inherited: string[];
  updatedAt: string;
}

/** Write an image's layer chain ids (inside the transaction that stores its analysis). */
export async function recordLayerChains(trx: Kysely<Database>, account: string, imageDigest: string, sbom: Sbom, context: ChangeContext = NOT_NEW): Promise<void> {
  if (!context.newImage) await trx.deleteFrom('image_layer_chains').where('account', '=', account).where('image_digest', '=', imageDigest).execute();
  const chains = chainIds(sbom.source.layers.map((l) => l.diffId));
  const rows = chains.map((chain_id, depth) => ({ account, image_digest: imageDigest, depth, chain_id, top: depth === chains.length - 1 ? 1 : 0 }));
  for (let i = 0; i < rows.length; i += 200) await trx.insertInto('image_layer_chains').values(rows.slice(i, i + 200)).execute();
}

/** Forget an image's chains and base (inside the transaction that deletes it). */
export async function removeImageBase(trx: Kysely<Database>, account: string, imageDigest: string): Promise<void> {
  await trx.deleteFrom('image_layer_chains').where('account', '=', account).where('image_digest', '=', imageDigest).execute();
  await trx.deleteFrom('image_bases').where('account', '=', account).where('image_digest', '=', imageDigest).execute();
}

export class BaseStore {
  private readonly now: () => Date;

  constructor(private readonly db: Kysely<Database>, private readonly catalog: CatalogStore, options: { now?: () => Date } = {}) {
    this.now = options.now ?? (() => new Date());
  }

  /** The recorded base of an image; undefined when none is known. */
  async get(account: string, imageDigest: string): Promise<StoredBase | undefined> {
    const r = await this.db.selectFrom('image_bases').selectAll().where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
    if (!r) return undefined;
    return {
      digest: r.base_digest, ...(r.base_tag !== null ? { tag: r.base_tag } : {}), sharedLayers: r.shared_layers,
      source: r.source === 'annotation' ? 'annotation' : 'layers', inherited: JSON.parse(r.inherited) as string[], updatedAt: r.updated_at,
    };
  }

  /** The keys of the image's packages inherited from its base (empty when it has none). */
  async inherited(account: string, imageDigest: string): Promise<Set<string>> {
    const r = await this.db.selectFrom('image_bases').select('inherited').where('account', '=', account).where('image_digest', '=', imageDigest).executeTakeFirst();
    return new Set(r ? JSON.parse(r.inherited) as string[] : []);
  }

  /**
   * The image's base with the newer analyzed digests of the base's tag (the catalog saw the tag name
   * them after the base; newest first, at most `max`), each with its stored analysis: what the
   * "rebuild on a newer base digest" advice (policy/rebuild.ts) needs. Undefined without a base.
   */
  async withNewerDigests(account: string, imageDigest: string, max = 3): Promise<{ base: StoredBase; newer: { tag: string; digest: string; sbom: Sbom }[] } | undefined> {
    const base = await this.get(account, imageDigest);
    if (!base?.tag) return base && { base, newer: [] };
    const fulltag = base.tag;
    const seen = (img: { tags: { fulltag: string; lastUpdated: string }[] }) => img.tags.find((t) => t.fulltag === fulltag)?.lastUpdated ?? '';
    const images = await this.catalog.listImages(account, { fulltag });
    const since = seen(images.find((i) => i.imageDigest === base.digest) ?? { tags: [] });
    const newer = images.filter((i) => i.imageDigest !== base.digest && i.imageDigest !== imageDigest && i.analysisStatus === 'analyzed' && seen(i) > since)
      .sort((a, b) => seen(b).localeCompare(seen(a)) || a.imageDigest.localeCompare(b.imageDigest)).slice(0, max);
    const out: { tag: string; digest: string; sbom: Sbom }[] = [];
    for (const img of newer) {
      const sbom = await this.catalog.getSbom(account, img.imageDigest);
      if (sbom) out.push({ tag: fulltag, digest: img.imageDigest, sbom });
    }
    return { base, newer: out };
  }

  /**
   * After an analysis is stored: find the image's base among the account's analyzed images, and
   * become the base of the stored images built on it when it shares more layers with them than
   * their current base. Returns the digests of those images.
   */
  async analysisStored(account: string, imageDigest: string, sbom: Sbom): Promise<string[]> {
    await this.identify(account, imageDigest, sbom);
    return this.adoptChildren(account, imageDigest, sbom);
  }

  /** After an image is deleted: the images it was the base of get their next best base (or none). */
  async imageDeleted(account: string, imageDigest: string): Promise<string[]> {
    const children = await this.db.selectFrom('image_bases').select('image_digest').where('account', '=', account).where('base_digest', '=', imageDigest).execute();
    for (const { image_digest } of children) {
      const sbom = await this.catalog.getSbom(account, image_digest);
      if (sbom) await this.identify(account, image_digest, sbom);
      else await this.db.deleteFrom('image_bases').where('account', '=', account).where('image_digest', '=', image_digest).execute();
    }
    return children.map((c) => c.image_digest);
  }

  /** Find and record (or clear) the base of one image. */
  async identify(account: string, imageDigest: string, sbom: Sbom): Promise<BaseImage | undefined> {
    const diffIds = sbom.source.layers.map((l) => l.diffId);
    const candidates = await this.prefixCandidates(account, imageDigest, diffIds);
    const annotation = annotatedBase(sbom.source);
    if (annotation?.digest && !candidates.some((c) => c.digest === annotation.digest)) {
      const named = await this.candidate(account, annotation.digest);
      if (named) candidates.push(named);
    }
    const base = findBase({ digest: imageDigest, diffIds, ...(annotation ? { annotation } : {}) }, candidates);
    if (!base) {
      await this.db.deleteFrom('image_bases').where('account', '=', account).where('image_digest', '=', imageDigest).execute();
      return undefined;
    }
    await this.record(account, imageDigest, sbom, base);
    return base;
  }

  /** The analyzed images whose whole layer list is a proper prefix of these layers. */
  private async prefixCandidates(account: string, imageDigest: string, diffIds: string[]): Promise<BaseCandidate[]> {
    const prefixes = chainIds(diffIds).slice(0, -1);
    if (!prefixes.length) return [];
    const rows = await this.db.selectFrom('image_layer_chains').select(['image_digest', 'depth', 'chain_id'])
      .where('account', '=', account).where('chain_id', 'in', prefixes).where('top', '=', 1).where('image_digest', '!=', imageDigest).execute();
    const out: BaseCandidate[] = [];
    for (const r of rows) {
      if (prefixes[r.depth] !== r.chain_id) continue;
      out.push({ digest: r.image_digest, ...(await this.tagOf(account, r.image_digest)), diffIds: diffIds.slice(0, r.depth + 1) });
    }
    return out;
  }

  /** An analyzed image of the account as a candidate (by its stored SBOM's layers). */
  private async candidate(account: string, digest: string): Promise<BaseCandidate | undefined> {
    const img = await this.catalog.getImage(account, digest);
    if (img?.analysisStatus !== 'analyzed') return undefined;
    const sbom = await this.catalog.getSbom(account, digest);
    return sbom ? { digest, ...(await this.tagOf(account, digest)), diffIds: sbom.source.layers.map((l) => l.diffId) } : undefined;
  }

  /** The first tag that named the image (the catalog's). */
  private async tagOf(account: string, digest: string): Promise<{ tag?: string }> {
    const tag = (await this.catalog.getImage(account, digest))?.tags[0]?.fulltag;
    return tag ? { tag } : {};
  }

  /** Store a base with the packages inherited from it (none when its analysis is not stored). */
  private async record(account: string, imageDigest: string, sbom: Sbom, base: BaseImage): Promise<void> {
    const baseSbom = base.sharedLayers > 0 ? await this.catalog.getSbom(account, base.digest) : undefined;
    const inherited = baseSbom ? [...inheritedPackages(sbom, baseSbom, base.sharedLayers)].sort() : [];
    const row = {
      base_digest: base.digest, base_tag: base.tag ?? null, shared_layers: base.sharedLayers, source: base.source,
      inherited: JSON.stringify(inherited), updated_at: this.now().toISOString(),
    };
    await this.db.insertInto('image_bases').values({ account, image_digest: imageDigest, ...row })
      .onConflict((oc) => oc.columns(['account', 'image_digest']).doUpdateSet(row)).execute();
  }

  /** The stored images built on this one whose current base shares fewer layers: this becomes their base. */
  private async adoptChildren(account: string, imageDigest: string, sbom: Sbom): Promise<string[]> {
    const chains = chainIds(sbom.source.layers.map((l) => l.diffId));
    const top = chains[chains.length - 1];
    if (top === undefined) return [];
    const rows = await this.db.selectFrom('image_layer_chains').select('image_digest')
      .where('account', '=', account).where('chain_id', '=', top).where('depth', '=', chains.length - 1).where('top', '=', 0)
      .where('image_digest', '!=', imageDigest).execute();
    const adopted: string[] = [];
    for (const { image_digest } of rows) {
      const current = await this.get(account, image_digest);
      if (current && current.source === 'layers' && current.sharedLayers >= chains.length) continue;
      const child = await this.catalog.getSbom(account, image_digest);
      if (!child) continue;
      const base = await this.identify(account, image_digest, child);
      if (base?.digest === imageDigest) adopted.push(image_digest);
    }
    return adopted;
  }
}
