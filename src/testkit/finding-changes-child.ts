/**
 * The process the outbox crash test kills (services/finding-changes.test.ts): re-matches the
 * database at argv[2] through the service's composition root; once the re-match has committed and
 * before its outbox is delivered, prints `committed` and waits to be killed; with argv[3]
 * `announced`, it waits instead once every vuln_update announcement is committed, before the
 * re-evaluations.
 */
import { loadConfig } from '../config/load.js';
import { composeRoot } from '../services/root.js';
import { rematchFindings } from '../services/freshness.js';
import { openDatabase } from '../store/db.js';

const handle = await openDatabase(process.argv[2]!);
const config = loadConfig({ yaml: '', env: {}, overrides: { webhooks: { url: 'http://127.0.0.1:9/hook' } } });
const root = composeRoot(handle, { config, role: 'feeds', hostId: 'child' });
const at = process.argv[3] ?? 'committed';
await rematchFindings(root, {
  afterCommit: async () => {
    if (at !== 'committed') return;
    process.stdout.write('committed\n');
    await new Promise((resolve) => setTimeout(resolve, 120_000));
  },
  onProgress: (phase) => {
    if (phase !== at) return;
    process.stdout.write(`${phase}\n`);
    // onProgress is synchronous: block here until killed.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120_000);
  },
});
process.stdout.write('finished\n');
await handle.close();
