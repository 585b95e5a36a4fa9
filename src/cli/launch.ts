/**
 * The bundled command's launcher (dist/bin/lading.js, built by scripts/bundle.mjs): it compiles
 * the one-file CommonJS bundle of the command (dist/bin/lading-main.cjs) with a V8 code cache, so
 * a warm start neither parses nor compiles Lading and its dependencies again, and resolves no ES
 * modules at all. Node 20 has no module.enableCompileCache (22.1+), hence vm.Script + cachedData.
 *
 * The cache is one file per (bundle hash, command word, node version and architecture, V8 flags)
 * under <cache dir>/code (the layer cache's directory, analyze/cache/dir.ts). It is written after a
 * run that succeeded (so it holds the functions that command really compiled), atomically (a
 * temporary file renamed); one V8 rejects is written again; a directory that cannot be written
 * leaves the command running without one. Files of other builds are removed when one is written.
 * Node built-ins only here: nothing else is loaded before the bundle.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Script, constants } from 'node:vm';
import { cacheDir } from '../analyze/cache/dir.js';
import { commandWord, runsService } from './argv.js';

/** What became of the code cache at start: used, refused by V8 (other flags or build), none yet, or caching off. */
export type CodeCacheState = 'accepted' | 'rejected' | 'absent' | 'off';

export interface CompiledBundle {
  script: Script;
  state: CodeCacheState;
  /** Runs the bundle as a CommonJS module (its top-level code: the command itself). */
  run(): void;
}

/** FNV-1a, 32 bits, hex: a short stable digest of the flags for a file name (no crypto loaded at start). */
function shortDigest(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * The cache file for this bundle build and command under `dir`. V8 checks the flags' hash and the
 * source length itself and refuses a cache that does not fit; the name keeps the caches of
 * different commands, node versions and flag sets apart so that they do not overwrite each other.
 */
export function codeCacheFile(dir: string, bundleHash: string, command: string, flags: string): string {
  const safe = /^[a-z]+$/.test(command) ? command : 'other';
  return join(dir, 'code', `lading-${bundleHash}-${safe}-${process.version}-${process.arch}-${shortDigest(flags)}.v8`);
}

/**
 * Compile `file` (CommonJS, pure ASCII: bundle.mjs checks) with `cacheFile`'s code cache when there
 * is one that V8 accepts. Read as latin1, which for ASCII is the same text as UTF-8 but makes a
 * one-byte string at the cost of a copy (UTF-8 decoding of megabytes costs tens of milliseconds).
 */
export function compileBundle(file: string, cacheFile?: string): CompiledBundle {
  let source = readFileSync(file, 'latin1');
  if (source.startsWith('#!')) source = `//${source.slice(2)}`; // a hashbang is valid only at the very start of a script
  let cachedData: Buffer | undefined;
  if (cacheFile) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      cachedData = undefined; // none yet (or unreadable): compiled from source, written after the run
    }
  }
  // The wrapper is Node's own CommonJS wrapper, on the source's first line so that line numbers stay.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const state: CodeCacheState = !cacheFile ? 'off' : !cachedData ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted';
  const run = () => {
    const fn = script.runInThisContext() as (...args: unknown[]) => void;
    const module = { exports: {}, filename: file, id: '.', loaded: false, children: [], paths: [] };
    fn.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  };
  return { script, state, run };
}

/**
 * Write the script's code cache (everything compiled so far) to `file` atomically; remove the
 * cache files of other builds beside it. False, and nothing left behind, when it cannot be written.
 */
export function saveCodeCache(script: Script, file: string, bundleHash: string): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const data = script.createCachedData();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    return false;
  }
  try {
    for (const name of readdirSync(dirname(file))) {
      if (name.startsWith('lading-') && !name.startsWith(`lading-${bundleHash}-`)) unlinkSync(join(dirname(file), name));
    }
  } catch {
    // another process pruned them first: nothing to do
  }
  return true;
}

/**
 * Start the command from its bundle: V8 flags first (they are part of the code cache's identity;
 * main.ts sets the same), then the bundle compiled with its cache, run, and after a successful run
 * the cache written when V8 had none to use.
 */
export function launchBundle(file: string, bundleHash: string, argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): CodeCacheState {
  const oneShot = !runsService(argv);
  if (oneShot) setFlagsFromString('--liftoff-only');
  const flags = [oneShot ? '--liftoff-only' : '', ...process.execArgv, env.NODE_OPTIONS ?? ''].join(' ');
  const cacheFile = codeCacheFile(cacheDir(env), bundleHash, commandWord(argv) ?? 'none', flags);
  const bundle = compileBundle(file, cacheFile);
  if (bundle.state !== 'accepted') {
    process.once('exit', (code) => {
      if (code === 0) saveCodeCache(bundle.script, cacheFile, bundleHash);
    });
  }
  bundle.run();
  return bundle.state;
}
