/**
 * An evaluation as Anchore's API returned it: the policy-engine evaluation document with the
 * check table (header and rows), and the check response nesting.
 */
import { describeProblem } from './problems.js';
import type { AllowlistMatch } from './allowlist.js';
import type { Evaluation } from './evaluate.js';
import type { Action } from './model.js';

export const CHECK_HEADER = ['Image_Id', 'Repo_Tag', 'Trigger_Id', 'Gate', 'Trigger', 'Check_Output', 'Gate_Action', 'Whitelisted', 'Policy_Id'] as const;

export type CheckRow = [string, string, string, string, string, string, Action, AllowlistMatch | false, string];

export interface CheckTable {
  [imageId: string]: { result: { header: string[]; row_count: number; rows: CheckRow[]; final_action: Action } } | unknown;
  policy_data: [];
  whitelist_data: [];
  policy_name: string;
  whitelist_names: [];
}

export interface EvaluationProblemDoc {
  severity: string;
  problem_type: string;
  details: string;
}

/** Anchore's PolicyEvaluation document (`detail.result` of a check). */
export interface PolicyEvaluationDoc {
  user_id?: string;
  image_id: string;
  image_digest: string | undefined;
  tag: string;
  bundle: Record<string, unknown>;
  matched_mapping_rule: Record<string, unknown> | false;
  matched_whitelisted_images_rule: Record<string, unknown> | false;
  matched_blacklisted_images_rule: Record<string, unknown> | false;
  final_action: Action;
  final_action_reason: Evaluation['reason'];
  status: 'pass' | 'fail';
  evaluation_problems: EvaluationProblemDoc[];
  created_at: number;
  last_modified: number;
  result: CheckTable;
}

export function checkRows(e: Evaluation): CheckRow[] {
  return e.decisions.map((d) => [e.image.id, e.tag, d.triggerId, d.gate, d.trigger, d.message, d.action, d.allowlisted ?? false, d.policyId]);
}

/** The table Anchore's CLI printed: header, rows and the policies' final action, under the image id. */
export function checkTable(e: Evaluation): CheckTable {
  const rows = checkRows(e);
  return {
    [e.image.id]: { result: { header: [...CHECK_HEADER], row_count: rows.length, rows, final_action: e.policyAction } },
    policy_data: [],
    whitelist_data: [],
    policy_name: '',
    whitelist_names: [],
  };
}

export function evaluationDoc(e: Evaluation, userId?: string): PolicyEvaluationDoc {
  const epoch = Math.floor(e.evaluatedAt.getTime() / 1000);
  return {
    ...(userId !== undefined ? { user_id: userId } : {}),
    image_id: e.image.id,
    image_digest: e.image.digest,
    tag: e.tag,
    bundle: e.bundle.raw,
    matched_mapping_rule: e.mapping?.raw ?? false,
    matched_whitelisted_images_rule: e.whitelistedImage?.raw ?? false,
    matched_blacklisted_images_rule: e.blacklistedImage?.raw ?? false,
    final_action: e.finalAction,
    final_action_reason: e.reason,
    status: e.status,
    evaluation_problems: e.problems.map((p) => ({ severity: p.severity, problem_type: p.type, details: describeProblem(p) })),
    created_at: epoch,
    last_modified: epoch,
    result: checkTable(e),
  };
}

/** `GET /images/{digest}/check?tag=` response: `[{digest: {tag: [{detail, last_evaluation, policyId, status}]}}]`. */
export function checkResponse(e: Evaluation, options: { detail?: boolean; userId?: string } = {}): Record<string, Record<string, unknown[]>>[] {
  const digest = e.image.digest ?? `sha256:${e.image.id}`;
  return [{
    [digest]: {
      [e.tag]: [{
        detail: options.detail ? { result: evaluationDoc(e, options.userId), policy: e.bundle.raw } : {},
        last_evaluation: e.evaluatedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        policyId: e.bundle.id,
        status: e.status,
      }],
    },
  }];
}
