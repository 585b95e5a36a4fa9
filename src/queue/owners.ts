/**
 * Who holds a job's lease, and whether that holder is a dead process of this host.
 *
 * A worker's id (the lease owner) is `<hostname>:<pid>:<instance>:<name>`: the host, the process,
 * a random token made once per process (`PROCESS_INSTANCE`), and the worker's own name. A service
 * restarted after a crash (kill -9, OOM) can then tell its dead predecessor's leases from live
 * ones on the same host without waiting for them to expire:
 * - another pid on this host that no longer exists (`kill(pid, 0)` answers ESRCH) is dead;
 * - this very pid with another instance token is an earlier process that had the same pid (a
 *   container's pid 1 restarted): it is dead, since this process holds the pid now.
 * Workers on other hosts are left to their leases. Host names must be unique per machine (or per
 * pid namespace): two containers given the same host name could not see each other's processes.
 * Owners written before this format (`<hostname>:<pid>:<name>`) are judged by host and pid alone.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** This process's token: tells it apart from an earlier process that had the same pid. */
export const PROCESS_INSTANCE = randomBytes(4).toString('hex');

export interface ProcessIdentity {
  hostname: string;
  pid: number;
  instance: string;
}

export function thisProcess(): ProcessIdentity {
  return { hostname: hostname(), pid: process.pid, instance: PROCESS_INSTANCE };
}

/** A worker id for this process: `<hostname>:<pid>:<instance>:<name>`. */
export function workerOwnerId(name: string, self: ProcessIdentity = thisProcess()): string {
  return `${self.hostname}:${self.pid}:${self.instance}:${name}`;
}

export interface ParsedOwner {
  hostname: string;
  pid: number;
  /** Absent in owners of the older `<hostname>:<pid>:<name>` form. */
  instance?: string;
}

export function parseOwner(owner: string): ParsedOwner | undefined {
  const m = /^([^:]+):(\d{1,10}):(?:([0-9a-f]{8}):)?/.exec(owner);
  if (!m) return undefined;
  return { hostname: m[1]!, pid: Number(m[2]), ...(m[3] !== undefined ? { instance: m[3] } : {}) };
}

/** Whether a process with this pid exists here (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a lease owner is a process of this host that is gone (see the module comment). */
export function isDeadLocalOwner(owner: string, self: ProcessIdentity = thisProcess(), alive: (pid: number) => boolean = processAlive): boolean {
  const o = parseOwner(owner);
  if (!o || o.hostname !== self.hostname || o.pid <= 0) return false;
  if (o.pid === self.pid) return o.instance !== undefined && o.instance !== self.instance;
  return !alive(o.pid);
}
