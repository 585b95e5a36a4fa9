/**
 * `lading db …`: the vulnerability database. status, update (online sync), import (feed files, or
 * a whole-database bundle), export (a bundle), path.
 * The database is `--db PATH|URL`, else $LADING_DB_URL, else $LADING_DATA_DIR/lading.db, else
 * $XDG_DATA_HOME/lading/lading.db, else ~/.local/share/lading/lading.db.
 */
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { LadingError } from '../../errors.js';
import type { FeedDriver } from '../../feeds/driver.js';
import { exportDb, importPaths } from '../../feeds/import.js';
import { syncSource, type SyncResult } from '../../feeds/sync.js';
import { defaultDbPath, type SourceStatus, type VulnDb } from '../../feeds/vulndb.js';
import { openVulnDb, parseDatabaseUrl, redactUrl } from '../../store/db.js';
import { humanBytes, json, keyValues, table } from '../render.js';

type Drivers = () => Promise<Record<string, FeedDriver>>;

/** Where the command writes (tests capture it). */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

const STDIO: CommandIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

/** The database to use: the option, else $LADING_DB_URL, else the default file. */
export function resolveDbLocation(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return option || env.LADING_DB_URL || defaultDbPath(env);
}

/** For messages: a file path as is, a URL without its password. */
export function describeLocation(url: string): string {
  const p = parseDatabaseUrl(url);
  return p.dialect === 'sqlite' ? p.path : redactUrl(p.connectionString);
}

/** `3d 4h`, `2h 5m`, `4m 10s`, `12s`. */
export function humanAge(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

const n = (x: number) => x.toLocaleString('en-US');
const repeatable = (v: string, prev: string[] | undefined) => [...(prev ?? []), ...v.split(',').map((s) => s.trim()).filter(Boolean)];
const dbOption = () => new Option('--db <path|url>', 'database file or postgres:// URL (default: $LADING_DB_URL, else $LADING_DATA_DIR/lading.db, else ~/.local/share/lading/lading.db)');

function location(cmd: Command): string {
  const own = (cmd.opts() as { db?: string }).db;
  const parent = (cmd.parent?.opts() as { db?: string } | undefined)?.db;
  return resolveDbLocation(own ?? parent);
}

async function withDb<T>(url: string, fn: (db: VulnDb) => Promise<T>): Promise<T> {
  const db = await openVulnDb(url);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Print warnings to stderr, the first `limit` of each source and a count of the rest. */
function warningPrinter(io: CommandIo, limit = 20): { warn: (m: string) => void; flush: () => void } {
  let shown = 0;
  let hidden = 0;
  return {
    warn: (m) => {
      if (shown < limit) {
        shown++;
        io.err(`warning: ${m}\n`);
      } else hidden++;
    },
    flush: () => {
      if (hidden) io.err(`warning: … and ${n(hidden)} more warnings\n`);
      shown = 0;
      hidden = 0;
    },
  };
}

function statusTable(rows: SourceStatus[]): string {
  return table(['SOURCE', 'KIND', 'RECORDS', 'VULNERABILITIES', 'AFFECTED', 'LAST SYNC', 'LAST SUCCESS', 'AGE', 'STATUS'],
    rows.map((s) => [s.source, s.kind ?? '-', n(s.records), n(s.counts.vulnerabilities), n(s.counts.affected + s.counts.kev + s.counts.epss),
      s.lastSync ?? '-', s.lastSuccess ?? '-', humanAge(s.ageSeconds), s.status]));
}

function syncLine(r: SyncResult): string {
  const secs = `${(r.durationMs / 1000).toFixed(1)}s`;
  if (!r.ok) return `${r.source}: FAILED after ${secs}: ${r.error}`;
  const a = r.applied!;
  if (r.notModified && a.records === 0) return `${r.source}: not modified (${secs})`;
  const parts = [`${n(a.vulnerabilities)} vulnerabilities`, `${n(a.affected)} affected`];
  if (a.kev) parts.push(`${n(a.kev)} KEV`);
  if (a.epss) parts.push(`${n(a.epss)} EPSS`);
  return `${r.source}: ${a.full ? 'replaced' : 'updated'}, ${parts.join(', ')}${a.skipped ? `, ${n(a.skipped)} skipped` : ''} (${secs})`;
}

export function dbCommand(drivers: Drivers, io: CommandIo = STDIO): Command {
  const cmd = new Command('db')
    .description('the vulnerability database: status, update, import, export')
    .addOption(dbOption());

  addPathCommand(cmd, io);
  addStatusCommand(cmd, io);
  addUpdateCommand(cmd, drivers, io);
  addImportCommand(cmd, drivers, io);
  addExportCommand(cmd, io);
  return cmd;
}

/** `lading db path`: where the database is. */
function addPathCommand(cmd: Command, io: CommandIo): void {
  cmd.command('path')
    .description('print where the vulnerability database is')
    .addOption(dbOption())
    .action((_o: unknown, self: Command) => {
      io.out(describeLocation(location(self)) + '\n');
    });
}

/** `lading db status`: records, last sync, age and status per source. */
function addStatusCommand(cmd: Command, io: CommandIo): void {
  cmd.command('status')
    .description('per source: records, last sync, age, status')
    .addOption(dbOption())
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (o: { output: 'table' | 'json' }, self: Command) => {
      const url = location(self);
      const where = describeLocation(url);
      const parsed = parseDatabaseUrl(url);
      if (parsed.dialect === 'sqlite' && parsed.path !== ':memory:' && !existsSync(parsed.path)) {
        if (o.output === 'json') io.out(json({ database: where, sources: [] }));
        else io.out(`Database: ${where}\nNo vulnerability data yet: run \`lading db update\` or \`lading db import\`.\n`);
        return;
      }
      await withDb(url, async (db) => {
        const [sources, meta] = await Promise.all([db.status(), db.meta()]);
        if (o.output === 'json') {
          io.out(json({ database: where, schema: Number(meta.vulndb_schema ?? 0), built: meta.built, sources }));
          return;
        }
        let out = keyValues([['Database', where], ['Schema', meta.vulndb_schema], ['Built', meta.built ?? 'never']]);
        if (!sources.length) out += '\nNo vulnerability data yet: run `lading db update` or `lading db import`.\n';
        else {
          out += '\n' + statusTable(sources);
          const failed = sources.filter((s) => s.error);
          if (failed.length) out += '\n' + failed.map((s) => `${s.source}: last ${s.kind ?? 'sync'} failed: ${s.error}`).join('\n') + '\n';
        }
        io.out(out);
      });
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
      const all = await drivers();
      const known = Object.keys(all);
      const wanted = o.source?.length ? [...new Set(o.source)] : known;
      if (!known.length) throw new LadingError('UNSUPPORTED', 'no feed drivers are available in this build');
      const unknown = wanted.filter((s) => !all[s]);
      if (unknown.length) throw new LadingError('BAD_INPUT', `unknown source ${unknown.map((s) => `"${s}"`).join(', ')} (known: ${known.sort().join(', ') || 'none'})`);
      const baseUrls = parseBaseUrls(o.baseUrl ?? [], all);
      const ac = new AbortController();
      const onSigint = () => ac.abort(new Error('interrupted'));
      process.once('SIGINT', onSigint);
      const failed: SyncResult[] = [];
      try {
        await withDb(location(self), async (db) => {
          for (const id of wanted) {
            const w = warningPrinter(io);
            const r = await syncSource(db, all[id]!, { signal: ac.signal, warn: w.warn, ...(baseUrls[id] ? { baseUrl: baseUrls[id] } : {}) });
            w.flush();
            io.out(syncLine(r) + '\n');
            if (!r.ok) failed.push(r);
            if (ac.signal.aborted) break;
          }
        });
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
      if (failed.length) {
        throw new LadingError('NETWORK', `${failed.length} of ${wanted.length} source${wanted.length === 1 ? '' : 's'} failed: ${failed.map((f) => f.source).join(', ')} (their previous data is kept)`);
      }
    });
}

/** `lading db import`: feed files, directories or an exported database, offline. */
function addImportCommand(cmd: Command, drivers: Drivers, io: CommandIo): void {
  cmd.command('import')
    .description('import feed files or directories offline (the driver is detected, or named with --source), or a whole database exported with `lading db export`')
    .argument('<path...>', 'files or directories')
    .addOption(dbOption())
    .option('--source <id>', 'the feed the files belong to')
    .action(async (paths: string[], o: { source?: string }, self: Command) => {
      const all = await drivers();
      let failed = 0;
      await withDb(location(self), async (db) => {
        const w = warningPrinter(io);
        const results = await importPaths(db, paths, all, { warn: w.warn, ...(o.source ? { source: o.source } : {}) });
        w.flush();
        for (const r of results) {
          if (!r.ok) {
            failed++;
            io.out(`${r.path}: FAILED: ${r.error}\n`);
          } else if (r.kind === 'bundle') {
            const c = r.counts ?? {};
            io.out(`${r.path}: database replaced from the bundle (${n(c.vulnerabilities ?? 0)} vulnerabilities, ${n(c.affected ?? 0)} affected, ${n(c.kev ?? 0)} KEV, ${n(c.epss ?? 0)} EPSS)\n`);
          } else {
            const a = r.applied!;
            io.out(`${r.path}: ${r.source}: ${a.full ? 'replaced' : 'updated'}, ${n(a.vulnerabilities)} vulnerabilities, ${n(a.affected)} affected${a.kev ? `, ${n(a.kev)} KEV` : ''}${a.epss ? `, ${n(a.epss)} EPSS` : ''}${a.skipped ? `, ${n(a.skipped)} skipped` : ''}\n`);
          }
        }
      });
      if (failed) throw new LadingError('BAD_INPUT', `${failed} of ${paths.length} path${paths.length === 1 ? '' : 's'} could not be imported (the database keeps its previous data for them)`);
    });
}

/** `lading db export`: the whole database to one portable file. */
function addExportCommand(cmd: Command, io: CommandIo): void {
  cmd.command('export')
    .description('write the whole vulnerability database to one portable file (gzip JSON lines), for `lading db import` elsewhere')
    .argument('<file>', 'the bundle to write')
    .addOption(dbOption())
    .action(async (file: string, _o: unknown, self: Command) => {
      const url = location(self);
      const parsed = parseDatabaseUrl(url);
      if (parsed.dialect === 'sqlite' && parsed.path !== ':memory:' && !existsSync(parsed.path)) {
        throw new LadingError('NOT_FOUND', `no database at ${parsed.path}`);
      }
      await withDb(url, async (db) => {
        const { counts, bytes } = await exportDb(db, file);
        io.out(`wrote ${file} (${n(counts.vulnerabilities ?? 0)} vulnerabilities, ${n(counts.affected ?? 0)} affected, ${n(counts.kev ?? 0)} KEV, ${n(counts.epss ?? 0)} EPSS; ${humanBytes(bytes)})\n`);
      });
    });
}

/** --base-url SOURCE=URL values as a map, each naming a known source and a URL. */
function parseBaseUrls(values: string[], all: Record<string, unknown>): Record<string, string> {
  const known = Object.keys(all);
  const baseUrls: Record<string, string> = {};
  for (const b of values) {
    const eq = b.indexOf('=');
    const s = b.slice(0, eq);
    const u = b.slice(eq + 1);
    if (eq <= 0 || !u) throw new LadingError('BAD_INPUT', `--base-url wants SOURCE=URL, got "${b}"`);
    if (!all[s]) throw new LadingError('BAD_INPUT', `--base-url names unknown source "${s}" (known: ${known.sort().join(', ')})`);
    try {
      new URL(u);
    } catch {
      throw new LadingError('BAD_INPUT', `--base-url ${s}: "${u}" is not a URL`);
    }
    baseUrls[s] = u;
  }
  return baseUrls;
}
