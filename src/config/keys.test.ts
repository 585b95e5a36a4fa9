import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLadingError } from '../errors.js';
import { KEY_FILE, resolveEncryptionKeys } from './keys.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'lading-keys-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a configured key comes first, then the previous ones; nothing is written', () => withDir(async (dir) => {
  const r = resolveEncryptionKeys({ encryption_key: 'k'.repeat(20), previous_encryption_keys: ['o'.repeat(16)], production_mode: false, data_dir: dir });
  assert.deepEqual(r, { keys: ['k'.repeat(20), 'o'.repeat(16)], source: 'config' });
  assert.ok(!existsSync(join(dir, KEY_FILE)));
}));

test('development mode: generated once into the data directory with mode 0600, then reused', () => withDir(async (dir) => {
  const dataDir = join(dir, 'data');
  const cfg = { previous_encryption_keys: [], production_mode: false, data_dir: dataDir };
  const first = resolveEncryptionKeys(cfg);
  assert.equal(first.source, 'generated');
  assert.equal(first.file, join(dataDir, KEY_FILE));
  assert.equal(first.keys.length, 1);
  assert.ok(first.keys[0]!.length >= 40);
  assert.equal((await stat(first.file!)).mode & 0o777, 0o600);
  assert.equal((await readFile(first.file!, 'utf8')).trim(), first.keys[0]);
  const again = resolveEncryptionKeys(cfg);
  assert.deepEqual(again, { keys: first.keys, source: 'file', file: first.file });
}));

test('a key file readable by others is refused', () => withDir(async (dir) => {
  const file = join(dir, KEY_FILE);
  await writeFile(file, 'x'.repeat(43));
  await chmod(file, 0o644);
  assert.throws(() => resolveEncryptionKeys({ previous_encryption_keys: [], production_mode: false, data_dir: dir }),
    (e) => isLadingError(e) && e.code === 'BAD_INPUT' && /readable by other users \(mode 0644\): chmod 600/.test(e.message) && !e.message.includes('xxxx'));
}));

test('production mode: nothing generated or read; no keys', () => withDir(async (dir) => {
  await writeFile(join(dir, KEY_FILE), 'y'.repeat(43), { mode: 0o600 });
  const r = resolveEncryptionKeys({ previous_encryption_keys: [], production_mode: true, data_dir: join(dir, 'other') });
  assert.deepEqual(r, { keys: [], source: 'none' });
  assert.ok(!existsSync(join(dir, 'other')));
  assert.deepEqual(resolveEncryptionKeys({ previous_encryption_keys: [], production_mode: true, data_dir: dir }), { keys: [], source: 'none' });
}));
