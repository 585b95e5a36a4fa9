import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cvss2BaseScore, cvss2Scores, cvss3BaseScore, cvssSubScores, parseCvss, roundUp31, validCvss4 } from './cvss.js';
import { sample, haveSample as have, skipWithoutSample as skipWithout } from '../testkit/vulndata.js';


/** Every (vectorString, baseScore, version) triple in the JSON files under a folder (NVD API 2.0, CVE 5, CSAF...). */
function scoredVectors(dir: string): Map<string, { version: string; score: number }> {
  const out = new Map<string, { version: string; score: number }>();
  const visit = (o: unknown): void => {
    if (Array.isArray(o)) return o.forEach(visit);
    if (typeof o !== 'object' || o === null) return;
    const r = o as Record<string, unknown>;
    if (typeof r.vectorString === 'string' && typeof r.baseScore === 'number' && typeof r.version === 'string') {
      out.set(r.vectorString, { version: r.version, score: r.baseScore });
    }
    Object.values(r).forEach(visit);
  };
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.json')) {
        try {
          visit(JSON.parse(readFileSync(p, 'utf8')));
        } catch {
          // not JSON: not a source of vectors
        }
      }
    }
  };
  walk(dir);
  return out;
}

test('v3.1 / v3.0 / v2 base scores equal the scores NVD and Red Hat publish with the same vectors', { skip: skipWithout('nvd') }, () => {
  const vectors = new Map([...scoredVectors(sample('nvd')), ...(have('redhat') ? scoredVectors(sample('redhat')) : [])]);
  const byVersion: Record<string, number> = {};
  for (const [vector, { version, score }] of vectors) {
    const parsed = parseCvss(vector);
    assert.ok(parsed, `${vector} parses`);
    assert.equal(parsed.version, version, vector);
    if (version === '4.0') {
      assert.equal(parsed.baseScore, undefined, 'v4 is not scored here');
      continue;
    }
    assert.equal(parsed.baseScore, score, `${vector}: computed ${parsed.baseScore}, published ${score}`);
    byVersion[version] = (byVersion[version] ?? 0) + 1;
  }
  // The samples hold dozens of v3.1 and some v3.0 and v2 vectors; all of them must have been checked.
  assert.ok((byVersion['3.1'] ?? 0) >= 40, `v3.1 vectors checked: ${byVersion['3.1']}`);
  assert.ok((byVersion['3.0'] ?? 0) >= 3, `v3.0 vectors checked: ${byVersion['3.0']}`);
  assert.ok((byVersion['2.0'] ?? 0) >= 10, `v2 vectors checked: ${byVersion['2.0']}`);
});

test('well-known vectors from the CVSS specification examples', () => {
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 9.8);
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H'), 10);
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N'), 6.1);
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:N'), 0);
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N'), 1.6);
  assert.equal(cvss2BaseScore('AV:N/AC:L/Au:N/C:P/I:P/A:P'), 7.5);
  assert.equal(cvss2BaseScore('(AV:N/AC:M/Au:N/C:C/I:C/A:C)'), 9.3);
  assert.equal(cvss2BaseScore('AV:L/AC:H/Au:M/C:N/I:N/A:N'), 0);
});

test('v3.1 round-up avoids floating-point noise; v3.0 uses a plain ceiling', () => {
  assert.equal(roundUp31(4.000000000001), 4.0);
  assert.equal(roundUp31(4.02), 4.1);
  assert.equal(roundUp31(4.0), 4.0);
  // Temporal metrics are allowed and ignored for the base score.
  assert.equal(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C'), 9.8);
  // A trailing slash (as in GHSA-f5pg-7wfw-84q9) is tolerated and dropped from the kept vector.
  assert.deepEqual(parseCvss('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/'),
    { version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C', baseScore: 9.8 });
});

test('invalid vectors are rejected, not scored', () => {
  for (const bad of [
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H',          // A missing
    'CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',      // bad value
    'CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', // repeated
    'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1', // unknown metric
    'CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    'AV:N/AC:L/Au:N/C:P/I:P',
    'garbage',
  ]) {
    assert.equal(parseCvss(bad), undefined, bad);
  }
  assert.equal(parseCvss('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', '2'), undefined, 'declared v2 but a v3 vector');
});

test('v4 vectors are validated and kept without a computed score', () => {
  const v = 'CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N';
  assert.deepEqual(parseCvss(v), { version: '4.0', vector: v });
  assert.equal(validCvss4('CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N'), false);
});

test('sub-scores as NVD publishes them: v2 exploitability and impact, v3 per scope, -1 when a vector cannot be scored', () => {
  assert.deepEqual(cvss2Scores('AV:N/AC:L/Au:N/C:P/I:P/A:P'), { base: 7.5, exploitability: 10, impact: 6.4 });
  assert.deepEqual(cvss2Scores('(AV:N/AC:M/Au:N/C:C/I:C/A:C)'), { base: 9.3, exploitability: 8.6, impact: 10 });
  assert.deepEqual(cvssSubScores({ version: '2.0', vector: 'AV:L/AC:L/Au:N/C:C/I:N/A:N' }), { exploitability: 3.9, impact: 6.9 });
  assert.deepEqual(cvssSubScores({ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }), { exploitability: 3.9, impact: 5.9 });
  assert.deepEqual(cvssSubScores({ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N' }), { exploitability: 2.8, impact: 2.7 });
  assert.deepEqual(cvssSubScores({ version: '4.0', vector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }), { exploitability: -1, impact: -1 });
  assert.deepEqual(cvssSubScores({ version: '3.1', vector: 'CVSS:3.1/AV:X' }), { exploitability: -1, impact: -1 });
});
