/**
 * CVSS v3 sub-scores (exploitability and impact), which the vulnerabilities gate compares and the
 * feed records do not carry: computed from the vector with the v3.x specification's equations and
 * rounded to one decimal, as NVD publishes them.
 */
import type { Cvss } from '../feeds/model.js';

const W: Record<string, Record<string, number>> = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  C: { H: 0.56, L: 0.22, N: 0 },
  I: { H: 0.56, L: 0.22, N: 0 },
  A: { H: 0.56, L: 0.22, N: 0 },
};
const PR_UNCHANGED: Record<string, number> = { N: 0.85, L: 0.62, H: 0.27 };
const PR_CHANGED: Record<string, number> = { N: 0.85, L: 0.68, H: 0.5 };

export interface V3Scores {
  base: number;
  exploitability: number;
  impact: number;
}

const round1 = (n: number) => Math.round(n * 10 + 1e-9) / 10;

/** Sub-scores from a `CVSS:3.x/AV:N/...` vector; undefined when the vector is not a valid v3 one. */
export function v3SubScores(vector: string): { exploitability: number; impact: number } | undefined {
  const parts = vector.trim().split('/');
  if (!/^CVSS:3\.[01]$/.test(parts[0] ?? '')) return undefined;
  const m = new Map<string, string>();
  for (const p of parts.slice(1)) {
    const [k, v] = p.split(':');
    if (k && v) m.set(k, v);
  }
  const get = (k: string) => W[k]?.[m.get(k) ?? ''];
  const scope = m.get('S');
  const av = get('AV'), ac = get('AC'), ui = get('UI'), c = get('C'), i = get('I'), a = get('A');
  const pr = (scope === 'C' ? PR_CHANGED : PR_UNCHANGED)[m.get('PR') ?? ''];
  if ([av, ac, ui, c, i, a, pr].some((x) => x === undefined) || (scope !== 'U' && scope !== 'C')) return undefined;
  const iss = 1 - (1 - c!) * (1 - i!) * (1 - a!);
  const impact = scope === 'U' ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15;
  const exploitability = 8.22 * av! * ac! * pr! * ui!;
  return { exploitability: round1(exploitability), impact: round1(impact) };
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
    const sub = v3SubScores(r.vector);
    if (sub) {
      out.exploitability = Math.max(out.exploitability, sub.exploitability);
      out.impact = Math.max(out.impact, sub.impact);
    }
  }
  return out;
}
