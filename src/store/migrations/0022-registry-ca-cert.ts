/**
 * A registry record may carry the certificate authorities (PEM) its registry's certificate is
 * checked against, on top of the system ones (services/registries.ts, `registry_ca_cert` in the API).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('registries').addColumn('registry_ca_cert', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('registries').dropColumn('registry_ca_cert').execute();
}
