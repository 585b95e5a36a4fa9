/**
 * What one matching run reads, read once: the affected records of every (namespace, name) key,
 * and one comparator per version scheme that remembers its answers (a package's version meets
 * the same bounds several times: in a range, then among the fix versions, then sorting them).
 */
import type { Affected } from '../feeds/model.js';
import type { SchemeId, VersionScheme } from '../versions/types.js';
import { affectedKeyId, type AffectedKey, type VulnLookup } from './lookup.js';

export type AffectedOf = (namespace: string, name: string) => Promise<Affected[]>;

/**
 * Records by (namespace, name) for the matcher: all keys fetched at once when the lookup can
 * (affectedMany), else one lookup per distinct key, shared by every package that needs it.
 */
export async function affectedReader(lookup: VulnLookup, keys: readonly AffectedKey[]): Promise<AffectedOf> {
  if (lookup.affectedMany) {
    const all = await lookup.affectedMany(keys);
    return async (ns, name) => all.get(affectedKeyId(ns, name)) ?? [];
  }
  const cache = new Map<string, Promise<Affected[]>>();
  return (ns, name) => {
    const k = affectedKeyId(ns, name);
    let p = cache.get(k);
    if (!p) {
      p = lookup.affected(ns, name);
      cache.set(k, p);
    }
    return p;
  };
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

/** The comparator of each scheme id, looked up once; `missing` is told once about each id without one. */
export function schemeReader(schemes: (id: SchemeId) => VersionScheme | undefined, missing: (id: SchemeId) => void): (id: SchemeId) => VersionScheme | undefined {
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
