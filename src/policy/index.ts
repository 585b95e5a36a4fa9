/**
 * The policy engine: Anchore-format bundles (version 1_0) read and checked, evaluated against an
 * image's SBOM and vulnerability scan, results in Anchore's shapes. See docs/policy.md.
 */
export { loadBundle, parseRfc3339, BUNDLE_VERSION, type LoadOptions } from './bundle.js';
export { evaluateBundle, type Decision, type Evaluation, type EvaluateOptions, type FinalReason } from './evaluate.js';
export { checkResponse, checkRows, checkTable, evaluationDoc, CHECK_HEADER, type CheckRow, type PolicyEvaluationDoc } from './result.js';
export { policySpec, type GateSpecDoc } from './spec.js';
export { analysisNeeds, vulnerabilityDependent, type AnalysisNeeds } from './needs.js';
export { DEFAULT_BUNDLE } from './default-bundle.js';
export { GATES, gateNamed } from './gates/index.js';
export { describeProblem, type Problem } from './problems.js';
export { anchoreTag, parseTag } from './tag.js';
export { DataUnavailableError, type MalwareScan, type PolicyInput } from './subject.js';
export type { Action, CompiledBundle } from './model.js';
export { adviseImage, type Advice, type AdviceEntry, type AdviceKind, type BaseAdviceInput, type NewerBase, type RebuildAdvice, type UpgradeAdvice, type RemainingFinding, type Rescan } from './advice.js';
