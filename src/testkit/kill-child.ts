/**
 * Crash tests: run a TypeScript child (through tsx) and SIGKILL it as soon as its standard output
 * holds a marker line, as a process dying at that point would. Resolves with what it printed;
 * rejects when the child ends on its own before the marker.
 */
import { spawn } from 'node:child_process';

export function killChildAt(script: string, args: string[], marker: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
      if (out.includes(`${marker}\n`)) process.kill(p.pid!, 'SIGKILL');
    });
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code, signal) => (signal === 'SIGKILL' ? resolve(out) : reject(new Error(`child ended ${code ?? signal} before the kill: ${out}${err}`))));
  });
}
