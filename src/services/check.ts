/**
 * Checking an image as a tag: the account's policy bundle (store/policies.ts) evaluated against its
 * SBOM and vulnerability scan (policy/), the evaluation stored unless asked not to.
 */
import { randomUUID } from 'node:crypto';
import { LadingError } from '../errors.js';
import { adviseImage, describeProblem, evaluateBundle, evaluationDoc, loadBundle, type Advice, type BaseAdviceInput, type CompiledBundle, type Rescan } from '../policy/index.js';
import type { Sbom } from '../sbom/model.js';
import type { NewEvaluation, PolicyStore, StoredEvaluation } from '../store/policies.js';
import type { ScanResult } from '../vulns/model.js';
import type { Announcement } from './announce.js';

export interface CheckInput {
  imageDigest: string;
  /** `registry/repo:tag` as Anchore writes it. */
  tag: string;
  sbom: Sbom;
  /** The vulnerability scan of the SBOM; undefined when there is no vulnerability data. */
  scan: ScanResult | undefined;
  /** The bundle to use; default the account's active bundle. */
  policyId?: string;
  /** Keep the evaluation (default true); false evaluates only (Anchore's interactive). */
  save?: boolean;
}

/**
 * Evaluate an image as a tag against a bundle of the account and (unless told not to) store the
 * evaluation. NOT_FOUND when the bundle is missing, BAD_INPUT when it cannot be used.
 */
export async function checkImage(store: PolicyStore, account: string, input: CheckInput): Promise<StoredEvaluation> {
  const e = await evaluateCheck(store, account, input);
  if (input.save === false) return { ...e, evalId: randomUUID(), createdAt: (e.createdAt ?? new Date()).toISOString() };
  return store.saveEvaluation(account, e);
}

/** The account's bundle (the active one unless named), compiled; NOT_FOUND or BAD_INPUT when it cannot be used. */
export async function bundleOf(store: Pick<PolicyStore, 'getBundle'>, account: string, policyId: string | undefined): Promise<{ policyId: string; bundle: CompiledBundle }> {
  const record = await store.getBundle(account, policyId);
  if (!record) throw new LadingError('NOT_FOUND', policyId !== undefined ? `no policy bundle ${policyId}` : 'no active policy bundle');
  const bundle = loadBundle(record.bundle);
  const fatal = bundle.problems.filter((p) => p.fatal);
  if (fatal.length) throw new LadingError('BAD_INPUT', `policy bundle ${record.policyId}: ${fatal.map(describeProblem).join('; ')}`);
  return { policyId: record.policyId, bundle };
}

/** The evaluation `checkImage` stores, not stored. */
export async function evaluateCheck(store: Pick<PolicyStore, 'getBundle'>, account: string, input: Omit<CheckInput, 'save'>): Promise<NewEvaluation> {
  return evaluateWith(await bundleOf(store, account, input.policyId), account, input);
}

/** The same with a bundle `bundleOf` compiled (a caller evaluating many images compiles it once). */
export function evaluateWith({ policyId, bundle }: { policyId: string; bundle: CompiledBundle }, account: string, input: Omit<CheckInput, 'save' | 'policyId'>): NewEvaluation {
  const evaluation = evaluateBundle(bundle, { sbom: input.sbom, scan: input.scan }, { tag: input.tag });
  return {
    imageDigest: input.imageDigest, tag: input.tag, policyId, finalAction: evaluation.finalAction, status: evaluation.status,
    createdAt: evaluation.evaluatedAt, doc: evaluationDoc(evaluation, account),
  };
}

/**
 * What would make the image pass under the same bundle (policy/advice.ts); `rescan` matches changed
 * versions against the data; `base` (store/bases.ts withNewerDigests) adds the rebuild on a newer
 * digest of the image's base.
 */
export async function adviseCheck(
  store: Pick<PolicyStore, 'getBundle'>, account: string, input: Omit<CheckInput, 'save'>, rescan: Rescan, base?: BaseAdviceInput,
): Promise<Advice> {
  const { bundle } = await bundleOf(store, account, input.policyId);
  return adviseImage(bundle, { sbom: input.sbom, scan: input.scan }, { tag: input.tag }, input.scan ? rescan : undefined, base);
}

/** The advice's view of an image's base from store/bases.ts: its inherited packages and newer digests. */
export function baseAdviceOf(found: { base: { digest: string; tag?: string; inherited: string[] }; newer: BaseAdviceInput['newer'] } | undefined): BaseAdviceInput | undefined {
  if (!found) return undefined;
  const { digest, tag, inherited } = found.base;
  return { base: { digest, ...(tag ? { tag } : {}) }, inherited: new Set(inherited), newer: found.newer };
}

/** The event type of a policy_eval change (user.checks.tag.policy_evaluation.update). */
export const POLICY_EVAL_UPDATE = 'user.checks.tag.policy_evaluation.update';

/** An evaluation as the policy_eval payload carries it: the document with its digest and status. */
function evalPayload(e: StoredEvaluation): Record<string, unknown> {
  return { ...e.doc, image_digest: e.imageDigest, status: e.status };
}

/** The policy_eval announcement of a tag whose evaluation changed (services/announce.ts). */
export function policyEvalAnnouncement(account: string, fulltag: string, previous: StoredEvaluation, current: StoredEvaluation, annotations: Record<string, unknown>): Announcement {
  return {
    account, type: 'policy_eval', key: fulltag, event: { type: POLICY_EVAL_UPDATE },
    payload: { last_eval: evalPayload(previous), curr_eval: evalPayload(current), annotations },
  };
}
