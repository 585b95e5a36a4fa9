/**
 * Where the layer cache lives for the command line: $LADING_CACHE_DIR, else <data dir>/cache
 * (the data directory as the database's: $LADING_DATA_DIR, $XDG_DATA_HOME/lading,
 * ~/.local/share/lading). Node built-ins only: the command's launcher reads it before anything
 * else is loaded (the V8 code cache sits beside the layers, in <dir>/code).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LADING_CACHE_DIR) return env.LADING_CACHE_DIR;
  if (env.LADING_DATA_DIR) return join(env.LADING_DATA_DIR, 'cache');
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'lading', 'cache');
  return join(env.HOME || homedir(), '.local', 'share', 'lading', 'cache');
}
