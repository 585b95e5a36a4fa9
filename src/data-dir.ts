/**
 * Where Lading keeps its data by default, the one rule the database path, the layer cache and the
 * service's configuration share. Node built-ins only: the command's launcher reads it (through
 * analyze/cache/dir.ts) before anything else is loaded.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** $XDG_DATA_HOME/lading, else ~/.local/share/lading. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'lading');
  return join(env.HOME || homedir(), '.local', 'share', 'lading');
}

/** $LADING_DATA_DIR, else the default above. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LADING_DATA_DIR || defaultDataDir(env);
}
