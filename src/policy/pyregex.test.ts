import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pyRegex, regexProblem, translate } from './pyregex.js';

const cases: { pattern: string; input: string; match: boolean; search: boolean }[] = [
  { pattern: 'abc', input: 'xabc', match: false, search: true },
  { pattern: '.*abc', input: 'xabc', match: true, search: true },
  { pattern: '(?i)ABC', input: 'abcdef', match: true, search: true },
  { pattern: '(?i)(?s)a.b', input: 'A\nB', match: true, search: true },
  { pattern: '(?P<word>ab)(?P=word)', input: 'abab', match: true, search: true },
  { pattern: '\\Aab\\Z', input: 'ab', match: true, search: true },
  { pattern: '\\Aab\\Z', input: 'ab\n', match: false, search: false },
  { pattern: 'a{,2}b', input: 'aab', match: true, search: true },
  { pattern: '[]a]+', input: ']a]', match: true, search: true },
  { pattern: '(?x) a b  # spaced out', input: 'ab', match: true, search: true },
  { pattern: '(?<![A-Z0-9])[A-Z0-9]{4}(?![A-Z0-9])', input: 'key=AB12', match: false, search: true },
];

for (const c of cases) {
  test(`python regex ${JSON.stringify(c.pattern)} on ${JSON.stringify(c.input)}`, () => {
    const re = pyRegex(c.pattern);
    assert.equal(re.match(c.input), c.match, 'match');
    assert.equal(re.search(c.input), c.search, 'search');
  });
}

test('python regex: translation of named groups and flags', () => {
  assert.deepEqual(translate('(?i)(?P<x>a)'), { source: '(?<x>a)', flags: 'i' });
});

test('python regex: problems are named, not thrown at load', () => {
  assert.match(regexProblem('(unclosed')!, /invalid regular expression "\(unclosed"/);
  assert.match(regexProblem('a(?i:b)')!, /inline flags/);
  assert.equal(regexProblem('.*\\.pem'), undefined);
});
