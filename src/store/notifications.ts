/**
 * The webhook notifications and their delivery attempts (tables notifications and
 * notification_deliveries, migrations/0010-notifications.ts): the rows the notifier
 * (services/notify.ts) queues, leases and records, and what the dashboard reads of them.
 */
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { Database, NotificationDeliveriesTable, NotificationsTable } from './schema.js';

/** The newest notifications of an account whose delivery failed or whose last attempt errored, newest first. */
export async function failedNotifications(db: Kysely<Database>, account: string, limit: number): Promise<Pick<NotificationsTable, 'id' | 'type' | 'attempts' | 'last_error' | 'last_updated'>[]> {
  return db.selectFrom('notifications').select(['id', 'type', 'attempts', 'last_error', 'last_updated'])
    .where('account', '=', account).where((eb) => eb.or([eb('status', '=', 'failed'), eb('last_error', 'is not', null)]))
    .orderBy('last_updated', 'desc').limit(limit).execute();
}

/** The delivery attempts of these notifications, oldest first. */
export async function deliveryAttempts(db: Kysely<Database>, ids: string[]): Promise<Pick<NotificationDeliveriesTable, 'notification_id' | 'url' | 'at'>[]> {
  if (!ids.length) return [];
  return db.selectFrom('notification_deliveries').select(['notification_id', 'url', 'at']).where('notification_id', 'in', ids).orderBy('id').execute();
}

type Row = Selectable<NotificationsTable>;
type Delivery = Insertable<NotificationDeliveriesTable>;

/** The notifier's rows: queueing, claiming with a lease, recording an attempt, reading. */
export class NotificationRows {
  constructor(private readonly db: Kysely<Database>, private readonly dialect: 'sqlite' | 'postgres') {}

  /** Store a new notification (through `db`: a caller's transaction). */
  async insert(row: Row, db: Kysely<Database> = this.db): Promise<void> {
    await db.insertInto('notifications').values(row).execute();
  }

  /** Store new notifications with multi-row inserts (through `db`: a caller's transaction). */
  async insertMany(rows: readonly Row[], db: Kysely<Database> = this.db): Promise<void> {
    for (let i = 0; i < rows.length; i += 200) await db.insertInto('notifications').values(rows.slice(i, i + 200)).execute();
  }

  /** One of the account's notifications with its delivery log (oldest attempt first). */
  async get(account: string, id: string): Promise<{ row: Row; log: Selectable<NotificationDeliveriesTable>[] } | undefined> {
    const row = await this.db.selectFrom('notifications').selectAll().where('id', '=', id).where('account', '=', account).executeTakeFirst();
    if (!row) return undefined;
    const log = await this.db.selectFrom('notification_deliveries').selectAll().where('notification_id', '=', id).orderBy('id').execute();
    return { row, log };
  }

  /** Every delivery attempt (all accounts), counted by notification type and outcome. */
  async deliveryOutcomes(): Promise<{ type: string; outcome: string; n: number }[]> {
    const r = await sql<{ type: string; outcome: string; n: number | string }>`
        select n.type as type,
          case when d.status_code between 200 and 299 then 'success' when d.status_code is not null then 'http_error' else 'error' end as outcome,
          count(*) as n
        from notification_deliveries d join notifications n on n.id = d.notification_id
        group by 1, 2`.execute(this.db);
    return r.rows.map((row) => ({ type: row.type, outcome: row.outcome, n: Number(row.n) }));
  }

  /** The account's notifications, newest first: `limit + 1` rows from `offset` (the extra one says another page follows). */
  async list(account: string, filter: { status?: string; type?: string }, limit: number, offset: number): Promise<Row[]> {
    let q = this.db.selectFrom('notifications').selectAll().where('account', '=', account);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.type) q = q.where('type', '=', filter.type);
    return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).offset(offset).execute();
  }

  /** Lease up to `batchSize` due notifications to `owner` until `leaseUntil`, counting the attempt (one statement). */
  async claim(owner: string, nowText: string, leaseUntil: string, batchSize: number): Promise<Row[]> {
    const lock = this.dialect === 'postgres' ? sql`for update skip locked` : sql``;
    const result = await sql<Row>`
      update notifications set
        lease_owner = ${owner},
        lease_until = ${leaseUntil},
        attempts = attempts + 1,
        last_updated = ${nowText}
      where id in (
        select id from notifications
        where status = 'pending' and next_attempt_at <= ${nowText} and (lease_until is null or lease_until < ${nowText})
        order by next_attempt_at, id
        limit ${batchSize}
        ${lock}
      )
      returning *`.execute(this.db);
    return result.rows;
  }

  /**
   * Record an attempt in one transaction: the notification's new state, if `owner` still holds
   * its lease for attempt `attempts` (whether it did), and the attempt's log rows either way.
   */
  async record(id: string, owner: string, attempts: number, update: Pick<Row, 'status' | 'targets' | 'next_attempt_at' | 'last_error' | 'last_updated'>, deliveries: Delivery[]): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const updated = await tx.updateTable('notifications').set({ ...update, lease_owner: null, lease_until: null })
        .where('id', '=', id).where('lease_owner', '=', owner).where('attempts', '=', attempts).executeTakeFirst();
      if (deliveries.length) await tx.insertInto('notification_deliveries').values(deliveries).execute();
      return Number(updated.numUpdatedRows) === 1;
    });
  }
}
