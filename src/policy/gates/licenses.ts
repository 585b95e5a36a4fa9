/** `licenses`: forbidden licenses among the licenses of installed packages. */
import { defineGate, defineTrigger } from '../gate.js';
import { param } from '../params.js';
import type { Subject } from '../subject.js';

const OPERATORS = new Set(['AND', 'OR', 'WITH']);

/**
 * (package name, license) pairs. Anchore split each package's license text on whitespace; SPDX
 * expressions are split the same way, without their operators and parentheses.
 */
export function licensePairs(subject: Subject): [string, string][] {
  const out: [string, string][] = [];
  for (const p of subject.packages()) {
    for (const text of p.licenses) {
      for (const token of text.split(/[\s()]+/)) if (token && !OPERATORS.has(token)) out.push([p.name, token]);
    }
  }
  return out;
}

const exact = defineTrigger({
  name: 'blacklist_exact_match',
  description: 'Fires once, listing every installed package under one of the given licenses (exact match).',
  state: 'active',
  params: {
    licenses: param.csv('licenses', { description: 'License names to forbid, matched exactly.', example: 'GPLv2+,GPL-3+,BSD-2-clause', required: true }),
  },
  evaluate(subject, p, ctx) {
    const forbidden = new Set(p.licenses);
    const hits = licensePairs(subject).filter(([, l]) => forbidden.has(l)).map(([n, l]) => `${n}(${l})`);
    if (hits.length) ctx.fire(`LICFULLMATCH Packages are installed that have blacklisted licenses: ${hits.join(', ')}`);
  },
});

const partial = defineTrigger({
  name: 'blacklist_partial_match',
  description: 'Fires once, listing every installed package whose license contains one of the given strings.',
  state: 'active',
  params: {
    licenses: param.csv('licenses', { description: 'Strings to look for in license names.', example: 'LGPL,BSD', required: true }),
  },
  evaluate(subject, p, ctx) {
    const hits: string[] = [];
    for (const [n, l] of licensePairs(subject)) for (const s of p.licenses) if (l.includes(s)) hits.push(`${n}(${l})`);
    if (hits.length) ctx.fire(`LICSUBMATCH Packages are installed that have blacklisted licenses: ${hits.join(', ')}`);
  },
});

export const licensesGate = defineGate({
  name: 'licenses',
  description: 'Checks on the licenses of installed packages.',
  state: 'active',
  triggers: { blacklist_exact_match: exact, blacklist_partial_match: partial },
});
