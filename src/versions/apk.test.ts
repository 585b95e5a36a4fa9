import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apk, compareApk, parseApk } from './apk.js';
import { checkOrderTable, checkSatisfiesTable, checkTotal, testOrderVectors, type OrderCase, type SatisfiesCase } from './testing.js';

describe('apk compare', () => {
  const cases: OrderCase[] = [
    ['1.0', '<', '1.1'],
    ['1.9', '<', '1.10'],
    ['1.0', '<', '1.0.1'],
    ['1.02', '<', '1.1'], // later numbers with a leading zero compare as strings
    ['1.2.12.04', '<', '1.2.12.05'],
    ['021109-r3', '<', '20060512'], // the first number is always numeric
    ['1.0', '<', '1.0a'],
    ['1.0a', '<', '1.0b'],
    ['1.0b', '<', '1.0.1'],
    // suffixes: pre-release ones before the release, post-release ones after
    ['1.0_alpha', '<', '1.0_beta'],
    ['1.0_beta2', '<', '1.0_pre1'],
    ['1.0_pre1', '<', '1.0_rc1'],
    ['1.0_rc1', '<', '1.0'],
    ['1.0', '<', '1.0_cvs1'],
    ['1.0_cvs1', '<', '1.0_svn1'],
    ['1.0_svn1', '<', '1.0_git1'],
    ['1.0_git1', '<', '1.0_hg1'],
    ['1.0_hg1', '<', '1.0_p1'],
    ['1.0_p9', '<', '1.0_p10'],
    ['1.0_alpha', '=', '1.0_alpha0'],
    ['0.1.0_alpha_pre2', '<', '0.1.0_alpha'],
    // revisions
    ['1.0-r0', '=', '1.0'],
    ['1.0-r1', '<', '1.0-r2'],
    ['1.0-r9', '<', '1.0-r10'],
    ['1.0_rc1-r5', '<', '1.0-r0'],
    ['1.0-r1', '=', '1.0-r01'],
    // the commit hash is ignored
    ['1.0~abc123-r1', '=', '1.0-r1'],
    // numbers of any length
    ['1.0.0_pre20191002222144-r0', '<', '1.0.0_pre20210530193627-r0'],
    ['999999999999999999999999999991', '<', '999999999999999999999999999999'],
    // a tail outside the grammar sorts before a clean version
    ['1.2_blah', '<', '1.2'],
    ['1-ruff', '<', '1'],
  ];
  test('table: apk ordering rules, both directions', () => checkOrderTable(cases, compareApk));

  test('parse', () => {
    assert.deepEqual(parseApk('1.2.3b_rc1_p2~a1b2-r4'), {
      numbers: ['1', '2', '3'],
      letter: 'b',
      suffixes: [
        { weight: 3, number: '1' },
        { weight: 9, number: '2' },
      ],
      hash: 'a1b2',
      revision: '4',
      rest: '',
      invalid: false,
    });
  });

  test('valid', () => {
    for (const v of ['1', '1.0', '1.2.3-r0', '1.0_alpha1', '2.12r-r4', '1.0_p1_git20240101-r3', '1.0~deadbeef-r1', '1.0-r']) assert.equal(apk.valid(v), true, v);
    for (const v of ['', 'a', '.1', '1.', '1..2', '1.0_blah', '1.0-1', '1.0A', 'v1.0', '1.0 ']) assert.equal(apk.valid(v), false, JSON.stringify(v));
  });

  test('garbage: never throws, deterministic and antisymmetric', () => {
    checkTotal(compareApk, ['1.0', '1.0-r1', '1.0_rc1', '1.0a', '1.2_blah', '1-ruff', '0..8']);
  });
});

describe('apk satisfies', () => {
  const cases: SatisfiesCase[] = [
    ['1.2.3-r1', '>= 1.2.3, < 1.2.4', true],
    ['1.2.3-r1', '< 1.2.3-r1', false],
    ['1.2.3_rc1', '< 1.2.3', true],
    ['1.2.3_p1', '> 1.2.3', true],
    ['1.2.3-r0', '= 1.2.3', true],
    ['2.0', '<1.0 || >=2.0', true],
  ];
  test('table', () => checkSatisfiesTable(cases, apk.satisfies));
});

describe('apk vectors', () => {
  testOrderVectors('osv-scalibr-semantic/alpine-versions.txt', compareApk);
  testOrderVectors('osv-scalibr-semantic/alpine-versions-generated.txt', compareApk);
});
