/**
 * Accounts, users and credentials (Anchore's /accounts, /account, /user), and POST /oauth/token.
 *
 * Admins manage every account and user. Other users read their own account and its users and
 * manage their own password (read-only users read only). Deleting an account is Anchore's: it must
 * be disabled first; it is then marked `deleting` and its resources and users are removed.
 * Credentials are passwords only, and their values are never shown (masked as Anchore did).
 * Changing or deleting a password, deleting a user or disabling an account revokes the tokens
 * (store/accounts.ts); DELETE /oauth/token revokes the requester's own (sign-out).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ACCOUNT_STATES, USER_ROLES, type Account, type AccountStore, type AuthUser, type User } from '../../store/accounts.js';
import { authorize, requireAuthorized } from '../../store/authorize.js';
import { ApiError } from '../errors.js';
import { parseInput } from '../validate.js';
import type { ApiDeps } from '../app.js';
import { accountOf, userOf } from '../context.js';
import { isoZ } from '../views.js';
import { LoginThrottle } from '../throttle.js';

/** Lifetime of a token from POST /oauth/token (Anchore's default_token_expiration_seconds). */
export const OAUTH_TOKEN_SECONDS = 3600;
/** What a stored password is shown as. */
const MASKED = '********';

const password = z.string().min(6, 'a password must be 6 to 128 characters long').max(128, 'a password must be 6 to 128 characters long');
const createAccountSchema = z.object({
  name: z.string().min(1),
  email: z.string().min(1).optional(),
  type: z.literal('user', { message: 'only accounts of type "user" can be created' }).optional(),
});
const stateSchema = z.object({ state: z.enum(['enabled', 'disabled']) });
const createUserSchema = z.object({ username: z.string().min(1), password, role: z.enum(USER_ROLES).optional() });
const credentialSchema = z.object({ type: z.literal('password', { message: 'the only credential type is "password"' }), value: password });
const listQuery = z.object({ state: z.enum(ACCOUNT_STATES).optional() });
const deleteCredentialQuery = z.object({ credential_type: z.string({ message: 'credential_type is required' }).min(1) });

function accountView(a: Account): Record<string, unknown> {
  return { name: a.name, email: a.email ?? null, type: a.type, state: a.state, created_at: isoZ(a.createdAt), last_updated: isoZ(a.updatedAt) };
}

/** Anchore's User, plus Lading's role. */
function userView(u: User): Record<string, unknown> {
  return { username: u.username, type: 'native', source: null, role: u.role, created_at: isoZ(u.createdAt), last_updated: isoZ(u.updatedAt) };
}

function credentialView(setAt: string): Record<string, unknown> {
  return { type: 'password', value: MASKED, created_at: isoZ(setAt) };
}

interface OAuthError { status: number; error: string; description: string }

/** Only admins. */
function admin(req: FastifyRequest): AuthUser {
  const u = userOf(req);
  requireAuthorized(u, 'admin');
  return u;
}

/** Admins anywhere; others read in their own account and change only their own credentials. */
function allow(req: FastifyRequest, account: string, action: 'read' | 'write', username?: string): AuthUser {
  const u = userOf(req);
  if (authorize(u, 'admin').allowed) return u;
  if (account !== u.account) throw new ApiError(403, `user ${u.username} may act only in account ${u.account}`);
  if (action === 'write' && username !== u.username) throw new ApiError(403, `user ${u.username} does not have the admin role`);
  requireAuthorized(u, action);
  return u;
}

/** A password change revokes the user's tokens, but not the one of the session that changed its own. */
function keepOwnSession(me: AuthUser, username: string): { keepTokenId?: string } {
  return me.username === username && me.tokenId !== undefined ? { keepTokenId: me.tokenId } : {};
}

const params = (req: FastifyRequest) => req.params as { accountname: string; username: string };

/** Lookups that answer 404 for what is not there. */
interface AccountLookups {
  accounts: AccountStore;
  mustAccount(name: string): Promise<Account>;
  mustUser(account: string, username: string): Promise<User>;
  credentials(username: string): Promise<Record<string, unknown>[]>;
}

function accountLookups(accounts: AccountStore): AccountLookups {
  return {
    accounts,
    mustAccount: async (name) => {
      const a = await accounts.getAccount(name);
      if (!a) throw new ApiError(404, `no account ${name}`);
      return a;
    },
    mustUser: async (account, username) => {
      const u = await accounts.getUser(username);
      if (!u || u.account !== account) throw new ApiError(404, `no user ${username} in account ${account}`);
      return u;
    },
    credentials: async (username) => {
      const setAt = await accounts.passwordSetAt(username);
      return setAt === undefined ? [] : [credentialView(setAt)];
    },
  };
}

export function accountsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { accounts } = deps;
  const lookups = accountLookups(accounts);
  accountAdminRoutes(app, lookups);
  userRoutes(app, lookups);
  credentialRoutes(app, lookups);
  selfRoutes(app, deps, lookups);
  oauthRoutes(app, accounts, deps.loginThrottle ?? new LoginThrottle(deps.config));
}

/** /accounts: list, create, get, delete, enable or disable (admins; members read their own). */
function accountAdminRoutes(app: FastifyInstance, { accounts, mustAccount }: AccountLookups): void {
  app.get('/accounts', async (req) => {
    admin(req);
    const q = parseInput(listQuery, req.query, 'query');
    return (await accounts.listAccounts(q.state ? { state: q.state } : {})).map(accountView);
  });

  app.post('/accounts', async (req) => {
    admin(req);
    const body = parseInput(createAccountSchema, req.body, 'request body');
    return accountView(await accounts.createAccount({ name: body.name, ...(body.email !== undefined ? { email: body.email } : {}) }));
  });

  app.get('/accounts/:accountname', async (req) => {
    const { accountname } = params(req);
    allow(req, accountname, 'read');
    return accountView(await mustAccount(accountname));
  });

  app.delete('/accounts/:accountname', async (req, reply) => {
    admin(req);
    const { accountname } = params(req);
    const a = await mustAccount(accountname);
    if (a.type === 'user' && a.state === 'enabled') {
      throw new ApiError(400, `account ${accountname} is enabled: disable it first (PUT /accounts/${accountname}/state {"state": "disabled"})`);
    }
    await accounts.deleteAccount(accountname); // refuses admin, service and reserved accounts
    await accounts.purgeAccount(accountname);
    return reply.code(204).send();
  });

  app.put('/accounts/:accountname/state', async (req) => {
    admin(req);
    const { accountname } = params(req);
    const body = parseInput(stateSchema, req.body, 'request body');
    await mustAccount(accountname);
    return { state: (await accounts.setAccountState(accountname, body.state)).state };
  });
}

/** /accounts/{accountname}/users. */
function userRoutes(app: FastifyInstance, { accounts, mustAccount, mustUser }: AccountLookups): void {
  app.get('/accounts/:accountname/users', async (req) => {
    const { accountname } = params(req);
    allow(req, accountname, 'read');
    await mustAccount(accountname);
    return (await accounts.listUsers(accountname)).map(userView);
  });

  app.post('/accounts/:accountname/users', async (req) => {
    admin(req);
    const { accountname } = params(req);
    const body = parseInput(createUserSchema, req.body, 'request body');
    const a = await mustAccount(accountname);
    if (a.type === 'service') throw new ApiError(400, `account ${accountname} is a service account: its users are not managed here`);
    const role = body.role ?? (a.type === 'admin' ? 'admin' : 'read-write');
    return userView(await accounts.createUser(accountname, { username: body.username, password: body.password, role }));
  });

  app.get('/accounts/:accountname/users/:username', async (req) => {
    const { accountname, username } = params(req);
    allow(req, accountname, 'read', username);
    return userView(await mustUser(accountname, username));
  });

  app.delete('/accounts/:accountname/users/:username', async (req, reply) => {
    const { accountname, username } = params(req);
    const me = allow(req, accountname, 'write', username);
    await mustUser(accountname, username);
    if (username === me.username) throw new ApiError(400, 'cannot delete the user the request is authenticated as');
    await accounts.deleteUser(username);
    return reply.code(204).send();
  });
}

/** /accounts/{accountname}/users/{username}/credentials (passwords only, masked). */
function credentialRoutes(app: FastifyInstance, { accounts, mustUser, credentials }: AccountLookups): void {
  app.get('/accounts/:accountname/users/:username/credentials', async (req) => {
    const { accountname, username } = params(req);
    allow(req, accountname, 'read', username);
    await mustUser(accountname, username);
    return credentials(username);
  });

  app.post('/accounts/:accountname/users/:username/credentials', async (req) => {
    const { accountname, username } = params(req);
    const me = allow(req, accountname, 'write', username);
    const body = parseInput(credentialSchema, req.body, 'credential');
    await mustUser(accountname, username);
    await accounts.setPassword(username, body.value, keepOwnSession(me, username));
    return (await credentials(username))[0];
  });

  app.delete('/accounts/:accountname/users/:username/credentials', async (req, reply) => {
    const { accountname, username } = params(req);
    const me = allow(req, accountname, 'write', username);
    const q = parseInput(deleteCredentialQuery, req.query, 'query');
    if (q.credential_type !== 'password') throw new ApiError(400, `invalid credential_type ${JSON.stringify(q.credential_type)}: the only credential type is "password"`);
    await mustUser(accountname, username);
    if (username === me.username) throw new ApiError(400, 'cannot delete the credential of the user the request is authenticated as');
    await accounts.removePassword(username);
    return reply.code(204).send();
  });
}

/** /account, /user and /user/credentials: the requester's own. */
function selfRoutes(app: FastifyInstance, deps: ApiDeps, { accounts, mustAccount, mustUser, credentials }: AccountLookups): void {
  app.get('/account', async (req) => accountView(await mustAccount(await accountOf(req, deps, 'read'))));

  app.get('/user', async (req) => userView(await mustUser(userOf(req).account, userOf(req).username)));

  app.get('/user/credentials', async (req) => credentials(userOf(req).username));

  app.post('/user/credentials', async (req) => {
    const u = userOf(req);
    requireAuthorized(u, 'write');
    const body = parseInput(credentialSchema, req.body, 'credential');
    await accounts.setPassword(u.username, body.value, keepOwnSession(u, u.username));
    return (await credentials(u.username))[0];
  });
}

/** POST /oauth/token. */
function oauthRoutes(app: FastifyInstance, accounts: AccountStore, throttle: LoginThrottle): void {
  // The form encoding is for this route alone (its own scope): every other write route takes JSON only (api/browser.ts).
  void app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    tokenRoute(scope, accounts, throttle);
  });

  /** Sign out: revoke the bearer token this request is authenticated with (the web UI's sign-out). */
  app.delete('/oauth/token', async (req, reply) => {
    const u = userOf(req);
    if (u.tokenId === undefined) throw new ApiError(400, 'this request is not authenticated with a bearer token: there is no token to revoke');
    await accounts.revokeToken(u.tokenId, u.username);
    return reply.code(204).send();
  });
}

function tokenRoute(app: FastifyInstance, accounts: AccountStore, throttle: LoginThrottle): void {
  /**
   * The resource-owner password grant: form fields grant_type=password, username, password,
   * client_id (anonymous); without a body, the Basic Authorization header's credentials (as Anchore).
   */
  app.post('/oauth/token', { config: { public: true } }, async (req, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const fail = (e: OAuthError) => reply.code(e.status).send({ error: e.error, error_description: e.description });
    const form = req.body !== null && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
    const field = (k: string): string | undefined => (typeof form[k] === 'string' ? (form[k] as string) : undefined);
    let username = field('username');
    let pass = field('password');
    const basic = /^basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (username === undefined && pass === undefined && basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) [username, pass] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    }
    const grant = field('grant_type') ?? 'password';
    const client = field('client_id') ?? 'anonymous';
    if (grant !== 'password') return fail({ status: 400, error: 'unsupported_grant_type', description: `grant_type ${JSON.stringify(grant)} is not supported: use "password"` });
    if (client !== 'anonymous') return fail({ status: 401, error: 'invalid_client', description: `unknown client_id ${JSON.stringify(client)}: use "anonymous"` });
    if (!username || pass === undefined) return fail({ status: 400, error: 'invalid_request', description: 'username and password are required' });
    try {
      throttle.check(username, req.ip);
    } catch (e) {
      const after = (e as ApiError).detail.retry_after as number;
      reply.header('retry-after', String(after));
      return fail({ status: 429, error: 'slow_down', description: (e as ApiError).message });
    }
    const user = await accounts.verifyPassword(username, pass);
    if (!user) {
      throttle.failed(username, req.ip, 'POST /oauth/token');
      return fail({ status: 400, error: 'invalid_grant', description: 'invalid username or password' });
    }
    throttle.succeeded(username);
    const { token } = await accounts.createToken(user.username, { name: 'oauth', ttlSeconds: OAUTH_TOKEN_SECONDS });
    // Sign-ins (the web UI's among them) mint a token each: expired ones go as new ones come.
    await accounts.pruneExpiredTokens();
    return { access_token: token, token_type: 'bearer', expires_in: OAUTH_TOKEN_SECONDS };
  });
}
