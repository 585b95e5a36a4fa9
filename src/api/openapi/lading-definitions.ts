/**
 * The response definitions of Lading's own routes (the web UI's summaries, the webhook delivery
 * log, SBOM downloads), added to Anchore's definitions in /swagger.json. Each is marked
 * `x-lading-extension: true`; their names start with `Lading` so they never clash with Anchore's.
 */
import type { Schema } from './anchore.js';
import { anyObject, arr, bool, countsBy, dateTime, extension, int, nullable, num, obj, ref, str } from './schema.js';

const SEVERITY_NAMES = ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'] as const;
const severityCounts = (extra: Record<string, Schema> = {}): Schema => obj({ ...Object.fromEntries(SEVERITY_NAMES.map((s) => [s, int])), ...extra });
const page = (items: string): Schema => obj({ total: int, page: int, limit: int, items: arr(ref(items)) });
const severity: Schema = { type: 'string', enum: [...SEVERITY_NAMES] };
const verdict: Schema = nullable({ type: 'string', enum: ['pass', 'warn', 'fail'] });
const packageRef = obj({ name: str, type: str, version: str });
const packageChange = obj({ name: str, type: str, from: str, to: str });
const findingRef = obj({ id: str, severity, package_name: str, package_version: str, fixed_versions: arr(str) });
const secretRef = obj({ rule_id: str, description: str, path: str, line: int, match: str, layer: nullable(int) });
const specialFileRef = obj({ path: str, mode: str, setuid: bool, setgid: bool, uid: int, gid: int, layer: int });
/** The image's base (issue 19): the analyzed image whose layers are the longest proper prefix of its own. */
export const baseImage = obj({ digest: str, tag: nullable(str), shared_layers: int });

const summaries: Record<string, Schema> = {
  LadingImageSummary: obj({
    imageDigest: str, imageId: nullable(str), tags: arr(str), registry: nullable(str), repository: nullable(str),
    analysis_status: str, image_status: str, distro: nullable(str), platform: nullable(str), image_size: nullable(int),
    layer_count: nullable(int), package_count: nullable(int), vulnerabilities: severityCounts({ total: int, fixable: int, kev: int }),
    verdict, evaluated_at: nullable(dateTime), created_at: dateTime, analyzed_at: nullable(dateTime), last_updated: dateTime,
  }),
  LadingImageSummaryPage: page('LadingImageSummary'),
  LadingDashboard: obj({
    images: obj({ total: int, by_status: countsBy('images by analysis_status') }),
    vulnerabilities: obj({ by_severity: severityCounts(), total: int, fixable: int, kev: int, images_affected: int }),
    verdicts: obj({ pass: int, warn: int, fail: int, none: int }),
    worst_images: arr(ref('LadingImageSummary')),
    feeds: arr(obj({ name: str, last_sync: nullable(dateTime), age_seconds: nullable(num), record_count: int, status: str })),
    trend: arr(severityCounts({ at: dateTime, total: int })),
    recent_events: arr(obj({ type: str, level: str, message: str, timestamp: dateTime, resource: nullable(str) })),
    failed_deliveries: arr(obj({ notification_id: str, type: str, url: nullable(str), attempts: int, last_error: nullable(str), last_attempt_at: dateTime })),
  }),
  LadingImageSummaryDetail: obj({
    summary: ref('LadingImageSummary'),
    base_image: nullable(baseImage),
    layers: arr(obj({ index: int, digest: str, size: int, instruction: nullable(str), created: nullable(dateTime), package_count: int })),
    verdicts: arr(obj({ evaluated_at: dateTime, final_action: str, verdict: str, bundle_id: str, tag: str })),
    vuln_changes: arr(obj({ at: dateTime, added: int, removed: int, updated: int, detail: anyObject }, ['detail'])),
  }),
  LadingPackageRow: obj({
    name: str, version: str, type: str, purl: str, licenses: arr(str),
    layer_index: nullable(int), layer_digest: nullable(str), instruction: nullable(str), locations: arr(str),
  }),
  LadingPackagePage: page('LadingPackageRow'),
  LadingVulnerabilityRow: obj({
    id: str, severity, cvss: nullable(obj({ score: num, vector: str, version: str })), fix_state: str, fixed_versions: arr(str),
    package_name: str, package_version: str, package_type: str, package_path: nullable(str), layer_index: nullable(int),
    instruction: nullable(str), kev: bool, epss: nullable(obj({ score: num, percentile: num })), url: str, namespace: str,
  }),
  LadingVulnerabilityPage: page('LadingVulnerabilityRow'),
  LadingComparison: obj({
    base: ref('LadingImageSummary'),
    target: ref('LadingImageSummary'),
    packages: obj({ added: arr(packageRef), removed: arr(packageRef), upgraded: arr(packageChange), downgraded: arr(packageChange) }),
    vulnerabilities: obj({ introduced: arr(findingRef), fixed: arr(findingRef) }),
    verdict: obj({ base: verdict, target: verdict, changed: bool }),
    secrets: obj({ added: arr(secretRef), removed: arr(secretRef) }),
    setuid: obj({ added: arr(specialFileRef), removed: arr(specialFileRef) }),
  }),
};

const notificationFields: Record<string, Schema> = {
  notificationId: str, userId: str, notification_type: str, subscription_key: str, status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
  attempts: int, test: bool, created_at: dateTime, last_updated: dateTime, next_attempt_at: nullable(dateTime), deadline: dateTime,
  pending_targets: arr(str), last_error: nullable(str),
};

const notifications: Record<string, Schema> = {
  LadingNotification: obj(notificationFields),
  LadingNotificationDetail: obj({
    ...notificationFields,
    notification: { type: 'object', description: "The envelope as it is POSTed (Anchore's webhook body)" },
    delivery_log: arr(obj({
      attempt: int, target: str, url: nullable(str), status_code: nullable(int), error: nullable(str), duration_ms: num, at: dateTime,
    })),
  }),
  LadingNotificationList: obj({ results: arr(ref('LadingNotification')), page: int, next_page: { type: 'boolean', description: 'whether a further page exists' }, item_count: int }),
};

const documents: Record<string, Schema> = {
  LadingCycloneDxDocument: { type: 'object', additionalProperties: true, description: 'A CycloneDX 1.6 JSON document', required: ['bomFormat', 'specVersion'], properties: { bomFormat: str, specVersion: str } },
  LadingSpdxDocument: { type: 'object', additionalProperties: true, description: 'An SPDX 2.3 JSON document', required: ['spdxVersion', 'SPDXID'], properties: { spdxVersion: str, SPDXID: str } },
  LadingSwaggerDocument: { type: 'object', additionalProperties: true, description: 'This document', required: ['swagger', 'info', 'paths'], properties: { swagger: str, info: anyObject, paths: anyObject } },
};

/**
 * What Anchore Engine's server answered where its document declared something else
 * (lading-operations.ts CORRECTED_RESPONSES): not extensions, so not marked.
 */
export const CORRECTED_DEFINITIONS: Record<string, Schema> = {
  OAuth2TokenResponse: {
    ...obj({ access_token: str, token_type: str, expires_in: int }, ['expires_in']),
    description: 'The OAuth2 token response (RFC 6749 section 5.1), as Anchore Engine answered POST /oauth/token',
  },
};

/** Lading's definitions, each marked as an extension. */
export const LADING_DEFINITIONS: Record<string, Schema> = Object.fromEntries(
  Object.entries({ ...summaries, ...notifications, ...documents }).map(([name, s]) => [name, extension(s)]),
);
