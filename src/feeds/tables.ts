/**
 * The row types of the vulnerability database's tables (store/migrations/0001-vulndb.ts and
 * 0012-vuln-changes.ts), owned by feeds/vulndb.ts and feeds/changes.ts. store/schema.ts includes
 * them in the one `Database` type; they live here so feeds/ needs nothing from the layer above.
 * Timestamps are ISO 8601 UTC text, JSON is text.
 */
import type { Generated } from 'kysely';

export interface MetaTable { key: string; value: string }

export interface VulnerabilitiesTable { source: string; id: string; aliases: string; modified: string | null; data: string }

export interface AliasesTable { source: string; vuln_id: string; alias: string }

export interface AffectedTable { source: string; vuln_id: string; namespace: string; name: string; name_kind: string; scheme: string; data: string }

export interface KevTable { cve: string; source: string; data: string }

export interface EpssTable { cve: string; source: string; score: number; percentile: number; date: string }

export interface SyncStateTable {
  source: string; kind: string; last_sync: string | null; last_success: string | null; records: number; warnings: number;
  status: string; error: string | null; cursor: string; validators: string;
}

/** Per source and (namespace, name), an order-independent digest of its affected rows. */
export interface AffectedDigestsTable { source: string; namespace: string; name: string; digest: string }

/** The append-only log of changed (namespace, name) keys; `*` = everything. */
export interface VulnChangesTable {
  /** A string from PostgreSQL (bigint). */
  id: Generated<number | string>;
  source: string; namespace: string; name: string; created_at: string;
}

export interface VulnDbTables {
  meta: MetaTable;
  vulnerabilities: VulnerabilitiesTable;
  aliases: AliasesTable;
  affected: AffectedTable;
  kev: KevTable;
  epss: EpssTable;
  sync_state: SyncStateTable;
  affected_digests: AffectedDigestsTable;
  vuln_changes: VulnChangesTable;
}
