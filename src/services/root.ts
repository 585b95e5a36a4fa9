/**
 * The composition root: every store and long-lived service object of one process, built once over
 * one database, and the lifecycle subscriptions that keep what is derived from an image in step
 * with it (store/lifecycle.ts). `lading serve` (services/server.ts) builds one `ServiceRoot` and
 * hands it to the API routes, the admission webhook, the analyzer workers and the cycles; tests
 * build the same with `composeImageStores` (no configuration needed) or `composeRoot`.
 *
 * What subscribes to what:
 * - before the storing transaction: `analysisStored` → the image's package variants matched
 *   (store/findings.ts prepareImage), stored inside it (storeImage): its findings and counts;
 * - in the storing transaction: `analysisStored` → the package index rows and the summary row
 *   (with the counts just stored), the layer chains, and (composeRoot's) the `evaluate` job of the
 *   automatic evaluation (services/auto-evaluate.ts); `evaluationStored` → the summary row's verdict; `imageDeleted`
 *   → the findings rows, the package index, stored evaluations, summary row
 * - after commit: `imageAdded`, `imageStatusChanged` → the summary row (not when the same
 *   transaction also stored that image's analysis: the row was written inside it, with every tag);
 *   `analysisStored` → the first trend point; `vulnDataChanged` is wired by the process that runs
 *   the re-match cycle (services/server.ts).
 * A re-match (services/freshness.ts) moves the summary rows' counts and finding pairs in its own
 * transaction and writes the outbox that `changes` (services/finding-changes.ts) delivers: the
 * vuln_update and policy_eval events and notifications (with composeRoot's announcer) and the
 * re-evaluations; `findingsChanged` is told after that delivery commits.
 */
import type { LadingConfig } from '../config/schema.js';
import { VulnDb } from '../feeds/vulndb.js';
import { JobQueue } from '../queue/queue.js';
import { AccountStore, type AccountStoreOptions } from '../store/accounts.js';
import type { DatabaseHandle } from '../store/db.js';
import { Lifecycle, type LifecycleEventName } from '../store/lifecycle.js';
import { Announcer } from './announce.js';
import { ArchiveStore } from '../store/archive.js';
import { CatalogStore, type CatalogQuotas } from '../store/catalog.js';
import { EventStore } from '../store/events.js';
import { ImportStore } from '../store/imports.js';
import { Notifier } from './notify.js';
import { PackageQueries } from './packages.js';
import { PackageIndex, indexImagePackages, removeImagePackages } from '../store/package-index.js';
import { PolicyStore, removeEvaluations } from '../store/policies.js';
import { RegistryStore } from './registries.js';
import { RegistryRows } from '../store/registries.js';
import { VulnReports } from './reports.js';
import { ServiceRegistry } from '../store/service-registry.js';
import { FindingsStore } from '../store/findings.js';
import { AnalysisDocuments } from '../store/objects/documents.js';
import { ObjectStores } from '../store/objects/index.js';
import { FindingChanges } from './finding-changes.js';
import { SubscriptionStore } from '../store/subscriptions.js';
import { OutboundGuard, outboundPolicy } from '../image/registry/guard.js';
import { SummaryStore } from './summaries.js';
import { SummaryRows, removeImageSummary } from '../store/summaries.js';
import { NotificationRows } from '../store/notifications.js';
import { BaseStore, recordLayerChains, removeImageBase } from '../store/bases.js';
import type { Sbom } from '../sbom/model.js';
import { enqueueEvaluation, evaluateAnalyzed as evaluateImage, type AutoEvaluateDeps } from './auto-evaluate.js';

/** The stores every image change goes through, wired to each other by the lifecycle. */
export interface ImageStores {
  db: DatabaseHandle;
  lifecycle: Lifecycle;
  vulndb: VulnDb;
  /** The cached vulnerability reports (one per process: the API registers its routes twice). */
  reports: VulnReports;
  catalog: CatalogStore;
  policies: PolicyStore;
  summaries: SummaryStore;
  packages: PackageQueries;
  /** The set-based re-match engine: every stored image's findings and counts. */
  findings: FindingsStore;
  /** The re-match's outbox: what changed findings cause (announcements, re-evaluations). */
  changes: FindingChanges;
  /** Each analyzed image's base and the packages it inherited from it. */
  bases: BaseStore;
  /** What the automatic evaluation reads and writes (the `evaluate` job's handler takes it: services/auto-evaluate.ts). */
  evaluation: AutoEvaluateDeps;
}

export interface ImageStoreOptions {
  /** Where after-commit subscriber errors go; default nowhere. */
  onError?: (event: LifecycleEventName, error: unknown) => void;
  now?: () => Date;
  /** Where analysis documents are kept; default in the database. */
  documents?: AnalysisDocuments;
  /** Per-account bounds the catalog enforces (config quotas). */
  quotas?: CatalogQuotas;
  /** Where the re-match's vuln_update and policy_eval announcements go (composeRoot's); none: not announced. */
  announcer?: Announcer;
  /** Tags the automatic evaluation after analysis leaves alone (composeRoot's: those with an active policy_eval subscription). */
  evaluatedElsewhere?: (account: string, fulltag: string) => Promise<boolean>;
  /** Evaluate each stored analysis with the account's active bundle (config analysis.auto_evaluate; default true). */
  autoEvaluate?: boolean;
  /**
   * `queue`: the storing transaction enqueues an `evaluate` job that a worker runs (composeRoot's);
   * default `inline`: evaluated once the analysis is committed, before the store call returns.
   */
  evaluateBy?: 'inline' | 'queue';
}

/** The analysis documents of a configuration (object_store; dir's default path is in data_dir). */
export function configuredDocuments(config: Pick<LadingConfig, 'object_store' | 'data_dir'>, env: NodeJS.ProcessEnv = process.env): AnalysisDocuments {
  return new AnalysisDocuments(new ObjectStores(config.object_store, { dataDir: config.data_dir, env }));
}

/** The image stores over one database, with the lifecycle subscriptions that keep them in step. */
export function composeImageStores(db: DatabaseHandle, options: ImageStoreOptions = {}): ImageStores {
  const lifecycle = new Lifecycle(options.onError);
  const now = options.now ? { now: options.now } : {};
  const vulndb = new VulnDb(db);
  const catalog = new CatalogStore(db.kysely, {
    ...now, lifecycle, ...(options.documents ? { documents: options.documents } : {}), ...(options.quotas ? { quotas: options.quotas } : {}),
  });
  const bases = new BaseStore(db.kysely, catalog, now);
  const reports = new VulnReports(vulndb).markInheritedBy(async (account, imageDigest) => bases.inherited(account, imageDigest));
  const policies = new PolicyStore(db.kysely, { ...now, lifecycle });
  const summaries = new SummaryStore(db.kysely, catalog, vulndb, { ...now, reports, rows: new SummaryRows(db.kysely) });
  const findings = new FindingsStore(db.kysely, vulndb);
  const changes = new FindingChanges({ db: db.kysely, lifecycle, catalog, policies, reports, ...(options.announcer ? { announcer: options.announcer } : {}) });
  const evaluation: AutoEvaluateDeps = { catalog, policies, reports, ...(options.evaluatedElsewhere ? { evaluatedElsewhere: options.evaluatedElsewhere } : {}) };
  const stores: ImageStores = { db, lifecycle, vulndb, reports, catalog, policies, summaries, packages: new PackageQueries(db.kysely, catalog, vulndb, new PackageIndex(db.kysely)), findings, changes, bases, evaluation };
  subscribeImageStores(stores);
  subscribeBases(stores, options.autoEvaluate === false ? 'off' : options.evaluateBy ?? 'inline');
  return stores;
}

/**
 * Base images and the automatic evaluation: the layer chains are written with the analysis and
 * removed with the image; once the analysis is committed, its base is found (and it becomes the
 * base of the stored images built on it), then it is evaluated (and so are the images it became
 * the base of: their inherited findings changed). A deleted image's children get their next base.
 * With `queue`, the evaluation of the stored image is a job enqueued in the storing transaction,
 * and those of the children jobs enqueued after commit.
 */
function subscribeBases(stores: ImageStores, auto: 'off' | 'inline' | 'queue'): void {
  const { lifecycle, bases, db } = stores;
  const queue = new JobQueue(db);
  const evaluate = async (account: string, imageDigest: string, sbom?: Sbom) => {
    if (auto === 'inline') await evaluateImage(stores.evaluation, account, imageDigest, sbom);
    else if (auto === 'queue') await enqueueEvaluation(queue, account, imageDigest);
  };
  lifecycle
    .inTransaction('analysisStored', (trx, e, c) => recordLayerChains(trx, e.account, e.imageDigest, e.sbom, c))
    .inTransaction('imageDeleted', (trx, e) => removeImageBase(trx, e.account, e.imageDigest))
    .afterCommit('analysisStored', async (e) => {
      const adopted = await bases.analysisStored(e.account, e.imageDigest, e.sbom);
      if (auto === 'inline') await evaluate(e.account, e.imageDigest, e.sbom);
      for (const child of adopted) await evaluate(e.account, child);
    })
    .afterCommit('imageDeleted', async (e) => {
      for (const child of await bases.imageDeleted(e.account, e.imageDigest)) await evaluate(e.account, child);
    });
  if (auto === 'queue') {
    lifecycle.inTransaction('analysisStored', (trx, e) => enqueueEvaluation(new JobQueue({ kysely: trx, dialect: db.dialect }), e.account, e.imageDigest));
  }
}

function subscribeImageStores({ lifecycle, summaries, findings }: ImageStores): void {
  const refresh = async (e: { account: string; imageDigest: string }) => summaries.refresh(e.account, e.imageDigest);
  lifecycle
    .beforeTransaction('analysisStored', async (e) => {
      const prepared = await findings.prepareImage(e.sbom);
      return (trx, c) => findings.storeImage(trx, e.account, e.imageDigest, prepared, c);
    })
    .inTransaction('imageDeleted', (trx, e) => findings.removeImage(trx, e.account, e.imageDigest))
    .inTransaction('analysisStored', (trx, e, c) => indexImagePackages(trx, e.account, e.imageDigest, e.sbom.packages, c))
    .inTransaction('analysisStored', (trx, e, c) => summaries.refreshIn(trx, e.account, e.imageDigest, e.sbom, c))
    .inTransaction('imageDeleted', (trx, e) => removeImagePackages(trx, e.account, e.imageDigest))
    .inTransaction('imageDeleted', (trx, e) => removeEvaluations(trx, e.account, e.imageDigest))
    .inTransaction('imageDeleted', (trx, e) => removeImageSummary(trx, e.account, e.imageDigest))
    .inTransaction('evaluationStored', (trx, e) => summaries.verdictIn(trx, e.account, e.imageDigest))
    .afterCommit('analysisStored', async (e) => summaries.snapshotFirst(e.account))
    // A transaction that also stored the image's analysis refreshed its row inside (refreshIn), after the tags were added.
    .afterCommit('imageAdded', refresh, { unlessFollowedBy: 'analysisStored' })
    .afterCommit('imageStatusChanged', refresh, { unlessFollowedBy: 'analysisStored' });
}

/** Every store and service object of a `lading serve` process. */
export interface ServiceRoot extends ImageStores {
  config: LadingConfig;
  accounts: AccountStore;
  queue: JobQueue;
  registries: RegistryStore;
  subscriptions: SubscriptionStore;
  /** Events recorded by this process's roles. */
  events: EventStore;
  /** Events recorded by its analyzer workers. */
  analyzerEvents: EventStore;
  imports: ImportStore;
  archive: ArchiveStore;
  notifier: Notifier;
  announcer: Announcer;
  services: ServiceRegistry;
  /** The guard of every outbound connection: registries, webhooks, feeds (config outbound). */
  outbound: OutboundGuard;
  /** Where analysis documents are kept (object_store); closed on shutdown. */
  documents: AnalysisDocuments;
}

export interface RootOptions {
  config: LadingConfig;
  /** What this process runs (`all`, `api,worker`...): the source of the events it records. */
  role: string;
  hostId: string;
  accountOptions?: AccountStoreOptions;
  onError?: (event: LifecycleEventName, error: unknown) => void;
}

export function composeRoot(db: DatabaseHandle, options: RootOptions): ServiceRoot {
  const { config, role, hostId } = options;
  const quotas: CatalogQuotas = {
    maxAnnotationBytes: config.quotas.max_annotation_bytes,
    ...(config.quotas.max_images_per_account !== undefined ? { maxImagesPerAccount: config.quotas.max_images_per_account } : {}),
  };
  const accounts = new AccountStore(db.kysely, options.accountOptions);
  const subscriptions = new SubscriptionStore(db.kysely);
  const events = new EventStore(db.kysely, { source: { servicename: role, hostid: hostId } });
  const outbound = new OutboundGuard(outboundPolicy(config.outbound));
  const notifier = new Notifier(db, config.webhooks, accounts, { guard: outbound, rows: new NotificationRows(db.kysely, db.dialect) });
  const announcer = new Announcer(subscriptions, events, notifier);
  const evaluatedElsewhere = async (account: string, fulltag: string) =>
    (await subscriptions.list(account, { key: fulltag, type: 'policy_eval' })).some((s) => s.active);
  const documents = configuredDocuments(config);
  const image = composeImageStores(db, {
    announcer, quotas, evaluatedElsewhere, autoEvaluate: config.analysis.auto_evaluate, evaluateBy: 'queue', documents, ...(options.onError ? { onError: options.onError } : {}),
  });
  const root: ServiceRoot = {
    ...image,
    config,
    accounts,
    queue: new JobQueue(db, { backoff: { baseMs: 2000 } }),
    registries: new RegistryStore(new RegistryRows(db.kysely), config, { http: { guard: outbound } }),
    subscriptions,
    events,
    analyzerEvents: new EventStore(db.kysely, { source: { servicename: 'analyzer', hostid: hostId } }),
    imports: new ImportStore(db.kysely),
    archive: new ArchiveStore(db.kysely, image.catalog),
    notifier,
    announcer,
    services: new ServiceRegistry(db.kysely, config.cycle_timers.heartbeat * 1000),
    outbound,
    documents,
  };
  return root;
}
