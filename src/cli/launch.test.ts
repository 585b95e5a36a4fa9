import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { codeCacheFile, compileBundle, saveCodeCache } from './launch.js';

const run = promisify(execFile);

// V8 keeps every script it compiled in memory and would hand the same source back without
// looking at the cache data; these tests compile one source several times in one process.
setFlagsFromString('--no-compilation-cache');

/** A CommonJS "bundle" with a hashbang, a require, lazily compiled functions and an export. */
const BUNDLE = `#!/usr/bin/env node
const { join } = require('node:path');
function later(n) { return n * 2; }
module.exports.answer = later(21);
module.exports.where = join(__dirname, 'x');
module.exports.self = __filename;
globalThis.__launchTestRuns = (globalThis.__launchTestRuns ?? 0) + 1;
`;

function fixture(): { dir: string; file: string; cache: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lading-launch-'));
  const file = join(dir, 'bundle.cjs');
  writeFileSync(file, BUNDLE);
  return { dir, file, cache: codeCacheFile(join(dir, 'cache'), 'abc123', 'sbom', '--liftoff-only') };
}

describe('the launcher\'s V8 code cache', () => {
  it('runs the bundle as a CommonJS module, writes a cache after it, and V8 accepts it the next time', () => {
    const { dir, file, cache } = fixture();
    try {
      const first = compileBundle(file, cache);
      assert.equal(first.state, 'absent');
      const runs = (globalThis as { __launchTestRuns?: number }).__launchTestRuns ?? 0;
      first.run();
      assert.equal((globalThis as { __launchTestRuns?: number }).__launchTestRuns, runs + 1);
      assert.equal(saveCodeCache(first.script, cache, 'abc123'), true);
      assert.ok(readFileSync(cache).length > 0);
      assert.deepEqual(readdirSync(join(dir, 'cache', 'code')), [cache.split('/').pop()], 'no temporary file left');
      const second = compileBundle(file, cache);
      assert.equal(second.state, 'accepted');
      second.run();
      assert.equal(compileBundle(file).state, 'off');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a cache V8 refuses (corrupt, or another source) is reported rejected and written again', () => {
    const { dir, file, cache } = fixture();
    try {
      saveCodeCache(compileBundle(file, cache).script, cache, 'abc123');
      writeFileSync(cache, Buffer.from('not a code cache at all, just bytes'));
      const corrupt = compileBundle(file, cache);
      assert.equal(corrupt.state, 'rejected');
      corrupt.run(); // still runs, compiled from source
      assert.equal(saveCodeCache(corrupt.script, cache, 'abc123'), true);
      assert.equal(compileBundle(file, cache).state, 'accepted');
      writeFileSync(file, `${BUNDLE}module.exports.more = 1;\n`); // a rebuilt bundle under the same name
      assert.equal(compileBundle(file, cache).state, 'rejected');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a directory that cannot be written only skips caching', () => {
    const { dir, file } = fixture();
    try {
      writeFileSync(join(dir, 'plain-file'), 'x');
      const cache = codeCacheFile(join(dir, 'plain-file'), 'abc123', 'sbom', '');
      const b = compileBundle(file, cache);
      assert.equal(b.state, 'absent');
      b.run();
      assert.equal(saveCodeCache(b.script, cache, 'abc123'), false);
      assert.equal(existsSync(join(dir, 'plain-file', 'code')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a file per build, command and flags, and writing one removes the other builds\' files', () => {
    const { dir, file, cache } = fixture();
    try {
      const root = join(dir, 'cache');
      assert.notEqual(codeCacheFile(root, 'abc123', 'serve', '--liftoff-only'), cache);
      assert.notEqual(codeCacheFile(root, 'abc123', 'sbom', ''), cache);
      assert.match(codeCacheFile(root, 'abc123', '../x', ''), /lading-abc123-other-/);
      const old = codeCacheFile(root, 'old999', 'sbom', '--liftoff-only');
      const otherCommand = codeCacheFile(root, 'abc123', 'scan', '--liftoff-only');
      for (const f of [old, otherCommand]) saveCodeCache(compileBundle(file).script, f, f === old ? 'old999' : 'abc123');
      saveCodeCache(compileBundle(file).script, cache, 'abc123');
      assert.deepEqual(readdirSync(join(root, 'code')).sort(), [cache, otherCommand].map((f) => f.split('/').pop()).sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('launchBundle writes the cache after a successful run only, and uses it next time', async () => {
    const { dir, file } = fixture();
    const env = { ...process.env, LADING_CACHE_DIR: join(dir, 'cache') };
    const launch = (code: number) => run(process.execPath, ['--import', 'tsx', '-e',
      `import { launchBundle } from ${JSON.stringify(new URL('./launch.ts', import.meta.url).pathname)};
       process.stdout.write(launchBundle(${JSON.stringify(file)}, 'abc123', ['node', 'lading', 'sbom', 'x']));
       process.exitCode = ${code};`], { env }).catch((e: { stdout: string }) => e);
    try {
      assert.equal((await launch(2)).stdout, 'absent');
      assert.equal(existsSync(join(dir, 'cache', 'code')), false, 'a failed run leaves no cache');
      assert.equal((await launch(0)).stdout, 'absent');
      assert.equal(readdirSync(join(dir, 'cache', 'code')).length, 1);
      assert.equal((await launch(0)).stdout, 'accepted');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
