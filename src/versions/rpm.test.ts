import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { compareRpm, parseRpm, rpm, rpmvercmp } from './rpm.js';
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
  prng,
} from './testing.js';

describe('rpm compare', () => {
  const cases: OrderCase[] = [
    ['1.0', '<', '1.1'],
    ['1.10', '>', '1.9'],
    ['1.01', '=', '1.1'],
    ['1.0a', '>', '1.0'],
    ['1.0a', '<', '1.0.1'],
    ['1.0', '<', '1.0.a'],
    ['1a', '<', '1.1'], // numeric newer than alpha
    ['1_0', '=', '1.0'], // separators only separate
    // tilde: before anything, even the end
    ['1.0~rc1', '<', '1.0'],
    ['1.0~rc1', '<', '1.0~rc2'],
    ['1.0~~', '<', '1.0~'],
    // caret: after the end, before anything else
    ['1.0^git1', '>', '1.0'],
    ['1.0^git1', '<', '1.0.1'],
    ['1.0^git1', '<', '1.0a'],
    ['1.0~rc1^git1', '>', '1.0~rc1'],
    // epoch, version, release compared separately
    ['1:1.0-1', '>', '2.0-1'],
    ['0:1.0-1', '=', '1.0-1'],
    [':1.0', '=', '1.0'],
    ['1.0-2', '>', '1.0-1'],
    ['1.0-1.el9', '<', '1.0-1.el9_2'],
    ['1.0-10.el9', '>', '1.0-9.el9'],
    ['3.10.0-229.el7', '<', '3.10.0-229.1.2.el7'],
    // release at the LAST hyphen
    ['1.0-rc1-1', '>', '1.0-1'],
    // a missing release sorts before any release
    ['1.0', '<', '1.0-0'],
    ['1.0', '<', '1.0-'],
    // not an epoch: stays in the version
    ['a:1', '<', 'b:1'],
    ['99999999999999999999999.1', '>', '99999999999999999999998.1'],
  ];
  test('table: rpmvercmp rules, epoch and release, both directions', () => checkOrderTable(cases, compareRpm));

  test('parse: epoch digits before the colon, release at the last hyphen', () => {
    assert.deepEqual(parseRpm('2:1.2.3-4.el9'), { epoch: '2', version: '1.2.3', release: '4.el9' });
    assert.deepEqual(parseRpm('1.2.3'), { epoch: '0', version: '1.2.3' });
    assert.deepEqual(parseRpm('1-2-3'), { epoch: '0', version: '1-2', release: '3' });
    assert.deepEqual(parseRpm('a:1-2'), { epoch: '0', version: 'a:1', release: '2' });
  });

  test('valid', () => {
    for (const v of ['1.0', '1:1.0-1.el9', '1.0^20240101git-2.fc40', '1.0~rc1-0.1', '2.4.21-9.0.1.EL']) assert.equal(rpm.valid(v), true, v);
    for (const v of ['', '1.0-', 'a:1.0', '1.0 1', '1.0-1/2', '-1', ' 1.0']) assert.equal(rpm.valid(v), false, JSON.stringify(v));
  });

  test('garbage: never throws, deterministic and antisymmetric', () => {
    checkTotal(compareRpm, ['1.0', '1:1.0', '1.0-1', '1.0~rc1', '1.0^git1', 'α', '1.1.α']);
  });
});

describe('rpm satisfies', () => {
  const cases: SatisfiesCase[] = [
    ['1.2-3.el9', '>= 1.0, < 2.0', true],
    ['1.2-3.el9', '>= 1.0 < 1.2', false],
    // a bound without a release matches every release of that version (rpm's dependency rule)
    ['1.2-3.el9', '= 1.2', true],
    ['1.2-3.el9', '<= 1.2', true],
    ['1.2-3.el9', '< 1.2', false],
    ['1.2-3.el9', '< 1.2-4.el9', true],
    ['1.2-3.el9', '= 1.2-3.el9', true],
    ['1:1.0-1', '> 2.0', true],
    ['1.0~rc1-1', '< 1.0', true],
    ['1.0-1', 'garbage >=', false],
  ];
  test('table', () => checkSatisfiesTable(cases, rpm.satisfies));
});

describe('rpm vectors', () => {
  const rel = 'rpm/rpmvercmp.tsv';
  const rows = readTsv(rel);
  test(vectorsTitle(rel, rows.length, 'RPMVERCMP cases, rpmvercmp and compare'), { skip: skipUnlessVectors(rel) }, () => {
    assert.ok(rows.length > 0);
    const failures: string[] = [];
    for (const { fields, line } of rows) {
      const [a, b, want] = fields as [string, string, string];
      const got = rpmvercmp(a, b);
      const viaCompare = Math.sign(compareRpm(a, b));
      if (String(got) !== want || String(viaCompare) !== want) failures.push(`${rel}:${line}: rpmvercmp(${a}, ${b}) = ${want}, got ${got} (compare ${viaCompare})`);
    }
    assert.equal(failures.length, 0, failures.join('\n'));
  });
  testOrderVectors('osv-scalibr-semantic/redhat-versions.txt', compareRpm);
});

// ---------------------------------------------------------------------------------------------
// Against the real rpm (its Lua rpm.vercmp compares [epoch:]version[-release] strings).


const PIECES = ['0', '1', '2', '10', '01', '007', '99999999999999999999', 'a', 'b', 'Z', 'rc', 'git', 'el9', '.', '.', '_', '+', '~', '^'];

function genField(r: () => number, max: number): string {
  let s = ['0', '1', '2', 'a', '10'][Math.floor(r() * 5)]!;
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)]!;
  return s;
}

function genEvr(r: () => number, withRelease: boolean): string {
  const epoch = r() < 0.2 ? `${Math.floor(r() * 3)}:` : '';
  return epoch + genField(r, 6) + (withRelease ? `-${genField(r, 4)}` : '');
}

const RPM = '/usr/bin/rpm';
const RPM_PAIRS = 20000;

describe('rpm against /usr/bin/rpm', () => {
  test(
    `${RPM_PAIRS} generated pairs (seeded) agree with rpm's own rpm.vercmp`,
    { skip: existsSync(RPM) ? false : `${RPM} not found`, timeout: 60_000 },
    (t) => {
      const started = Date.now();
      const r = prng(0x59e);
      const pairs: [string, string][] = [];
      while (pairs.length < RPM_PAIRS) {
        const withRelease = r() < 0.7;
        const a = genEvr(r, withRelease);
        // half the pairs are near neighbours: same text with a small change at the end
        const b = r() < 0.5 ? genEvr(r, r() < 0.1 ? !withRelease : withRelease) : a + ['~', '^', '.1', 'a', '1', '^1', '~1'][Math.floor(r() * 7)]!;
        pairs.push([a, b]);
      }
      const dir = mkdtempSync(join(tmpdir(), 'lading-rpm-'));
      try {
        const file = join(dir, 'pairs.txt');
        writeFileSync(file, pairs.map(([a, b]) => `${a} ${b}\n`).join(''));
        const lua = `%{lua: for l in io.lines("${file}") do local a, b = l:match("^(%S+) (%S+)$"); io.write(rpm.vercmp(a, b), "\\n") end}`;
        const res = spawnSync(RPM, ['--eval', lua], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        assert.equal(res.status, 0, res.stderr);
        const answers = res.stdout.split('\n').filter((l) => l !== '');
        assert.equal(answers.length, pairs.length, `rpm answered ${answers.length} of ${pairs.length}: ${res.stderr.slice(0, 300)}`);
        const failures: string[] = [];
        pairs.forEach(([a, b], i) => {
          const mine = Math.sign(compareRpm(a, b));
          if (String(mine) !== answers[i]) failures.push(`rpm.vercmp(${a}, ${b}) = ${answers[i]}, ours ${mine}`);
        });
        t.diagnostic(`${pairs.length} pairs in ${Date.now() - started} ms; ${failures.length} disagreements`);
        assert.equal(failures.length, 0, `${failures.length} disagree:\n  ${failures.slice(0, 25).join('\n  ')}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
