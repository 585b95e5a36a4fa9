import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getScheme, SCHEMES, type SchemeId } from './index.js';
import { prng } from './testing.js';

const IDS: SchemeId[] = ['dpkg', 'rpm', 'apk', 'semver', 'pep440', 'maven', 'gem', 'go', 'nuget', 'composer'];

test('every scheme id has a scheme, registered under its own id', () => {
  assert.deepEqual(Object.keys(SCHEMES).sort(), [...IDS].sort());
  for (const id of IDS) {
    assert.equal(getScheme(id).id, id);
    assert.equal(getScheme(id), SCHEMES[id]);
  }
});

test('every scheme: compare never throws and is antisymmetric on hostile input; valid and satisfies answer booleans', () => {
  const inputs = ['', ' ', '1', '1.0', '1.0.0', 'v1.0.0', '1:1.0-1', '1.0~rc1', '[1.0,2.0)', '>=1.0', '||', '\u0000', 'é', 'x'.repeat(10_000), '9'.repeat(400), '-', '.', '..', '1..', 'dev-main'];
  for (const id of IDS) {
    const s = getScheme(id);
    for (const a of inputs) {
      assert.equal(typeof s.valid(a), 'boolean', `${id}.valid`);
      for (const b of inputs) {
        const x = s.compare(a, b);
        const y = s.compare(b, a);
        assert.ok(Number.isFinite(x), `${id}.compare(${JSON.stringify(a.slice(0, 20))}, ${JSON.stringify(b.slice(0, 20))})`);
        assert.equal(Math.sign(x) + Math.sign(y), 0, `${id}: compare not antisymmetric on ${JSON.stringify(a.slice(0, 20))}, ${JSON.stringify(b.slice(0, 20))}`);
        assert.equal(typeof s.satisfies(a, b), 'boolean', `${id}.satisfies`);
      }
    }
  }
});

test('every scheme sorts a shuffled ladder of its own versions back into order', () => {
  const ladders: Record<SchemeId, string[]> = {
    dpkg: ['1.0~rc1', '1.0', '1.0-1', '1.0-1ubuntu1', '1.0+b1', '1.1', '1:0.1'],
    rpm: ['1.0~rc1', '1.0', '1.0^git1', '1.0.1-1.el9', '1.0.1-2.el9', '1:0.1'],
    apk: ['1.0_alpha1', '1.0_rc1', '1.0', '1.0-r1', '1.0_p1', '1.0a', '1.1'],
    semver: ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0', '1.0.1', '2.0.0'],
    pep440: ['1.0.dev1', '1.0a1', '1.0b1', '1.0rc1', '1.0', '1.0+local', '1.0.post1', '1!0.1'],
    maven: ['1.0-alpha-1', '1.0-beta-1', '1.0-rc-1', '1.0-SNAPSHOT', '1.0', '1.0-sp-1', '1.0.1'],
    gem: ['1.0.a', '1.0.b1', '1.0.rc1', '1.0', '1.0.1', '1.1'],
    go: ['v0.0.0-20200101000000-abcdef123456', 'v0.0.1', 'v1.0.0-rc.1', 'v1.0.0', 'v1.0.1-0.20200101000000-abcdef123456', 'v1.0.1', 'v2.0.0+incompatible'],
    nuget: ['1.0.0-alpha', '1.0.0-beta', '1.0.0', '1.0.0.1', '1.0.1', '2.0'],
    composer: ['dev-main', '1.0-dev', '1.0-alpha1', '1.0-beta1', '1.0-RC1', '1.0', '1.0-pl1', '1.1'],
  };
  for (const id of IDS) {
    const ladder = ladders[id];
    const shuffled = [...ladder].reverse();
    shuffled.push(shuffled.shift()!);
    assert.deepEqual(shuffled.sort(getScheme(id).compare), ladder, id);
  }
});

/** mulberry32, so a failure reproduces. */

const PIECES = ['0', '1', '2', '10', '.', '-', '_', '~', '^', '+', ':', 'a', 'b', 'rc', 'alpha', 'p', 'r', 'dev', 'v', 'x', 'SNAPSHOT', 'sp', 'pre', 'post', '#'];

/**
 * compare is a total preorder (transitive) on random strings, garbage included — except where the
 * vectors force otherwise (apk: some strings outside the grammar are equal to each other; composer:
 * `#`), for which only the scheme's valid strings are drawn.
 */
test('every scheme: compare is transitive on random strings (apk and composer: on valid ones)', () => {
  for (const id of IDS) {
    const s = getScheme(id);
    const r = prng(7);
    const pool: string[] = [];
    while (pool.length < 150) {
      let v = '';
      const n = 1 + Math.floor(r() * 5);
      for (let j = 0; j < n; j++) v += PIECES[Math.floor(r() * PIECES.length)]!;
      if ((id === 'apk' || id === 'composer') && !s.valid(v)) continue;
      pool.push(v);
    }
    const m = pool.map((a) => pool.map((b) => Math.sign(s.compare(a, b))));
    for (let i = 0; i < pool.length; i++) {
      for (let j = 0; j < pool.length; j++) {
        const ab = m[i]![j]!;
        if (ab > 0) continue;
        for (let k = 0; k < pool.length; k++) {
          const bc = m[j]![k]!;
          if (bc > 0) continue;
          const ac = m[i]![k]!;
          // a = b = c needs a = c; a < b <= c or a <= b < c needs a < c
          if (ab === 0 && bc === 0 ? ac !== 0 : ac >= 0) {
            assert.fail(`${id}: ${JSON.stringify(pool[i])} ${ab} ${JSON.stringify(pool[j])} ${bc} ${JSON.stringify(pool[k])} but compare(a, c) = ${ac}`);
          }
        }
      }
    }
  }
});
