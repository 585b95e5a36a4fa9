/** The work of `lading db path|status|update|import|export`, loaded only when one of them runs. */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { LadingError } from '../../errors.js';
import { exportDb, importPaths } from '../../feeds/import.js';
import { syncSource, type SyncResult } from '../../feeds/sync.js';
import type { ApplyResult, SourceStatus, VulnDb } from '../../feeds/vulndb.js';
import { openVulnDb, parseDatabaseUrl, redactUrl } from '../../store/db.js';
import { humanBytes, json, keyValues, table } from '../render.js';
import { humanAge, location, type CommandIo, type Drivers } from './db-common.js';

const n = (x: number) => x.toLocaleString('en-US');

/** For messages: a file path as is, a URL without its password. */
export function describeLocation(url: string): string {
  const p = parseDatabaseUrl(url);
  return p.dialect === 'sqlite' ? p.path : redactUrl(p.connectionString);
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

function failureLine(s: SourceStatus): string {
  if (s.status === 'ok') return `${s.source}: the last online sync failed (the imported data is kept): ${s.error}`;
  return `${s.source}: last ${s.kind ?? 'sync'} failed: ${s.error}`;
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

export function dbPath(io: CommandIo, self: Command): void {
  io.out(describeLocation(location(self)) + '\n');
}

export async function dbStatus(io: CommandIo, o: { output: 'table' | 'json' }, self: Command): Promise<void> {
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
      if (failed.length) out += '\n' + failed.map(failureLine).join('\n') + '\n';
    }
    io.out(out);
  });
}

export async function dbUpdate(io: CommandIo, drivers: Drivers, o: { source?: string[]; baseUrl?: string[] }, self: Command): Promise<void> {
  const all = await drivers();
  const known = Object.keys(all);
  const wanted = o.source?.length ? [...new Set(o.source)] : known;
  if (!known.length) throw new LadingError('UNSUPPORTED', 'no feed drivers are available in this build');
  const unknown = wanted.filter((s) => !all[s]);
  if (unknown.length) throw new LadingError('BAD_INPUT', `unknown source ${unknown.map((s) => `"${s}"`).join(', ')} (known: ${known.sort().join(', ') || 'none'})`);
  const baseUrls: Record<string, string> = {};
  for (const b of o.baseUrl ?? []) {
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
}

/** At most this many namespaces are named in an import's line; the rest are counted. */
const NAMED_NAMESPACES = 8;

/** `alpine:3.9` → `3.9` for the alpine source; other namespaces (`npm`, `debian:12` from osv) as they are. */
function nameList(source: string, names: string[], counts?: Record<string, number>): string {
  const label = (ns: string) => (ns.startsWith(`${source}:`) ? ns.slice(source.length + 1) : ns);
  const shown = names.slice(0, NAMED_NAMESPACES).map((ns) =>
    counts ? `${label(ns)} (${n(counts[ns] ?? 0)} record${counts[ns] === 1 ? '' : 's'})` : label(ns));
  return shown.join(', ') + (names.length > NAMED_NAMESPACES ? ` and ${names.length - NAMED_NAMESPACES} more` : '');
}

/** What an import did: `alpine: merged 3.9 (1,234 records); kept 3.8; 210 vulnerabilities, 1,234 affected`. */
export function importLine(source: string, a: ApplyResult): string {
  const brought = Object.keys(a.namespaces).sort();
  let what: string = a.mode;
  if (brought.length) what += ` ${nameList(source, brought, a.namespaces)}`;
  if (a.kept.length) what += `; kept ${nameList(source, a.kept)}`;
  const counts = [`${n(a.vulnerabilities)} vulnerabilities`, `${n(a.affected)} affected`];
  if (a.kev) counts.push(`${n(a.kev)} KEV`);
  if (a.epss) counts.push(`${n(a.epss)} EPSS`);
  if (a.skipped) counts.push(`${n(a.skipped)} skipped`);
  return `${source}: ${what}; ${counts.join(', ')}`;
}

export async function dbImport(io: CommandIo, drivers: Drivers, paths: string[], o: { source?: string; replace?: boolean }, self: Command): Promise<void> {
  const all = await drivers();
  let failed = 0;
  await withDb(location(self), async (db) => {
    const w = warningPrinter(io);
    const results = await importPaths(db, paths, all, { warn: w.warn, replace: o.replace === true, ...(o.source ? { source: o.source } : {}) });
    w.flush();
    for (const r of results) {
      if (!r.ok) {
        failed++;
        io.out(`${r.path}: FAILED: ${r.error}\n`);
      } else if (r.kind === 'bundle') {
        const c = r.counts ?? {};
        io.out(`${r.path}: database replaced from the bundle (${n(c.vulnerabilities ?? 0)} vulnerabilities, ${n(c.affected ?? 0)} affected, ${n(c.kev ?? 0)} KEV, ${n(c.epss ?? 0)} EPSS)\n`);
      } else io.out(`${r.path}: ${importLine(r.source!, r.applied!)}\n`);
    }
  });
  if (failed) throw new LadingError('BAD_INPUT', `${failed} of ${paths.length} path${paths.length === 1 ? '' : 's'} could not be imported (the database keeps its previous data for them)`);
}

export async function dbExport(io: CommandIo, file: string, self: Command): Promise<void> {
  const url = location(self);
  const parsed = parseDatabaseUrl(url);
  if (parsed.dialect === 'sqlite' && parsed.path !== ':memory:' && !existsSync(parsed.path)) {
    throw new LadingError('NOT_FOUND', `no database at ${parsed.path}`);
  }
  await withDb(url, async (db) => {
    const { counts, bytes } = await exportDb(db, file);
    io.out(`wrote ${file} (${n(counts.vulnerabilities ?? 0)} vulnerabilities, ${n(counts.affected ?? 0)} affected, ${n(counts.kev ?? 0)} KEV, ${n(counts.epss ?? 0)} EPSS; ${humanBytes(bytes)})\n`);
  });
}
