/**
 * Fields of Anchore's definitions as /swagger.json gives them, by definition name:
 * - DEFINITION_FIELDS: what Lading's responses carry beyond Anchore's server (each marked
 *   `x-lading-extension: true`; Anchore's definitions allow additional properties, so its clients
 *   ignore them);
 * - ANCHORE_UNDECLARED_FIELDS: what Anchore Engine's server answered but its document left out
 *   (Lading answers them too; noted, not marked as extensions);
 * - CORRECTED_FIELDS: declarations Anchore's document got wrong about its own server (replaced).
 */
import type { Schema } from './anchore.js';
import { anyObject, arr, bool, dateTime, int, nullable, str } from './schema.js';
import { baseImage } from './lading-definitions.js';

const feedSource: Schema = {
  type: 'object',
  properties: {
    name: str, synced: bool, status: str, kind: nullable(str), record_count: int,
    last_sync: nullable(dateTime), last_attempt: nullable(dateTime), last_error: nullable(str),
  },
};

const statusEnum = (values: string[]): Schema => ({ type: 'string', enum: values });

export const DEFINITION_FIELDS: Record<string, Record<string, Schema>> = {
  Service: { last_heartbeat: { ...nullable(dateTime), description: "The process's last heartbeat" } },
  FeedSyncResult: { sources: arr({ ...str, description: 'The Lading feed drivers synced for this feed' }) },
  FeedMetadata: {
    synced: { ...bool, description: 'Whether this service syncs the feed (enabled is true only when the feed is also not disabled)' },
    disabled: { ...bool, description: 'Whether the feed was disabled with PUT /system/feeds/{feed}' },
    sources: arr({ ...feedSource, description: "Lading's feed drivers behind this feed, each with its sync status" }),
  },
  FeedGroupMetadata: {
    synced: { ...bool, description: 'Whether this service syncs the group' },
    disabled: { ...bool, description: 'Whether the group was disabled with PUT /system/feeds/{feed}/{group}' },
    sources: arr({ ...str, description: "The Lading feed drivers that hold the group's records" }),
    status: { ...statusEnum(['ok', 'failed', 'never']), description: 'Outcome of the last sync or import' },
    kind: { ...nullable(statusEnum(['sync', 'import'])), description: 'How the data stored now arrived' },
    last_attempt: { ...nullable(dateTime), description: 'The last sync attempt, successful or not' },
    last_error: { ...nullable(str), description: 'Why the last attempt failed' },
  },
  'ContentJAVAPackageResponse.content[]': { license: str, licenses: arr(str) },
  EventCategory: { name: { ...str, description: 'The same as category' } },
  PolicyBundleRecord: { name: str, comment: str },
  AnchoreImage: { base_image: { ...nullable(baseImage), description: 'The image\'s base: the analyzed image whose layers are the longest proper prefix of its own (null: none known)' } },
  Vulnerability: { inherited_from_base: { ...bool, description: "Anchore Enterprise's field: the package came unchanged from the image's base image" } },
  RegistryConfiguration: { registry_ca_cert: { ...nullable(str), description: "Extra CA certificates (PEM) this registry's certificate is checked against, on top of the system ones" } },
  RegistryConfigurationRequest: { registry_ca_cert: { ...nullable(str), description: "Extra CA certificates (PEM) for this registry; null removes them" } },
  User: { role: { ...str, description: "The user's role in its account (Lading's access control: read-only, read-write, admin)" } },
};

export const ANCHORE_UNDECLARED_FIELDS: Record<string, Record<string, Schema>> = {
  ApiErrorResponse: { httpcode: int },
  AnchoreImage: { parentDigest: str, image_type: str, analyzed_at: nullable(dateTime) },
  ImageDetail: { digest: str, tag: str, tag_detected_at: nullable(dateTime) },
  'ContentPackageResponse.content[]': { sourcepkg: str },
  'ContentJAVAPackageResponse.content[]': { version: str, metadata: anyObject },
  Vulnerability: { package_cpe23: str },
  PaginationProperties: { total_count: int },
  ImageReference: { imageDigest: str, imageId: nullable(str), tag_history: arr({ $ref: '#/definitions/TagEntry' }) },
  TagEntry: { fulltag: str, repo: str, tag_detected_at: nullable(dateTime) },
  VulnerableImage: { vulnerable_packages: arr({ $ref: '#/definitions/VulnerablePackageReference' }) },
  Subscription: { created_at: dateTime, last_updated: dateTime },
  PolicyBundleRecord: { policybundlemeta: anyObject },
  RegistryConfiguration: { last_updated: dateTime },
  ImageImportOperation: { last_updated: dateTime },
  FeedMetadata: { enabled: bool },
  FeedGroupMetadata: { enabled: bool },
};

export const CORRECTED_FIELDS: Record<string, Record<string, Schema>> = {
  ImageImportOperation: {
    status: {
      type: 'string',
      enum: ['pending', 'queued', 'processing', 'complete', 'failed', 'expired', 'invalidated'],
      'x-lading-note': "Anchore Engine's server answers invalidated after DELETE (its ImportState); its document's enum lacks it",
    },
  },
};
