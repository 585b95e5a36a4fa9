/**
 * The vulnerability database (see feeds/vulndb.ts). Portable types only: text, integer,
 * double precision; JSON and timestamps (ISO 8601, UTC) are stored as text.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema.createTable('vulnerabilities')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('aliases', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('modified', 'text')
    .addColumn('data', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('vulnerabilities_pk', ['source', 'id'])
    .execute();
  await db.schema.createIndex('vulnerabilities_id').on('vulnerabilities').column('id').execute();

  await db.schema.createTable('aliases')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('vuln_id', 'text', (c) => c.notNull())
    .addColumn('alias', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('aliases_pk', ['source', 'vuln_id', 'alias'])
    .execute();
  await db.schema.createIndex('aliases_alias').on('aliases').column('alias').execute();

  await db.schema.createTable('affected')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('vuln_id', 'text', (c) => c.notNull())
    .addColumn('namespace', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_kind', 'text', (c) => c.notNull())
    .addColumn('scheme', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('affected_namespace_name').on('affected').columns(['namespace', 'name']).execute();
  await db.schema.createIndex('affected_source_vuln').on('affected').columns(['source', 'vuln_id']).execute();

  await db.schema.createTable('kev')
    .addColumn('cve', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .execute();

  await db.schema.createTable('epss')
    .addColumn('cve', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('score', 'double precision', (c) => c.notNull())
    .addColumn('percentile', 'double precision', (c) => c.notNull())
    .addColumn('date', 'text', (c) => c.notNull())
    .execute();

  await db.schema.createTable('sync_state')
    .addColumn('source', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('last_sync', 'text')
    .addColumn('last_success', 'text')
    .addColumn('records', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('warnings', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('cursor', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('validators', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();

  await sql`insert into meta (key, value) values ('vulndb_schema', '1')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['sync_state', 'epss', 'kev', 'affected', 'aliases', 'vulnerabilities', 'meta']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
