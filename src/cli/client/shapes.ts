/**
 * The parts of Anchore's v1 response shapes the CLI reads (reference §1, §4, §6.1). Everything is
 * optional where the service might leave it out; the renderers print "None" for what is missing.
 */

export interface ImageDetail {
  registry?: string;
  repo?: string;
  tag?: string;
  fulltag: string;
  imageId?: string | null;
  created_at?: string | null;
  tag_detected_at?: string | null;
}

export interface AnchoreImage {
  imageDigest: string;
  parentDigest?: string;
  analysis_status: string;
  analysis_error?: string;
  image_status?: string;
  image_type?: string;
  created_at?: string | null;
  analyzed_at?: string | null;
  annotations?: Record<string, unknown> | null;
  image_content?: { metadata?: Record<string, unknown> | null } | null;
  image_detail: ImageDetail[];
}

export interface VulnItem {
  vuln: string;
  package: string;
  severity: string;
  fix: string;
  url: string;
  package_type: string;
  feed_group: string;
  package_path: string;
  nvd_data?: { id?: string }[];
}

export interface CheckEntry {
  status: string;
  /** With advise=true (a Lading extension): what would make the image pass. */
  advice?: import('../../policy/advice.js').Advice;
  last_evaluation: string;
  policyId: string;
  detail?: {
    result?: {
      image_id: string;
      final_action?: string;
      final_action_reason?: string;
      result: Record<string, { result?: { rows: unknown[][] } } | unknown>;
    };
  };
}

/** `[{digest: {fulltag: [entry]}}]` */
export type CheckResponse = Record<string, Record<string, CheckEntry[]>>[];

export interface PolicyRecord {
  policyId: string;
  active: boolean;
  policy_source?: string;
  created_at?: string;
  last_updated?: string;
  policybundle?: Record<string, unknown>;
}

export interface Subscription {
  subscription_id: string;
  subscription_type: string;
  subscription_key: string;
  subscription_value?: string | null;
  active: boolean;
  userId?: string;
}

export interface RegistryRecord {
  registry: string;
  registry_name?: string;
  registry_user?: string;
  registry_type?: string;
  registry_verify?: boolean;
  /** Lading's extension: the record's own CA certificates (PEM), or null. */
  registry_ca_cert?: string | null;
  created_at?: string;
  last_updated?: string;
}

export interface EventRecord {
  generated_uuid: string;
  created_at?: string;
  event: {
    type: string;
    level: string;
    message?: string;
    timestamp?: string;
    resource?: { type?: string; id?: string; user_id?: string };
    source?: { servicename?: string; hostid?: string };
    details?: unknown;
  };
}

export interface EventList {
  results: EventRecord[];
  next_page?: boolean | number;
  item_count?: number;
}

export interface ServiceState {
  hostid?: string;
  servicename?: string;
  base_url?: string;
  status?: boolean;
  status_message?: string;
  service_detail?: { version?: string; db_version?: string | number };
}

export interface FeedGroup {
  name: string;
  /** The last successful sync or import. */
  last_sync?: string | null;
  record_count?: number;
  enabled?: boolean;
  /** Lading: turned off with PUT /system/feeds/{feed}/{group} (enabled is also false when this service does not sync it). */
  disabled?: boolean;
  /** Lading: ok, failed or never; the kind of the last success (sync or import); the last attempt and its error. */
  status?: string;
  kind?: string | null;
  last_attempt?: string | null;
  last_error?: string | null;
}
export interface Feed { name: string; enabled?: boolean; disabled?: boolean; groups: FeedGroup[] }

export interface FeedSyncResult {
  feed: string;
  status: string;
  total_time_seconds?: number;
  groups?: { group: string; status: string; updated_record_count?: number; total_time_seconds?: number }[];
}

export interface Account { name: string; email?: string | null; type?: string; state?: string; created_at?: string }
export interface User { username: string; type?: string; source?: string | null; created_at?: string }

export interface QueryImage {
  image?: { imageDigest?: string; tag_history?: { fulltag?: string }[] };
  vulnerable_packages?: { name?: string; version?: string; type?: string; namespace?: string; severity?: string }[];
  packages?: { name?: string; version?: string; type?: string }[];
}

export interface QueryPage {
  images?: QueryImage[];
  next_page?: boolean | number | string;
}
