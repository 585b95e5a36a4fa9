/**
 * The one typed schema of every table Lading keeps (created by store/migrations/*), as kysely sees
 * it: one interface per table, and `Database`, the type every store's `Kysely<Database>` uses.
 * Conventions (see the migrations): timestamps are ISO 8601 UTC text (24 characters, they sort as
 * text); JSON is text; booleans are integers 0/1; blobs are gzip bytes (bytea on PostgreSQL, blob
 * on SQLite); identity ids and bigint columns come back as strings from PostgreSQL.
 *
 * Owners (the only modules that read and write each table; store/ownership.test.ts checks every
 * query in src/ against this list: `- tables: owner files or folders`, notes in parentheses):
 * - meta, vulnerabilities, aliases, affected, kev, epss, sync_state, affected_digests, vuln_changes:
 *   feeds/vulndb.ts, feeds/vulndb/, feeds/changes.ts, feeds/change-log.ts (types in feeds/tables.ts;
 *   the re-match follows vuln_changes and keeps its cursor in meta through feeds/change-log.ts)
 * - jobs: queue/queue.ts (other tables' statements that depend on a job use JobQueue.noJob)
 * - accounts, users: store/accounts.ts, store/account-rows.ts, store/tokens.ts
 * - api_tokens: store/tokens.ts
 * - catalog_images, catalog_image_tags, catalog_analyses: store/catalog.ts, store/catalog-queries.ts,
 *   store/catalog-analyses.ts, store/finding-changes.ts (reads for the summaries, the backfill, the object-store tools
 *   and the outbox's set-based delivery)
 * - policy_bundles: store/policies.ts
 * - policy_evals: store/policies.ts, store/finding-changes.ts (the outbox's delivery reads the changed images' evaluations in one join)
 * - registries: store/registries.ts
 * - subscriptions: store/subscriptions.ts, store/finding-changes.ts (the delivery joins the changed images' tags to their vuln_update subscriptions)
 * - events: store/events.ts
 * - image_imports, image_import_contents: store/imports.ts
 * - image_packages: store/package-index.ts (the queries over it: services/packages.ts)
 * - notifications, notification_deliveries: store/notifications.ts (the notifier: services/notify.ts)
 * - service_cycles: store/cycles.ts (run by services/cycles.ts)
 * - service_registry: store/service-registry.ts
 * - archive_rules, archived_images: store/archive.ts
 * - image_summaries, image_summary_findings, vuln_trend, image_summary_versions, image_summary_backfills: store/summaries.ts, store/finding-sql.ts
 *   (computed by services/summaries.ts; the re-match moves the counts and pairs set-based in its transaction)
 * - finding_tuples, finding_tuple_keys, tuple_findings, finding_images, finding_image_packages,
 *   finding_tuple_delta, finding_tuple_diff: store/findings.ts, store/finding-sql.ts, store/finding-changes.ts (the delivery
 *   reads a change set's diffs joined with the images' package variants)
 * - finding_changes, finding_change_diffs: store/finding-changes.ts (the re-match's outbox, delivered by services/finding-changes.ts)
 * - image_layer_chains, image_bases: store/bases.ts
 */
import type { Generated } from 'kysely';
import type { VulnDbTables } from '../feeds/tables.js';

export type Blob = Buffer | Uint8Array;

// 0002-jobs
export interface JobsTable {
  /** A string from PostgreSQL (bigint). */
  id: Generated<number | string>;
  kind: string; key: string | null; payload: string; state: string; priority: number; attempts: number; max_attempts: number;
  run_at: string; lease_owner: string | null; lease_until: string | null; last_error: string | null; result: string | null;
  created_at: string; updated_at: string;
}

// 0003-accounts
export interface AccountsTable { name: string; type: string; state: string; email: string | null; created_at: string; updated_at: string }
export interface UsersTable { username: string; account: string; password_hash: string; role: string; created_at: string; updated_at: string }
export interface ApiTokensTable {
  id: string; username: string; token_hash: string; name: string | null; expires_at: string | null; created_at: string; last_used_at: string | null;
}

// 0004-catalog, 0005-policy-evals
export interface CatalogImagesTable {
  account: string; image_digest: string; image_id: string | null; manifest_digest: string; parent_digest: string | null;
  analysis_status: string; analysis_error: string | null; image_status: string; annotations: string; dockerfile: string | null;
  metadata: string | null; created_at: string; last_updated: string; analyzed_at: string | null;
}
export interface CatalogImageTagsTable {
  account: string; fulltag: string; image_digest: string; registry: string; repo: string; tag: string; created_at: string; last_updated: string;
}
export interface CatalogAnalysesTable {
  account: string; image_digest: string;
  /** The document's bytes (gzip, zstd or JSON) for store 'db'; empty for the others (0018). */
  sbom_gz: Blob;
  manifest: string | null; created_at: string;
  // 0018-object-store: which store keeps the document, its key there, and the stored bytes' sha256 and size (null on older rows).
  store: Generated<string>; object_key: string | null; doc_sha256: string | null; doc_bytes: number | null;
}
export interface PolicyBundlesTable {
  account: string; policy_id: string; name: string | null; bundle: string; active: number; created_at: string; last_updated: string;
}
export interface PolicyEvalsTable {
  account: string; eval_id: string; image_digest: string; tag: string; policy_id: string; final_action: string; status: string;
  doc_gz: Blob; created_at: string;
}

// 0006-registries
export interface RegistriesTable {
  account: string; registry: string; registry_name: string; registry_type: string; registry_user: string;
  /** A SecretBox envelope, never plaintext. */
  registry_pass: string;
  registry_verify: number; created_at: string; last_updated: string;
  /** 0022: extra CA certificates (PEM) for this registry, or null. */
  registry_ca_cert: string | null;
}

// 0007-subscriptions-events
export interface SubscriptionsTable {
  account: string; subscription_id: string; subscription_type: string; subscription_key: string;
  subscription_value: string | null; active: number; created_at: string; last_updated: string;
}
export interface EventsTable {
  generated_uuid: string; account: string; type: string; level: string; message: string; details: string;
  resource_type: string; resource_id: string | null; source_servicename: string | null; source_hostid: string | null;
  source_base_url: string | null; source_request_id: string | null; timestamp: string; created_at: string;
}

// 0008-imports
export interface ImageImportsTable { account: string; uuid: string; status: string; expires_at: string; created_at: string; last_updated: string }
export interface ImageImportContentsTable {
  account: string; operation_uuid: string; content_type: string; digest: string; content_gz: Blob; created_at: string;
}

// 0009-image-packages
export interface ImagePackagesTable {
  account: string; image_digest: string; name: string; version: string; type: string; purl: string;
  path: string | null; lookup_name: string | null;
}

// 0010-notifications
export interface NotificationsTable {
  id: string; account: string; type: string; subscription_key: string; payload: string;
  /** JSON list of the destinations still to receive it. */
  targets: string;
  test: number; status: string; attempts: number; next_attempt_at: string; deadline: string;
  lease_owner: string | null; lease_until: string | null; last_error: string | null; created_at: string; last_updated: string;
}
export interface NotificationDeliveriesTable {
  /** A string from PostgreSQL (bigint). */
  id: Generated<number | string>;
  notification_id: string; attempt: number; target: string; url: string | null; status_code: number | null;
  error: string | null; duration_ms: number; at: string;
}

// 0011-cycles
export interface ServiceCyclesTable {
  name: string; lease_owner: string | null; lease_until: string | null; next_due: string; runs: number;
  last_started: string | null; last_finished: string | null; last_owner: string | null; last_status: string | null;
  last_error: string | null; last_summary: string | null; last_duration_ms: number | null;
}

// 0012-vuln-changes: affected_digests and vuln_changes are in feeds/tables.ts (its other two tables went in 0017)

// 0013-archive
export interface ArchiveRulesTable {
  rule_id: string; account: string; registry: string; repository: string; tag: string; analysis_age_days: number; tag_versions_newer: number;
  transition: string; system_global: number; max_images_per_account: number | null; exclude: string | null; created_at: string; last_updated: string;
}
export interface ArchivedImagesTable {
  account: string; image_digest: string; parent_digest: string | null; image_id: string | null; annotations: string; metadata: string | null;
  tags: string; sbom_gz: Blob; manifest: string | null; size_bytes: number; status: string; image_created_at: string;
  analyzed_at: string | null; archived_at: string; last_updated: string;
  /** 0027: the image's stored evaluations when archived (gzip JSON of StoredEvaluation[]), or null. */
  evaluations_gz: Blob | null;
}

// 0014-services
export interface ServiceRegistryTable {
  hostid: string; servicename: string; base_url: string | null; version: string; started_at: string; heartbeat_at: string; stopped_at: string | null;
}

// 0015-image-summaries
export interface ImageSummariesTable {
  account: string; image_digest: string; tags: string; search: string; registry: string | null; repository: string | null; tag_sort: string;
  distro: string | null; platform: string | null;
  /** bigint: a string from PostgreSQL. */
  image_size: number | string | null;
  layer_count: number | null; package_count: number | null;
  critical: number; high: number; medium: number; low: number; negligible: number; unknown: number; total: number; fixable: number; kev: number;
  verdict: string | null; evaluated_at: string | null; created_at: string; analyzed_at: string | null; sbom_at: string | null; refreshed_at: string;
}
export interface ImageSummaryFindingsTable { account: string; image_digest: string; vuln_id: string; package_name: string }
export interface VulnTrendTable { account: string; at: string; counts: string }

// 0024-summary-versions
/** Moved by triggers when a transaction that wrote an account's image_summaries commits; bigint: a string from PostgreSQL. */
export interface ImageSummaryVersionsTable { account: string; version: number | string }
/** Accounts whose rows of images from before the summary table are built (migrations/0025-image-list-search.ts). */
export interface ImageSummaryBackfillsTable { account: string; completed_at: string }

// 0016-findings
/** The per-image and per-tuple count columns (store/finding-sql.ts COUNTS). */
export interface FindingCountColumns {
  critical: number; high: number; medium: number; low: number; negligible: number; unknown: number; total: number; fixable: number; kev: number;
}
export interface FindingTuplesTable { id: Generated<number>; tuple: string; name: string; version: string; type: string; package: string }
export interface FindingTupleKeysTable { namespace: string; name: string; tuple_id: number }
export interface TupleFindingsTable {
  tuple_id: number; vuln_id: string; feed_group: string; severity: string; fix: string; url: string;
  fixable: number; vendor_only: number; kev: number; aliases: string;
}
export type FindingImagesTable = { id: Generated<number>; account: string; image_digest: string } & { [K in keyof FindingCountColumns]: Generated<number> };
export interface FindingImagePackagesTable { image_id: number; tuple_id: number; path: string }
export interface FindingTupleDeltaTable extends FindingCountColumns { tuple_id: number }
export interface FindingTupleDiffTable { tuple_id: number; change: string; vuln_id: string; feed_group: string; severity: string; fix: string; url: string }

// 0019-finding-changes
export interface FindingChangesTable {
  id: Generated<number>; account: string; image_digest: string; diff: string; created_at: string;
  /** 0026: the re-match batch whose finding_change_diffs make the diff (then `diff` is ''); null: `diff` is the JSON. */
  batch: number | string | null;
  /** 0026: 1 once its vuln_update events and notifications are written. */
  announced: Generated<number>;
}
// 0026-finding-change-sets
export interface FindingChangeDiffsTable { batch: number | string; tuple_id: number; change: string; vuln_id: string; feed_group: string; severity: string; fix: string; url: string }

// 0021-image-bases
export interface ImageLayerChainsTable { account: string; image_digest: string; depth: number; chain_id: string; top: number }
export interface ImageBasesTable {
  account: string; image_digest: string; base_digest: string; base_tag: string | null; shared_layers: number; source: string;
  /** JSON list of the keys (sbom/base.ts packageKey) of the image's packages inherited from the base. */
  inherited: string; updated_at: string;
}

export interface Database extends VulnDbTables {
  jobs: JobsTable;
  accounts: AccountsTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  catalog_images: CatalogImagesTable;
  catalog_image_tags: CatalogImageTagsTable;
  catalog_analyses: CatalogAnalysesTable;
  policy_bundles: PolicyBundlesTable;
  policy_evals: PolicyEvalsTable;
  registries: RegistriesTable;
  subscriptions: SubscriptionsTable;
  events: EventsTable;
  image_imports: ImageImportsTable;
  image_import_contents: ImageImportContentsTable;
  image_packages: ImagePackagesTable;
  notifications: NotificationsTable;
  notification_deliveries: NotificationDeliveriesTable;
  service_cycles: ServiceCyclesTable;
  archive_rules: ArchiveRulesTable;
  archived_images: ArchivedImagesTable;
  service_registry: ServiceRegistryTable;
  image_summaries: ImageSummariesTable;
  image_summary_findings: ImageSummaryFindingsTable;
  vuln_trend: VulnTrendTable;
  image_summary_versions: ImageSummaryVersionsTable;
  image_summary_backfills: ImageSummaryBackfillsTable;
  finding_tuples: FindingTuplesTable;
  finding_tuple_keys: FindingTupleKeysTable;
  tuple_findings: TupleFindingsTable;
  finding_images: FindingImagesTable;
  finding_image_packages: FindingImagePackagesTable;
  finding_tuple_delta: FindingTupleDeltaTable;
  finding_tuple_diff: FindingTupleDiffTable;
  finding_changes: FindingChangesTable;
  finding_change_diffs: FindingChangeDiffsTable;
  image_layer_chains: ImageLayerChainsTable;
  image_bases: ImageBasesTable;
}

/** Every table name. */
export type TableName = keyof Database;
