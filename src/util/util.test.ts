import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPlainObject } from './objects.js';
import { chunks } from './arrays.js';

test('isPlainObject accepts objects only', () => {
  assert.equal(isPlainObject({ a: 1 }), true);
  assert.equal(isPlainObject(Object.create(null)), true);
  for (const v of [null, undefined, [], 'x', 1, true]) assert.equal(isPlainObject(v), false, String(v));
});

test('chunks cuts a list into slices of at most size', () => {
  assert.deepEqual(chunks([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(chunks([1, 2], 2), [[1, 2]]);
  assert.deepEqual(chunks([], 3), []);
});
