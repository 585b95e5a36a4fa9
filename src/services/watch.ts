/**
 * The watchers (reference sections 4.1 and 5.1), each a cycle run once across all processes:
 * - `tag_watch`: every active tag_update subscription's tag is resolved in its registry (with the
 *   account's registry credentials, the platform an add picks); a new digest is added to the
 *   catalog `not_analyzed`, queued for analysis and announced as tag_update
 *   {last_eval: [previous digest], curr_eval: [new digest], annotations}.
 * - `repo_watch`: every active repo_update subscription's repository is listed; each tag the
 *   account has no image for is added (its tag subscriptions made, tag_update active with the
 *   value's autosubscribe) and queued; the value's tagcount is kept current.
 * - `policy_eval`: every active policy_eval subscription's tag, when it names an analyzed image, is
 *   evaluated (and stored); when the final action or the digest differs from the tag's previous
 *   stored evaluation, the change is announced (user.checks.tag.policy_evaluation.update).
 * `afterAnalysis` runs that evaluation for a freshly analyzed image's subscribed tags.
 * A registry failure becomes an error event for that tag or repository; the others still run.
 */
import type { LadingConfig } from '../config/schema.js';
import { LadingError, describeError } from '../errors.js';
import { parseReference } from '../image/reference.js';
import { openSource, registryClient, type SourceOptions } from '../image/sources/index.js';
import { anchoreTag, formatTag, parseTag } from '../policy/tag.js';
import type { JobQueue } from '../queue/queue.js';
import { addTaggedImage, type ResolvedTag } from './add-image.js';
import type { Announcer } from './announce.js';
import type { CatalogImage, CatalogStore } from '../store/catalog.js';
import type { CycleSpec } from './cycles.js';
import type { EventStore } from '../store/events.js';
import type { PolicyStore, StoredEvaluation } from '../store/policies.js';
import { checkImage, policyEvalAnnouncement } from './check.js';
import type { VulnReports } from './reports.js';
import { withRegistryAccess, type RegistryStore } from './registries.js';
import type { RepoUpdateValue, Subscription, SubscriptionStore } from '../store/subscriptions.js';
import { isPlainObject } from '../util/objects.js';

export interface WatchDeps {
  config: LadingConfig;
  catalog: CatalogStore;
  queue: JobQueue;
  subscriptions: SubscriptionStore;
  policies: PolicyStore;
  /** The vulnerability reports (services/reports.ts): the same scan, marked inherited_from_base, as every other evaluation. */
  reports: VulnReports;
  registries: RegistryStore;
  announcer: Announcer;
  /** Where registry failures are recorded (error events, no notification). */
  events: Pick<EventStore, 'add'>;
  /** Base registry options (limits, insecure hosts); per-account credentials come from `registries`. */
  sourceOptions: SourceOptions;
  analysisMaxAttempts: number;
}

const REGISTRY_LOOKUP_FAILED = 'system.image_analysis.registry_lookup_failed';
const LIST_TAGS_FAILED = 'system.repository.list_tags_fail';

/** The watcher role's cycles. */
export function watcherCycles(deps: WatchDeps): CycleSpec[] {
  return [
    { name: 'tag_watch', intervalMs: deps.config.watchers.tag_interval * 1000, run: (signal) => watchTags(deps, signal) },
    { name: 'repo_watch', intervalMs: deps.config.watchers.repo_interval * 1000, run: (signal) => watchRepositories(deps, signal) },
    { name: 'policy_eval', intervalMs: deps.config.cycle_timers.policy_eval * 1000, run: (signal) => evaluateSubscribed(deps, signal) },
  ];
}

/** After an image is analyzed: evaluate it for its tags with an active policy_eval subscription. */
export async function afterAnalysis(deps: WatchDeps, account: string, imageDigest: string): Promise<void> {
  const image = await deps.catalog.getImage(account, imageDigest);
  if (!image || image.analysisStatus !== 'analyzed') return;
  const failures: string[] = [];
  for (const { fulltag } of image.tags) {
    const subs = await deps.subscriptions.list(account, { key: fulltag, type: 'policy_eval' });
    if (!subs.some((s) => s.active)) continue;
    try {
      await evaluateTag(deps, account, fulltag, imageDigest);
    } catch (e) {
      failures.push(`${fulltag}: ${describeError(e)}`);
    }
  }
  if (failures.length) throw new LadingError('INTERNAL', `policy evaluation after analysis of ${imageDigest} failed for ${failures.join('; ')}`);
}

// ------------------------------------------------------------------ registry access


/** Source options for an account's pull from `registry/repository` (its registry credentials, no other lookup). */
async function accessFor(deps: WatchDeps, account: string, ref: { registry: string; repository: string }): Promise<SourceOptions> {
  const access = await deps.registries.registryCredentialsFor(account, ref);
  return withRegistryAccess({ credentialLookup: false, ...deps.sourceOptions }, access);
}

/** What a tag names now, for the platform an image add picks (as POST /images resolves it). */
async function resolveTag(fulltag: string, so: SourceOptions, signal: AbortSignal): Promise<ResolvedTag> {
  const source = await openSource(`registry:${fulltag}`, so);
  try {
    const r = await source.resolve({ signal });
    if (!r.manifestDigest) throw new LadingError('REGISTRY', `${fulltag} has no manifest digest`);
    return { imageDigest: r.manifestDigest, imageId: r.configDigest.replace(/^sha256:/, ''), ...(r.indexDigest ? { parentDigest: r.indexDigest } : {}) };
  } finally {
    await source.close();
  }
}

/** The digest the tag points at (HEAD, nothing read), or undefined when the registry does not say. */
async function headDigest(fulltag: string, so: SourceOptions, signal: AbortSignal): Promise<string | undefined> {
  const ref = parseReference(fulltag);
  const client = registryClient(ref.registry, so);
  try {
    return (await client.headManifest(ref.repository, ref.tag ?? 'latest', signal)).digest;
  } finally {
    await client.close();
  }
}

/** Record an image for a tag (Anchore's form `registry/repo:tag`) and queue its analysis when it needs one. */
async function addTagImage(deps: WatchDeps, account: string, fulltag: string, r: ResolvedTag, annotations?: Record<string, unknown>): Promise<CatalogImage> {
  const t = parseTag(fulltag);
  const { image } = await addTaggedImage(deps, account, { registry: t.registry, repo: t.repo, tag: t.tag ?? 'latest' }, r, annotations ? { annotations } : {});
  return image;
}

async function lookupFailed(deps: WatchDeps, account: string, fulltag: string, e: unknown, subscriptionType: string): Promise<void> {
  await deps.events.add(account, {
    type: REGISTRY_LOOKUP_FAILED,
    resource: { id: fulltag },
    message: `Cannot resolve ${fulltag} in its registry: ${describeError(e)}`,
    details: { error: describeError(e), subscription_type: subscriptionType, ...(e instanceof LadingError ? { error_code: e.code } : {}) },
  });
}

/** The tag's current image: the digest it was most recently seen naming. */
async function currentImage(deps: WatchDeps, account: string, fulltag: string): Promise<CatalogImage | undefined> {
  return (await deps.catalog.listImages(account, { fulltag, latestOnly: true }))[0];
}

// ------------------------------------------------------------------ tag_watch

/** One tag_update subscription: whether its tag moved, or failed to resolve. */
async function watchTag(deps: WatchDeps, sub: Subscription, signal: AbortSignal): Promise<'unchanged' | 'changed' | 'failed'> {
  const fulltag = sub.key;
  const current = await currentImage(deps, sub.account, fulltag);
  let resolved: ResolvedTag;
  try {
    const so = await accessFor(deps, sub.account, parseReference(fulltag));
    if (current) {
      const head = await headDigest(fulltag, so, signal);
      if (head !== undefined && (head === current.imageDigest || head === current.parentDigest)) return 'unchanged';
    }
    resolved = await resolveTag(fulltag, so, signal);
  } catch (e) {
    if (signal.aborted) throw e;
    await lookupFailed(deps, sub.account, fulltag, e, 'tag_update');
    return 'failed';
  }
  if (current?.imageDigest === resolved.imageDigest) return 'unchanged';
  const annotations = current?.annotations ?? {};
  await addTagImage(deps, sub.account, fulltag, resolved, annotations);
  await deps.announcer.announce({
    account: sub.account,
    type: 'tag_update',
    key: fulltag,
    payload: { last_eval: current ? [current.imageDigest] : [], curr_eval: [resolved.imageDigest], annotations },
  });
  return 'changed';
}

async function watchTags(deps: WatchDeps, signal: AbortSignal): Promise<string> {
  const counts = { checked: 0, changed: 0, failed: 0 };
  for (const sub of await deps.subscriptions.listActive('tag_update')) {
    if (signal.aborted) break;
    const outcome = await watchTag(deps, sub, signal);
    counts.checked++;
    if (outcome !== 'unchanged') counts[outcome]++;
  }
  return `${counts.checked} tags checked, ${counts.changed} new digests, ${counts.failed} lookups failed`;
}

// ------------------------------------------------------------------ repo_watch

/** A stored repo_update value, with defaults for what it lacks; other keys kept. */
function repoValue(text: string | null): RepoUpdateValue & Record<string, unknown> {
  let doc: unknown;
  try {
    doc = text ? JSON.parse(text) : {};
  } catch {
    doc = {};
  }
  const obj = isPlainObject(doc) ? doc : {};
  return {
    ...obj,
    autosubscribe: obj.autosubscribe === true || obj.autosubscribe === 'true',
    lookuptag: typeof obj.lookuptag === 'string' ? obj.lookuptag : 'latest',
    tagcount: typeof obj.tagcount === 'number' ? obj.tagcount : 0,
  };
}

/** One repo_update subscription: the tags added, or undefined when the repository could not be listed. */
async function watchRepository(deps: WatchDeps, sub: Subscription, signal: AbortSignal): Promise<{ added: number; failed: number } | undefined> {
  const value = repoValue(sub.value);
  let tags: string[];
  let so: SourceOptions;
  let ref: { registry: string; repository: string };
  try {
    ref = parseReference(sub.key);
    so = await accessFor(deps, sub.account, ref);
    const client = registryClient(ref.registry, so);
    try {
      tags = (await client.listTags(ref.repository, { signal })).sort();
    } finally {
      await client.close();
    }
  } catch (e) {
    if (signal.aborted) throw e;
    await deps.events.add(sub.account, {
      type: LIST_TAGS_FAILED,
      resource: { id: sub.key },
      message: `Cannot list the tags of ${sub.key}: ${describeError(e)}`,
      details: { error: describeError(e), subscription_type: 'repo_update', ...(e instanceof LadingError ? { error_code: e.code } : {}) },
    });
    return undefined;
  }
  let added = 0;
  let failed = 0;
  for (const tag of tags) {
    if (signal.aborted) break;
    const fulltag = formatTag(parseTag(anchoreTag(`${ref.registry}/${ref.repository}:${tag}`)));
    if (await currentImage(deps, sub.account, fulltag)) continue;
    let resolved: ResolvedTag;
    try {
      resolved = await resolveTag(fulltag, so, signal);
    } catch (e) {
      if (signal.aborted) throw e;
      await lookupFailed(deps, sub.account, fulltag, e, 'repo_update');
      failed++;
      continue;
    }
    await addTagImage(deps, sub.account, fulltag, resolved);
    await deps.subscriptions.ensureTagSubscriptions(sub.account, fulltag, { autosubscribe: value.autosubscribe });
    added++;
  }
  if (value.tagcount !== tags.length) {
    await deps.subscriptions.update(sub.account, sub.subscriptionId, { value: JSON.stringify({ ...value, tagcount: tags.length }) });
  }
  return { added, failed };
}

async function watchRepositories(deps: WatchDeps, signal: AbortSignal): Promise<string> {
  const counts = { repositories: 0, unlisted: 0, added: 0, failed: 0 };
  for (const sub of await deps.subscriptions.listActive('repo_update')) {
    if (signal.aborted) break;
    const r = await watchRepository(deps, sub, signal);
    counts.repositories++;
    if (!r) counts.unlisted++;
    else {
      counts.added += r.added;
      counts.failed += r.failed;
    }
  }
  return `${counts.repositories} repositories listed (${counts.unlisted} failed), ${counts.added} tags added, ${counts.failed} tag lookups failed`;
}

// ------------------------------------------------------------------ policy_eval

/** The tag's newest stored evaluation, of whichever digest it named. */
async function previousEvaluation(deps: WatchDeps, account: string, fulltag: string): Promise<StoredEvaluation | undefined> {
  let newest: StoredEvaluation | undefined;
  for (const img of await deps.catalog.listImages(account, { fulltag })) {
    const e = await deps.policies.latestEvaluation(account, img.imageDigest, fulltag);
    if (e && (!newest || e.createdAt > newest.createdAt)) newest = e;
  }
  return newest;
}

/**
 * Evaluate the image a tag names now (only when it is analyzed and, with `expectDigest`, is that
 * digest), store the evaluation, and announce it when it differs from the tag's previous one.
 */
async function evaluateTag(deps: WatchDeps, account: string, fulltag: string, expectDigest?: string): Promise<'skipped' | 'same' | 'changed'> {
  const image = await currentImage(deps, account, fulltag);
  if (!image || image.analysisStatus !== 'analyzed') return 'skipped';
  if (expectDigest !== undefined && image.imageDigest !== expectDigest) return 'skipped';
  const sbom = await deps.catalog.getSbom(account, image.imageDigest);
  if (!sbom) return 'skipped';
  const scan = await deps.reports.scan({ account, imageDigest: image.imageDigest, ...(image.analyzedAt ? { analyzedAt: image.analyzedAt } : {}) }, async () => sbom);
  const previous = await previousEvaluation(deps, account, fulltag);
  const current = await checkImage(deps.policies, account, { imageDigest: image.imageDigest, tag: fulltag, sbom, scan, save: true });
  if (!previous || (previous.finalAction === current.finalAction && previous.imageDigest === current.imageDigest)) return 'same';
  await deps.announcer.announce(policyEvalAnnouncement(account, fulltag, previous, current, image.annotations));
  return 'changed';
}

async function evaluateSubscribed(deps: WatchDeps, signal: AbortSignal): Promise<string> {
  const counts = { evaluated: 0, changed: 0, skipped: 0, failed: 0 };
  const errors: string[] = [];
  for (const sub of await deps.subscriptions.listActive('policy_eval')) {
    if (signal.aborted) break;
    try {
      const r = await evaluateTag(deps, sub.account, sub.key);
      if (r === 'skipped') counts.skipped++;
      else {
        counts.evaluated++;
        if (r === 'changed') counts.changed++;
      }
    } catch (e) {
      counts.failed++;
      errors.push(`${sub.account} ${sub.key}: ${describeError(e)}`);
    }
  }
  const summary = `${counts.evaluated} tags evaluated, ${counts.changed} changed, ${counts.skipped} not analyzed`;
  return counts.failed ? `${summary}, ${counts.failed} failed (${errors.slice(0, 3).join('; ')})` : summary;
}
