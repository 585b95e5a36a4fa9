import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeImageSquashed } from '../analyze.js';
import { decodeEntry } from './codec.js';
import { DiskCache } from './store.js';
import { fixtureImage, sbomDigest } from './testing-writer-child.js';

const child = fileURLToPath(new URL('./testing-writer-child.ts', import.meta.url));

function run(dir: string): Promise<{ out: string; err: string; code: number | null }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c));
    p.stderr.on('data', (c: Buffer) => (err += c));
    p.on('close', (code) => resolve({ out, err, code }));
  });
}

test('two processes filling one cache at once: every entry is whole and both get the reference SBOMs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lading-two-'));
  try {
    const expected = [0, 1, 0, 1].map(async (s) => sbomDigest(await analyzeImageSquashed(fixtureImage(s))));
    const [a, b] = await Promise.all([run(dir), run(dir)]);
    for (const r of [a, b]) {
      assert.equal(r.code, 0, r.err);
      assert.equal(r.err, '');
      assert.deepEqual(r.out.trim().split('\n'), await Promise.all(expected));
    }
    let files = 0;
    for (const layer of readdirSync(join(dir, 'layers'))) {
      for (const name of readdirSync(join(dir, 'layers', layer))) {
        assert.ok(!name.startsWith('.tmp-'), `a temp file was left: ${name}`);
        assert.ok(decodeEntry(readFileSync(join(dir, 'layers', layer, name))), `${name} is whole`);
        files++;
      }
    }
    assert.equal((await new DiskCache(dir).status()).entries, files);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('clean: by layer, by age, all', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lading-clean-'));
  try {
    const cache = new DiskCache(dir);
    const blob = { meta: { x: 1 }, blobs: [Buffer.from('abc')] };
    await cache.put('sha256:aa', 'p1', blob);
    await cache.put('sha256:aa', 'p2', blob);
    await cache.put('sha256:bb', 'p1', blob);
    assert.deepEqual(await cache.get('sha256:aa', 'p1'), blob);
    assert.equal((await cache.clean({ layer: 'sha256:aa' })).entries, 2);
    assert.equal((await cache.status()).layers, 1);
    assert.equal((await cache.clean({ olderThanMs: 3_600_000 })).entries, 0);
    assert.equal((await cache.clean()).entries, 1);
    assert.equal((await cache.status()).entries, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
