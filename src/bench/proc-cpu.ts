/**
 * CPU time of other processes for the benches, from Linux's /proc (user + system, in ms): one
 * process (a spawned `lading serve`), or a PostgreSQL server (the postmaster listening on a port,
 * its exited backends through cutime/cstime, and its live children). Elsewhere: undefined.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc's times (sysconf(_SC_CLK_TCK); 100 on Linux). */
const TICKS_PER_S = 100;

interface ProcTimes { ppid: number; self: number; children: number }

function procTimes(pid: number): ProcTimes | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name (which may hold spaces), from field 3 (state) on.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(f[i - 3]);
  return { ppid: n(4), self: ((n(14) + n(15)) * 1000) / TICKS_PER_S, children: ((n(16) + n(17)) * 1000) / TICKS_PER_S };
}

/** CPU ms used so far by one process (its own threads). */
export function processCpuMs(pid: number): number | undefined {
  return procTimes(pid)?.self;
}

function pids(): number[] {
  try {
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return [];
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** The pid of the postmaster started with `-p PORT` (testkit/postgres.ts), if any. */
export function postmasterPid(port: number): number | undefined {
  const wanted = new RegExp(`(^|\\s)-p ${port}(\\s|$)`);
  for (const pid of pids()) {
    const cmd = cmdline(pid);
    if (/postgres/.test(cmd) && wanted.test(cmd)) {
      const t = procTimes(pid);
      // The postmaster itself, not pg_ctl (which also names the options) nor a backend.
      if (t && !/pg_ctl/.test(cmd) && !/postgres/.test(cmdline(t.ppid))) return pid;
    }
  }
  return undefined;
}

/** CPU ms used so far by a server process and its children, living and exited (reaped). */
export function serverCpuMs(pid: number): number | undefined {
  const root = procTimes(pid);
  if (!root) return undefined;
  let ms = root.self + root.children;
  for (const child of pids()) {
    const t = procTimes(child);
    if (t?.ppid === pid) ms += t.self;
  }
  return ms;
}

/** CPU ms used so far by a server's live backends serving one database (their command line names it). */
export function backendsCpuMs(pid: number, database: string): number {
  let ms = 0;
  for (const child of pids()) {
    const t = procTimes(child);
    if (t?.ppid === pid && cmdline(child).split(' ').includes(database)) ms += t.self;
  }
  return ms;
}
