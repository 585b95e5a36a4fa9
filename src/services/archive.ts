/**
 * The archive's periodic cycle: Anchore's archive_tasks, applying every account's archive and
 * delete rules (store/archive.ts, ArchiveStore, holds the archive, the rules and how they apply).
 */
import type { ArchiveStore } from '../store/archive.js';
import type { CycleSpec } from './cycles.js';

/** The retention cycle (archive_tasks), run by the watcher role. */
export function archiveCycle(store: ArchiveStore, intervalMs: number): CycleSpec {
  return {
    name: 'archive_tasks',
    intervalMs,
    run: async () => {
      const c = await store.applyRules();
      return `${c.archived} archived, ${c.deleted} deleted from the archive, ${c.failed} failed`;
    },
  };
}
