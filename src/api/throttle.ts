/**
 * Login throttling: failed password logins (HTTP basic auth and POST /oauth/token) are counted per
 * user name and per client address over a sliding window (`auth.failed_login_window`). A user name
 * with `auth.max_failed_logins_per_user` failures in the window, or a client address with
 * `auth.max_failed_logins_per_client`, gets 429 with Retry-After (the seconds until enough failures
 * have aged out) without its password being checked at all. A successful login clears the user
 * name's failures (not the client's). Every failed login is logged with the user name and the
 * client address, never the password. The counts live in the API process (several API processes
 * each count their own).
 */
import type { LadingConfig } from '../config/schema.js';
import { ApiError } from './errors.js';

/** Keys kept per kind at most (the oldest are forgotten first), so guessing names cannot fill memory. */
const MAX_KEYS = 50_000;

class Window {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly max: number, private readonly windowMs: number) {}

  private recent(key: string, now: number): number[] {
    const list = this.failures.get(key);
    if (!list) return [];
    const kept = list.filter((t) => t > now - this.windowMs);
    if (kept.length) this.failures.set(key, kept);
    else this.failures.delete(key);
    return kept;
  }

  /** Seconds to wait, or 0 when the key may try now. */
  retryAfter(key: string, now: number): number {
    const list = this.recent(key, now);
    if (list.length < this.max) return 0;
    const freedAt = list[list.length - this.max]! + this.windowMs;
    return Math.max(1, Math.ceil((freedAt - now) / 1000));
  }

  add(key: string, now: number): void {
    const list = this.recent(key, now);
    list.push(now);
    if (list.length > this.max) list.splice(0, list.length - this.max);
    this.failures.delete(key);
    this.failures.set(key, list);
    if (this.failures.size > MAX_KEYS) this.failures.delete(this.failures.keys().next().value!);
  }

  clear(key: string): void {
    this.failures.delete(key);
  }
}

export class LoginThrottle {
  private readonly users: Window;
  private readonly clients: Window;

  constructor(
    config: Pick<LadingConfig, 'auth'>,
    private readonly log: (message: string) => void = (m) => process.stderr.write(`lading api: ${m}\n`),
    private readonly now: () => number = Date.now,
  ) {
    const windowMs = config.auth.failed_login_window * 1000;
    this.users = new Window(config.auth.max_failed_logins_per_user, windowMs);
    this.clients = new Window(config.auth.max_failed_logins_per_client, windowMs);
  }

  /** Throws a 429 (with retryAfter seconds) when this user name or client may not try now. */
  check(username: string, client: string): void {
    const now = this.now();
    const user = this.users.retryAfter(username, now);
    const address = this.clients.retryAfter(client, now);
    if (!user && !address) return;
    const why = user ? `too many failed logins for user ${JSON.stringify(username.slice(0, 128))}` : `too many failed logins from ${client}`;
    throw new ApiError(429, `${why}: try again in ${Math.max(user, address)} s`, { retry_after: Math.max(user, address) });
  }

  failed(username: string, client: string, via: string): void {
    const now = this.now();
    this.users.add(username, now);
    this.clients.add(client, now);
    this.log(`failed login for user ${JSON.stringify(username.slice(0, 128))} from ${client} (${via})`);
  }

  succeeded(username: string): void {
    this.users.clear(username);
  }
}

export function loginThrottle(config: Pick<LadingConfig, 'auth'>, log?: (message: string) => void): LoginThrottle {
  return new LoginThrottle(config, log);
}
