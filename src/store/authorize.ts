/** The role rules of accounts and users (store/accounts.ts): who may read, write or administer where. */
import { LadingError } from '../errors.js';
import type { AuthUser } from './accounts.js';

export type Action = 'read' | 'write' | 'admin';

export type AuthDecision =
  | { allowed: true; account: string }
  | { allowed: false; account: string; reason: string };

/**
 * The role rules. `targetAccount` is the account acted in (the x-anchore-account header), default
 * the user's own. admin (of an admin account): everything, in any account. read-write: read and
 * write in its own account. read-only: read in its own account. Nobody acts from a disabled account.
 */
export function authorize(user: Pick<AuthUser, 'username' | 'account' | 'role' | 'accountType' | 'accountState'>, action: Action, targetAccount?: string): AuthDecision {
  const account = targetAccount === undefined || targetAccount === '' ? user.account : targetAccount;
  const deny = (reason: string): AuthDecision => ({ allowed: false, account, reason });
  if (user.accountState !== 'enabled') return deny(`account ${user.account} is ${user.accountState}`);
  if (user.role === 'admin' && user.accountType === 'admin') return { allowed: true, account };
  if (action === 'admin') return deny(`user ${user.username} does not have the admin role`);
  if (account !== user.account) return deny(`user ${user.username} may act only in account ${user.account}, not ${account}`);
  if (user.role === 'read-write') return { allowed: true, account };
  if (user.role === 'read-only' && action === 'read') return { allowed: true, account };
  return deny(`user ${user.username} is read-only`);
}

/** authorize, throwing LadingError('UNAUTHORIZED') with the reason when denied; the account to act in. */
export function requireAuthorized(user: Pick<AuthUser, 'username' | 'account' | 'role' | 'accountType' | 'accountState'>, action: Action, targetAccount?: string): string {
  const d = authorize(user, action, targetAccount);
  if (!d.allowed) throw new LadingError('UNAUTHORIZED', d.reason);
  return d.account;
}
