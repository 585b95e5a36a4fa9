/**
 * Policy bundles in Anchore's format (version 1_0), compiled for evaluation. Every field and rule
 * is kept as written; what evaluation needs is resolved once (gates, triggers, parsed parameters,
 * expiry dates).
 */
import type { GateDef, TriggerDef } from './gate.js';
import type { Problem } from './problems.js';

export type Action = 'stop' | 'warn' | 'go';

/** Anchore's ordering: STOP(-1) < WARN(0) < GO(1); the worst action wins. */
export const ACTION_RANK: Record<Action, number> = { stop: -1, warn: 0, go: 1 };

export function worst(actions: Action[]): Action {
  return actions.reduce<Action>((a, b) => (ACTION_RANK[b] < ACTION_RANK[a] ? b : a), 'go');
}

export type ImageMatchType = 'tag' | 'digest' | 'id';

/** Which images a mapping or image-list entry selects. */
export interface ImageSelector {
  registry: string;
  repository: string;
  image: { type: ImageMatchType; value: string };
}

export interface CompiledRule {
  id: string | undefined;
  location: string;
  gate: GateDef;
  trigger: TriggerDef;
  action: Action;
  /** Parsed parameter values by canonical parameter name. */
  values: Record<string, unknown>;
  /** The gate or trigger is end-of-life: the rule is reported and never fires. */
  endOfLife: boolean;
}

export interface CompiledPolicy {
  id: string;
  name: string | undefined;
  location: string;
  rules: CompiledRule[];
  raw: Record<string, unknown>;
}

export interface CompiledAllowlistItem {
  id: string | undefined;
  /** Lower-cased gate name. */
  gate: string;
  triggerId: string;
  expiresOn: Date | undefined;
}

export interface CompiledAllowlist {
  id: string;
  name: string | undefined;
  items: CompiledAllowlistItem[];
  raw: Record<string, unknown>;
}

export interface CompiledMapping extends ImageSelector {
  index: number;
  id: string | undefined;
  name: string | undefined;
  policyIds: string[];
  whitelistIds: string[];
  raw: Record<string, unknown>;
}

export interface CompiledImageRule extends ImageSelector {
  index: number;
  id: string | undefined;
  name: string | undefined;
  raw: Record<string, unknown>;
}

export interface CompiledBundle {
  raw: Record<string, unknown>;
  id: string;
  name: string | undefined;
  /** By id; a duplicated id keeps its first definition (and is reported). */
  policies: Map<string, CompiledPolicy>;
  whitelists: Map<string, CompiledAllowlist>;
  mappings: CompiledMapping[];
  whitelistedImages: CompiledImageRule[];
  blacklistedImages: CompiledImageRule[];
  problems: Problem[];
}
