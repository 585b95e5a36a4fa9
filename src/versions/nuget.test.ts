import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareNuget, nuget } from './nuget.js';
import { checkOrderTable, checkSatisfiesTable, checkTotal, testOrderVectors, type OrderCase, type SatisfiesCase } from './testing.js';

describe('nuget compare', () => {
  const cases: OrderCase[] = [
    ['1.0', '=', '1.0.0.0'],
    ['1.0.01', '=', '1.0.1'],
    ['1.0.0', '<', '1.0.0.1'],
    ['1.0.0.9', '<', '1.0.0.10'],
    ['1.2.3.4', '<', '1.2.4'],
    ['1.0.0-beta', '<', '1.0.0'],
    ['1.0.0-BETA', '=', '1.0.0-beta'],
    ['1.0.0-beta.2', '<', '1.0.0-beta.11'],
    ['1.0.0-beta.11', '<', '1.0.0-beta.x'],
    ['1.0.0-alpha', '<', '1.0.0-alpha.1'],
    ['1.0.0.1-alpha', '<', '1.0.0.1-pre'],
    ['1.0.0+build', '=', '1.0.0'],
    ['1.0.0-beta+AA', '<', '1.0.0+aa'],
    ['999999999999999999999999999991', '<', '999999999999999999999999999999'],
  ];
  test('table: NuGet ordering, both directions', () => checkOrderTable(cases, compareNuget));

  test('valid', () => {
    for (const v of ['1', '1.0', '1.2.3', '1.2.3.4', '1.0.0-beta.1+sha.abc', '01.002.3']) assert.equal(nuget.valid(v), true, v);
    for (const v of ['', 'v1.0', '1.2.3.4.5', '1.0-', '1.0+', '1..0', 'x']) assert.equal(nuget.valid(v), false, JSON.stringify(v));
  });

  test('garbage: never throws, deterministic and antisymmetric', () => {
    checkTotal(compareNuget, ['1.0', '1.0.0.1', '1.0-beta', '1.2.3.4.5']);
  });
});

describe('nuget satisfies', () => {
  const cases: SatisfiesCase[] = [
    ['1.5', '[1.0,2.0)', true],
    ['2.0', '[1.0,2.0)', false],
    ['2.0', '[1.0,2.0]', true],
    ['1.0', '(1.0,)', false],
    ['1.0.1', '(1.0,)', true],
    ['0.9', '(,1.0]', true],
    ['1.0', '[1.0]', true],
    ['1.0.0.0', '[1.0]', true],
    ['1.0.1', '[1.0]', false],
    ['2.0-beta', '[1.0,2.0)', true],
    // a bare version is the minimum, inclusive
    ['1.0', '1.0', true],
    ['3.0', '1.0', true],
    ['0.9', '1.0', false],
    ['1.5', '>= 1.0, < 2.0', true],
    ['1.5', '= 1.5.0', true],
    ['1.5', '[1.0,2.0', false],
  ];
  test('table', () => checkSatisfiesTable(cases, nuget.satisfies));
});

describe('nuget vectors', () => {
  testOrderVectors('osv-scalibr-semantic/nuget-versions.txt', compareNuget);
});
