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
