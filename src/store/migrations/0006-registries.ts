/**
 * Registry credentials per account (see services/registries.ts): one row per registry string
 * (`host[:port][/repo-prefix]`, may end with `*`). The password is a SecretBox envelope bound to
 * `registry:<account>/<registry>`, never plaintext. Timestamps are ISO 8601 UTC text.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('registries')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('registry', 'text', (c) => c.notNull())
    .addColumn('registry_name', 'text', (c) => c.notNull())
    .addColumn('registry_type', 'text', (c) => c.notNull())
    .addColumn('registry_user', 'text', (c) => c.notNull())
    .addColumn('registry_pass', 'text', (c) => c.notNull())
    .addColumn('registry_verify', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_updated', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('registries_pk', ['account', 'registry'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('registries').ifExists().execute();
}
