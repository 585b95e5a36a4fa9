import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { comparePep440, legacyKey, pep440 } from './pep440.js';
import { checkOrderTable, checkSatisfiesTable, checkTotal, testOrderVectors, type OrderCase, type SatisfiesCase } from './testing.js';

describe('pep440 compare', () => {
  const cases: OrderCase[] = [
    ['1.0', '<', '1.1'],
    ['1.9', '<', '1.10'],
    ['1.0', '=', '1.0.0'],
    ['1.0.0a1', '=', '1.0.0-alpha1'],
    ['1.0.0a1', '=', '1.0.0.alpha.1'],
    ['1.0b2', '=', '1.0beta2'],
    ['1.0rc1', '=', '1.0c1'],
    ['1.0rc1', '=', '1.0pre1'],
    ['1.0-1', '=', '1.0.post1'],
    ['1.0.DEV1', '=', '1.0.dev1'],
    ['v1.0', '=', '1.0'],
    [' 1.0 ', '=', '1.0'],
    // the release order: dev < a < b < rc < final < post
    ['1.0.dev0', '<', '1.0a1'],
    ['1.0a1', '<', '1.0b1'],
    ['1.0b1', '<', '1.0rc1'],
    ['1.0rc1', '<', '1.0'],
    ['1.0', '<', '1.0.post1'],
    ['1.0a1.dev1', '<', '1.0a1'],
    ['1.0.post1.dev1', '<', '1.0.post1'],
    ['1.0.post1', '<', '1.1.dev0'],
    // epochs and local versions
    ['1!0.1', '>', '2.0'],
    ['1.99999999999999999999', '<', '1.100000000000000000000'],
    ['99999999999999999999!1', '>', '99999999999999999998!2'],
    ['1.0+local', '>', '1.0'],
    ['1.0+abc', '<', '1.0+1'],
    ['1.0+1.2', '<', '1.0+1.10'],
    // legacy (non-PEP 440) versions sort before every PEP 440 version
    ['0.1-bulbasaur', '<', '0.0.1'],
    ['0.1-bulbasaur', '<', '0.1-charmander'],
    ['trunk', '<', '0'],
  ];
  test('table: PEP 440 normalisation and order, both directions', () => checkOrderTable(cases, comparePep440));

  test('legacy key (setuptools LegacyVersion)', () => {
    // '-' reads as '*final-', dropped again before a pre-release word; trailing zeros are dropped
    assert.deepEqual(legacyKey('1.0-beta'), ['00000001', '*beta', '*final']);
    assert.deepEqual(legacyKey('1.0-foo'), ['00000001', '*final-', '*foo', '*final']);
    assert.deepEqual(legacyKey('2.0.0pre1'), ['00000002', '*c', '00000001', '*final']);
  });

  test('valid', () => {
    for (const v of ['1.0', '1.0-beta-2', '1!2.0.post1.dev3+abc.1', 'v1.0', '1.0A1', ' 1.0 ', '2013.1']) assert.equal(pep440.valid(v), true, v);
    for (const v of ['', 'trunk', '1.0_foo', '2013-01-21T20:33:09+0100', '1.0+', 'x1.0']) assert.equal(pep440.valid(v), false, v);
  });

  test('garbage: never throws, deterministic and antisymmetric', () => {
    checkTotal(comparePep440, ['1.0', '1.0a1', '1!1.0', 'trunk', '0.1-bulbasaur']);
  });
});

describe('pep440 satisfies', () => {
  const cases: SatisfiesCase[] = [
    ['1.5', '>=1.0,<2.0', true],
    ['1.5', '>= 1.0, < 2.0', true],
    ['2.0', '>=1.0,<2.0', false],
    ['1.4.5', '~=1.4.2', true],
    ['1.5.0', '~=1.4.2', false],
    ['1.9', '~=1.4', true],
    ['2.0', '~=1.4', false],
    ['1.2.3', '==1.*', true],
    ['2.0', '==1.*', false],
    ['1.3.1', '!=1.3.*', false],
    ['1.0', '===1.0', true],
    ['1.0.0', '===1.0', false],
    ['1.0.0', '==1.0', true],
    ['1.0+local', '==1.0', true],
    // pre-releases are admitted (unlike pip's default) ...
    ['1.5rc1', '>=1.0,<2.0', true],
    // ... but PEP 440's exclusive comparisons hold
    ['2.0rc1', '<2.0', false],
    ['1.0.post1', '>1.0', false],
    // what the library does not read goes through the comparator-list syntax
    ['1.5', '>=1.0 <2.0', true],
    ['3.1', '<1.0 || >=3.0', true],
    ['0.1-bulbasaur', '<1.0', true],
    ['1.0', '>=', false],
    ['1.0', '', true],
  ];
  test('table', () => checkSatisfiesTable(cases, pep440.satisfies));
});

describe('pep440 vectors', () => {
  testOrderVectors('osv-scalibr-semantic/pypi-versions.txt', comparePep440);
  testOrderVectors('osv-scalibr-semantic/pypi-versions-generated.txt', comparePep440);
});
