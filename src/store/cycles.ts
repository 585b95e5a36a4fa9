/**
 * The rows of the periodic cycles (table service_cycles, migrations/0011-cycles.ts): one per
 * cycle, claimed with a lease by one conditional UPDATE. services/cycles.ts (CycleRunner) runs the
 * cycles over these statements.
 */
import type { Kysely } from 'kysely';
import type { Database, ServiceCyclesTable } from './schema.js';

export class CycleRows {
  constructor(private readonly db: Kysely<Database>) {}

  async get(name: string): Promise<Pick<ServiceCyclesTable, 'next_due' | 'last_finished' | 'lease_owner'> | undefined> {
    return this.db.selectFrom('service_cycles').select(['next_due', 'last_finished', 'lease_owner']).where('name', '=', name).executeTakeFirst();
  }

  /** Create a never-run cycle's row, due at `due`, unless another process just did. */
  async create(name: string, due: string): Promise<void> {
    await this.db.insertInto('service_cycles').values({
      name, lease_owner: null, lease_until: null, next_due: due, runs: 0, last_started: null, last_finished: null,
      last_owner: null, last_status: null, last_error: null, last_summary: null, last_duration_ms: null,
    }).onConflict((oc) => oc.column('name').doNothing()).execute();
  }

  /** Move an unleased cycle's due time from `from` to `to` (nothing when it changed meanwhile). */
  async moveDue(name: string, from: string, to: string): Promise<void> {
    await this.db.updateTable('service_cycles').set({ next_due: to })
      .where('name', '=', name).where('next_due', '=', from).where('lease_owner', 'is', null).execute();
  }

  /** Lease a cycle to `owner` when due at `now` (or `force`) and no live lease holds it; whether it did. */
  async claim(name: string, owner: string, now: string, leaseUntil: string, force: boolean): Promise<boolean> {
    let q = this.db.updateTable('service_cycles')
      .set({ lease_owner: owner, lease_until: leaseUntil, last_started: now })
      .where('name', '=', name)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]));
    if (!force) q = q.where('next_due', '<=', now);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Extend `owner`'s lease; false when it lost it. */
  async renew(name: string, owner: string, leaseUntil: string): Promise<boolean> {
    const r = await this.db.updateTable('service_cycles').set({ lease_until: leaseUntil })
      .where('name', '=', name).where('lease_owner', '=', owner).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Record a run's outcome and release `owner`'s lease (nothing when it lost it). */
  async finish(name: string, owner: string, outcome: Pick<ServiceCyclesTable, 'next_due' | 'last_finished' | 'last_status' | 'last_error' | 'last_summary' | 'last_duration_ms'>): Promise<void> {
    await this.db.updateTable('service_cycles').set((eb) => ({ ...outcome, lease_owner: null, lease_until: null, runs: eb('runs', '+', 1), last_owner: owner }))
      .where('name', '=', name).where('lease_owner', '=', owner).execute();
  }

  async all(): Promise<ServiceCyclesTable[]> {
    return this.db.selectFrom('service_cycles').selectAll().orderBy('name').execute();
  }

  async setDue(name: string, due: string): Promise<void> {
    await this.db.updateTable('service_cycles').set({ next_due: due }).where('name', '=', name).execute();
  }
}
