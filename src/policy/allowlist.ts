/**
 * Allowlists (Anchore's whitelists): an item allows a firing when its gate is the firing's gate
 * and its trigger_id equals the firing's id or matches it as a `*` / `regexp:` pattern, unless it
 * has expired. Whitelists apply in the mapping's order, items in list order; the first wins.
 */
import { wildcardMatch } from './wildcard.js';
import type { CompiledAllowlist, CompiledAllowlistItem } from './model.js';

/** How a row shows that it was allowed (Anchore's `Whitelisted` column). */
export interface AllowlistMatch {
  whitelist_name: string | undefined;
  whitelist_id: string;
  matched_rule_id: string | undefined;
}

export function itemExpired(item: CompiledAllowlistItem, now: Date): boolean {
  return item.expiresOn !== undefined && now.getTime() >= item.expiresOn.getTime();
}

export function itemMatches(item: CompiledAllowlistItem, gate: string, triggerId: string): boolean {
  return item.gate === gate.toLowerCase() && (item.triggerId === triggerId || wildcardMatch(item.triggerId, triggerId));
}

export function findAllowlisting(lists: CompiledAllowlist[], gate: string, triggerId: string, now: Date): AllowlistMatch | undefined {
  for (const list of lists) {
    for (const item of list.items) {
      if (itemExpired(item, now) || !itemMatches(item, gate, triggerId)) continue;
      return { whitelist_name: list.name, whitelist_id: list.id, matched_rule_id: item.id };
    }
  }
  return undefined;
}
