/**
 * The dir driver in a temporary directory: files at their keys' paths, 0600 in 0700 directories,
 * written whole (no temporary file left behind), absent keys read as undefined, keys that would
 * leave the directory refused, and empty per-image directories removed with their last object.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirObjectStore, keyPath, openDirStore } from './dir.js';
import { DEFAULT_OBJECT_STORE } from './index.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'lading-objects-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('dir: put, get, replace, delete; 0600 files, no temporary files left, empty directories removed', async () => {
  await withDir(async (dir) => {
    const store = new DirObjectStore(join(dir, 'objects'));
    const key = 'analyses/admin/sha256%3Aab/0123abcd';
    await store.put(key, Buffer.from('first'));
    const file = join(dir, 'objects', 'analyses', 'admin', 'sha256%3Aab', '0123abcd');
    if (process.platform !== 'win32') {
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await stat(join(dir, 'objects', 'analyses'))).mode & 0o777, 0o700);
    }
    assert.equal((await store.get(key))!.toString(), 'first');
    await store.put(key, Buffer.from('second'));
    assert.equal((await store.get(key))!.toString(), 'second');
    assert.deepEqual(await readdir(join(dir, 'objects', 'analyses', 'admin', 'sha256%3Aab')), ['0123abcd']);
    await store.put('analyses/admin/other/x', Buffer.from('kept'));
    await store.delete(key);
    assert.equal(await store.get(key), undefined);
    assert.deepEqual(await readdir(join(dir, 'objects', 'analyses', 'admin')), ['other'], 'the emptied image directory went, the account directory stays while it holds another');
    await store.delete(key); // absent: nothing
    assert.equal(await store.get('analyses/nobody/none/x'), undefined);
  });
});

test('dir: keys that are not plain relative paths are refused before touching the disk', async () => {
  await withDir(async (dir) => {
    const store = new DirObjectStore(dir);
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a/./b', '.hidden', 'a\\b']) {
      await assert.rejects(store.put(bad, Buffer.from('x')), /is not a plain relative path/, bad);
      await assert.rejects(store.get(bad), /is not a plain relative path/, bad);
    }
    assert.deepEqual(await readdir(dir), []);
    assert.equal(keyPath('/r', 'a/b%2F..c'), '/r/a/b%2F..c');
  });
});

test('dir: the default directory is objects in the data directory; a write that fails names the file', async () => {
  await withDir(async (dir) => {
    assert.equal(openDirStore(DEFAULT_OBJECT_STORE, { dataDir: dir, env: {} }).location, join(dir, 'objects'));
    const store = new DirObjectStore(join(dir, 'file'));
    await new DirObjectStore(dir).put('file', Buffer.from('a file where a directory should be'));
    await assert.rejects(store.put('k/x', Buffer.from('y')), new RegExp(`cannot write ${join(dir, 'file', 'k', 'x')}`));
  });
});
