import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { canonicalGo, compareGo, go } from './go.js';
import { checkOrderTable, checkSatisfiesTable, checkTotal, testOrderVectors, VECTORS_DIR, type OrderCase, type SatisfiesCase } from './testing.js';

describe('go compare', () => {
  const cases: OrderCase[] = [
    ['v1.2.3', '=', '1.2.3'],
    ['v1.2.3', '<', 'v1.10.0'],
    ['v1', '=', 'v1.0.0'],
    ['v1.2', '=', 'v1.2.0'],
    ['0', '<', 'v0.0.1'],
    ['v2.0.0+incompatible', '=', 'v2.0.0'],
    ['v2.0.0+incompatible', '>', 'v1.9.9'],
    ['v1.0.0-rc.1', '<', 'v1.0.0'],
    ['v1.0.0-beta.2', '<', 'v1.0.0-beta.11'],
    // pseudo-versions order by their pre-release, as Go does
    ['v0.0.0-20210101000000-abcdef123456', '<', 'v0.0.0-20210102000000-000000000000'],
    ['v0.0.0-20210101000000-abcdef123456', '<', 'v0.0.1'],
    ['v1.2.3', '<', 'v1.2.4-0.20210101000000-abcdef123456'],
    ['v1.2.4-0.20210101000000-abcdef123456', '<', 'v1.2.4'],
    ['v1.2.3-pre', '<', 'v1.2.3-pre.0.20210101000000-abcdef123456'],
    ['v1.2.3-pre.0.20210101000000-abcdef123456', '<', 'v1.2.3'],
    // toolchain / stdlib spellings
    ['go1.21.5', '=', '1.21.5'],
    ['go1.21', '=', '1.21.0'],
    ['go1.22rc1', '=', '1.22.0-rc.1'],
    ['go1.22rc1', '<', 'go1.22.0'],
    ['go1.22beta1', '<', 'go1.22rc1'],
    ['1.21.0-0', '<', 'go1.21rc2'], // the Go vulndb's "introduced: 1.21.0-0"
    ['go1.21.10', '>', 'go1.21.9'],
    ['1.22rc2', '>', '1.22rc1'],
    // numbers of any length
    ['v99999999999999999999.0.0', '>', 'v9007199254740993.0.0'],
    // invalid versions sort before valid ones
    ['v1.02.3', '<', 'v0.0.0'],
    ['latest', '<', 'v0.0.0-00010101000000-000000000000'],
  ];
  test('table: Go module ordering, both directions', () => checkOrderTable(cases, compareGo));

  test('canonical spelling', () => {
    assert.equal(canonicalGo('1.2.3'), 'v1.2.3');
    assert.equal(canonicalGo('v1.2'), 'v1.2.0');
    assert.equal(canonicalGo('go1.22rc1'), 'v1.22.0-rc.1');
    assert.equal(canonicalGo('go1.21'), 'v1.21.0');
    assert.equal(canonicalGo('v2.0.0+incompatible'), 'v2.0.0+incompatible');
    assert.equal(canonicalGo('v1.2.3-01'), undefined);
  });

  test('valid', () => {
    for (const v of ['v1.2.3', '1.2.3', '0', 'v1', 'v1.2', 'v2.3.4+incompatible', 'v0.0.0-20210101000000-abcdef123456', 'go1.21.5', 'go1.22rc1', '1.16.0-0']) {
      assert.equal(go.valid(v), true, v);
    }
    for (const v of ['', 'v', 'v1.2-pre', 'v1.02.3', 'v1.2.3-01', 'v1.2.3.4', 'go', 'gox', 'latest', 'v1.2.3-', 'v1.2.3+', 'v1.2.3-a..b']) {
      assert.equal(go.valid(v), false, JSON.stringify(v));
    }
  });

  test('garbage: never throws, deterministic and antisymmetric', () => {
    checkTotal(compareGo, ['v1.0.0', '1.0.0', 'v1.0.0-rc.1', 'go1.21', 'latest', 'v1.02']);
  });
});

describe('go satisfies', () => {
  const cases: SatisfiesCase[] = [
    ['v1.2.5', '>= 1.2.0, < 1.3.0', true],
    ['1.3.0', '>= v1.2.0, < v1.3.0', false],
    ['go1.21.4', '>= 1.21.0-0, < 1.21.5', true],
    ['go1.21.5', '>= 1.21.0-0, < 1.21.5', false],
    ['v0.0.0-20200101000000-abcdef123456', '< 0.0.0-20210101000000-000000000000', true],
  ];
  test('table', () => checkSatisfiesTable(cases, go.satisfies));
});

describe('go vectors', () => {
  testOrderVectors('osv-scalibr-semantic/semver-versions.txt', compareGo);

  // Real Go vulnerability records: every event version parses, and each range's events ascend.
  const dir = resolve(VECTORS_DIR, '..', 'osv', 'go', 'golang-vulndb');
  test(
    'real OSV Go records (shared/vulndata/osv/go/golang-vulndb): event versions valid and ascending within each range',
    { skip: existsSync(dir) ? false : `Go OSV records not found: ${dir}` },
    (t) => {
      const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
      let events = 0;
      const failures: string[] = [];
      for (const f of files) {
        const rec = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
          affected?: { package: { name: string }; ranges?: { type: string; events: Record<string, string>[] }[] }[];
        };
        for (const a of rec.affected ?? []) {
          for (const r of a.ranges ?? []) {
            let prev: string | undefined;
            for (const ev of r.events) {
              for (const [kind, v] of Object.entries(ev)) {
                events++;
                if (!go.valid(v)) failures.push(`${f} ${a.package.name}: invalid ${v}`);
                // OSV's `introduced: "0"` is a sentinel for "from the beginning", not v0.0.0 (which
                // sorts after v0.0.0-<date>-<hash> pseudo-versions): the matcher special-cases it
                if (kind === 'introduced' && v === '0') continue;
                if (prev !== undefined && compareGo(prev, v) >= 0) failures.push(`${f} ${a.package.name}: ${prev} !< ${v}`);
                prev = v;
              }
            }
          }
        }
      }
      t.diagnostic(`${files.length} records, ${events} event versions`);
      assert.equal(failures.length, 0, failures.slice(0, 30).join('\n'));
    },
  );
});
