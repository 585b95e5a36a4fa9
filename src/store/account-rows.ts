/** Account and user rows as the account store and the token store show them. */
import type { Kysely } from 'kysely';
import type { Account, AccountState, AccountType, AuthUser, User, UserRole } from './accounts.js';
import type { AccountsTable, Database, UsersTable } from './schema.js';

export function toAccount(r: AccountsTable): Account {
  return {
    name: r.name,
    type: r.type as AccountType,
    state: r.state as AccountState,
    ...(r.email ? { email: r.email } : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toUser(r: Pick<UsersTable, 'username' | 'account' | 'role' | 'created_at' | 'updated_at'>): User {
  return { username: r.username, account: r.account, role: r.role as UserRole, createdAt: r.created_at, updatedAt: r.updated_at };
}

/** Users joined with their account: what logging in (by password or token) reads. */
export function authUserQuery(db: Kysely<Database>) {
  return db.selectFrom('users')
    .innerJoin('accounts', 'accounts.name', 'users.account')
    .select(['users.username', 'users.account', 'users.role', 'users.created_at', 'users.updated_at', 'users.password_hash', 'accounts.type as account_type', 'accounts.state as account_state']);
}

/** A row of authUserQuery as the authenticated user. */
export function toAuthUser(row: Pick<UsersTable, 'username' | 'account' | 'role' | 'created_at' | 'updated_at'> & { account_type: string; account_state: string }): AuthUser {
  return { ...toUser(row), accountType: row.account_type as AccountType, accountState: row.account_state as AccountState };
}
