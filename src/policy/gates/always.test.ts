import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fire } from '../testing.js';

test('always fires once with its fixed id', () => {
  assert.deepEqual(fire('always', 'always', {}), [{ id: 'always', msg: 'Unconditional trigger match' }]);
});
