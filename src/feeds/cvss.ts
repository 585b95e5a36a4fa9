/**
 * CVSS base scores from vector strings: v3.0 and v3.1 (FIRST specification section 7 formulas,
 * with each version's own round-up) and v2 (the v2 guide's equations). A v4.0 vector is
 * recognised and validated but not scored here: its score is taken from the data when given.
 */

export interface ParsedCvss {
  /** `2.0`, `3.0`, `3.1`, `4.0` */
  version: string;
  /** The vector as given (trimmed; v2 parentheses removed). */
  vector: string;
  /** Base score; undefined for v4 (scored by the source, not here). */
  baseScore?: number;
}

type Weights = Record<string, Record<string, number>>;

const V3: Weights = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  PR: { N: 0.85, L: 0.62, H: 0.27 },
  UI: { N: 0.85, R: 0.62 },
  S: { U: 0, C: 1 },
  C: { H: 0.56, L: 0.22, N: 0 },
  I: { H: 0.56, L: 0.22, N: 0 },
  A: { H: 0.56, L: 0.22, N: 0 },
};
/** Privileges Required when the scope changes. */
const V3_PR_CHANGED: Record<string, number> = { N: 0.85, L: 0.68, H: 0.5 };
/** Temporal and environmental metrics a v3 vector may carry; they do not change the base score. */
const V3_OTHER = new Set(['E', 'RL', 'RC', 'CR', 'IR', 'AR', 'MAV', 'MAC', 'MPR', 'MUI', 'MS', 'MC', 'MI', 'MA']);

const V2: Weights = {
  AV: { L: 0.395, A: 0.646, N: 1.0 },
  AC: { H: 0.35, M: 0.61, L: 0.71 },
  Au: { M: 0.45, S: 0.56, N: 0.704 },
  C: { N: 0, P: 0.275, C: 0.66 },
  I: { N: 0, P: 0.275, C: 0.66 },
  A: { N: 0, P: 0.275, C: 0.66 },
};
const V2_OTHER = new Set(['E', 'RL', 'RC', 'CDP', 'TD', 'CR', 'IR', 'AR']);

const V4_BASE: Record<string, string> = {
  AV: 'NALP', AC: 'LH', AT: 'NP', PR: 'NLH', UI: 'NPA', VC: 'HLN', VI: 'HLN', VA: 'HLN', SC: 'HLN', SI: 'HLN', SA: 'HLN',
};

/** `key:value/key:value` → map; undefined on a malformed or repeated part. */
function metrics(parts: string[]): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const part of parts) {
    const m = /^([A-Za-z]+):([A-Za-z]+)$/.exec(part);
    if (!m || out.has(m[1]!)) return undefined;
    out.set(m[1]!, m[2]!);
  }
  return out;
}

/** The base metrics' weights, or undefined when one is missing, unknown or invalid. */
function baseWeights(m: Map<string, string>, table: Weights, other: Set<string>): Record<string, number> | undefined {
  for (const key of m.keys()) if (!(key in table) && !other.has(key)) return undefined;
  const out: Record<string, number> = {};
  for (const [key, values] of Object.entries(table)) {
    const v = m.get(key);
    const w = v === undefined ? undefined : values[v];
    if (w === undefined) return undefined;
    out[key] = w;
  }
  return out;
}

/** CVSS v3.1 Roundup: the smallest number with one decimal that is >= the input, free of float noise. */
export function roundUp31(x: number): number {
  const i = Math.round(x * 100000);
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10;
}

/** CVSS v3.0 round-up: ceiling to one decimal. */
function roundUp30(x: number): number {
  return Math.ceil(x * 10) / 10;
}

/** The base score of a `CVSS:3.x/...` vector, or undefined when the vector is invalid. */
export function cvss3BaseScore(vector: string): number | undefined {
  return cvss3Scores(vector)?.base;
}

/**
 * A v3.x vector's base score and its exploitability and impact sub-scores (the sub-scores rounded
 * to one decimal as NVD publishes them); undefined when the vector is not a valid v3 one.
 */
export function cvss3Scores(vector: string): { base: number; exploitability: number; impact: number } | undefined {
  const parts = vector.trim().split('/');
  const version = /^CVSS:(3\.[01])$/.exec(parts[0] ?? '')?.[1];
  if (!version) return undefined;
  const m = metrics(parts.slice(1));
  if (!m) return undefined;
  const w = baseWeights(m, V3, V3_OTHER);
  if (!w) return undefined;
  const changed = m.get('S') === 'C';
  const pr = changed ? V3_PR_CHANGED[m.get('PR')!]! : w.PR!;
  const iss = 1 - (1 - w.C!) * (1 - w.I!) * (1 - w.A!);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss;
  const exploitability = 8.22 * w.AV! * w.AC! * pr * w.UI!;
  const round1 = (n: number) => Math.round(n * 10 + 1e-9) / 10;
  const roundUp = version === '3.1' ? roundUp31 : roundUp30;
  const base = impact <= 0 ? 0 : roundUp(Math.min(changed ? 1.08 * (impact + exploitability) : impact + exploitability, 10));
  return { base, exploitability: round1(exploitability), impact: round1(impact) };
}

/** The base score of a v2 vector (`AV:N/AC:L/Au:N/C:P/I:P/A:P`, optionally in parentheses or prefixed `CVSS:2.0/`). */
export function cvss2BaseScore(vector: string): number | undefined {
  return cvss2Scores(vector)?.base;
}

/**
 * A v2 vector's base score and its exploitability and impact sub-scores (each rounded to one
 * decimal, as NVD publishes them); undefined when the vector is not a valid v2 one.
 */
export function cvss2Scores(vector: string): { base: number; exploitability: number; impact: number } | undefined {
  const parts = v2Body(vector).split('/');
  const m = metrics(parts);
  if (!m) return undefined;
  const w = baseWeights(m, V2, V2_OTHER);
  if (!w) return undefined;
  const impact = 10.41 * (1 - (1 - w.C!) * (1 - w.I!) * (1 - w.A!));
  const exploitability = 20 * w.AV! * w.AC! * w.Au!;
  const f = impact === 0 ? 0 : 1.176;
  const score = (0.6 * impact + 0.4 * exploitability - 1.5) * f;
  const round1 = (n: number) => Math.round(n * 10 + 1e-9) / 10;
  return { base: round1(score), exploitability: round1(exploitability), impact: round1(impact) };
}

/**
 * The exploitability and impact sub-scores of a stored CVSS record (v3.x or v2 vector), -1 each
 * when the vector cannot be scored (v4, or malformed): Anchore's "no score".
 */
export function cvssSubScores(c: { version: string; vector: string }): { exploitability: number; impact: number } {
  const s = c.version.startsWith('3') ? cvss3Scores(c.vector) : c.version.startsWith('2') ? cvss2Scores(c.vector) : undefined;
  return s ? { exploitability: s.exploitability, impact: s.impact } : { exploitability: -1, impact: -1 };
}

function v2Body(vector: string): string {
  let v = vector.trim();
  if (v.startsWith('(') && v.endsWith(')')) v = v.slice(1, -1);
  if (v.startsWith('CVSS:2.0/')) v = v.slice('CVSS:2.0/'.length);
  return v;
}

/** Whether a `CVSS:4.0/...` vector has every base metric exactly once with a valid value. */
export function validCvss4(vector: string): boolean {
  const parts = vector.trim().split('/');
  if (parts[0] !== 'CVSS:4.0') return false;
  const m = metrics(parts.slice(1));
  if (!m) return false;
  return Object.entries(V4_BASE).every(([key, values]) => {
    const v = m.get(key);
    return v !== undefined && v.length === 1 && values.includes(v);
  });
}

/**
 * Recognise a vector of any supported version. `hint` is the version a source declared
 * (OSV `CVSS_V2`/`CVSS_V3`/`CVSS_V4` → `2`, `3`, `4`); a v2 vector has no prefix of its own.
 * Undefined when the vector is invalid.
 */
export function parseCvss(vector: string, hint?: '2' | '3' | '4'): ParsedCvss | undefined {
  // A trailing `/` occurs in real advisories (GHSA-f5pg-7wfw-84q9); the vector is kept without it.
  const v = vector.trim().replace(/\/$/, '');
  const prefix = /^CVSS:(\d\.\d)\//.exec(v)?.[1];
  if (prefix === '3.0' || prefix === '3.1') {
    if (hint && hint !== '3') return undefined;
    const baseScore = cvss3BaseScore(v);
    return baseScore === undefined ? undefined : { version: prefix, vector: v, baseScore };
  }
  if (prefix === '4.0') {
    if (hint && hint !== '4') return undefined;
    return validCvss4(v) ? { version: '4.0', vector: v } : undefined;
  }
  if (prefix === undefined || prefix === '2.0') {
    if (hint && hint !== '2') return undefined;
    const baseScore = cvss2BaseScore(v);
    return baseScore === undefined ? undefined : { version: '2.0', vector: v2Body(v), baseScore };
  }
  return undefined;
}
