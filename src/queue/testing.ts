/**
 * Test and benchmark helpers: worker processes (testdata/worker.ts) started with
 * `node --import tsx`, and a timed "drain" of queued jobs by N such processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./testdata/worker.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

export interface WorkerArgs {
  url: string;
  workerId: string;
  mode: 'drain' | 'hang';
  leaseMs: number;
  kind: string;
}

export interface WorkerProcess {
  proc: ChildProcess;
  /** Resolves with the first message (a JSON line on its stdout) that matches, including earlier ones. */
  message<T = Record<string, unknown>>(match: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<T>;
  go(): void;
  /** Resolves with the exit code, or the signal's name. */
  exited: Promise<number | string>;
  kill(): void;
}

export function spawnWorker(args: WorkerArgs): WorkerProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(args)], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const seen: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      seen.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      return;
    }
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  let gone = false;
  void exited.then(() => {
    gone = true;
    for (const w of [...waiters]) w();
  });
  return {
    proc,
    message<T>(match: (m: Record<string, unknown>) => boolean, timeoutMs = 20_000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`worker ${args.workerId}: no matching message within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          const m = seen.find(match);
          if (m) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(m as T);
          } else if (gone) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(new Error(`worker ${args.workerId} exited without the expected message`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    go: () => proc.stdin!.write('go\n'),
    exited,
    kill: () => {
      if (!gone) proc.kill('SIGKILL');
    },
  };
}

export interface DrainResult {
  /** Job ids each worker completed, by worker id. */
  byWorker: Map<string, number[]>;
  /** From "go" to the last worker's report. */
  ms: number;
  jobsPerSecond: number;
}

/** N processes claim and complete every due job of `kind`, all starting at once. */
export async function drainWithProcesses(url: string, processes: number, kind: string, expected: number, tag = 'w'): Promise<DrainResult> {
  const workers = Array.from({ length: processes }, (_, i) => ({
    id: `${tag}${i + 1}`,
    p: spawnWorker({ url, workerId: `${tag}${i + 1}`, mode: 'drain', leaseMs: 60_000, kind }),
  }));
  try {
    await Promise.all(workers.map((w) => w.p.message((m) => m.ready === true)));
    const start = performance.now();
    for (const w of workers) w.p.go();
    const reports = await Promise.all(workers.map((w) => w.p.message<{ done: number[] }>((m) => Array.isArray(m.done))));
    const ms = performance.now() - start;
    const codes = await Promise.all(workers.map((w) => w.p.exited));
    if (codes.some((c) => c !== 0)) throw new Error(`worker exit codes: ${codes.join(', ')}`);
    const byWorker = new Map(workers.map((w, i) => [w.id, reports[i]!.done]));
    return { byWorker, ms, jobsPerSecond: (expected / ms) * 1000 };
  } finally {
    for (const w of workers) w.p.kill();
  }
}
