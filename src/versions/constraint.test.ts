import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareDigits, parseConstraint, parseIntervals, satisfiesConstraint, satisfiesIntervals } from './constraint.js';

/** Plain numeric dotted versions, enough to exercise the syntax. */
function cmp(a: string, b: string): number {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const c = compareDigits(x[i] ?? '0', y[i] ?? '0');
    if (c !== 0) return c;
  }
  return 0;
}

describe('comparator-list constraints', () => {
  test('parse', () => {
    const cases: [string, ReturnType<typeof parseConstraint>][] = [
      ['>=1.0, <2.0', [[{ op: '>=', version: '1.0' }, { op: '<', version: '2.0' }]]],
      ['>= 1.0 < 2.0', [[{ op: '>=', version: '1.0' }, { op: '<', version: '2.0' }]]],
      ['>=1.0,<2.0', [[{ op: '>=', version: '1.0' }, { op: '<', version: '2.0' }]]],
      ['=1.2', [[{ op: '=', version: '1.2' }]]],
      ['==1.2', [[{ op: '=', version: '1.2' }]]],
      ['1.2', [[{ op: '=', version: '1.2' }]]],
      ['!=1.3', [[{ op: '!=', version: '1.3' }]]],
      ['<< 2.0', [[{ op: '<', version: '2.0' }]]],
      ['>> 2.0', [[{ op: '>', version: '2.0' }]]],
      ['<=1 || >=3', [[{ op: '<=', version: '1' }], [{ op: '>=', version: '3' }]]],
      ['', [[]]],
      ['*', [[]]],
      ['>= 1.0, *', [[{ op: '>=', version: '1.0' }]]],
      ['>=', undefined],
      ['>= 1.0 ||', undefined],
      ['|| 1.0', undefined],
      [', 1.0', undefined],
      ['>=< 1.0', undefined],
      ['> *', undefined],
      ['~=1.0', undefined],
      ['>=1.0<2.0', undefined],
    ];
    for (const [text, want] of cases) assert.deepEqual(parseConstraint(text), want, JSON.stringify(text));
  });

  test('satisfies', () => {
    const cases: [string, string, boolean][] = [
      ['1.5', '>=1.0, <2.0', true],
      ['2.0', '>=1.0, <2.0', false],
      ['1.0', '>=1.0, <2.0', true],
      ['1.2', '=1.2', true],
      ['1.2.0', '=1.2', true],
      ['1.3', '!=1.3', false],
      ['1.4', '!=1.3', true],
      ['0.5', '<1.0 || >2.0', true],
      ['1.5', '<1.0 || >2.0', false],
      ['2.5', '<1.0 || >2.0', true],
      ['1.5', '', true],
      ['1.5', 'nonsense ||', false],
    ];
    for (const [v, c, want] of cases) assert.equal(satisfiesConstraint(v, c, cmp), want, `${v} in ${c}`);
  });
});

describe('interval notation', () => {
  test('parse', () => {
    assert.deepEqual(parseIntervals('[1.0,2.0)'), [{ lower: '1.0', lowerInclusive: true, upper: '2.0', upperInclusive: false }]);
    assert.deepEqual(parseIntervals('(,1.0]'), [{ lowerInclusive: false, upper: '1.0', upperInclusive: true }]);
    assert.deepEqual(parseIntervals('[1.2]'), [{ lower: '1.2', lowerInclusive: true, upper: '1.2', upperInclusive: true }]);
    assert.deepEqual(parseIntervals(' [1,2) , [3,4) '), [
      { lower: '1', lowerInclusive: true, upper: '2', upperInclusive: false },
      { lower: '3', lowerInclusive: true, upper: '4', upperInclusive: false },
    ]);
    for (const bad of ['', '[1.0', '1.0', '(1.2)', '[,]', '[1,2,3]', '[1,2),', '[1,2) x', '[]']) {
      assert.equal(parseIntervals(bad), undefined, JSON.stringify(bad));
    }
  });

  test('satisfies', () => {
    const cases: [string, string, boolean][] = [
      ['1.0', '[1.0,2.0)', true],
      ['2.0', '[1.0,2.0)', false],
      ['2.0', '[1.0,2.0]', true],
      ['1.0', '(1.0,2.0]', false],
      ['0.1', '(,1.0]', true],
      ['9', '[1.0,)', true],
      ['1.2', '[1.2]', true],
      ['1.3', '[1.2]', false],
      ['3.5', '[1,2),[3,4)', true],
      ['2.5', '[1,2),[3,4)', false],
      ['1', '[1', false],
    ];
    for (const [v, c, want] of cases) assert.equal(satisfiesIntervals(v, c, cmp), want, `${v} in ${c}`);
  });
});

test('compareDigits: any length, leading zeros ignored, empty is zero', () => {
  assert.equal(compareDigits('10', '9'), 1);
  assert.equal(compareDigits('007', '7'), 0);
  assert.equal(compareDigits('', '0'), 0);
  assert.equal(compareDigits('99999999999999999999999', '100000000000000000000000'), -1);
});
