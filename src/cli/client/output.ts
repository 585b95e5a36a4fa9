/**
 * Running a command against the service and printing what it answered: the raw API JSON with
 * --json, else anchore-cli's tables and `Key: value` blocks. A ServiceError prints its message on
 * one line and sets the exit code (1 refused, 2 unreachable/unauthorized/server error).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { json, table } from '../render.js';
import { connectionOf, type ConnectionOptionSet } from './connection.js';
import { ServiceClient, ServiceError } from './http.js';

export interface Service {
  client: ServiceClient;
  /** --json */
  json: boolean;
  /** Print the API payload as JSON (--json) or as the text `render` makes. */
  print(payload: unknown, render: () => string): void;
}

export interface RunOptions extends ConnectionOptionSet {
  /** Exit code for every service error (evaluate check: 2, so that 1 only ever means "fail"). */
  errorExit?: 1 | 2;
}

export function reportError(e: ServiceError, asJson: boolean, exitCode: 1 | 2 = e.exitCode): void {
  if (asJson && e.body && typeof e.body === 'object') process.stdout.write(json(e.body));
  process.stderr.write(errorText(e));
  process.exitCode = exitCode;
}

interface ValidationDetail { severity?: unknown; location?: unknown; details?: unknown }

/**
 * The error as printed: one line, or, when the API listed the problems of a refused bundle
 * (`detail.validation_details`), a summary line and one problem per line under it.
 */
export function errorText(e: ServiceError): string {
  const details = (e.body as { detail?: { validation_details?: unknown } } | undefined)?.detail?.validation_details;
  if (!Array.isArray(details) || !details.length) return `lading: error: ${e.message}\n`;
  const lines = (details as ValidationDetail[]).map((d) => `  ${String(d.severity ?? 'error')}: ${d.location ? `${String(d.location)}: ` : ''}${String(d.details ?? '')}`);
  return `lading: error: the service refused the bundle (${details.length} problem${details.length === 1 ? '' : 's'}):\n${lines.join('\n')}\n`;
}

/** Run `fn` with a client for the command's connection; service errors end the command with their exit code. */
export async function withService(cmd: Command, fn: (svc: Service) => Promise<void>, opts: RunOptions = {}): Promise<void> {
  const conn = connectionOf(cmd, opts);
  const client = new ServiceClient(conn);
  const svc: Service = {
    client,
    json: conn.json,
    print(payload, render) {
      process.stdout.write(conn.json ? json(payload) : render());
    },
  };
  try {
    await fn(svc);
  } catch (e) {
    if (!(e instanceof ServiceError)) throw e;
    reportError(e, conn.json, opts.errorExit ?? e.exitCode);
  } finally {
    await client.close();
  }
}

/** anchore-cli's `Key: value` lines (a blank line after each block). */
export function block(pairs: [string, unknown][]): string {
  return `${pairs.map(([k, v]) => `${k}: ${show(v)}`).join('\n')}\n\n`;
}

/** Values as anchore-cli printed them: Python's None/True/False spellings. */
export function show(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A table sorted on one column (string order), optionally reversed. */
export function sortedTable(head: string[], rows: unknown[][], sortBy?: string, reverse = false): string {
  const cells = rows.map((r) => r.map(show));
  const i = sortBy ? head.indexOf(sortBy) : -1;
  if (i >= 0) cells.sort((a, b) => (a[i]! < b[i]! ? -1 : a[i]! > b[i]! ? 1 : 0) * (reverse ? -1 : 1));
  return table(head, cells);
}

export function success(what?: string): string {
  return what ? `Success: ${what}\n` : 'Success\n';
}

/** `true|false|yes|no|1|0` for options anchore-cli took as booleans with a value. */
export function parseBool(v: string): boolean {
  const s = v.toLowerCase();
  if (['true', 'yes', 'y', '1'].includes(s)) return true;
  if (['false', 'no', 'n', '0'].includes(s)) return false;
  throw new InvalidArgumentError(`expected true or false, got "${v}"`);
}

/** Seconds as a number (fractions allowed); `negative` allows -1 = forever. */
export function parseSeconds(name: string, negative = false): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || (n < 0 && !(negative && n === -1))) {
      throw new InvalidArgumentError(`${name}: expected a number of seconds${negative ? ' (or -1 for no limit)' : ''}, got "${v}"`);
    }
    return n;
  };
}

export function sleep(seconds: number): Promise<void> {
  return new Promise((r) => setTimeout(r, seconds * 1000));
}
