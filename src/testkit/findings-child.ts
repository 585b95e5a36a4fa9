/**
 * The process the findings crash test kills (store/findings.crash.test.ts): re-matches the
 * database at argv[2] two change rows per batch; in the second batch's transaction, just before
 * its commit, prints `mid` and waits to be killed.
 */
import { VulnDb } from '../feeds/vulndb.js';
import { openDatabase } from '../store/db.js';
import { FindingsStore } from '../store/findings.js';

const handle = await openDatabase(process.argv[2]!);
const store = new FindingsStore(handle.kysely, new VulnDb(handle));
let batch = 0;
await store.rematch({
  batchChanges: 2,
  summaries: true,
  beforeCommit: async () => {
    if (++batch < 2) return;
    process.stdout.write('mid\n');
    await new Promise((resolve) => setTimeout(resolve, 120_000));
  },
});
process.stdout.write('finished\n');
await handle.close();
