/**
 * Accounts, their users and API tokens (see store/accounts.ts). Portable types only; timestamps
 * are ISO 8601 UTC text. Deleting an account row removes its users, and a user's tokens go with it.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('accounts')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('enabled'))
    .addColumn('email', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addCheckConstraint('accounts_type_check', sql`type in ('admin', 'user', 'service')`)
    .addCheckConstraint('accounts_state_check', sql`state in ('enabled', 'disabled', 'deleting')`)
    .execute();

  await db.schema.createTable('users')
    .addColumn('username', 'text', (c) => c.primaryKey())
    .addColumn('account', 'text', (c) => c.notNull().references('accounts.name').onDelete('cascade'))
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addCheckConstraint('users_role_check', sql`role in ('admin', 'read-write', 'read-only')`)
    .execute();
  await db.schema.createIndex('users_account').on('users').column('account').execute();

  await db.schema.createTable('api_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().references('users.username').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .execute();
  await db.schema.createIndex('api_tokens_username').on('api_tokens').column('username').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['api_tokens', 'users', 'accounts']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
