import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareGem, gem } from './gem.js';
import { checkOrderTable, checkSatisfiesTable, checkTotal, testOrderVectors, type OrderCase, type SatisfiesCase } from './testing.js';

describe('gem compare', () => {
  const cases: OrderCase[] = [
    ['1.0', '<', '1.1'],
    ['3.2', '<', '3.10'],
    ['1', '=', '1.0.0'],
    ['1.0.a', '<', '1.0'],
    ['1.0.a', '=', '1.0a'],
    ['1.0.a10', '>', '1.0.a9'],
    ['1.0.a.10', '>', '1.0.a9'],
    ['1.0.a2', '=', '1.0.a.2'],
    ['1.0.b1', '>', '1.0.a.2'],
    ['1.0.rc1', '<', '1.0'],
    ['1.0.rc1', '>', '0.9'],
    ['1.2.4.beta', '<', '1.2.4'],
    ['1.a.0', '=', '1.a'],
    ['1.0-1', '=', '1.0.pre.1'], // `-` reads as `.pre.`
    ['1.0-1', '<', '1.0'],
    ['1.0.B', '<', '1.0.a'], // letters compare as bytes
    ['999999999999999999999999999991', '<', '999999999999999999999999999999'],
  ];
  test('table: Gem::Version ordering, both directions', () => checkOrderTable(cases, compareGem));

  test('valid', () => {
    for (const v of ['1', '1.2.3', '1.2.3.pre1', '1.0-rc.1', ' 1.0 ', '1.0.a']) assert.equal(gem.valid(v), true, v);
    for (const v of ['', 'a', '1..2', '1.0.', '.1', '1.0+b', 'v1.0']) assert.equal(gem.valid(v), false, JSON.stringify(v));
  });

  test('garbage: never throws, deterministic and antisymmetric', () => {
    checkTotal(compareGem, ['1.0', '1.0.a', '0', 'v1.0']);
  });
});

describe('gem satisfies (Gem::Requirement)', () => {
  const cases: SatisfiesCase[] = [
    ['1.2.5', '~> 1.2.3', true],
    ['1.3.0', '~> 1.2.3', false],
    ['1.9', '~> 1.2', true],
    ['2.0', '~> 1.2', false],
    ['2.0.a', '~> 1.2', false],
    ['1.2.3.rc1', '~> 1.2.3', false], // below 1.2.3
    ['1.3.0.rc1', '~> 1.2.3', false], // its release 1.3.0 is not < 1.3
    ['5', '~> 5', true],
    ['6', '~> 5', false],
    ['1.5', '>= 1.0, < 2.0', true],
    ['2.0', '>= 1.0, < 2.0', false],
    ['1.3', '!= 1.3', false],
    ['1.3', '1.3', true],
    ['1.3.0', '= 1.3', true],
    ['1.2', '<= 1.2.0', true],
    ['3.0', '< 1.0 || >= 3.0', true],
    ['1.0', '=> 1.0', false],
    ['1.0', '', true],
  ];
  test('table', () => checkSatisfiesTable(cases, gem.satisfies));
});

describe('gem vectors', () => {
  testOrderVectors('osv-scalibr-semantic/rubygems-versions.txt', compareGem);
  testOrderVectors('osv-scalibr-semantic/rubygems-versions-generated.txt', compareGem);
});
