/**
 * CVSS v3 sub-scores (exploitability and impact), which the vulnerabilities gate compares and the
 * feed records do not carry: computed from the vector (feeds/cvss.ts), as NVD publishes them.
 */
import type { Cvss } from '../feeds/model.js';
import { cvss3Scores } from '../feeds/cvss.js';

export interface V3Scores {
  base: number;
  exploitability: number;
  impact: number;
}

/**
 * The highest v3 base, exploitability and impact scores among these records, -1 for each that
 * none of them gives (Anchore's "no score" value).
 */
export function maxV3(records: Cvss[]): V3Scores {
  const v3 = records.filter((r) => r.version.startsWith('3'));
  const out: V3Scores = { base: -1, exploitability: -1, impact: -1 };
  for (const r of v3) {
    out.base = Math.max(out.base, r.baseScore);
    const sub = cvss3Scores(r.vector);
    if (sub) {
      out.exploitability = Math.max(out.exploitability, sub.exploitability);
      out.impact = Math.max(out.impact, sub.impact);
    }
  }
  return out;
}
