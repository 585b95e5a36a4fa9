/**
 * The admission decision, from stored state only: the catalog of the configured account, its
 * policy bundles and stored evaluations, the stored SBOM and the local vulnerability data. No
 * registry is contacted while the API server waits; an unknown image can be added for analysis
 * in the background (request-analysis.ts).
 *
 * Per image, by the mode its selector chose (selectors.ts):
 *   breakglass: admitted without checks, with a warning (and a log line);
 *   analysis:   admitted when Lading has analyzed it;
 *   policy:     admitted when its evaluation under the bundle passes. The newest stored
 *               evaluation of the image as that tag under that bundle is used while it is newer
 *               than the analysis, the bundle and the vulnerability data; otherwise the image is
 *               evaluated from its stored SBOM (as GET /images/{digest}/check does) and the result
 *               stored.
 * An image that is not in the catalog, or not analyzed yet, is denied or admitted as
 * `unknown_images` says; so is one not decided within `decision_timeout`.
 */
import type { AdmissionConfig } from '../config/schema.js';
import type { VulnDb } from '../feeds/vulndb.js';
import { describeError } from '../errors.js';
import { formatReference, parseReference, type ImageReference } from '../image/reference.js';
import { anchoreTag, parseTag, type CheckRow, type PolicyEvaluationDoc } from '../policy/index.js';
import type { CatalogImage, CatalogStore } from '../store/catalog.js';
import type { PolicyBundleRecord, PolicyStore, StoredEvaluation } from '../store/policies.js';
import { checkImage } from '../services/check.js';
import type { VulnReports } from '../services/reports.js';
import type { AnalysisRequester } from './request-analysis.js';
import type { AdmissionRequest, AdmissionResponse } from './review.js';
import { ModeSelector, type Selection } from './selectors.js';

export interface DeciderDeps {
  admission: AdmissionConfig;
  catalog: CatalogStore;
  policies: PolicyStore;
  vulndb: VulnDb;
  /** The process's cached vulnerability reports. */
  reports: VulnReports;
  requester: AnalysisRequester;
  log: (message: string) => void;
}

/** One image's outcome: a denial reason, or a warning for an admitted image. */
interface Verdict {
  allowed: boolean;
  /** Why it was denied (one paragraph: what failed and how to fix it). */
  reason?: string;
  /** Shown to the user although admitted. */
  warning?: string;
}

/** A denial message longer than this is cut (the API server shows it to whoever deployed). */
const MAX_MESSAGE = 3000;
/** Failed rules named per image. */
const MAX_ROWS = 5;

/** How to make a failed rule pass, per gate. */
const GATE_FIXES: Record<string, string> = {
  vulnerabilities: 'upgrade the named packages (rebuild the image, or move to a base image with the fixes)',
  packages: 'remove or replace the named packages',
  dockerfile: 'change the Dockerfile as the rule requires and rebuild',
  secret_scans: 'remove the secrets from the image and rebuild',
  files: 'remove or change the named files and rebuild',
  licenses: 'replace the packages with the named licenses',
  passwd_file: 'change /etc/passwd in the image as the rule requires',
};

export class AdmissionDecider {
  private readonly selector: ModeSelector;
  private readonly reports;
  /** Evaluations running now, by account, digest, tag and bundle: concurrent reviews share one. */
  private readonly evaluating = new Map<string, Promise<StoredEvaluation>>();
  /** Decisions still running after their review answered (timed out), awaited at shutdown. */
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly deps: DeciderDeps) {
    this.selector = new ModeSelector(deps.admission);
    this.reports = deps.reports;
  }

  async review(req: AdmissionRequest): Promise<AdmissionResponse> {
    if (!req.workload || !req.images.length) return { uid: req.uid, allowed: true };
    const byImage = new Map<string, string[]>();
    for (const c of req.images) byImage.set(c.image, [...(byImage.get(c.image) ?? []), c.container]);
    const deadline = this.deadline();
    const verdicts = await Promise.all([...byImage].map(async ([image, containers]) => {
      const target = this.target(req, image);
      const verdict = await this.withDeadline(this.decideImage(req, image, target), deadline.promise, image, target.selection);
      return { image, containers, verdict };
    }));
    deadline.cancel();
    const object = `${req.kind} ${req.namespace ? `${req.namespace}/` : ''}${req.name || '(unnamed)'}`;
    const warnings = verdicts.flatMap((v) => (v.verdict.warning ? [v.verdict.warning] : []));
    const denied = verdicts.filter((v) => !v.verdict.allowed);
    for (const w of warnings) this.deps.log(`admission: ${object} (uid ${req.uid}, user ${req.user || 'unknown'}): ${w}`);
    const response: AdmissionResponse = { uid: req.uid, allowed: denied.length === 0, ...(warnings.length ? { warnings } : {}) };
    if (!denied.length) return response;
    const lines = denied.map((d) => `- ${d.image} (${d.containers.length > 1 ? 'containers' : 'container'} ${d.containers.join(', ')}): ${d.verdict.reason}`);
    let message = `Lading denied ${object}: ${denied.length} of ${verdicts.length} image${verdicts.length > 1 ? 's' : ''} not admitted\n${lines.join('\n')}`;
    if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE - 1)}…`;
    this.deps.log(`admission: denied ${object} (uid ${req.uid}): ${denied.map((d) => d.image).join(', ')}`);
    return { ...response, status: { code: 403, message } };
  }

  /** Wait for decisions that outlived their review. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  private deadline(): { promise: Promise<'timeout'>; cancel: () => void } {
    let timer: NodeJS.Timeout | undefined;
    const promise = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.deps.admission.decision_timeout * 1000);
    });
    return { promise, cancel: () => clearTimeout(timer) };
  }

  /** The parsed reference (or why it does not parse) and the selection for it. */
  private target(req: AdmissionRequest, image: string): Target {
    const subject = { namespace: req.namespace, labels: req.labels, annotations: req.annotations };
    try {
      const ref = parseReference(image);
      return { ref, selection: this.selector.select({ ...subject, image: formatReference(ref) }) };
    } catch (e) {
      return { invalid: describeError(e), selection: this.selector.select({ ...subject, image }) };
    }
  }

  private async withDeadline(decision: Promise<Verdict>, deadline: Promise<'timeout'>, image: string, sel: Selection): Promise<Verdict> {
    // Breakglass admits whatever happens: a failed or slow catalog lookup only loses the queueing.
    const breakglass: Verdict = { allowed: true, warning: `breakglass: ${image} admitted without checks` };
    const guarded = decision.catch((e: unknown): Verdict => {
      this.deps.log(`admission: cannot decide ${image}: ${describeError(e)}`);
      return sel.mode === 'breakglass' ? breakglass : { allowed: false, reason: `Lading could not decide: ${describeError(e)}` };
    });
    this.running.add(guarded);
    void guarded.finally(() => this.running.delete(guarded));
    const r = await Promise.race([guarded, deadline]);
    if (r !== 'timeout') return r;
    if (sel.mode === 'breakglass') return breakglass;
    const t = this.deps.admission.decision_timeout;
    return unknown(sel, `no decision within ${t}s (the evaluation goes on in the background and is stored: deploy again shortly)`, `${image} not decided within ${t}s; admitted (unknown_images: allow)`);
  }

  private async decideImage(req: AdmissionRequest, image: string, target: Target): Promise<Verdict> {
    const sel = target.selection;
    if (!target.ref) {
      if (sel.mode === 'breakglass') return { allowed: true, warning: `breakglass: ${image} admitted without checks (not a valid image reference)` };
      return { allowed: false, reason: target.invalid };
    }
    const ref = target.ref;
    const account = this.deps.admission.account;
    const found = await this.findImage(account, ref);
    const mode = `mode ${sel.mode}${sel.rule !== undefined ? ` (admission.rules[${sel.rule}])` : ''}`;
    const queued = !found && this.requestAnalysis(req, ref);
    if (sel.mode === 'breakglass') {
      return { allowed: true, warning: `breakglass: ${image} admitted without checks${queued ? '; queued for analysis' : ''}` };
    }
    if (!found) {
      const next = queued
        ? `it was queued for analysis (if the registry cannot supply it, GET /v1/events says why): deploy again once it is analyzed (lading image wait ${addable(ref)})`
        : `add it with \`lading image add ${addable(ref)}\`, wait for the analysis (lading image wait ${addable(ref)}), then deploy again`;
      return unknown(
        sel,
        `${mode}: not analyzed by Lading (not in the catalog of account ${account}). Fix: ${next}`,
        `${image} is not analyzed by Lading; admitted (unknown_images: allow)${queued ? '; queued for analysis' : ''}`,
      );
    }
    const { image: img, tag } = found;
    if (img.analysisStatus !== 'analyzed') {
      const state = img.analysisStatus === 'analysis_failed'
        ? `its analysis failed${img.analysisError ? ` (${img.analysisError})` : ''}. Fix: correct the cause, then \`lading image add ${tag} --force\``
        : `its analysis is not finished (${img.analysisStatus}). Fix: wait for it (lading image wait ${tag}), then deploy again`;
      return unknown(sel, `${mode}: image ${img.imageDigest} is not analyzed: ${state}`, `${image} is not analyzed yet (${img.analysisStatus}); admitted (unknown_images: allow)`);
    }
    if (sel.mode === 'analysis') return { allowed: true };
    return this.policyVerdict(account, img, tag, sel, mode);
  }

  /** Queue an image missing from the catalog (not for dry runs, nor for a digest without a tag). */
  private requestAnalysis(req: AdmissionRequest, ref: ImageReference): boolean {
    if (!this.deps.admission.queue_unknown || req.dryRun || !ref.tag) return false;
    this.deps.requester.request(this.deps.admission.account, { ...ref, tag: ref.tag });
    return true;
  }

  /**
   * The catalog image a reference names, and the tag it is evaluated as: by digest (the image's
   * manifest digest, or the index digest of a multi-platform tag), else the image the tag names now.
   */
  private async findImage(account: string, ref: ImageReference): Promise<{ image: CatalogImage; tag: string } | undefined> {
    const fulltag = ref.tag !== undefined ? anchoreTag(`${ref.registry}/${ref.repository}:${ref.tag}`) : undefined;
    if (ref.digest) {
      const direct = await this.deps.catalog.getImage(account, ref.digest);
      if (direct) return { image: direct, tag: fulltag ?? tagInRepository(direct, ref) };
      if (!fulltag) return undefined;
      const platform = (await this.deps.catalog.listImages(account, { fulltag })).find((i) => i.parentDigest === ref.digest);
      return platform ? { image: platform, tag: fulltag } : undefined;
    }
    const [img] = await this.deps.catalog.listImages(account, { fulltag: fulltag!, latestOnly: true });
    return img ? { image: img, tag: fulltag! } : undefined;
  }

  private async policyVerdict(account: string, img: CatalogImage, tag: string, sel: Selection, mode: string): Promise<Verdict> {
    const bundle = await this.deps.policies.getBundle(account, sel.bundleId);
    if (!bundle) {
      return { allowed: false, reason: `${mode}: policy bundle ${sel.bundleId} does not exist in account ${account}. Fix: add the bundle, or correct bundle_id in the admission configuration` };
    }
    const e = await this.evaluation(account, img, tag, bundle);
    if (e.status === 'pass') return { allowed: true };
    const name = `bundle "${bundle.name ?? bundle.policyId}" (${bundle.policyId})`;
    return { allowed: false, reason: `${mode}, ${name}: ${failureText(e.doc, tag)}` };
  }

  /** The stored evaluation when still current, else a new one from the stored SBOM (stored too). */
  private async evaluation(account: string, img: CatalogImage, tag: string, bundle: PolicyBundleRecord): Promise<StoredEvaluation> {
    const latest = await this.deps.policies.latestEvaluation(account, img.imageDigest, tag);
    const stored = latest?.policyId === bundle.policyId ? latest : (await this.deps.policies.listEvaluations(account, img.imageDigest, tag, bundle.policyId))[0];
    const built = await this.dataBuilt();
    if (stored && [img.analyzedAt, bundle.lastUpdated, built].every((t) => t === undefined || stored.createdAt >= t)) return stored;
    const key = [account, img.imageDigest, tag, bundle.policyId].join('\0');
    let running = this.evaluating.get(key);
    if (!running) {
      running = (async () => {
        const sbom = await this.deps.catalog.getSbom(account, img.imageDigest);
        if (!sbom) throw new Error(`image ${img.imageDigest} has no stored analysis`);
        const scan = await this.reports.scan({ account, imageDigest: img.imageDigest, ...(img.analyzedAt ? { analyzedAt: img.analyzedAt } : {}) }, async () => sbom);
        const e = await checkImage(this.deps.policies, account, { imageDigest: img.imageDigest, tag, sbom, scan, policyId: bundle.policyId });
        return e;
      })().finally(() => this.evaluating.delete(key));
      this.evaluating.set(key, running);
    }
    return running;
  }

  /** When the vulnerability data last changed (ISO 8601), if it was ever loaded. */
  private async dataBuilt(): Promise<string | undefined> {
    return this.deps.vulndb.built();
  }
}

/** An image reference as parsed (or why not) and the mode its selector chose. */
type Target = { ref: ImageReference; invalid?: undefined; selection: Selection } | { ref?: undefined; invalid: string; selection: Selection };

/** An image Lading cannot judge (not analyzed, not decided in time): as the selection's unknown_images says. */
function unknown(sel: Selection, reason: string, warning: string): Verdict {
  return sel.unknownImages === 'allow' ? { allowed: true, warning } : { allowed: false, reason };
}

/** A tag of the image in the reference's repository (digest-only references), else its first tag. */
function tagInRepository(img: CatalogImage, ref: ImageReference): string {
  const repo = parseTag(anchoreTag(`${ref.registry}/${ref.repository}:latest`));
  const same = img.tags.find((t) => t.registry === repo.registry && t.repo === repo.repo);
  return (same ?? img.tags[0])?.fulltag ?? `${repo.registry}/${repo.repo}:latest`;
}

/** What `lading image add` takes for a reference (a digest needs its tag). */
function addable(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}:${ref.tag ?? 'TAG'}`;
}

/** The rows of the check table in an evaluation document. */
function checkRowsOf(doc: PolicyEvaluationDoc): CheckRow[] {
  for (const v of Object.values(doc.result)) {
    if (v && typeof v === 'object' && 'result' in v) return ((v as { result: { rows?: CheckRow[] } }).result.rows ?? []);
  }
  return [];
}

/** Why an evaluation failed: the failed gates and triggers, their output, and how to fix them. */
function failureText(doc: PolicyEvaluationDoc, tag: string): string {
  const when = new Date(doc.last_modified * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const head = `failed the policy evaluation of ${when} as ${tag}`;
  if (doc.final_action_reason === 'blacklisted') {
    return `${head}: the image is on the bundle's blacklisted_images list. Fix: remove it from that list, or deploy another image`;
  }
  const stops = checkRowsOf(doc).filter((r) => r[6] === 'stop');
  const parts = stops.slice(0, MAX_ROWS).map((r) => `${r[3]}/${r[4]} [trigger id ${r[2]}]: ${r[5]}`);
  if (stops.length > MAX_ROWS) parts.push(`and ${stops.length - MAX_ROWS} more (lading evaluate check ${tag} --detail)`);
  const problems = doc.evaluation_problems.map((p) => p.details);
  if (!parts.length && problems.length) return `${head}: the bundle could not be applied: ${problems.slice(0, 3).join('; ')}. Fix: correct the bundle`;
  const gates = [...new Set(stops.map((r) => r[3]))];
  const fixes = gates.map((g) => GATE_FIXES[g] ?? `change the image so the ${g} rules no longer fire`);
  fixes.push('or add the trigger ids to an allowlist of the bundle');
  return `${head}: ${parts.join('; ')}. Fix: ${fixes.join('; ')}`;
}
