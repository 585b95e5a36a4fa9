/**
 * Where the layer cache lives for the command line: $LADING_CACHE_DIR, else <data dir>/cache
 * (the data directory as the database's: $LADING_DATA_DIR, $XDG_DATA_HOME/lading,
 * ~/.local/share/lading). Node built-ins only: the command's launcher reads it before anything
 * else is loaded (the V8 code cache sits beside the layers, in <dir>/code).
 */
import { join } from 'node:path';
import { dataDir } from '../../data-dir.js';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LADING_CACHE_DIR || join(dataDir(env), 'cache');
}
