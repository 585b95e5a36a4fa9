/**
 * Lading's additions to Anchore's operations, for /swagger.json: the routes Anchore did not have
 * (each an operation marked `x-lading-extension: true`), the query parameters Lading added to
 * Anchore's operations, and response bodies Lading sends where Anchore's document declared none.
 * Paths are as in the document (relative to basePath /v1), parameters in braces.
 */
import type { Schema, SwaggerOperation } from './anchore.js';
import { bool, extension, int, ref, str } from './schema.js';

const q = (name: string, schema: Schema, description: string, required = false): Schema =>
  extension({ name, in: 'query', required, ...schema }, description);
const ok = (description: string, schema?: Schema) => ({ 200: { description, ...(schema ? { schema } : {}) } });
const page = [q('page', int, 'page number, from 1'), q('limit', int, 'items per page')];
const digestParam: Schema = { name: 'imageDigest', in: 'path', required: true, type: 'string' };
const SEVERITY = { type: 'string', enum: ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'] };

type Op = Omit<SwaggerOperation, 'tags'> & { tags?: string[] };

/** Lading's own routes: method → path → operation. */
export const LADING_OPERATIONS: Record<string, Record<string, Op>> = {
  '/swagger.json': { get: { operationId: 'get_swagger', summary: 'This API description (Swagger 2.0)', responses: ok('The document', ref('LadingSwaggerDocument')) } },
  '/system/status': { get: { operationId: 'get_system_status', summary: 'The same as GET /status', responses: ok('Status of this instance', ref('StatusResponse')) } },
  '/oauth/token': { delete: { operationId: 'revoke_oauth_token', summary: 'Revoke the bearer token the request is authenticated with (sign-out)', responses: { 204: { description: 'Revoked' } } } },
  '/images/{imageDigest}/sboms/cyclonedx-json': {
    get: { operationId: 'get_image_sbom_cyclonedx_json', summary: 'The stored SBOM as CycloneDX 1.6 JSON (a download)', parameters: [digestParam], produces: ['application/vnd.cyclonedx+json'], responses: ok('The SBOM', ref('LadingCycloneDxDocument')) },
  },
  '/images/{imageDigest}/sboms/spdx-json': {
    get: { operationId: 'get_image_sbom_spdx_json', summary: 'The stored SBOM as SPDX 2.3 JSON (a download)', parameters: [digestParam], produces: ['application/spdx+json'], responses: ok('The SBOM', ref('LadingSpdxDocument')) },
  },
  '/summaries/images': {
    get: {
      operationId: 'list_image_summaries', summary: 'The image list of the web UI: filters, sorts and pages',
      parameters: [
        ...['q', 'registry', 'repository', 'analysis_status', 'package', 'vulnerability'].map((n) => q(n, str, `filter: ${n}`)),
        q('verdict', { type: 'string', enum: ['pass', 'warn', 'fail', 'none'] }, 'filter: the latest policy verdict'),
        q('severity', SEVERITY, 'filter: at least one finding of this severity or worse'),
        q('fixable', bool, 'filter: with (true) or without (false) a fixable finding'),
        q('sort', { type: 'string', enum: ['created_at', 'analyzed_at', 'tag', 'risk', 'critical', 'high', 'total', 'packages', 'size'] }, 'sort key'),
        q('order', { type: 'string', enum: ['asc', 'desc'] }, 'sort order'),
        ...page,
      ],
      responses: ok('One page of image summaries', ref('LadingImageSummaryPage')),
    },
  },
  '/summaries/dashboard': { get: { operationId: 'get_dashboard', summary: "The account's dashboard", responses: ok('The dashboard', ref('LadingDashboard')) } },
  '/summaries/images/{imageDigest}': {
    get: { operationId: 'get_image_summary', summary: "One image's summary, layers, verdicts and vulnerability changes", parameters: [digestParam], responses: ok('The detail', ref('LadingImageSummaryDetail')) },
  },
  '/summaries/images/{imageDigest}/packages': {
    get: {
      operationId: 'list_image_summary_packages', summary: "An image's packages with the layer that brought each",
      parameters: [digestParam, q('q', str, 'name contains'), q('type', str, 'package type'), q('sort', { type: 'string', enum: ['name', 'type', 'layer'] }, 'sort key'), ...page],
      responses: ok('One page of packages', ref('LadingPackagePage')),
    },
  },
  '/summaries/images/{imageDigest}/vulnerabilities': {
    get: {
      operationId: 'list_image_summary_vulnerabilities', summary: "An image's findings with CVSS, EPSS, KEV and layer",
      parameters: [
        digestParam, q('q', str, 'id or package contains'), q('severity', SEVERITY, 'this severity or worse'), q('fixable', bool, 'with or without a fix'),
        q('kev', bool, 'in the KEV catalogue or not'), q('vendor_only', bool, "without findings the vendor will not fix (default true)"),
        q('sort', { type: 'string', enum: ['severity', 'cvss', 'epss', 'package', 'id'] }, 'sort key'), ...page,
      ],
      responses: ok('One page of findings', ref('LadingVulnerabilityPage')),
    },
  },
  '/summaries/compare': {
    get: {
      operationId: 'compare_images', summary: 'What changed between two images: packages, findings, verdict',
      parameters: [q('base', str, 'image digest', true), q('target', str, 'image digest', true)],
      responses: ok('The comparison', ref('LadingComparison')),
    },
  },
  '/archives/images/{imageDigest}/export': {
    get: {
      operationId: 'export_archived_analysis', summary: 'An archived analysis as the tar.gz analysis archive POST /import/images takes (a download)',
      parameters: [digestParam], produces: ['application/gzip'], responses: ok('The archive file', { type: 'file' }),
    },
  },
  '/system/webhooks/notifications': {
    get: {
      operationId: 'list_notifications', summary: 'The webhook delivery log of the account',
      parameters: [q('status', { type: 'string', enum: ['pending', 'delivered', 'failed'] }, 'filter: delivery status'), q('type', str, 'filter: notification type'), ...page],
      responses: ok('One page of notifications', ref('LadingNotificationList')),
    },
  },
  '/system/webhooks/notifications/{notificationId}': {
    get: {
      operationId: 'get_notification', summary: 'One notification with its envelope and every delivery attempt',
      parameters: [{ name: 'notificationId', in: 'path', required: true, type: 'string' }],
      responses: ok('The notification', ref('LadingNotificationDetail')),
    },
  },
};

/** Query parameters Lading added to Anchore's operations, by operationId. */
export const EXTRA_PARAMETERS: Record<string, Schema[]> = {
  add_image: [
    q('platform', str, 'the platform of a multi-arch image to analyze (default linux/amd64)'),
    q('all_platforms', bool, 'add and analyze every platform of a multi-arch image'),
  ],
  list_images: [q('tag', str, 'the same as fulltag')],
};

/**
 * Where Anchore's document declares a body its server never sent: Anchore Engine answered these
 * with the schema given here (its controllers return the stored credential; its token endpoint
 * the OAuth2 body), and so does Lading.
 */
export const CORRECTED_RESPONSES: Record<string, Record<string, { schema: Schema; declared: Schema }>> = {
  create_user_credential: { 200: { schema: ref('AccessCredential'), declared: ref('User') } },
  add_credential: { 200: { schema: ref('AccessCredential'), declared: ref('User') } },
  // Anchore's token endpoint answered with its OAuth2 library's standard body.
  get_oauth_token: { 200: { schema: ref('OAuth2TokenResponse'), declared: ref('TokenResponse') } },
};

/** Response bodies Lading sends where Anchore's document declared none, by operationId and status. */
export const EXTRA_RESPONSES: Record<string, Record<string, Schema>> = {
  test_webhook: { 200: ref('LadingNotificationDetail') },
  health_check: { 200: { type: 'string', enum: ['ok'] } },
};

