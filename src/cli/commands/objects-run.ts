/**
 * The work of `lading db objects status|verify|migrate`: where the service's analysis documents
 * are kept (store/objects/). The database and object_store settings are the service's: the
 * configuration file (--config, else $LADING_CONFIG) and environment, with --db over db_url.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { LadingConfig } from '../../config/schema.js';
import { LadingError } from '../../errors.js';
import { configuredDocuments } from '../../services/root.js';
import { openDatabase, redactUrl, type DatabaseHandle } from '../../store/db.js';
import { migrateToLatest } from '../../store/migrate.js';
import type { AnalysisDocuments } from '../../store/objects/documents.js';
import { isObjectStoreName } from '../../store/objects/index.js';
import { documentCounts, migrateDocuments, verifyDocuments, type DocumentFailure } from '../../store/objects/migrate.js';
import { OBJECT_STORE_DRIVERS } from '../../store/objects/types.js';
import { humanBytes, json, table } from '../render.js';
import type { CommandIo } from './db-common.js';

export interface ObjectsOptions { config?: string; db?: string }

/** The options of the subcommand and of `db objects` and `db` above it (the nearest wins). */
function options(cmd: Command): ObjectsOptions {
  const out: ObjectsOptions = {};
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.opts() as ObjectsOptions;
    out.config ??= o.config;
    out.db ??= o.db;
  }
  return out;
}

async function withStores<T>(cmd: Command, fn: (db: DatabaseHandle, documents: AnalysisDocuments, config: LadingConfig) => Promise<T>): Promise<T> {
  const o = options(cmd);
  const config = loadConfig({ ...(o.config ? { file: o.config } : {}), overrides: o.db ? { db_url: o.db } : {} });
  const db = await openDatabase(config.db_url);
  const documents = configuredDocuments(config);
  try {
    await migrateToLatest(db.kysely);
    return await fn(db, documents, config);
  } finally {
    // The s3 driver's pool: idle connections would keep the command alive for seconds after it is done.
    await documents.close();
    await db.close();
  }
}

const where = (db: DatabaseHandle) => (db.dialect === 'postgres' ? redactUrl(db.location) : db.location);

function printFailures(io: CommandIo, failed: DocumentFailure[]): void {
  for (const f of failed.slice(0, 50)) io.err(`error: ${f.error}\n`);
  if (failed.length > 50) io.err(`error: … and ${failed.length - 50} more\n`);
}

export async function objectsStatus(io: CommandIo, o: { output: 'table' | 'json' }, cmd: Command): Promise<void> {
  await withStores(cmd, async (db, documents, config) => {
    const counts = await documentCounts(db.kysely);
    if (o.output === 'json') {
      io.out(json({ database: where(db), driver: config.object_store.driver, compression: config.object_store.compression, stores: counts }));
      return;
    }
    io.out(`database ${where(db)}; new documents go to ${config.object_store.driver} (${documents.stores.current.location}), ${config.object_store.compression}-compressed\n`);
    io.out(table(['STORE', 'DOCUMENTS', 'BYTES', 'PER DOCUMENT'], counts.map((c) => [c.store, c.documents, humanBytes(c.bytes), humanBytes(c.documents ? Math.round(c.bytes / c.documents) : 0)])));
  });
}

export async function objectsVerify(io: CommandIo, cmd: Command): Promise<void> {
  await withStores(cmd, async (db, documents) => {
    const r = await verifyDocuments(db.kysely, documents);
    printFailures(io, r.failed);
    io.out(`${r.checked} documents checked, ${r.failed.length} unreadable\n`);
    if (r.failed.length) process.exitCode = 1;
  });
}

export async function objectsMigrate(io: CommandIo, o: { to: string; recompress?: boolean }, cmd: Command): Promise<void> {
  if (!isObjectStoreName(o.to)) throw new LadingError('BAD_INPUT', `--to: expected one of ${OBJECT_STORE_DRIVERS.join(', ')}, got ${o.to}`);
  const to = o.to;
  await withStores(cmd, async (db, documents) => {
    const target = documents.stores.get(to);
    io.err(`moving analysis documents of ${where(db)} to ${to} (${target.location})\n`);
    let last = 0;
    const r = await migrateDocuments(db.kysely, documents, to, {
      recompress: o.recompress === true,
      onProgress: (done, total) => {
        if (done === total || Date.now() - last > 2000) {
          last = Date.now();
          io.err(`${done}/${total}\n`);
        }
      },
    });
    printFailures(io, r.failed);
    io.out(`${r.moved} moved (${humanBytes(r.bytes)}), ${r.already} already in ${to}, ${r.changed} saved again meanwhile, ${r.failed.length} failed\n`);
    if (r.failed.length || r.changed) {
      io.err(`not every document is in ${to} yet: run the command again${r.failed.length ? ' once the errors above are fixed' : ''}\n`);
      process.exitCode = 1;
    } else if (to !== documents.stores.config.driver) {
      io.err(`every document is in ${to}: set object_store.driver to ${to} so that new ones go there too\n`);
    }
  });
}
