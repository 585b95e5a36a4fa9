/** Problems found in a bundle or during an evaluation, each naming where it is. */

export type ProblemScope =
  | { kind: 'bundle' }
  | { kind: 'policy'; id: string }
  | { kind: 'whitelist'; id: string }
  | { kind: 'mapping'; index: number }
  | { kind: 'evaluation' };

export interface Problem {
  severity: 'error' | 'warn';
  /** Anchore's problem type names (GateNotFoundError, InvalidParameterError, ...) where one exists. */
  type: string;
  /** Where in the bundle: `policies[0].rules[3].params[1]`; empty for evaluation-wide problems. */
  location: string;
  message: string;
  scope: ProblemScope;
  /** The bundle cannot be used at all (not an object, unsupported version). */
  fatal?: boolean;
}

export function describeProblem(p: Problem): string {
  return p.location ? `${p.location}: ${p.message}` : p.message;
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The candidate closest to `name`, when it is close enough to be a likely typo. */
export function closest(name: string, candidates: string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase());
    if (d < bestD) { best = c; bestD = d; }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(lower.length / 3)) ? best : undefined;
}

/** ` (did you mean x?)` or ``. */
export function didYouMean(name: string, candidates: string[]): string {
  const c = closest(name, candidates);
  return c ? ` (did you mean ${c}?)` : '';
}
