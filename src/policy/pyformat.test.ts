import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pyDate, pyFloat, pyListRepr, pyOct, pyStrRepr } from './pyformat.js';

test('Python str() and repr() of the values Anchore put in messages', () => {
  assert.equal(pyListRepr(['CVE-2021-1', 'CVE-2021-2']), "['CVE-2021-1', 'CVE-2021-2']");
  assert.equal(pyListRepr([]), '[]');
  assert.equal(pyStrRepr("it's"), '"it\'s"');
  assert.equal(pyStrRepr('both \' and "'), '\'both \\\' and "\'');
  assert.equal(pyStrRepr('tab\there'), "'tab\\there'");
  assert.equal(pyOct(0o104755), '0o104755');
  assert.equal(pyOct(0), '0o0');
  assert.equal(pyFloat(7), '7.0');
  assert.equal(pyFloat(-1), '-1.0');
  assert.equal(pyFloat(9.8), '9.8');
  assert.equal(pyDate(new Date('2024-05-01T23:59:59Z')), '2024-05-01');
});
