/**
 * Where the Lading service is and who is asking: `--url --user/--u --pass/--p --as-account --json
 * --insecure`, given before the command (`lading --url X image list`) or after it, then the
 * environment (LADING_URL, LADING_USER, LADING_PASS, LADING_ACCOUNT, with ANCHORE_CLI_* as
 * fallbacks), then the default URL.
 */
import { Command, Option } from 'commander';

export const DEFAULT_URL = 'http://127.0.0.1:8228/v1';

export interface Connection {
  /** The API base, always ending in the version node (…/v1), no trailing slash. */
  url: string;
  user?: string;
  pass?: string;
  /** Sent as x-anchore-account. */
  account?: string;
  json: boolean;
  /** Do not verify the service's TLS certificate. */
  insecure: boolean;
}

interface ConnectionFlags {
  url?: string;
  user?: string;
  u?: string;
  pass?: string;
  p?: string;
  asAccount?: string;
  json?: boolean;
  insecure?: boolean;
}

export interface ConnectionOptionSet {
  /** false where the command's own --insecure means something else (registry add: skip TLS checks on the registry). */
  insecure?: boolean;
}

export function addConnectionOptions(cmd: Command, set: ConnectionOptionSet = {}): Command {
  cmd
    .option('--url <url>', `the Lading service API (env LADING_URL; default ${DEFAULT_URL})`)
    .option('--user <name>', 'user name (env LADING_USER)')
    .addOption(new Option('--u <name>', 'user name (anchore-cli spelling)').hideHelp())
    .option('--pass <password>', 'password (env LADING_PASS)')
    .addOption(new Option('--p <password>', 'password (anchore-cli spelling)').hideHelp())
    .option('--as-account <name>', 'act in this account (admins; env LADING_ACCOUNT)')
    .option('--json', 'print the raw API JSON');
  if (set.insecure !== false) cmd.option('--insecure', 'do not verify the service\'s TLS certificate');
  return cmd;
}

/** Option values of the command and its parents, the command's own winning; `skipOwn` names keys the command uses for other things. */
function flagsOf(cmd: Command, skipOwn: string[]): ConnectionFlags {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) chain.unshift(c);
  const merged: Record<string, unknown> = {};
  for (const c of chain) {
    for (const [k, v] of Object.entries(c.opts())) {
      if (v !== undefined && !(c === cmd && skipOwn.includes(k))) merged[k] = v;
    }
  }
  return merged as ConnectionFlags;
}

function fromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return env[`LADING_${name}`] || env[`ANCHORE_CLI_${name}`] || undefined;
}

/** `http://host:8228` → `http://host:8228/v1`; a path already ending in /v1 is kept. */
export function apiBase(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, '');
  return /\/v1$/.test(trimmed) ? trimmed : `${trimmed}/v1`;
}

export function connectionOf(cmd: Command, set: ConnectionOptionSet = {}, env: NodeJS.ProcessEnv = process.env): Connection {
  const f = flagsOf(cmd, set.insecure === false ? ['insecure'] : []);
  const user = f.user ?? f.u ?? fromEnv(env, 'USER');
  const pass = f.pass ?? f.p ?? fromEnv(env, 'PASS');
  const account = f.asAccount ?? fromEnv(env, 'ACCOUNT');
  return {
    url: apiBase(f.url ?? fromEnv(env, 'URL') ?? DEFAULT_URL),
    ...(user !== undefined ? { user } : {}),
    ...(pass !== undefined ? { pass } : {}),
    ...(account !== undefined ? { account } : {}),
    json: f.json === true,
    insecure: f.insecure === true,
  };
}

/** A service was named (flag or environment), so commands that can work either way should ask it. */
export function serviceConfigured(cmd: Command, env: NodeJS.ProcessEnv = process.env): boolean {
  return flagsOf(cmd, []).url !== undefined || fromEnv(env, 'URL') !== undefined;
}
