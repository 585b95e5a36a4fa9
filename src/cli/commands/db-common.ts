/** Where `lading db` and the commands that read the vulnerability database find it, and ages as people read them. */
import type { Command } from 'commander';
import type { FeedDriver } from '../../feeds/driver.js';
import { defaultDbPath } from '../../feeds/vulndb/path.js';

export type Drivers = () => Promise<Record<string, FeedDriver>>;

/** Where the command writes (tests capture it). */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

/** The database to use: the option, else $LADING_DB_URL, else the default file. */
export function resolveDbLocation(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return option || env.LADING_DB_URL || defaultDbPath(env);
}

/** `3d 4h`, `2h 5m`, `4m 10s`, `12s`. */
export function humanAge(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** The --db of the command or of `db` itself, else the default. */
export function location(cmd: Command): string {
  const own = (cmd.opts() as { db?: string }).db;
  const parent = (cmd.parent?.opts() as { db?: string } | undefined)?.db;
  return resolveDbLocation(own ?? parent);
}
