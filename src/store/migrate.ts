/**
 * Schema migrations for every table Lading keeps, one ordered set for SQLite and PostgreSQL,
 * run by kysely's Migrator (which locks, so concurrent starters apply each migration once).
 * Migrations live in migrations/, one file each, listed in migrations/index.ts; names sort in
 * the order they apply.
 */
import { Migrator, type Kysely, type Migration, type MigrationProvider, type MigrationResult } from 'kysely';
import { LadingError, describeError } from '../errors.js';
import { MIGRATIONS } from './migrations/index.js';
import type { Database } from './schema.js';

class MapProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

export function migrator(db: Kysely<Database>, migrations: Record<string, Migration> = MIGRATIONS): Migrator {
  // Migrations touch separate tables, so one added later with a lower number still applies.
  return new Migrator({ db, provider: new MapProvider(migrations), allowUnorderedMigrations: true });
}

/** Apply every pending migration; returns the names applied now. Throws naming the migration that failed. */
export async function migrateToLatest(db: Kysely<Database>, migrations: Record<string, Migration> = MIGRATIONS): Promise<string[]> {
  const { error, results } = await migrator(db, migrations).migrateToLatest();
  if (error) {
    const failed = results?.find((r: MigrationResult) => r.status === 'Error');
    throw new LadingError('INTERNAL', `database migration${failed ? ` ${failed.migrationName}` : ''} failed: ${describeError(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** The newest migration this build knows: the schema version written into export bundles. */
export function latestSchema(migrations: Record<string, Migration> = MIGRATIONS): string {
  const names = Object.keys(migrations).sort();
  return names[names.length - 1] ?? '';
}

/** Every migration name this build knows, in order. */
export function knownSchemas(migrations: Record<string, Migration> = MIGRATIONS): string[] {
  return Object.keys(migrations).sort();
}

/** The newest migration applied to this database ('' for none). */
export async function appliedSchema(db: Kysely<Database>, migrations: Record<string, Migration> = MIGRATIONS): Promise<string> {
  const list = await migrator(db, migrations).getMigrations();
  const applied = list.filter((m) => m.executedAt !== undefined).map((m) => m.name).sort();
  return applied[applied.length - 1] ?? '';
}
