import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxV3 } from './cvss.js';
import { cvss3Scores } from '../feeds/cvss.js';

const subScores = (v: string) => {
  const s = cvss3Scores(v);
  return s && { exploitability: s.exploitability, impact: s.impact };
};

// Sub-scores as NVD publishes them for these vectors.
const cases: [string, { exploitability: number; impact: number } | undefined][] = [
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', { exploitability: 3.9, impact: 5.9 }],
  ['CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', { exploitability: 3.9, impact: 6.0 }],
  ['CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', { exploitability: 1.8, impact: 5.9 }],
  ['CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', { exploitability: 2.8, impact: 2.7 }],
  ['CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N', { exploitability: 2.2, impact: 3.6 }],
  ['AV:N/AC:L/Au:N/C:P/I:P/A:P', undefined],
  ['CVSS:3.1/AV:N/AC:L', undefined],
];
for (const [vector, want] of cases) {
  test(`CVSS v3 sub-scores of ${vector}`, () => assert.deepEqual(subScores(vector), want));
}

test('highest v3 scores, -1 when none', () => {
  assert.deepEqual(maxV3([]), { base: -1, exploitability: -1, impact: -1 });
  assert.deepEqual(maxV3([
    { source: 'nvd', version: '2.0', vector: 'AV:N/AC:L/Au:N/C:C/I:C/A:C', baseScore: 10 },
    { source: 'nvd', version: '3.1', vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', baseScore: 7.8 },
    { source: 'nvd', version: '3.0', vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', baseScore: 6.1 },
  ]), { base: 7.8, exploitability: 2.8, impact: 5.9 });
});
