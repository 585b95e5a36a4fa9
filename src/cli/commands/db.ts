/**
 * `lading db …`: the vulnerability database. status, update (online sync), import (feed files, or
 * a whole-database bundle), export (a bundle), path; and `db objects`: where the service keeps its
 * analysis documents (status, verify, migrate between object stores).
 * The database is `--db PATH|URL`, else $LADING_DB_URL, else $LADING_DATA_DIR/lading.db, else
 * $XDG_DATA_HOME/lading/lading.db, else ~/.local/share/lading/lading.db.
 */
import { Command, Option } from 'commander';
import type { CommandIo, Drivers } from './db-common.js';

export { humanAge, resolveDbLocation, type CommandIo, type Drivers } from './db-common.js';

const STDIO: CommandIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

const repeatable = (v: string, prev: string[] | undefined) => [...(prev ?? []), ...v.split(',').map((s) => s.trim()).filter(Boolean)];
const dbOption = () => new Option('--db <path|url>', 'database file or postgres:// URL (default: $LADING_DB_URL, else $LADING_DATA_DIR/lading.db, else ~/.local/share/lading/lading.db)');

export function dbCommand(drivers: Drivers, io: CommandIo = STDIO): Command {
  const cmd = new Command('db')
    .description('the vulnerability database: status, update, import, export')
    .addOption(dbOption());

  addPathCommand(cmd, io);
  addStatusCommand(cmd, io);
  addUpdateCommand(cmd, drivers, io);
  addImportCommand(cmd, drivers, io);
  addExportCommand(cmd, io);
  addObjectsCommand(cmd, io);
  return cmd;
}

/** `lading db path`: where the database is. */
function addPathCommand(cmd: Command, io: CommandIo): void {
  cmd.command('path')
    .description('print where the vulnerability database is')
    .addOption(dbOption())
    .action(async (_o: unknown, self: Command) => {
      (await import('./db-run.js')).dbPath(io, self);
    });
}

/** `lading db status`: records, last sync, age and status per source. */
function addStatusCommand(cmd: Command, io: CommandIo): void {
  cmd.command('status')
    .description('per source: records, last sync, age, status')
    .addOption(dbOption())
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (o: { output: 'table' | 'json' }, self: Command) => {
      await (await import('./db-run.js')).dbStatus(io, o, self);
    });
}

/** `lading db update`: sync online; exits 2 when any source failed. */
function addUpdateCommand(cmd: Command, drivers: Drivers, io: CommandIo): void {
  cmd.command('update')
    .description('sync the vulnerability data online (all sources, or those named); exits 2 when any failed')
    .addOption(dbOption())
    .addOption(new Option('--source <id>', 'sync only this source (repeatable, or comma-separated)').argParser(repeatable))
    .addOption(new Option('--base-url <source=url>', 'fetch this source from a mirror (repeatable)')
      .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .action(async (o: { source?: string[]; baseUrl?: string[] }, self: Command) => {
      await (await import('./db-run.js')).dbUpdate(io, drivers, o, self);
    });
}

/** `lading db import`: feed files, directories or an exported database, offline. */
function addImportCommand(cmd: Command, drivers: Drivers, io: CommandIo): void {
  cmd.command('import')
    .description('import feed files or directories offline (the driver is detected, or named with --source), or a whole database exported with `lading db export`')
    .argument('<path...>', 'files or directories')
    .addOption(dbOption())
    .option('--source <id>', 'the feed the files belong to')
    .option('--replace', 'replace everything the feed had (by default an import merges by namespace: the releases it brings replace those releases, the others are kept)')
    .action(async (paths: string[], o: { source?: string; replace?: boolean }, self: Command) => {
      await (await import('./db-run.js')).dbImport(io, drivers, paths, o, self);
    });
}

/** `lading db export`: the whole database to one portable file. */
function addExportCommand(cmd: Command, io: CommandIo): void {
  cmd.command('export')
    .description('write the whole vulnerability database to one portable file (gzip JSON lines), for `lading db import` elsewhere')
    .argument('<file>', 'the bundle to write')
    .addOption(dbOption())
    .action(async (file: string, _o: unknown, self: Command) => {
      await (await import('./db-run.js')).dbExport(io, file, self);
    });
}

/** `lading db objects status|verify|migrate`: the analysis documents and their object stores. */
function addObjectsCommand(cmd: Command, io: CommandIo): void {
  const objects = cmd.command('objects')
    .description("the service's analysis documents: where they are kept (object_store), checked, moved between stores")
    .option('--config <file>', 'the service configuration (YAML) naming object_store; default $LADING_CONFIG')
    .addOption(dbOption());
  const run = () => import('./objects-run.js');
  objects.command('status')
    .description('documents and stored bytes per object store')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (o: { output: 'table' | 'json' }, self: Command) => (await run()).objectsStatus(io, o, self));
  objects.command('verify')
    .description('read every document through its store and check it; exits 1 when any is missing or corrupt')
    .action(async (_o: unknown, self: Command) => (await run()).objectsVerify(io, self));
  objects.command('migrate')
    .description('move every document to one object store, checking each; safe to run again after an interruption')
    .addOption(new Option('--to <driver>', 'the store to move them to').choices(['db', 'dir', 's3']).makeOptionMandatory())
    .option('--recompress', 'encode each document again with object_store.compression while moving it')
    .action(async (o: { to: string; recompress?: boolean }, self: Command) => (await run()).objectsMigrate(io, o, self));
}
