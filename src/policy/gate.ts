/**
 * What a gate is: a name and triggers, each trigger with a typed parameter schema and an evaluate
 * function that fires zero or more times. A firing's trigger id is the one the trigger gives
 * (`CVE-2023-1234+openssl`), else Anchore's default: md5 of gate name + trigger name + message, so
 * allowlists written against Anchore keep matching.
 */
import { createHash } from 'node:crypto';
import type { ParamMap, ParamValues } from './params.js';
import type { Subject } from './subject.js';

export type LifecycleState = 'active' | 'deprecated' | 'eol';

export interface Firing {
  id: string;
  msg: string;
}

export interface TriggerContext {
  /** The id of the rule being evaluated (some trigger ids embed it). */
  ruleId: string | undefined;
  /** Record a firing; the message defaults to the trigger's `msg`, the id to the trigger's `id` or the md5 default. */
  fire(msg?: string, id?: string): void;
  /** Report something the evaluation could not fully do, without failing the rule. */
  note(message: string): void;
}

/** A problem with one parameter found at validation time (beyond its own validator). */
export interface ParamIssue {
  param: string;
  message: string;
  severity: 'error' | 'warn';
}

export interface TriggerDef<P extends ParamMap = ParamMap> {
  name: string;
  description: string;
  state: LifecycleState;
  supersededBy?: string;
  params: P;
  /** The message of a firing that gives none. */
  msg?: string;
  /** A fixed trigger id (Anchore's `__trigger_id__`). */
  id?: string;
  /** Checks across parameters: values that are valid alone but wrong together, or can never fire. */
  check?(values: Partial<Record<keyof P & string, string>>): ParamIssue[];
  evaluate(subject: Subject, params: ParamValues<P>, ctx: TriggerContext): void;
}

export interface GateDef {
  name: string;
  description: string;
  state: LifecycleState;
  supersededBy?: string;
  triggers: Record<string, TriggerDef<any>>;
}

/** Identity function that keeps a trigger's parameter types for its evaluate function. */
export function defineTrigger<P extends ParamMap>(t: TriggerDef<P>): TriggerDef<P> {
  return t;
}

export function defineGate(g: GateDef): GateDef {
  return g;
}

export function md5TriggerId(gate: string, trigger: string, msg: string): string {
  return createHash('md5').update(`${gate}${trigger}${msg}`, 'utf8').digest('hex');
}

export interface TriggerRun {
  firings: Firing[];
  notes: string[];
}

/** Run a trigger with parsed parameter values; throws what the trigger throws. */
export function runTrigger(gate: GateDef, trigger: TriggerDef, subject: Subject, values: Record<string, unknown>, ruleId: string | undefined): TriggerRun {
  const firings: Firing[] = [];
  const notes: string[] = [];
  const ctx: TriggerContext = {
    ruleId,
    fire(msg, id) {
      const text = msg || trigger.msg || '';
      firings.push({ id: id || trigger.id || md5TriggerId(gate.name, trigger.name, text), msg: text });
    },
    note(message) {
      notes.push(message);
    },
  };
  trigger.evaluate(subject, values as ParamValues<ParamMap>, ctx);
  return { firings, notes };
}
