/**
 * A throwaway PostgreSQL server for tests, from Debian's postgresql binaries
 * (/usr/lib/postgresql/<version>/bin, or $LADING_PG_BIN): initdb into a temp dir, start on
 * 127.0.0.1 and a free port with fsync off, trust authentication; stop() kills it and removes the
 * dir. As root, the binaries run as the `postgres` user (or `nobody`), which owns the temp dir.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './registry.js';

export interface RunningPostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  /** A fresh empty database on this server; its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

/** The bin directory of the newest installed PostgreSQL, or undefined. */
export function postgresBinDir(): string | undefined {
  const env = process.env.LADING_PG_BIN;
  if (env) return existsSync(join(env, 'initdb')) ? env : undefined;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = join(base, v, 'bin');
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return undefined;
}

interface RunAs { uid: number; gid: number; prefix: string[] }

function runAs(): RunAs | undefined | null {
  if (process.getuid?.() !== 0) return undefined; // not root: run directly
  for (const user of ['postgres', 'nobody']) {
    const id = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
    if (id.status === 0 && gid.status === 0) {
      const uid = Number(id.stdout.trim());
      const g = Number(gid.stdout.trim());
      if (existsSync('/usr/sbin/runuser') || existsSync('/sbin/runuser')) return { uid, gid: g, prefix: ['runuser', '-u', user, '--'] };
      if (existsSync('/usr/bin/setpriv')) return { uid, gid: g, prefix: ['setpriv', `--reuid=${uid}`, `--regid=${g}`, '--clear-groups', '--'] };
    }
  }
  return null; // root, but no way to drop privileges
}

export function postgresAvailable(): boolean {
  return postgresBinDir() !== undefined && runAs() !== null;
}

export const postgresSkipReason = 'PostgreSQL server binaries not found (apt-get install postgresql, or set LADING_PG_BIN to the directory holding initdb and pg_ctl); PostgreSQL tests skipped';

function run(cmd: string[], as: RunAs | undefined): Promise<{ code: number; out: string }> {
  const argv = [...(as?.prefix ?? []), ...cmd];
  return new Promise((resolve) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', (e) => resolve({ code: -1, out: out + String(e) }));
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

let dbCounter = 0;

/** Servers still running: stopped synchronously if the test process exits without stop(). */
const running = new Map<string, () => void>();
let exitHook = false;
function onExit(): void {
  for (const stop of running.values()) stop();
}

export async function startPostgres(): Promise<RunningPostgres> {
  const bin = postgresBinDir();
  const as = runAs();
  if (!bin || as === null) throw new Error(postgresSkipReason);
  const dir = await mkdtemp(join(tmpdir(), 'lading-pg-'));
  if (as) chownSync(dir, as.uid, as.gid);
  const data = join(dir, 'data');
  const init = await run([join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'], as);
  if (init.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.out}`);
  }
  let port = 0;
  let started = false;
  let lastError = '';
  for (let attempt = 0; attempt < 3 && !started; attempt++) {
    port = await freePort();
    const opts = `-h 127.0.0.1 -p ${port} -k ${dir} -F -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50`;
    const r = await run([join(bin, 'pg_ctl'), '-D', data, '-l', join(dir, 'log'), '-o', opts, '-w', '-t', '60', 'start'], as);
    started = r.code === 0;
    lastError = r.out;
  }
  if (!started) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${lastError}`);
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  running.set(dir, () => {
    const argv = [...(as?.prefix ?? []), join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'];
    spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
  if (!exitHook) {
    exitHook = true;
    process.once('exit', onExit);
  }
  return {
    url,
    port,
    async createDatabase(name?: string): Promise<string> {
      const db = name ?? `t${process.pid}_${++dbCounter}_${Math.random().toString(36).slice(2, 8)}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`create database "${db.replace(/"/g, '')}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${db}`;
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      running.delete(dir);
      await run([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'], as);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
