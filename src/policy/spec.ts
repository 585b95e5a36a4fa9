/**
 * The gate, trigger and parameter catalogue in the shape of Anchore's `GET /system/policy_spec`:
 * `[{name, description, state, superceded_by, triggers: [{..., parameters: [{name, description,
 * example, required, state, superceded_by, validator: {type, description, criteria}}]}]}]`,
 * active gates first.
 */
import { GATES } from './gates/index.js';
import type { ParamSpec } from './params.js';
import type { LifecycleState } from './gate.js';

export interface ParamSpecDoc {
  name: string;
  description: string;
  example: string | null;
  required: boolean;
  state: LifecycleState;
  superceded_by: string | null;
  validator: { type: string; description: string; criteria: Record<string, unknown> };
}

export interface TriggerSpecDoc {
  name: string;
  description: string;
  state: LifecycleState;
  superceded_by: string | null;
  parameters: ParamSpecDoc[];
}

export interface GateSpecDoc {
  name: string;
  description: string;
  state: LifecycleState;
  superceded_by: string | null;
  triggers: TriggerSpecDoc[];
}

const STATE_ORDER: Record<LifecycleState, number> = { active: 0, deprecated: 1, eol: 2 };

export function policySpec(): GateSpecDoc[] {
  const gates = Object.values(GATES).map((g): GateSpecDoc => ({
    name: g.name,
    description: g.description,
    state: g.state,
    superceded_by: g.supersededBy ?? null,
    triggers: Object.values(g.triggers).map((t): TriggerSpecDoc => ({
      name: t.name,
      description: t.description,
      state: t.state,
      superceded_by: t.supersededBy ?? null,
      parameters: (Object.values(t.params) as ParamSpec[]).map((p) => ({
        name: p.name,
        description: p.description,
        example: p.example ?? null,
        required: p.required,
        state: 'active',
        superceded_by: null,
        validator: { type: p.validator.type, description: p.validator.description, criteria: p.validator.criteria },
      })),
    })),
  }));
  return gates.sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state]);
}
