import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { compareDpkg, dpkg, dpkgProblem, parseDpkg } from './dpkg.js';
import { checkOrderTable, checkSatisfiesTable, checkTotal, testOrderVectors, type OrderCase, type SatisfiesCase, prng } from './testing.js';

describe('dpkg compare', () => {
  const cases: OrderCase[] = [
    // digits compare numerically, any length
    ['1.0', '<', '1.1'],
    ['1.9', '<', '1.10'],
    ['00010', '=', '10'],
    ['1.99999999999999999999', '<', '1.100000000000000000000'],
    ['1.0', '<', '1.0.0'],
    // tilde before everything, even the end
    ['1.0~rc1', '<', '1.0'],
    ['1.0~~', '<', '1.0~~a'],
    ['1.0~~a', '<', '1.0~'],
    ['1.0~', '<', '1.0'],
    ['1.0~rc1', '<', '1.0~rc2'],
    // letters before non-letters; the end before letters
    ['1.0', '<', '1.0a'],
    ['1.0a', '<', '1.0+'],
    ['1.0+b1', '>', '1.0'],
    ['1.0Z', '<', '1.0a'],
    ['1.0.', '>', '1.0z'],
    // epochs: missing = 0, compared first, numerically
    ['0:1.0', '=', '1.0'],
    ['1:0.9', '>', '2.0'],
    ['10:1', '>', '9:1'],
    ['00:1', '=', '1'],
    // revisions: missing = empty = 0, split at the last hyphen
    ['1.0', '=', '1.0-0'],
    ['1.0-1', '<', '1.0-1ubuntu1'],
    ['1.0-1', '<', '1.0-1+deb12u1'],
    ['1.0-1~deb12u1', '<', '1.0-1'],
    ['1.0-rc-1', '>', '1.0-1'],
    ['2.7.4+reloaded2-13ubuntu1', '<', '2.7.4+reloaded2-13+deb9u1'],
    ['1:2.30-1', '>', '2.31-1'],
    ['7.88.1-10+deb12u5', '<', '7.88.1-10+deb12u12'],
  ];
  test('table: ordering rules, both directions', () => checkOrderTable(cases, compareDpkg));

  test('parse: epoch at the first colon, revision at the last hyphen', () => {
    assert.deepEqual(parseDpkg('1:2.3-4-5'), { epoch: '1', upstream: '2.3-4', revision: '5' });
    assert.deepEqual(parseDpkg('2.3'), { epoch: '0', upstream: '2.3', revision: '' });
    assert.deepEqual(parseDpkg('1:2:3-4'), { epoch: '1', upstream: '2:3', revision: '4' });
    // fallback reading: a non-numeric "epoch" stays in the upstream part
    assert.deepEqual(parseDpkg('abc:1.0'), { epoch: '0', upstream: 'abc:1.0', revision: '' });
  });

  // the messages are dpkg's own (dpkg 1.21 --compare-versions)
  test('valid: what dpkg accepts without error or warning', () => {
    for (const v of ['1.0', '1:1.0-1', '1.0+dfsg-1~bpo12+1', '2:1.2.3~rc1+git20240101.abc-0ubuntu1', '0', '1:2:3-4']) {
      assert.equal(dpkg.valid(v), true, v);
    }
    const bad: [string, string][] = [
      ['', 'version string is empty'],
      ['a:1.0', 'epoch in version is empty'],
      ['1.0-1:2', 'epoch in version is not number'],
      ['1:', 'nothing after colon in version number'],
      ['1.0-', 'revision number is empty'],
      ['-1', 'version number is empty'],
      ['a1.0', 'version number does not start with digit'],
      ['1.0_1', 'invalid character in version number'],
      ['1.0-1_2', 'invalid character in revision number'],
      ['1.0 1', 'version string has embedded spaces'],
      ['99999999999:1', 'epoch in version is too big'],
    ];
    for (const [v, why] of bad) {
      assert.equal(dpkg.valid(v), false, v);
      assert.equal(dpkgProblem(v), why, v);
    }
  });

  test('garbage: never throws, deterministic and antisymmetric', () => {
    checkTotal(compareDpkg, ['1.0', '1:1.0', '1.0-1', '1.0~rc1', 'abc:1.0', '1.0-']);
    // non-ASCII compares as its UTF-8 bytes: after letters, before ASCII punctuation (like dpkg)
    assert.ok(compareDpkg('1.0é', '1.0z') > 0);
    assert.ok(compareDpkg('1.0é', '1.0+') < 0);
  });
});

describe('dpkg satisfies', () => {
  const cases: SatisfiesCase[] = [
    ['1.2-1', '>= 1.0, << 2.0', true],
    ['1.2-1', '>= 1.0 << 2.0', true],
    ['2.0', '>=1.0, <2.0', false],
    ['2.0~rc1', '<< 2.0', true],
    ['1.3', '!= 1.3', false],
    ['1.3', '=1.3 || =1.4', true],
    ['1.4', '1.3 || 1.4', true],
    ['1:1.0', '> 2.0', true],
    ['1.0', '= 0:1.0-0', true],
    ['1.5', '>=1.0, <1.4 || >=1.5', true],
    ['1.4.1', '>=1.0, <1.4 || >=1.5', false],
    ['1.0', '', true],
    ['1.0', '*', true],
    ['1.0', '>=', false],
    ['1.0', '>= 1.0 ||', false],
  ];
  test('table', () => checkSatisfiesTable(cases, dpkg.satisfies));
});

describe('dpkg vectors', () => {
  testOrderVectors('osv-scalibr-semantic/debian-versions.txt', compareDpkg);
  testOrderVectors('osv-scalibr-semantic/debian-versions-generated.txt', compareDpkg);
});

// ---------------------------------------------------------------------------------------------
// Against the real dpkg: generated pairs compared by `dpkg --compare-versions`.

/** mulberry32: a small seeded PRNG, so failures reproduce. */

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

const PIECES = ['0', '1', '2', '9', '10', '01', '007', '123', '99999999999999999999', 'a', 'b', 'z', 'A', 'Z', 'rc', 'dfsg', 'git', '.', '.', '+', '~', '~~'];
const REV_PIECES = ['0', '1', '2', '10', 'ubuntu', 'deb12u', 'build', 'a', 'Z', '.', '+', '~'];

function genPart(r: () => number, pieces: readonly string[], first: string, max: number): string {
  let s = first;
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += pick(r, pieces);
  return s;
}

function genVersion(r: () => number): string {
  const epoch = r() < 0.2 ? `${pick(r, ['0', '1', '2', '10', '01'])}:` : '';
  let upstream = genPart(r, PIECES, pick(r, ['0', '1', '2', '10', '007']), 6);
  const hasRev = r() < 0.6;
  // a hyphen in the upstream part needs a revision after it
  if (hasRev && r() < 0.15) upstream += `-${genPart(r, PIECES, pick(r, ['1', 'rc', '0']), 3)}`;
  // a colon in the upstream part needs an epoch before it
  if (epoch && r() < 0.1) upstream += `:${pick(r, ['1', 'a'])}`;
  const rev = hasRev ? `-${genPart(r, REV_PIECES, pick(r, ['0', '1', '2', 'a', '1ubuntu', '~']), 4)}` : '';
  return epoch + upstream + rev;
}

/** A near neighbour of v, so that many pairs share long prefixes. */
function mutate(r: () => number, v: string): string {
  const k = Math.floor(r() * 6);
  const at = Math.floor(r() * (v.length + 1));
  switch (k) {
    case 0:
      return v + pick(r, ['~', '+', 'a', '1', '.0', '~rc1', '+b1']);
    case 1:
      return v.slice(0, at) + pick(r, ['~', '0', '1', 'a']) + v.slice(at);
    case 2:
      return v.slice(0, Math.max(1, v.length - 1));
    case 3:
      return v.replace(/\d+/, (d) => (r() < 0.5 ? `0${d}` : String(Number(d.slice(0, 6)) + 1)));
    case 4:
      return v.includes(':') ? v.slice(v.indexOf(':') + 1) : `1:${v}`;
    default:
      return v.replace(/-([^-]*)$/, (_m, rev: string) => `-${rev}${pick(r, ['1', '~1', '+1', 'a'])}`);
  }
}

function generatePairs(n: number, seed: number): [string, string][] {
  const r = prng(seed);
  const out: [string, string][] = [];
  while (out.length < n) {
    const a = genVersion(r);
    const b = r() < 0.35 ? genVersion(r) : mutate(r, a);
    // only pairs dpkg parses cleanly: otherwise it errors or warns instead of answering
    if (dpkgProblem(a) === undefined && dpkgProblem(b) === undefined) out.push([a, b]);
  }
  return out;
}

const DPKG = '/usr/bin/dpkg';
const SCRIPT = `while read -r a b; do
  if ${DPKG} --compare-versions "$a" lt "$b"; then echo "<"
  elif ${DPKG} --compare-versions "$a" eq "$b"; then echo "="
  else echo ">"; fi
done`;

function runChunk(file: string): Promise<{ out: string; err: string; code: number | null }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('sh', ['-c', `${SCRIPT} < "$1"`, 'sh', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ out, err, code }));
  });
}

const PAIRS = 4000;
const CHUNKS = 4;

describe('dpkg against /usr/bin/dpkg', () => {
  test(
    `${PAIRS} generated pairs (seeded) agree with dpkg --compare-versions`,
    { skip: existsSync(DPKG) ? false : `${DPKG} not found (only Debian-family machines have it)`, timeout: 120_000 },
    async (t) => {
      const started = Date.now();
      const pairs = generatePairs(PAIRS, 0x1ad1);
      const dir = mkdtempSync(join(tmpdir(), 'lading-dpkg-'));
      try {
        const size = Math.ceil(pairs.length / CHUNKS);
        const chunks: [string, string][][] = [];
        for (let i = 0; i < pairs.length; i += size) chunks.push(pairs.slice(i, i + size));
        const results = await Promise.all(
          chunks.map((chunk, i) => {
            const file = join(dir, `pairs-${i}.txt`);
            writeFileSync(file, chunk.map(([a, b]) => `${a} ${b}\n`).join(''));
            return runChunk(file);
          }),
        );
        const answers: string[] = [];
        for (const res of results) {
          assert.equal(res.code, 0, `the dpkg loop failed: ${res.err}`);
          assert.equal(res.err, '', `dpkg complained about a generated version: ${res.err.slice(0, 500)}`);
          answers.push(...res.out.split('\n').filter((l) => l !== ''));
        }
        assert.equal(answers.length, pairs.length);
        const failures: string[] = [];
        pairs.forEach(([a, b], i) => {
          const c = compareDpkg(a, b);
          const mine = c < 0 ? '<' : c > 0 ? '>' : '=';
          if (mine !== answers[i]) failures.push(`${a} ${answers[i]} ${b} (dpkg), ours ${mine}`);
        });
        const relations = { '<': 0, '=': 0, '>': 0 } as Record<string, number>;
        for (const a of answers) relations[a] = (relations[a] ?? 0) + 1;
        t.diagnostic(
          `${pairs.length} pairs in ${Date.now() - started} ms; dpkg said < ${relations['<']}, = ${relations['=']}, > ${relations['>']}; ${failures.length} disagreements`,
        );
        assert.equal(failures.length, 0, `${failures.length} of ${pairs.length} disagree:\n  ${failures.slice(0, 25).join('\n  ')}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
