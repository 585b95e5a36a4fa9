import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wildcardMatch, wildcardProblem } from './wildcard.js';

const cases: [string, string, boolean][] = [
  ['*', 'anything', true],
  ['*', '', true],
  ['docker.io', 'docker.io', true],
  ['docker.io', 'dockerXio', false],
  ['library/*', 'library/nginx', true],
  ['library/*', 'myorg/nginx', false],
  ['*-slim', '3.12-slim', true],
  ['1.*.0', '1.22.0', true],
  ['CVE-2021-*+log4j-core*', 'CVE-2021-44228+log4j-core-2.14.1.jar', true],
  ['CVE-2021-44228+*', 'CVE-2021-44228+openssl', true],
  ['CVE-2021-44228', 'CVE-2021-44228+openssl', false],
  ['regexp:^prod-', 'prod-api', true],
  ['regexp:prod', 'my-prod', false],
  ['regexp:(?i)PROD', 'production', true],
  ['a+b', 'a+b', true],
  ['a+b', 'aab', false],
];
for (const [pattern, input, want] of cases) {
  test(`wildcard ${JSON.stringify(pattern)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(input)}`, () => {
    assert.equal(wildcardMatch(pattern, input), want);
  });
}

test('wildcard: only regexp: patterns can be invalid', () => {
  assert.equal(wildcardProblem('[a-'), undefined);
  assert.match(wildcardProblem('regexp:[a-')!, /invalid regular expression/);
});
