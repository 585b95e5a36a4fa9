import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the database lives (the CLI's and, by default, the service's: src/config uses the same file): $LADING_DATA_DIR/lading.db, else
 * $XDG_DATA_HOME/lading/lading.db, else ~/.local/share/lading/lading.db.
 */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LADING_DATA_DIR) return join(env.LADING_DATA_DIR, 'lading.db');
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'lading', 'lading.db');
  return join(env.HOME || homedir(), '.local', 'share', 'lading', 'lading.db');
}
