/**
 * The decision, as Anchore made it: the first mapping that selects the image names the policies
 * and allowlists; every rule of those policies runs its trigger; allowlisted firings count as GO;
 * a rule that cannot be evaluated counts as WARN with the reason; each policy's action is the
 * worst (STOP < WARN < GO) of its firings and the policies' worst is the policy decision; a
 * blacklisted image is STOP and else a whitelisted image is GO whatever the policies say. A
 * mapped policy or allowlist with problems makes the evaluation STOP with those problems.
 */
import { LadingError } from '../errors.js';
import { runTrigger } from './gate.js';
import { findAllowlisting, type AllowlistMatch } from './allowlist.js';
import { firstMatch, type ImageIdentity } from './mapping.js';
import { describeProblem, type Problem } from './problems.js';
import { DataUnavailableError, Subject, type PolicyInput } from './subject.js';
import { worst, type Action, type CompiledBundle, type CompiledImageRule, type CompiledMapping, type CompiledPolicy, type CompiledRule } from './model.js';

export interface EvaluateOptions {
  /** The tag the image is evaluated as, `registry/repository:tag`. */
  tag: string;
  /** The time of the evaluation (allowlist expiry, day counts); default now. */
  now?: Date;
}

export interface Decision {
  policyId: string;
  ruleId: string | undefined;
  gate: string;
  trigger: string;
  triggerId: string;
  message: string;
  /** The action the rule gives. */
  ruleAction: Action;
  /** What the row counts as: GO when allowlisted, WARN when the rule could not be evaluated. */
  action: Action;
  allowlisted: AllowlistMatch | undefined;
  /** The rule could not be evaluated; `message` says why. */
  failed: boolean;
}

export type FinalReason = 'policy_evaluation' | 'whitelisted' | 'blacklisted';

export interface Evaluation {
  bundle: CompiledBundle;
  image: ImageIdentity;
  tag: string;
  mapping: CompiledMapping | undefined;
  whitelistedImage: CompiledImageRule | undefined;
  blacklistedImage: CompiledImageRule | undefined;
  decisions: Decision[];
  /** Each evaluated policy's own action, in mapping order. */
  policyActions: { policyId: string; action: Action }[];
  /** The policies' decision (ignores the image lists). */
  policyAction: Action;
  finalAction: Action;
  reason: FinalReason;
  status: 'pass' | 'fail';
  problems: Problem[];
  evaluatedAt: Date;
}

/** Problems that apply to an evaluation through this mapping (Anchore builds only the mapped part of a bundle). */
function relevantProblems(bundle: CompiledBundle, mapping: CompiledMapping | undefined): Problem[] {
  return bundle.problems.filter((p) => {
    switch (p.scope.kind) {
      case 'bundle': return true;
      case 'evaluation': return true;
      case 'mapping': return mapping !== undefined && p.scope.index === mapping.index;
      case 'policy': return mapping !== undefined && mapping.policyIds.includes(p.scope.id);
      case 'whitelist': return mapping !== undefined && mapping.whitelistIds.includes(p.scope.id);
    }
  });
}

/** Rules grouped by gate in order of each gate's first rule, as Anchore ran them. */
function executionOrder(rules: CompiledRule[]): CompiledRule[] {
  const byGate = new Map<string, CompiledRule[]>();
  for (const r of rules) {
    const list = byGate.get(r.gate.name) ?? [];
    list.push(r);
    byGate.set(r.gate.name, list);
  }
  return [...byGate.values()].flat();
}

function runPolicy(policy: CompiledPolicy, subject: Subject, problems: Problem[]): Decision[] {
  const out: Decision[] = [];
  for (const rule of executionOrder(policy.rules)) {
    const base = { policyId: policy.id, ruleId: rule.id, gate: rule.gate.name, trigger: rule.trigger.name, ruleAction: rule.action, allowlisted: undefined };
    // End-of-life rules never fire; the bundle's own warning about them is among the problems.
    if (rule.endOfLife) continue;
    try {
      const run = runTrigger(rule.gate, rule.trigger, subject, rule.values, rule.id);
      for (const f of run.firings) out.push({ ...base, triggerId: f.id, message: f.msg, action: rule.action, failed: false });
      for (const n of run.notes) problems.push({ severity: 'warn', type: 'DataUnavailable', location: rule.location, message: n, scope: { kind: 'evaluation' } });
    } catch (e) {
      const unavailable = e instanceof DataUnavailableError;
      const why = (e as Error).message;
      out.push({ ...base, triggerId: 'evaluation_error', message: `${unavailable ? 'Not evaluated' : 'Evaluation error'}: ${why}`, action: 'warn', failed: true });
      problems.push({ severity: 'warn', type: unavailable ? 'DataUnavailable' : 'TriggerEvaluationError', location: rule.location, scope: { kind: 'evaluation' },
        message: `${rule.gate.name}/${rule.trigger.name} could not be evaluated and counts as WARN: ${why}` });
    }
  }
  return out;
}

function finish(e: Omit<Evaluation, 'finalAction' | 'reason' | 'status'>): Evaluation {
  const finalAction: Action = e.blacklistedImage ? 'stop' : e.whitelistedImage ? 'go' : e.policyAction;
  const reason: FinalReason = e.blacklistedImage ? 'blacklisted' : e.whitelistedImage ? 'whitelisted' : 'policy_evaluation';
  return { ...e, finalAction, reason, status: finalAction === 'stop' ? 'fail' : 'pass' };
}

export function evaluateBundle(bundle: CompiledBundle, input: PolicyInput, options: EvaluateOptions): Evaluation {
  const fatal = bundle.problems.filter((p) => p.fatal);
  if (fatal.length) throw new LadingError('BAD_INPUT', `the policy bundle cannot be used: ${fatal.map(describeProblem).join('; ')}`);
  const now = options.now ?? new Date();
  const subject = new Subject(input, now);
  const image: ImageIdentity = { id: subject.imageId, digest: subject.digest };
  const tag = options.tag;
  // Anchore matched Docker Hub's old `dockerhub/` prefix as `docker.io/`.
  const matchTag = tag.startsWith('dockerhub/') ? `docker.io/${tag.slice('dockerhub/'.length)}` : tag;
  const mapping = firstMatch(bundle.mappings, image, matchTag);
  const base = { bundle, image, tag, mapping, evaluatedAt: now };

  const blocking = relevantProblems(bundle, mapping).filter((p) => p.severity === 'error');
  if (blocking.length) {
    // Anchore's error execution: no rows, STOP, the problems reported; the image lists are not consulted.
    return finish({ ...base, whitelistedImage: undefined, blacklistedImage: undefined, decisions: [], policyActions: [], policyAction: 'stop', problems: blocking });
  }

  const problems: Problem[] = relevantProblems(bundle, mapping).filter((p) => p.severity === 'warn');
  const decisions: Decision[] = [];
  const policyActions: { policyId: string; action: Action }[] = [];
  if (!mapping) {
    problems.push({ severity: 'warn', type: 'NoMatchedMappingWarning', location: '', scope: { kind: 'evaluation' },
      message: `no mapping rule matched the tag ${matchTag}: no policy was applied` });
  } else {
    const allowlists = mapping.whitelistIds.map((id) => bundle.whitelists.get(id)!);
    for (const policyId of mapping.policyIds) {
      const policyDecisions = runPolicy(bundle.policies.get(policyId)!, subject, problems).map((d) => {
        if (d.failed) return d;
        const allowlisted = findAllowlisting(allowlists, d.gate, d.triggerId, now);
        return allowlisted ? { ...d, allowlisted, action: 'go' as Action } : d;
      });
      decisions.push(...policyDecisions);
      policyActions.push({ policyId, action: worst(policyDecisions.map((d) => d.action)) });
    }
  }
  return finish({
    ...base,
    whitelistedImage: firstMatch(bundle.whitelistedImages, image, matchTag),
    blacklistedImage: firstMatch(bundle.blacklistedImages, image, matchTag),
    decisions,
    policyActions,
    policyAction: worst(policyActions.map((p) => p.action)),
    problems,
  });
}
