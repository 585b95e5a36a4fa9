/**
 * The process the outbox crash test kills (services/finding-changes.test.ts): re-matches the
 * database at argv[2] through the service's composition root; once the re-match has committed and
 * before its outbox is delivered, prints `committed` and waits to be killed.
 */
import { loadConfig } from '../config/load.js';
import { composeRoot } from '../services/root.js';
import { rematchFindings } from '../services/freshness.js';
import { openDatabase } from '../store/db.js';

const handle = await openDatabase(process.argv[2]!);
const config = loadConfig({ yaml: '', env: {}, overrides: { webhooks: { url: 'http://127.0.0.1:9/hook' } } });
const root = composeRoot(handle, { config, role: 'feeds', hostId: 'child' });
await rematchFindings(root, {
  afterCommit: async () => {
    process.stdout.write('committed\n');
    await new Promise((resolve) => setTimeout(resolve, 120_000));
  },
});
process.stdout.write('finished\n');
await handle.close();
