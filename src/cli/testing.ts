/** Run a CLI entry point as a child process (through tsx), for the CLI tests. */
import { spawn } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CliRun { code: number; stdout: string; stderr: string }

/** With `input`, stdin gets it and is closed; without, stdin stays open. */
export function runCli(script: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<CliRun> {
  return new Promise((done) => {
    const p = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    if (input !== undefined) p.stdin.end(input);
  });
}

/** `lading ARGS...` through src/cli/main.ts. */
export function lading(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliRun> {
  return runCli(join(repoRoot, 'src', 'cli', 'main.ts'), args, env, input);
}

/** Run a command in this process (as main() would: the exit code from process.exitCode), capturing what it writes as strings. */
export async function runCommand(cmd: import('commander').Command, args: string[]): Promise<Omit<CliRun, 'code'> & { code: number }> {
  const out = { stdout: '', stderr: '' };
  const write = { stdout: process.stdout.write, stderr: process.stderr.write };
  // The test runner's own reports (bytes) pass through.
  const capture = (key: 'stdout' | 'stderr') => ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string') {
      out[key] += chunk;
      return true;
    }
    return (write[key] as (...a: unknown[]) => boolean).call(process[key], chunk, ...rest);
  }) as typeof process.stdout.write;
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  const saved = process.exitCode;
  process.exitCode = 0;
  try {
    await cmd.exitOverride().parseAsync(args, { from: 'user' });
    return { code: Number(process.exitCode ?? 0), ...out };
  } finally {
    process.stdout.write = write.stdout;
    process.stderr.write = write.stderr;
    process.exitCode = saved;
  }
}
