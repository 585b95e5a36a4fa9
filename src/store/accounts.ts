/**
 * Accounts and users (tables from migrations/0003-accounts.ts), on SQLite or PostgreSQL through
 * kysely: the account store. Its parts: password hashing in credentials.ts, API tokens in
 * tokens.ts, the role rules (`authorize`) in authorize.ts, row mapping in account-rows.ts.
 *
 * - An account owns images, policies, registries, subscriptions and events; its type is admin,
 *   user or service, its state enabled, disabled or deleting. Deleting marks it `deleting` (its
 *   resources are then removed by a cleanup role, which calls `purgeAccount` last); the admin
 *   account and service accounts cannot be deleted or disabled.
 * - A user belongs to one account and has one role: admin (only in an admin account: everything,
 *   in any account), read-write (its own account), read-only (its own account, reads only).
 *   Usernames are unique across accounts. Users of an account that is not enabled cannot log in.
 * - Passwords: verification spends the same work for unknown users; a hash made with older
 *   parameters is upgraded on the next successful login.
 * - API tokens: `lading_` + 32 random bytes (base64url), shown once; only their sha256 is kept.
 *   Setting or removing a password, deleting the user or disabling its account revokes them.
 */
import { randomBytes } from 'node:crypto';
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { LadingError } from '../errors.js';
import type { LadingConfig } from '../config/schema.js';
import { authUserQuery, toAccount, toAuthUser, toUser } from './account-rows.js';
import { ReusableQuery } from './compiled.js';
import {
  checkParams, checkPassword, checkPasswordPolicy, DEFAULT_HASH_PARAMS, dummyHash, hashPassword, NO_PASSWORD,
  parseHash, sameParams, sha256, VERIFY_INPUT_MAX, type HashParams,
} from './credentials.js';
import { TokenStore, type ApiToken, type CreatedToken, type CreateTokenOptions } from './tokens.js';
import type { AccountsTable, Database, UsersTable } from './schema.js';


export const ACCOUNT_TYPES = ['admin', 'user', 'service'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];
export const ACCOUNT_STATES = ['enabled', 'disabled', 'deleting'] as const;
export type AccountState = (typeof ACCOUNT_STATES)[number];
export const USER_ROLES = ['admin', 'read-write', 'read-only'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const ADMIN_ACCOUNT = 'admin';
export const ADMIN_USER = 'admin';
/** Names createAccount refuses (the admin account comes from bootstrapAdmin). */
export const RESERVED_ACCOUNT_NAMES = ['admin', 'system', 'anchore-system', 'lading-system'];

/** The login read of a user by name (once per authenticated request): built and compiled once. */
const LOGIN_ROW = new ReusableQuery<Database, Awaited<ReturnType<ReturnType<typeof authUserQuery>['executeTakeFirstOrThrow']>>, 'username'>(
  (db, p) => authUserQuery(db).where('users.username', '=', p<string>('username')));

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

export interface Account {
  name: string;
  type: AccountType;
  state: AccountState;
  email?: string;
  createdAt: string;
  updatedAt: string;
}

/** A user as shown: never the password hash. */
export interface User {
  username: string;
  account: string;
  role: UserRole;
  createdAt: string;
  updatedAt: string;
}

/** An authenticated user, with what `authorize` needs of its account. */
export interface AuthUser extends User {
  accountType: AccountType;
  accountState: AccountState;
  /** Set when authenticated by an API token. */
  tokenId?: string;
}

function checkName(kind: 'account' | 'user', name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new LadingError('BAD_INPUT', `invalid ${kind} name ${JSON.stringify(name)}: 1 to 128 characters, letters, digits and . _ @ + - (not first)`);
  }
}

/** A table keyed by account; the list is read from the database, so tables added later are included. */
type AccountTable = { [K in keyof Database]: Database[K] extends { account: string } ? K : never }[keyof Database];

/** Tables with an `account` column (where an account's resources live). */
async function accountTables(db: Kysely<Database>): Promise<AccountTable[]> {
  const q = db.getExecutor().adapter instanceof PostgresAdapter
    ? sql<{ name: string }>`select c.table_name as name from information_schema.columns c
        join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
        where c.column_name = 'account' and c.table_schema = current_schema() and t.table_type = 'BASE TABLE'`
    : sql<{ name: string }>`select m.name as name from sqlite_master m, pragma_table_info(m.name) p where m.type = 'table' and p.name = 'account'`;
  return (await q.execute(db)).rows.map((r) => r.name as AccountTable);
}

export interface AccountStoreOptions {
  /** The clock (tests move it). */
  now?: () => Date;
  /** scrypt parameters for new hashes; default DEFAULT_HASH_PARAMS. */
  hashParams?: HashParams;
}

export interface BootstrapResult {
  /** The admin account or user was created now. */
  created: boolean;
  /** Development mode without admin.password: the generated password, to print once. */
  generatedPassword?: string;
  /** The admin user already existed and admin.password is configured: whether it still opens it. */
  configuredPasswordMatches?: boolean;
}

export class AccountStore {
  private readonly db: Kysely<Database>;
  private readonly now: () => Date;
  private readonly params: HashParams;
  private readonly tokens: TokenStore;

  constructor(db: Kysely<Database>, options: AccountStoreOptions = {}) {
    this.db = db;
    this.now = options.now ?? (() => new Date());
    this.params = options.hashParams ?? DEFAULT_HASH_PARAMS;
    checkParams(this.params);
    this.tokens = new TokenStore(db, this.now);
    // Ready before the first login attempt for an unknown user.
    dummyHash(this.params).catch(() => {});
  }

  private stamp(): string {
    return this.now().toISOString();
  }

  // ------------------------------------------------------------------ accounts

  async createAccount(input: { name: string; type?: AccountType; email?: string }): Promise<Account> {
    checkName('account', input.name);
    const type = input.type ?? 'user';
    if (!ACCOUNT_TYPES.includes(type)) throw new LadingError('BAD_INPUT', `invalid account type ${JSON.stringify(type)}: expected one of ${ACCOUNT_TYPES.join(', ')}`);
    if (RESERVED_ACCOUNT_NAMES.includes(input.name.toLowerCase())) throw new LadingError('BAD_INPUT', `account name ${input.name} is reserved`);
    if (input.email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(input.email)) throw new LadingError('BAD_INPUT', `invalid email address ${JSON.stringify(input.email)}`);
    return this.insertAccount(input.name, type, input.email);
  }

  private async insertAccount(name: string, type: AccountType, email: string | undefined, db: Kysely<Database> = this.db): Promise<Account> {
    const t = this.stamp();
    const row: AccountsTable = { name, type, state: 'enabled', email: email ?? null, created_at: t, updated_at: t };
    const inserted = await db.insertInto('accounts').values(row).onConflict((oc) => oc.column('name').doNothing()).returning('name').execute();
    if (!inserted.length) throw new LadingError('BAD_INPUT', `account ${name} already exists`);
    return toAccount(row);
  }

  async listAccounts(filter: { state?: AccountState } = {}): Promise<Account[]> {
    let q = this.db.selectFrom('accounts').selectAll().orderBy('name');
    if (filter.state) q = q.where('state', '=', filter.state);
    return (await q.execute()).map(toAccount);
  }

  async getAccount(name: string): Promise<Account | undefined> {
    const r = await this.db.selectFrom('accounts').selectAll().where('name', '=', name).executeTakeFirst();
    return r && toAccount(r);
  }

  private async mustGetAccount(name: string, db: Kysely<Database> = this.db): Promise<Account> {
    const r = await db.selectFrom('accounts').selectAll().where('name', '=', name).executeTakeFirst();
    if (!r) throw new LadingError('NOT_FOUND', `no account ${name}`);
    return toAccount(r);
  }

  /** Enable or disable an account (users of a disabled account cannot log in). */
  async setAccountState(name: string, state: 'enabled' | 'disabled'): Promise<Account> {
    if (state !== 'enabled' && state !== 'disabled') {
      throw new LadingError('BAD_INPUT', `an account state can be set to enabled or disabled${state === 'deleting' ? ' (delete the account to remove it)' : ''}`);
    }
    return this.db.transaction().execute(async (trx) => {
      const a = await this.mustGetAccount(name, trx);
      if (a.state === 'deleting') throw new LadingError('BAD_INPUT', `account ${name} is being deleted`);
      if (state === 'disabled' && (a.type === 'admin' || a.type === 'service')) throw new LadingError('BAD_INPUT', `the ${a.type} account ${name} cannot be disabled`);
      if (a.state === state) return a;
      const t = this.stamp();
      await trx.updateTable('accounts').set({ state, updated_at: t }).where('name', '=', name).execute();
      // Disabling ends every session: enabling again does not bring old tokens back.
      if (state === 'disabled') await this.tokens.revokeAccount(name, trx);
      return { ...a, state, updatedAt: t };
    });
  }

  /**
   * Mark an account for deletion (state `deleting`): its users can no longer log in and its
   * resources are to be removed, then the row with `purgeAccount`. Admin and service accounts are refused.
   */
  async deleteAccount(name: string): Promise<Account> {
    return this.db.transaction().execute(async (trx) => {
      const a = await this.mustGetAccount(name, trx);
      if (a.type === 'admin' || a.type === 'service' || RESERVED_ACCOUNT_NAMES.includes(a.name.toLowerCase())) {
        throw new LadingError('BAD_INPUT', `the ${a.type === 'user' ? 'reserved' : a.type} account ${name} cannot be deleted`);
      }
      if (a.state === 'deleting') return a;
      const t = this.stamp();
      await trx.updateTable('accounts').set({ state: 'deleting', updated_at: t }).where('name', '=', name).execute();
      return { ...a, state: 'deleting' as const, updatedAt: t };
    });
  }

  /**
   * Remove an account marked `deleting` in one transaction: its resources (the rows of every table
   * keyed by an `account` column: images, bundles, registries, subscriptions...), then the account
   * with its users and their tokens.
   */
  async purgeAccount(name: string): Promise<void> {
    const a = await this.mustGetAccount(name);
    if (a.state !== 'deleting') throw new LadingError('BAD_INPUT', `account ${name} is not being deleted (delete it first)`);
    await this.db.transaction().execute(async (trx) => {
      for (const table of await accountTables(trx)) await trx.deleteFrom(table).where('account', '=', name).execute();
      await trx.deleteFrom('accounts').where('name', '=', name).where('state', '=', 'deleting').execute();
    });
  }

  // ------------------------------------------------------------------ users

  async createUser(account: string, input: { username: string; password: string; role?: UserRole }): Promise<User> {
    checkName('user', input.username);
    checkPasswordPolicy(input.password);
    const role = input.role ?? 'read-write';
    if (!USER_ROLES.includes(role)) throw new LadingError('BAD_INPUT', `invalid role ${JSON.stringify(role)}: expected one of ${USER_ROLES.join(', ')}`);
    const hash = await hashPassword(input.password, this.params);
    return this.db.transaction().execute(async (trx) => {
      const a = await this.mustGetAccount(account, trx);
      if (a.state === 'deleting') throw new LadingError('BAD_INPUT', `account ${account} is being deleted`);
      if (role === 'admin' && a.type !== 'admin') throw new LadingError('BAD_INPUT', `the admin role is only for users of an admin account (${account} is a ${a.type} account)`);
      if (input.username.toLowerCase() === ADMIN_USER && a.name !== ADMIN_ACCOUNT) throw new LadingError('BAD_INPUT', `user name ${input.username} is reserved`);
      return this.insertUser(trx, account, input.username, hash, role);
    });
  }

  private async insertUser(db: Kysely<Database>, account: string, username: string, hash: string, role: UserRole): Promise<User> {
    const t = this.stamp();
    const row: UsersTable = { username, account, password_hash: hash, role, created_at: t, updated_at: t };
    const inserted = await db.insertInto('users').values(row).onConflict((oc) => oc.column('username').doNothing()).returning('username').execute();
    if (!inserted.length) throw new LadingError('BAD_INPUT', `user ${username} already exists`);
    return toUser(row);
  }

  async getUser(username: string): Promise<User | undefined> {
    const r = await this.db.selectFrom('users').select(['username', 'account', 'role', 'created_at', 'updated_at']).where('username', '=', username).executeTakeFirst();
    return r && toUser(r);
  }

  async listUsers(account: string): Promise<User[]> {
    await this.mustGetAccount(account);
    const rows = await this.db.selectFrom('users').select(['username', 'account', 'role', 'created_at', 'updated_at']).where('account', '=', account).orderBy('username').execute();
    return rows.map(toUser);
  }

  /** Remove a user and its tokens (they go with the row: api_tokens references users on delete cascade). The last admin of the admin account stays. */
  async deleteUser(username: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const u = await trx.selectFrom('users').select(['account', 'role']).where('username', '=', username).executeTakeFirst();
      if (!u) throw new LadingError('NOT_FOUND', `no user ${username}`);
      if (u.role === 'admin' && u.account === ADMIN_ACCOUNT) {
        const admins = await trx.selectFrom('users').select('username').where('account', '=', ADMIN_ACCOUNT).where('role', '=', 'admin').execute();
        if (admins.length <= 1) throw new LadingError('BAD_INPUT', `${username} is the last admin user and cannot be deleted`);
      }
      await trx.deleteFrom('users').where('username', '=', username).execute();
    });
  }

  /** Remove a user's password: it can no longer log in with one, and its API tokens are revoked. */
  async removePassword(username: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const r = await trx.updateTable('users').set({ password_hash: NO_PASSWORD, updated_at: this.stamp() }).where('username', '=', username).executeTakeFirst();
      if (!Number(r.numUpdatedRows)) throw new LadingError('NOT_FOUND', `no user ${username}`);
      await this.tokens.revokeAllOf(username, undefined, trx);
    });
  }

  /** When the user's password was last set; undefined when it has none (or there is no such user). */
  async passwordSetAt(username: string): Promise<string | undefined> {
    const r = await this.db.selectFrom('users').select(['password_hash', 'updated_at']).where('username', '=', username).executeTakeFirst();
    return r && parseHash(r.password_hash) ? r.updated_at : undefined;
  }

  /**
   * For callers that cache password verifications: the user as verifyPassword returns it and a
   * fingerprint of its current password hash, or undefined when it cannot log in now (no such
   * user, no password, account not enabled). A cached verification holds while the fingerprint
   * is unchanged. No scrypt work.
   */
  async loginState(username: string): Promise<{ user: AuthUser; credential: string } | undefined> {
    if (typeof username !== 'string' || username.length > 256) return undefined;
    const row = (await LOGIN_ROW.execute(this.db, { username })).rows[0];
    if (!row || row.account_state !== 'enabled' || !parseHash(row.password_hash)) return undefined;
    return {
      user: toAuthUser(row),
      credential: sha256(row.password_hash),
    };
  }

  /**
   * Set a user's password and revoke its API tokens (all of them, or all but `keepTokenId`: the
   * token of the session that changed its own password stays signed in).
   */
  async setPassword(username: string, password: string, options: { keepTokenId?: string } = {}): Promise<void> {
    checkPasswordPolicy(password);
    const hash = await hashPassword(password, this.params);
    await this.db.transaction().execute(async (trx) => {
      const r = await trx.updateTable('users').set({ password_hash: hash, updated_at: this.stamp() }).where('username', '=', username).executeTakeFirst();
      if (!Number(r.numUpdatedRows)) throw new LadingError('NOT_FOUND', `no user ${username}`);
      await this.tokens.revokeAllOf(username, options.keepTokenId, trx);
    });
  }

  /**
   * The user if the password is right and its account is enabled, else undefined. The same scrypt
   * work is done whether or not the user exists, and the hash compare is constant-time.
   */
  async verifyPassword(username: string, password: string): Promise<AuthUser | undefined> {
    const row = typeof username === 'string' && username.length <= 256
      ? await authUserQuery(this.db).where('users.username', '=', username).executeTakeFirst()
      : undefined;
    const usable = typeof password === 'string' && password.length <= VERIFY_INPUT_MAX;
    const hash = row && parseHash(row.password_hash) ? row.password_hash : await dummyHash(this.params);
    const ok = await checkPassword(usable ? password : '', hash);
    if (!row || !ok || !usable || row.account_state !== 'enabled') return undefined;
    const parsed = parseHash(row.password_hash);
    if (parsed && !sameParams(parsed.params, this.params)) {
      const upgraded = await hashPassword(password, this.params);
      await this.db.updateTable('users').set({ password_hash: upgraded }).where('username', '=', row.username).where('password_hash', '=', row.password_hash).execute();
    }
    return toAuthUser(row);
  }

  // ------------------------------------------------------------------ tokens (tokens.ts)

  createToken(username: string, options: CreateTokenOptions = {}): Promise<CreatedToken> {
    return this.tokens.create(username, options);
  }

  listTokens(username: string): Promise<ApiToken[]> {
    return this.tokens.list(username);
  }

  /** The user a token belongs to, if it is known, unexpired and its account enabled. */
  verifyToken(token: string): Promise<AuthUser | undefined> {
    return this.tokens.verify(token);
  }

  /** Revoke a token by id (only that user's, when username is given); whether one was removed. */
  revokeToken(id: string, username?: string): Promise<boolean> {
    return this.tokens.revoke(id, username);
  }

  /** Remove expired tokens; how many. */
  pruneExpiredTokens(): Promise<number> {
    return this.tokens.pruneExpired();
  }

  // ------------------------------------------------------------------ bootstrap

  /**
   * Make sure the admin account and the admin user exist. Creating the user takes admin.password;
   * without one, production mode refuses (LadingError) and development mode generates a password,
   * stores its hash and returns it to be printed once. An existing admin is left as it is (the
   * configured password is only for the first start). Safe to run from several processes at once.
   */
  async bootstrapAdmin(config: Pick<LadingConfig, 'admin' | 'production_mode'>): Promise<BootstrapResult> {
    const configured = config.admin.password;
    const existing = await this.db.selectFrom('users').select(['account', 'role', 'password_hash']).where('username', '=', ADMIN_USER).executeTakeFirst();
    const account = await this.getAccount(ADMIN_ACCOUNT);
    if (existing && account) {
      if (existing.account !== ADMIN_ACCOUNT || existing.role !== 'admin') {
        throw new LadingError('INTERNAL', `user ${ADMIN_USER} exists but is not the admin of account ${ADMIN_ACCOUNT}`);
      }
      return configured === undefined ? { created: false } : { created: false, configuredPasswordMatches: await checkPassword(configured, existing.password_hash) };
    }
    if (account && account.type !== 'admin') throw new LadingError('INTERNAL', `account ${ADMIN_ACCOUNT} exists but is a ${account.type} account`);
    let generated: string | undefined;
    let password = configured;
    if (!existing) {
      if (password === undefined) {
        if (config.production_mode) {
          throw new LadingError('BAD_INPUT', 'configuration: admin.password: required to create the admin user in production mode (set LADING_ADMIN_PASSWORD); there is no default password');
        }
        generated = randomBytes(18).toString('base64url');
        password = generated;
      } else {
        checkPasswordPolicy(password);
      }
    }
    const hash = password !== undefined ? await hashPassword(password, this.params) : undefined;
    const created = await this.db.transaction().execute(async (trx) => {
      const t = this.stamp();
      const acc = await trx.insertInto('accounts')
        .values({ name: ADMIN_ACCOUNT, type: 'admin', state: 'enabled', email: config.admin.email ?? null, created_at: t, updated_at: t })
        .onConflict((oc) => oc.column('name').doNothing()).returning('name').execute();
      let user: { username: string }[] = [];
      if (hash !== undefined) {
        user = await trx.insertInto('users')
          .values({ username: ADMIN_USER, account: ADMIN_ACCOUNT, password_hash: hash, role: 'admin', created_at: t, updated_at: t })
          .onConflict((oc) => oc.column('username').doNothing()).returning('username').execute();
      }
      return { account: acc.length > 0, user: user.length > 0 };
    });
    // Another process may have created the user first: then our generated password is not the one stored.
    return { created: created.account || created.user, ...(generated !== undefined && created.user ? { generatedPassword: generated } : {}) };
  }
}
