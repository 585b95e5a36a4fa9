/**
 * Unknown images met by the admission webhook are added to the catalog for analysis, as
 * `POST /images` adds a tag: the tag is resolved with the registry (with the account's registry
 * credentials), the image recorded `not_analyzed` with the annotation
 * `requestor: lading-admission` and its analysis queued. Resolving needs the registry, so it
 * runs in the background: the admission answer never waits for it. A failure (a tag the
 * registry does not have, a registry that refuses) is logged and recorded as an event of the
 * account (GET /v1/events), naming the tag and the reason. One request per account and tag is in
 * flight at a time.
 */
import { describeError, LadingError } from '../errors.js';
import { openSource, type SourceOptions } from '../image/sources/index.js';
import type { ImageReference } from '../image/reference.js';
import type { JobQueue } from '../queue/queue.js';
import { addTaggedImage } from '../services/add-image.js';
import type { CatalogStore } from '../store/catalog.js';
import type { EventStore } from '../store/events.js';
import { withRegistryAccess, type RegistryStore } from '../services/registries.js';
import type { SubscriptionStore } from '../store/subscriptions.js';
import { anchoreTag, parseTag } from '../policy/index.js';

export const REQUESTOR_ANNOTATION = { requestor: 'lading-admission' } as const;
const REGISTRY_LOOKUP_FAILED = 'system.image_analysis.registry_lookup_failed';

export interface AnalysisRequesterDeps {
  catalog: CatalogStore;
  registries: RegistryStore;
  subscriptions: SubscriptionStore;
  events: EventStore;
  queue: JobQueue;
  sourceOptions: SourceOptions;
  analysisMaxAttempts: number;
  log: (message: string) => void;
}

export class AnalysisRequester {
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly deps: AnalysisRequesterDeps) {}

  /** Start adding a tagged reference (not awaited by the caller); false when one is already under way. */
  request(account: string, ref: ImageReference & { tag: string }): boolean {
    const t = parseTag(anchoreTag(`${ref.registry}/${ref.repository}:${ref.tag}`));
    const tag = { registry: t.registry, repo: t.repo, tag: t.tag ?? ref.tag };
    const fulltag = `${tag.registry}/${tag.repo}:${tag.tag}`;
    const key = `${account}\0${fulltag}`;
    if (this.inFlight.has(key)) return false;
    const pull = `${ref.registry}/${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag}`}`;
    const run = this.add(account, pull, tag, fulltag, ref)
      .catch((e: unknown) => this.failed(account, pull, fulltag, e))
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, run);
    return true;
  }

  private async add(account: string, pull: string, tag: { registry: string; repo: string; tag: string }, fulltag: string, ref: ImageReference): Promise<void> {
    const access = await this.deps.registries.registryCredentialsFor(account, ref);
    const source = await openSource(`registry:${pull}`, withRegistryAccess({ credentialLookup: false, ...this.deps.sourceOptions }, access));
    let resolved;
    try {
      resolved = await source.resolve({});
    } finally {
      await source.close();
    }
    if (!resolved.manifestDigest) throw new Error(`image ${pull} has no manifest digest`);
    await addTaggedImage(this.deps, account, tag, {
      imageDigest: resolved.manifestDigest,
      imageId: resolved.configDigest.replace(/^sha256:/, ''),
      ...(resolved.indexDigest ? { parentDigest: resolved.indexDigest } : {}),
    }, { annotations: { ...REQUESTOR_ANNOTATION } });
    await this.deps.subscriptions.ensureTagSubscriptions(account, fulltag, { autosubscribe: false });
    this.deps.log(`admission: added ${fulltag} (${resolved.manifestDigest}) for analysis`);
  }

  /** A request that failed: in the log, and as an event the account sees (as the tag watcher records its lookups that fail). */
  private async failed(account: string, pull: string, fulltag: string, e: unknown): Promise<void> {
    const reason = describeError(e);
    this.deps.log(`admission: cannot add ${pull} for analysis: ${reason}`);
    try {
      await this.deps.events.add(account, {
        type: REGISTRY_LOOKUP_FAILED,
        resource: { id: fulltag },
        message: `Admission queued ${fulltag} for analysis, but it cannot be added: ${reason}`,
        details: { error: reason, requestor: REQUESTOR_ANNOTATION.requestor, ...(e instanceof LadingError ? { error_code: e.code } : {}) },
      });
    } catch (err) {
      this.deps.log(`admission: cannot record the event for ${fulltag}: ${describeError(err)}`);
    }
  }

  /** Wait for the requests under way (at shutdown). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.inFlight.values()]);
  }
}
