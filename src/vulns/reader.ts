/**
 * What one matching run reads, read once: the affected records of every (namespace, name) key,
 * and one comparator per version scheme that remembers its answers (a package's version meets
 * the same bounds several times: in a range, then among the fix versions, then sorting them).
 */
import type { Affected } from '../feeds/model.js';
import type { SchemeId, VersionScheme } from '../versions/types.js';
import { affectedKeyId, type AffectedKey, type VulnLookup } from './lookup.js';

export type AffectedOf = (namespace: string, name: string) => readonly Affected[];

/**
 * Records by (namespace, name) for the matcher, all read before matching starts: every key at
 * once when the lookup can (affectedMany), else one lookup per distinct key.
 */
export async function affectedReader(lookup: VulnLookup, keys: readonly AffectedKey[]): Promise<AffectedOf> {
  let all: Map<string, Affected[]>;
  if (lookup.affectedMany) {
    all = await lookup.affectedMany(keys);
  } else {
    const distinct = new Map<string, AffectedKey>();
    for (const k of keys) distinct.set(affectedKeyId(k.namespace, k.name), k);
    const lists = await Promise.all([...distinct.values()].map((k) => lookup.affected(k.namespace, k.name)));
    all = new Map([...distinct.keys()].map((id, i) => [id, lists[i]!]));
  }
  return (ns, name) => all.get(affectedKeyId(ns, name)) ?? [];
}

/** A scheme whose compare remembers its answers (compare is pure; this run only). */
function remembering(scheme: VersionScheme): VersionScheme {
  const answers = new Map<string, number>();
  return {
    id: scheme.id,
    valid: (v) => scheme.valid(v),
    satisfies: (v, c) => scheme.satisfies(v, c),
    compare(a, b) {
      const key = `${a}\0${b}`;
      let answer = answers.get(key);
      if (answer === undefined) {
        answer = scheme.compare(a, b);
        answers.set(key, answer);
      }
      return answer;
    },
  };
}

export type SchemeOf = (id: SchemeId) => VersionScheme | undefined;

/** The comparator of each scheme id, looked up once; `missing` is told once about each id without one. */
export function schemeReader(schemes: SchemeOf, missing: (id: SchemeId) => void): SchemeOf {
  const known = new Map<SchemeId, VersionScheme | undefined>();
  return (id) => {
    if (known.has(id)) return known.get(id);
    let s: VersionScheme | undefined;
    try {
      s = schemes(id);
    } catch {
      s = undefined;
    }
    if (!s) missing(id);
    const r = s && remembering(s);
    known.set(id, r);
    return r;
  };
}
