#!/usr/bin/env node
/** The `lading` command line. Errors print one line to stderr and exit 2. */
import { setFlagsFromString } from 'node:v8';
import { describeError } from '../errors.js';
import { VERSION } from '../version.js';
import { runsService, versionOnly } from './argv.js';
import { interruption } from './interrupt.js';

/**
 * undici parses HTTP with llhttp compiled to WebAssembly. V8 first compiles it with its baseline
 * compiler (Liftoff) and then, once the parser runs hot, recompiles it with TurboFan on a
 * background thread: about 0.25 s of CPU, and node waits for that job before it exits, so a warm
 * `lading sbom` spent its last third waiting for a compilation nobody would use. A command that
 * ends keeps the baseline code; `lading serve`, which runs for days, lets V8 optimize (wherever the
 * command word sits: `lading --url U serve`). The bundled command's launcher (launch.ts) sets the
 * same flag before it compiles the bundle; setting it again here changes nothing.
 */
if (!runsService(process.argv)) setFlagsFromString('--liftoff-only');

export async function main(argv: string[]): Promise<number> {
  // `lading --version` alone is answered before the command tree (and commander) is loaded (the bundled command's launcher answers it itself).
  if (versionOnly(argv)) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  try {
    const { commandOf, program } = await import('./program.js');
    await (await program(commandOf(argv))).parseAsync(argv);
    // A command may report a result through process.exitCode (scan --fail-on sets 1) without failing.
    return Number(process.exitCode ?? 0) || 0;
  } catch (e) {
    const interrupted = interruption(e);
    if (interrupted) {
      process.stderr.write('lading: interrupted\n');
      return interrupted.status;
    }
    const { CommanderError } = await import('commander');
    if (e instanceof CommanderError) {
      // help and version exit 0; usage errors were already printed by commander.
      return e.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`lading: error: ${describeError(e)}\n`);
    if (process.env.LADING_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 2;
  }
}

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

main(process.argv).then((code) => {
  process.exitCode = code;
});
