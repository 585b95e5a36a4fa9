/**
 * The service registry (store/migrations/0014-services.ts): every process records its roles on
 * start, refreshes a heartbeat every `cycle_timers.heartbeat`, and marks them stopped on a clean
 * stop. A role whose heartbeat is older than three intervals is shown as down (Anchore's
 * `orphaned`); `/system` and `/system/services` list them all.
 */
import type { Kysely } from 'kysely';
import type { Database, ServiceRegistryTable } from './schema.js';

export interface ServiceRecord {
  hostid: string;
  servicename: string;
  baseUrl?: string;
  version: string;
  startedAt: string;
  heartbeatAt: string;
  stoppedAt?: string;
  /** Heartbeat recent and not stopped. */
  up: boolean;
}


export class ServiceRegistry {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>, private readonly heartbeatMs: number, private readonly now: () => Date = () => new Date()) {
    this.db = db;
  }

  /** Record (or re-record) this process's roles as running. */
  async register(hostid: string, services: string[], version: string, baseUrl?: string): Promise<void> {
    const t = this.now().toISOString();
    for (const servicename of services) {
      const row: ServiceRegistryTable = { hostid, servicename, base_url: baseUrl ?? null, version, started_at: t, heartbeat_at: t, stopped_at: null };
      await this.db.insertInto('service_registry').values(row)
        .onConflict((oc) => oc.columns(['hostid', 'servicename']).doUpdateSet({ base_url: row.base_url, version, started_at: t, heartbeat_at: t, stopped_at: null })).execute();
    }
  }

  async heartbeat(hostid: string): Promise<void> {
    await this.db.updateTable('service_registry').set({ heartbeat_at: this.now().toISOString() }).where('hostid', '=', hostid).where('stopped_at', 'is', null).execute();
  }

  async stopped(hostid: string): Promise<void> {
    await this.db.updateTable('service_registry').set({ stopped_at: this.now().toISOString() }).where('hostid', '=', hostid).execute();
  }

  async list(filter: { servicename?: string; hostid?: string } = {}): Promise<ServiceRecord[]> {
    let q = this.db.selectFrom('service_registry').selectAll().orderBy('servicename').orderBy('hostid');
    if (filter.servicename) q = q.where('servicename', '=', filter.servicename);
    if (filter.hostid) q = q.where('hostid', '=', filter.hostid);
    const fresh = this.now().getTime() - 3 * this.heartbeatMs;
    return (await q.execute()).map((r) => ({
      hostid: r.hostid, servicename: r.servicename, ...(r.base_url ? { baseUrl: r.base_url } : {}), version: r.version,
      startedAt: r.started_at, heartbeatAt: r.heartbeat_at, ...(r.stopped_at ? { stoppedAt: r.stopped_at } : {}),
      up: r.stopped_at === null && Date.parse(r.heartbeat_at) >= fresh,
    }));
  }

  /** Forget a record (DELETE /system/services/{name}/{host}); false if there was none. */
  async remove(servicename: string, hostid: string): Promise<boolean> {
    const r = await this.db.deleteFrom('service_registry').where('servicename', '=', servicename).where('hostid', '=', hostid).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
