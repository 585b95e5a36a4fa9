import { join } from 'node:path';
import { dataDir } from '../../data-dir.js';

/**
 * Where the database lives (the CLI's and, by default, the service's: src/config uses the same file): $LADING_DATA_DIR/lading.db, else
 * $XDG_DATA_HOME/lading/lading.db, else ~/.local/share/lading/lading.db.
 */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(dataDir(env), 'lading.db');
}
