/**
 * The `registries` table (0006-registries): an account's registry credentials, one row per
 * (account, registry). The password column holds a SecretBox envelope, never plaintext: sealing and
 * opening it, validation and logins are services/registries.ts's (RegistryStore), which reads and
 * writes its rows only through this store.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, RegistriesTable } from './schema.js';

/** A row without its password envelope: what listings show. */
export type RegistryRow = Omit<Selectable<RegistriesTable>, 'registry_pass'>;

/** What a pull needs of a row: its registry pattern, type, user, password envelope and TLS setting. */
export type RegistryAccessRow = Pick<Selectable<RegistriesTable>, 'registry' | 'registry_type' | 'registry_user' | 'registry_pass' | 'registry_verify' | 'registry_ca_cert'>;

/** The fields an add or update writes (the envelope already sealed). */
export type RegistryWrite = Pick<RegistriesTable, 'registry_name' | 'registry_type' | 'registry_user' | 'registry_pass' | 'registry_verify' | 'registry_ca_cert'>;

const SHOWN = ['account', 'registry', 'registry_name', 'registry_type', 'registry_user', 'registry_verify', 'registry_ca_cert', 'created_at', 'last_updated'] as const;

export class RegistryRows {
  constructor(private readonly db: Kysely<Database>) {}

  /** The account's rows, by registry. */
  list(account: string): Promise<RegistryRow[]> {
    return this.db.selectFrom('registries').select(SHOWN).where('account', '=', account).orderBy('registry').execute();
  }

  get(account: string, registry: string): Promise<RegistryRow | undefined> {
    return this.db.selectFrom('registries').select(SHOWN).where('account', '=', account).where('registry', '=', registry).executeTakeFirst();
  }

  /** The stored password envelope. */
  async passwordEnvelope(account: string, registry: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('registries').select('registry_pass').where('account', '=', account).where('registry', '=', registry).executeTakeFirst();
    return row?.registry_pass;
  }

  /** Insert a row; false when the account already has one for this registry. */
  async insert(account: string, registry: string, values: RegistryWrite, at: string): Promise<boolean> {
    const res = await this.db.insertInto('registries').values({ account, registry, ...values, created_at: at, last_updated: at })
      .onConflict((oc) => oc.columns(['account', 'registry']).doNothing()).executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Replace a row's fields; false when there is none. */
  async update(account: string, registry: string, values: RegistryWrite, at: string): Promise<boolean> {
    const res = await this.db.updateTable('registries').set({ ...values, last_updated: at })
      .where('account', '=', account).where('registry', '=', registry).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async delete(account: string, registry: string): Promise<boolean> {
    const res = await this.db.deleteFrom('registries').where('account', '=', account).where('registry', '=', registry).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Every row of the account with what a pull needs (the caller picks the one matching its image). */
  accessRows(account: string): Promise<RegistryAccessRow[]> {
    return this.db.selectFrom('registries').select(['registry', 'registry_type', 'registry_user', 'registry_pass', 'registry_verify', 'registry_ca_cert'])
      .where('account', '=', account).execute();
  }
}
