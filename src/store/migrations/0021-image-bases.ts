/**
 * Base images (store/bases.ts, issue 19):
 * - image_layer_chains: one row per layer depth of each analyzed image, with the OCI chain id of its
 *   first depth+1 layers (sbom/base.ts chainIds); `top` marks the image's last layer. Images built on
 *   a prefix of another share its chain ids, so the base of an image (a top chain equal to one of its
 *   prefixes) and the images built on a new one (a chain equal to its top) are indexed lookups.
 * - image_bases: the base found for each image (digest, a tag naming it, the shared layer count, how
 *   it was found) and the keys of its packages inherited from that base (JSON list).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('image_layer_chains')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('image_digest', 'text', (c) => c.notNull())
    .addColumn('depth', 'integer', (c) => c.notNull())
    .addColumn('chain_id', 'text', (c) => c.notNull())
    .addColumn('top', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_layer_chains_pk', ['account', 'image_digest', 'depth'])
    .execute();
  await db.schema.createIndex('image_layer_chains_chain').on('image_layer_chains').columns(['account', 'chain_id', 'depth']).execute();

  await db.schema.createTable('image_bases')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('image_digest', 'text', (c) => c.notNull())
    .addColumn('base_digest', 'text', (c) => c.notNull())
    .addColumn('base_tag', 'text')
    .addColumn('shared_layers', 'integer', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('inherited', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_bases_pk', ['account', 'image_digest'])
    .execute();
  await db.schema.createIndex('image_bases_base').on('image_bases').columns(['account', 'base_digest']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('image_bases').ifExists().execute();
  await db.schema.dropTable('image_layer_chains').ifExists().execute();
}
