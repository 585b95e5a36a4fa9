import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { composer, normalizeComposer, parseComposerConstraint, phpVersionCompare } from './composer.js';
import { checkOrderTable, checkSatisfiesTable, checkTotal, testOrderVectors, type OrderCase, type SatisfiesCase } from './testing.js';

describe('composer compare (PHP version_compare)', () => {
  const cases: OrderCase[] = [
    ['5.2', '<', '5.10'],
    ['1.0-dev', '<', '1.0a1'],
    ['1.0a1', '<', '1.0b1'],
    ['1.0b1', '<', '1.0RC1'],
    ['1.0RC1', '=', '1.0rc1'],
    ['1.0RC1', '<', '1.0'],
    ['1.0', '<', '1.0pl1'],
    ['1.0', '<', '1.0-patch1'],
    ['1.0.0', '>', '1.0'], // no padding: a following number wins
    ['1.0', '>', '1.0-dev'],
    ['1.0-foo', '<', '1.0-dev'], // an unknown word sorts before dev
    ['v1.2.3', '=', '1.2.3'],
    ['V1.2.3', '=', 'v1.2.3'],
    ['1.25.0-beta2.1', '=', '1.25.0-b.2.1'],
    ['dev-main', '<', '0.0.1'],
    ['dev-foo', '<', '1.26.0'],
    ['1.0.0.0-beta1', '>', '1.0.0.0-beta'],
    ['2.0.0.0-dev', '<', '2.0.0.0-alpha1'],
    ['999999999999999999999999999991', '<', '999999999999999999999999999999'],
  ];
  test('table: ordering, both directions', () => checkOrderTable(cases, phpVersionCompare));

  test('normalize (VersionParser::normalize)', () => {
    const cases: [string, string | undefined][] = [
      ['1.2', '1.2.0.0'],
      ['v1.0.0', '1.0.0.0'],
      ['1.0RC1', '1.0.0.0-RC1'],
      ['1.0.0-beta.2', '1.0.0.0-beta2'],
      ['1.0.0-b2', '1.0.0.0-beta2'],
      ['1.0pl1', '1.0.0.0-patch1'],
      ['1.0.0-stable', '1.0.0.0'],
      ['1.0.0-dev', '1.0.0.0-dev'],
      ['1.0.0-alpha1-dev', '1.0.0.0-alpha1-dev'],
      ['2.1.x-dev', '2.1.9999999.9999999-dev'],
      ['dev-main', 'dev-main'],
      ['master', 'dev-master'],
      ['1.0.0+build.5', '1.0.0.0'],
      ['1.0.0@beta', '1.0.0.0'],
      ['2010-01-02', '2010.01.02'],
      ['1.0.0 as 2.0.0', '1.0.0.0'],
      ['foo', undefined],
      ['1.0.0-foo', undefined],
      ['', undefined],
      ['1.2.3.4.5', undefined],
    ];
    for (const [v, want] of cases) assert.equal(normalizeComposer(v), want, v);
  });

  test('valid', () => {
    for (const v of ['1.2.3', 'v1.2', '1.0.0-beta2', 'dev-feature/x', '2.x-dev']) assert.equal(composer.valid(v), true, v);
    for (const v of ['', 'foo', '1.0.0-foo', '1.2.3.4.5']) assert.equal(composer.valid(v), false, JSON.stringify(v));
  });

  test('garbage: never throws, deterministic and antisymmetric', () => {
    checkTotal(phpVersionCompare, ['1.0', '1.0.0', '1.0-dev', 'dev-main', '1.0pl1', '1.2.3.#']);
  });
});

describe('composer satisfies (Composer constraints)', () => {
  const cases: SatisfiesCase[] = [
    ['1.2.3', '^1.2.3', true],
    ['1.9.9', '^1.2.3', true],
    ['1.3.0-beta1', '^1.2.3', true],
    ['1.2.2', '^1.2.3', false],
    ['2.0.0', '^1.2.3', false],
    ['2.0.0-beta1', '^1.2.3', false], // below the bound is <2.0.0.0-dev
    ['0.3.5', '^0.3', true],
    ['0.4.0', '^0.3', false],
    ['0.0.3', '^0.0.3', true],
    ['0.0.4', '^0.0.3', false],
    ['1.9', '~1.2', true],
    ['2.0', '~1.2', false],
    ['1.2.9', '~1.2.3', true],
    ['1.3.0', '~1.2.3', false],
    ['1.2.9', '1.2.*', true],
    ['1.3', '1.2.*', false],
    ['1.3', '1.x', true],
    ['dev-main', '*', true],
    ['1.0.5', '>=1.0 <1.1 || >=1.2', true],
    ['1.1', '>=1.0 <1.1 || >=1.2', false],
    ['1.2', '>=1.0 <1.1 || >=1.2', true],
    ['1.5', '>=1.0, <2.0', true],
    ['1.5', '>=1.0,<2.0', true],
    ['2.0.9', '1.0 - 2.0', true],
    ['2.1', '1.0 - 2.0', false],
    ['2.1.0', '1.0.0 - 2.1.0', true],
    ['2.1.1', '1.0.0 - 2.1.0', false],
    ['1.3.0', '!=1.3', false],
    ['1.3.1', '!=1.3', true],
    ['1.9', '<2.0', true],
    ['2.0-beta1', '<2.0', false],
    ['2.0-beta1', '>=2.0', true],
    ['1.0-beta1', '>=1.0@beta', true],
    ['1.0-alpha1', '>=1.0@beta', false],
    ['1.2.3', 'v1.2.3', true],
    ['1.2.3', '1.2.3', true],
    ['1.2.4', '1.2.3', false],
    ['dev-main', 'dev-main', true],
    ['dev-feature', 'dev-main', false],
    ['dev-main', '>=1.0', false],
    ['1.0', 'dev-main', false],
    ['1.0', '~>1.2', false], // Composer rejects ~>
    ['1.0', 'garbage', false],
    ['not-a-version', '*', false],
  ];
  test('table', () => checkSatisfiesTable(cases, composer.satisfies));

  test('constraint parsing', () => {
    assert.deepEqual(parseComposerConstraint('^1.2.3'), [
      [
        { op: '>=', version: '1.2.3.0-dev' },
        { op: '<', version: '2.0.0.0-dev' },
      ],
    ]);
    assert.deepEqual(parseComposerConstraint('~1.2 || 3.0.*'), [
      [
        { op: '>=', version: '1.2.0.0-dev' },
        { op: '<', version: '2.0.0.0-dev' },
      ],
      [
        { op: '>=', version: '3.0.0.0-dev' },
        { op: '<', version: '3.1.0.0-dev' },
      ],
    ]);
    assert.equal(parseComposerConstraint('>= nope'), undefined);
  });
});

describe('composer vectors', () => {
  testOrderVectors('osv-scalibr-semantic/packagist-versions.txt', phpVersionCompare);
  testOrderVectors('osv-scalibr-semantic/packagist-versions-generated.txt', phpVersionCompare);
});
