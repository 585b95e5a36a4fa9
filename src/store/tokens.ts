/**
 * API tokens of the account store's users (table api_tokens): `lading_` + 32 random bytes
 * (base64url), shown once; only their sha256 is kept. AccountStore's token methods call this.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { LadingError } from '../errors.js';
import type { AuthUser } from './accounts.js';
import { authUserQuery, toAuthUser } from './account-rows.js';
import { sha256 } from './credentials.js';
import type { ApiTokensTable, Database } from './schema.js';

export const TOKEN_PREFIX = 'lading_';
/** last_used_at is written at most this often per token (ms), sparing a write per request. */
const TOKEN_TOUCH_MS = 60_000;

export interface ApiToken {
  id: string;
  username: string;
  name?: string;
  expiresAt?: string;
  createdAt: string;
  lastUsedAt?: string;
}

export interface CreatedToken {
  /** The token itself: shown once, never stored. */
  token: string;
  record: ApiToken;
}

export interface CreateTokenOptions {
  name?: string;
  /** An absolute expiry, or… */
  expiresAt?: Date;
  /** …seconds from now. Neither: the token does not expire. */
  ttlSeconds?: number;
}

function toToken(r: Omit<ApiTokensTable, 'token_hash'>): ApiToken {
  return {
    id: r.id,
    username: r.username,
    ...(r.name !== null ? { name: r.name } : {}),
    ...(r.expires_at !== null ? { expiresAt: r.expires_at } : {}),
    createdAt: r.created_at,
    ...(r.last_used_at !== null ? { lastUsedAt: r.last_used_at } : {}),
  };
}

export class TokenStore {
  constructor(private readonly db: Kysely<Database>, private readonly now: () => Date) {}

  async create(username: string, options: CreateTokenOptions = {}): Promise<CreatedToken> {
    const now = this.now();
    let expires: Date | undefined;
    if (options.expiresAt !== undefined) expires = options.expiresAt;
    else if (options.ttlSeconds !== undefined) {
      if (!(Number.isFinite(options.ttlSeconds) && options.ttlSeconds > 0)) throw new LadingError('BAD_INPUT', 'a token lifetime must be a positive number of seconds');
      expires = new Date(now.getTime() + options.ttlSeconds * 1000);
    }
    if (expires !== undefined && !(expires.getTime() > now.getTime())) throw new LadingError('BAD_INPUT', 'a token must expire in the future');
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name.length > 200)) throw new LadingError('BAD_INPUT', 'a token name is at most 200 characters');
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const row: ApiTokensTable = {
      id: randomUUID(),
      username,
      token_hash: sha256(token),
      name: options.name ?? null,
      expires_at: expires?.toISOString() ?? null,
      created_at: now.toISOString(),
      last_used_at: null,
    };
    await this.db.transaction().execute(async (trx) => {
      const u = await trx.selectFrom('users').select('username').where('username', '=', username).executeTakeFirst();
      if (!u) throw new LadingError('NOT_FOUND', `no user ${username}`);
      await trx.insertInto('api_tokens').values(row).execute();
    });
    const { token_hash: _, ...shown } = row;
    return { token, record: toToken(shown) };
  }

  async list(username: string): Promise<ApiToken[]> {
    const rows = await this.db.selectFrom('api_tokens').select(['id', 'username', 'name', 'expires_at', 'created_at', 'last_used_at']).where('username', '=', username).orderBy('created_at').orderBy('id').execute();
    return rows.map(toToken);
  }

  /** The user a token belongs to, if it is known, unexpired and its account enabled. */
  async verify(token: string): Promise<AuthUser | undefined> {
    if (typeof token !== 'string' || !token.startsWith(TOKEN_PREFIX) || token.length > 256) return undefined;
    const row = await authUserQuery(this.db)
      .innerJoin('api_tokens', 'api_tokens.username', 'users.username')
      .select(['api_tokens.id as token_id', 'api_tokens.expires_at', 'api_tokens.last_used_at'])
      .where('api_tokens.token_hash', '=', sha256(token))
      .executeTakeFirst();
    if (!row || row.account_state !== 'enabled') return undefined;
    const now = this.now();
    if (row.expires_at !== null && Date.parse(row.expires_at) <= now.getTime()) return undefined;
    if (row.last_used_at === null || now.getTime() - Date.parse(row.last_used_at) >= TOKEN_TOUCH_MS) {
      await this.db.updateTable('api_tokens').set({ last_used_at: now.toISOString() }).where('id', '=', row.token_id).execute();
    }
    return { ...toAuthUser(row), tokenId: row.token_id };
  }

  /** Revoke a token by id (only that user's, when username is given); whether one was removed. */
  async revoke(id: string, username?: string): Promise<boolean> {
    let q = this.db.deleteFrom('api_tokens').where('id', '=', id);
    if (username !== undefined) q = q.where('username', '=', username);
    const r = await q.executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Revoke every token of a user (but `exceptId`, when given); how many. */
  async revokeAllOf(username: string, exceptId?: string, db: Kysely<Database> = this.db): Promise<number> {
    let q = db.deleteFrom('api_tokens').where('username', '=', username);
    if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
    return Number((await q.executeTakeFirst()).numDeletedRows);
  }

  /** Revoke every token of every user of an account; how many. */
  async revokeAccount(account: string, db: Kysely<Database> = this.db): Promise<number> {
    const r = await db.deleteFrom('api_tokens')
      .where('username', 'in', (eb) => eb.selectFrom('users').select('username').where('account', '=', account))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Remove expired tokens; how many. */
  async pruneExpired(): Promise<number> {
    const r = await this.db.deleteFrom('api_tokens').where('expires_at', 'is not', null).where('expires_at', '<=', this.now().toISOString()).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
