import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheCap, cacheDir, parseSize } from './location.js';
import { DEFAULT_CACHE_CAP } from './store.js';

test('the cache directory: LADING_CACHE_DIR, else the data directory\'s cache/', () => {
  assert.equal(cacheDir({ LADING_CACHE_DIR: '/c', LADING_DATA_DIR: '/d' }), '/c');
  assert.equal(cacheDir({ LADING_DATA_DIR: '/d' }), '/d/cache');
  assert.equal(cacheDir({ XDG_DATA_HOME: '/x' }), '/x/lading/cache');
  assert.equal(cacheDir({ HOME: '/h' }), '/h/.local/share/lading/cache');
});

test('the cap: LADING_CACHE_MAX_BYTES in bytes or with a unit, default 2 GiB', () => {
  assert.equal(cacheCap({}), DEFAULT_CACHE_CAP);
  assert.equal(cacheCap({ LADING_CACHE_MAX_BYTES: '512MiB' }), 512 * 1024 ** 2);
  assert.equal(parseSize('1000'), 1000);
  assert.equal(parseSize('2GB'), 2e9);
  assert.throws(() => parseSize('lots'), /expected a size/);
});
