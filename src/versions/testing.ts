/**
 * Test helpers for the version schemes: locate the shared version vectors (beside the repository
 * in CI, absent on users' machines), read them, and check a compare function against them.
 * Nothing here is used at run time.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in src/versions/). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** `../shared/vulndata/versions` relative to the repository root. */
export const VECTORS_DIR = resolve(REPO_ROOT, '..', 'shared', 'vulndata', 'versions');

/** The path of a vector file, or undefined when the shared vectors are not beside the repository. */
export function vectorPath(rel: string): string | undefined {
  const p = join(VECTORS_DIR, rel);
  return existsSync(p) ? p : undefined;
}

/** For node:test's `skip` option: false when the file is present, else the reason. */
export function skipUnlessVectors(rel: string): false | string {
  return vectorPath(rel) ? false : `version vectors not found: ${join(VECTORS_DIR, rel)} (shared/ is only beside the repository in CI)`;
}

export type Relation = '<' | '=' | '>';

export interface OrderVector {
  a: string;
  rel: Relation;
  b: string;
  /** 1-based line number in its file. */
  line: number;
}

/**
 * Read an `a op b` file (op in `<`, `=`, `>`), skipping blank lines and comment lines (`#` or `//`
 * followed by a space, as osv-scalibr's reader does). Every other line must have exactly three
 * space-separated fields; a malformed line throws (a broken vector file must fail loudly).
 */
export function readOrderVectors(rel: string): OrderVector[] {
  const p = vectorPath(rel);
  if (!p) return [];
  const out: OrderVector[] = [];
  readFileSync(p, 'utf8')
    .split('\n')
    .forEach((raw, idx) => {
      const line = raw.replace(/\r$/, '');
      if (line.trim() === '' || line.startsWith('# ') || line.startsWith('// ') || line === '#' || line === '//') return;
      const parts = line.split(' ');
      if (parts.length !== 3) throw new Error(`${rel}:${idx + 1}: expected "a op b", got ${JSON.stringify(line)}`);
      const [a, rel0, b] = parts as [string, string, string];
      if (rel0 !== '<' && rel0 !== '=' && rel0 !== '>') throw new Error(`${rel}:${idx + 1}: unknown relation ${rel0}`);
      out.push({ a, rel: rel0, b, line: idx + 1 });
    });
  return out;
}

/** Read a tab-separated file, skipping `#` comment lines; each row is its fields plus its line number. */
export function readTsv(rel: string): { fields: string[]; line: number }[] {
  const p = vectorPath(rel);
  if (!p) return [];
  const out: { fields: string[]; line: number }[] = [];
  readFileSync(p, 'utf8')
    .split('\n')
    .forEach((raw, idx) => {
      const line = raw.replace(/\r$/, '');
      if (line === '' || line.startsWith('#')) return;
      out.push({ fields: line.split('\t'), line: idx + 1 });
    });
  return out;
}

function relOf(n: number): Relation {
  return n < 0 ? '<' : n > 0 ? '>' : '=';
}

function flip(r: Relation): Relation {
  return r === '<' ? '>' : r === '>' ? '<' : '=';
}

/**
 * Check every vector in both directions (compare(a, b) and compare(b, a)); returns one message per
 * failing vector.
 */
export function orderFailures(rel: string, vectors: OrderVector[], compare: (a: string, b: string) => number): string[] {
  const failures: string[] = [];
  for (const v of vectors) {
    const fwd = relOf(compare(v.a, v.b));
    const back = relOf(compare(v.b, v.a));
    if (fwd !== v.rel || back !== flip(v.rel)) {
      failures.push(`${rel}:${v.line}: ${v.a} ${v.rel} ${v.b}, got compare(a,b) ${fwd} and compare(b,a) ${back}`);
    }
  }
  return failures;
}

/** A readable assertion message: the count and the first failures. */
export function failureReport(total: number, failures: string[]): string {
  const shown = failures.slice(0, 25).join('\n  ');
  const more = failures.length > 25 ? `\n  ... and ${failures.length - 25} more` : '';
  return `${failures.length} of ${total} vectors failed:\n  ${shown}${more}`;
}

/**
 * Register one test that checks every line of an `a op b` vector file in both directions, with the
 * count in its name; skipped with a clear message when the shared vectors are absent.
 */
export function testOrderVectors(rel: string, compare: (a: string, b: string) => number): void {
  const vectors = readOrderVectors(rel);
  test(vectorsTitle(rel, vectors.length, 'lines, both directions'), { skip: skipUnlessVectors(rel) }, () => {
    assert.ok(vectors.length > 0, `${rel} has no vectors`);
    const failures = orderFailures(rel, vectors, compare);
    assert.equal(failures.length, 0, failureReport(vectors.length, failures));
  });
}

/** A test title with the vector count, or just the file when it is absent (the test is skipped). */
export function vectorsTitle(rel: string, count: number, what: string): string {
  return vectorPath(rel) ? `vectors ${rel}: all ${count} ${what}` : `vectors ${rel}`;
}

/** A table row: `[a, relation, b]`. */
export type OrderCase = [string, Relation, string];

/** Check table rows in both directions (one assertion per row, with the row in the message). */
export function checkOrderTable(cases: OrderCase[], compare: (a: string, b: string) => number): void {
  for (const [a, r, b] of cases) {
    assert.equal(relOf(compare(a, b)), r, `compare(${JSON.stringify(a)}, ${JSON.stringify(b)}) should be ${r}`);
    assert.equal(relOf(compare(b, a)), flip(r), `compare(${JSON.stringify(b)}, ${JSON.stringify(a)}) should be ${flip(r)}`);
  }
}

/** A satisfies table row: `[version, constraint, expected]`. */
export type SatisfiesCase = [string, string, boolean];

export function checkSatisfiesTable(cases: SatisfiesCase[], satisfies: (v: string, c: string) => boolean): void {
  for (const [v, c, want] of cases) {
    assert.equal(satisfies(v, c), want, `satisfies(${JSON.stringify(v)}, ${JSON.stringify(c)}) should be ${want}`);
  }
}

/** Strings no scheme can read; compare must still answer, symmetrically, without throwing. */
export const GARBAGE = ['', ' ', 'garbage', '!!!', '::', '--', '..', '~', '^', 'v', '1..2', '-1', 'a:b-c', '\u00e9t\u00e9', '1.0\u00a0', '99999999999999999999999999999999.1', 'null', '[1.0', '*'];

/** compare never throws, is reflexive and antisymmetric on garbage mixed with real versions. */
export function checkTotal(compare: (a: string, b: string) => number, extra: string[]): void {
  const all = [...GARBAGE, ...extra];
  for (const a of all) {
    assert.equal(compare(a, a), 0, `compare(${JSON.stringify(a)}, itself) should be 0`);
    for (const b of all) {
      const x = compare(a, b);
      const y = compare(b, a);
      assert.ok(Number.isFinite(x), `compare(${JSON.stringify(a)}, ${JSON.stringify(b)}) is not a number`);
      assert.equal(relOf(x), flip(relOf(y)), `compare is not antisymmetric on ${JSON.stringify(a)}, ${JSON.stringify(b)}`);
    }
  }
}

/** A small seeded PRNG (mulberry32) for generated test cases. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
