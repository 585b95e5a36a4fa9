import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareSemver, parseSemverLike, satisfiesNpm, semver } from './semver.js';
import {
  checkOrderTable,
  checkSatisfiesTable,
  checkTotal,
  readTsv,
  skipUnlessVectors,
  testOrderVectors,
  vectorsTitle,
  type OrderCase,
  type SatisfiesCase,
} from './testing.js';

describe('semver compare', () => {
  const cases: OrderCase[] = [
    ['1.0.0', '<', '2.0.0'],
    ['1.9.0', '<', '1.10.0'],
    ['1.0.0-alpha', '<', '1.0.0-alpha.1'],
    ['1.0.0-alpha.1', '<', '1.0.0-alpha.beta'],
    ['1.0.0-alpha.beta', '<', '1.0.0-beta'],
    ['1.0.0-beta.2', '<', '1.0.0-beta.11'],
    ['1.0.0-rc.1', '<', '1.0.0'],
    ['1.0.0+build.1', '=', '1.0.0+build.2'],
    ['v1.2.3', '=', '1.2.3'],
    ['=1.2.3', '=', '1.2.3'],
    ['1.2.3-r2', '>', '1.2.3-r100'], // alphanumeric identifiers compare as text
    // fallback: partial versions, extra parts, huge numbers
    ['1.2', '=', '1.2.0'],
    ['1.2', '<', '1.2.1'],
    ['1', '<', '1.0.1'],
    ['1.2.3.4', '>', '1.2.3'],
    ['1.2.3.4', '<', '1.2.4'],
    ['99999999999999999999.0.0', '>', '9007199254740991.0.0'],
    ['1.2-beta', '<', '1.2.0'],
  ];
  test('table: SemVer precedence, both directions', () => checkOrderTable(cases, compareSemver));

  test('fallback reading', () => {
    assert.deepEqual(parseSemverLike('v1.2.3.4-rc.1+build'), { core: ['1', '2', '3', '4'], pre: ['rc', '1'] });
    assert.deepEqual(parseSemverLike('1.2beta'), { core: ['1', '2'], pre: ['beta'] });
  });

  test('valid: loose semver', () => {
    for (const v of ['1.2.3', 'v1.2.3', '1.2.3-beta.1+b', ' 1.2.3 ', '1.2.3beta']) assert.equal(semver.valid(v), true, v);
    for (const v of ['1.2', '1', '1.2.3.4', 'x', '', '99999999999999999999.0.0']) assert.equal(semver.valid(v), false, v);
  });

  test('garbage: never throws, deterministic and antisymmetric', () => {
    checkTotal(compareSemver, ['1.0.0', '1.0.0-rc.1', '1.2', 'v2', '1.2.3.4']);
  });
});

describe('semver satisfies (npm ranges)', () => {
  const cases: SatisfiesCase[] = [
    ['1.2.3', '^1.0.0', true],
    ['2.0.0', '^1.0.0', false],
    ['1.2.9', '~1.2.3', true],
    ['1.3.0', '~1.2.3', false],
    ['1.5.0', '>=1.0.0 <2.0.0', true],
    ['1.5.0', '>= 1.0.0, < 2.0.0', true], // GHSA's commas
    ['3.0.0', '<1.0.0 || >=3.0.0', true],
    ['1.2.3', '1.x', true],
    ['1.2', '^1.0.0', true], // coerced
    // npm's pre-release rule: only with a pre-release comparator on the same tuple
    ['1.5.0-rc.1', '>=1.0.0 <2.0.0', false],
    ['1.0.0-rc.2', '>=1.0.0-rc.1 <2.0.0', true],
    ['garbage', '*', false],
    ['1.0.0', 'not a range', false],
  ];
  test('table', () => checkSatisfiesTable(cases, semver.satisfies));
  test('includePrerelease on request', () => {
    assert.equal(satisfiesNpm('1.5.0-rc.1', '>=1.0.0 <2.0.0', { includePrerelease: true }), true);
  });
});

function parseOptions(raw: string | undefined): boolean | { loose?: boolean; includePrerelease?: boolean } {
  if (raw === undefined || raw === '') return false;
  const v = JSON.parse(raw) as unknown;
  if (typeof v === 'object' && v !== null) {
    const o = v as { loose?: unknown; includePrerelease?: unknown };
    return { loose: Boolean(o.loose), includePrerelease: Boolean(o.includePrerelease) };
  }
  return Boolean(v); // node-semver: a non-object truthy option means loose
}

describe('semver vectors', () => {
  const cmpRel = 'npm-node-semver/comparisons.tsv';
  const comparisons = readTsv(cmpRel);
  test(vectorsTitle(cmpRel, comparisons.length, 'rows, both directions'), { skip: skipUnlessVectors(cmpRel) }, () => {
    assert.ok(comparisons.length > 0);
    const failures: string[] = [];
    for (const { fields, line } of comparisons) {
      const [greater, lesser] = fields as [string, string];
      if (!(compareSemver(greater, lesser) > 0 && compareSemver(lesser, greater) < 0)) failures.push(`${cmpRel}:${line}: ${greater} > ${lesser}`);
    }
    assert.equal(failures.length, 0, failures.join('\n'));
  });

  const rangeRel = 'npm-node-semver/range-include.tsv';
  const ranges = readTsv(rangeRel);
  test(vectorsTitle(rangeRel, ranges.length, "rows with their options (and the scheme's satisfies where npm defaults apply)"), { skip: skipUnlessVectors(rangeRel) }, (t) => {
    assert.ok(ranges.length > 0);
    const failures: string[] = [];
    let viaScheme = 0;
    for (const { fields, line } of ranges) {
      // read from the right: a range may itself contain a tab (node-semver's '<\t2.0.0' case)
      const rawOpts = fields[fields.length - 1];
      const version = fields[fields.length - 2]!;
      const range = fields.slice(0, -2).join('\t');
      const opts = parseOptions(rawOpts);
      if (!satisfiesNpm(version, range, opts)) failures.push(`${rangeRel}:${line}: ${version} in ${JSON.stringify(range)} ${rawOpts ?? ''}`);
      const includePrerelease = typeof opts === 'object' && opts.includePrerelease === true;
      if (!includePrerelease) {
        viaScheme++;
        if (!semver.satisfies(version, range)) failures.push(`${rangeRel}:${line}: scheme satisfies(${version}, ${JSON.stringify(range)})`);
      }
    }
    t.diagnostic(`${ranges.length} rows with their options; ${viaScheme} also through semver.satisfies (loose, includePrerelease false)`);
    assert.equal(failures.length, 0, failures.join('\n'));
  });

  testOrderVectors('osv-scalibr-semantic/semver-versions.txt', compareSemver);
});
