/**
 * The service configuration (`lading serve`): one zod schema for the whole file, with defaults.
 * Keys are snake_case as written in YAML. Every leaf carries its own message ("expected a number
 * from 1 to 65535") so load.ts can report `configuration: KEY: MESSAGE, got VALUE (from SOURCE)`.
 * Durations are seconds, or a string such as `500ms`, `30s`, `10m`, `6h`, `1d`; sizes are bytes,
 * or a string such as `512KiB`, `4MiB`, `32GiB` (or KB/MB/GB, powers of 1000). Both come out as
 * plain numbers (seconds, bytes). docs/configuration.md documents every key (a test checks it).
 */
import { z } from 'zod';
import { DEFAULT_LIMITS } from '../image/limits.js';
import { DEFAULT_RETRIEVED_FILES } from '../analyze/analyzers/secrets.js';
import { parseUserRule } from '../analyze/secrets/rules.js';
import { bool, duration, httpUrl, int, leafKind, list, mapping, oneOf, size, str, tagged, type LeafKind } from './leaves.js';

export { formatDuration, parseDuration, parseSize, type LeafKind } from './leaves.js';

/** Service roles; `all` (the default) means every one, in one process. */
export const ROLES = ['api', 'worker', 'watcher', 'feeds', 'notifier'] as const;
export type Role = (typeof ROLES)[number];

/** pino's levels. Anchore's upper-case names (INFO, DEBUG) are accepted too. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The feed drivers (src/feeds/drivers/index.ts); a test keeps the two lists equal. */
export const FEED_SOURCES = ['debian', 'ubuntu', 'alpine', 'redhat', 'ghsa', 'osv', 'nvd', 'kev', 'epss'] as const;
export type FeedSource = (typeof FEED_SOURCES)[number];

/** Webhook notification types that can have a destination of their own. */
export const NOTIFICATION_TYPES = ['tag_update', 'policy_eval', 'vuln_update', 'analysis_update', 'event_log'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

// ---------------------------------------------------------------------------------------------
// Sections

/** An origin as browsers send it: scheme://host[:port], nothing after. */
const origin = z.string({ error: 'expected an origin such as https://lading.example.com' })
  .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol) && new URL(v).origin === v.replace(/\/$/, ''), { error: 'expected an origin such as https://lading.example.com (scheme, host and port only)' });

const listenSchema = mapping({
  host: str('a host name or IP address to bind', 1, 255).default('127.0.0.1'),
  port: int(1, 65535, 'a number').default(8228),
  /** Browser origins besides the API's own allowed to send state-changing requests (POST, PUT, DELETE). */
  allowed_origins: list(origin, 'origins such as https://lading.example.com').default([]),
  /** PEM certificate (chain) and key: the API serves HTTPS (both or neither); read again when they change or on SIGHUP. */
  tls_cert_file: str('a file path', 1).optional(),
  tls_key_file: str('a file path', 1).optional(),
});

/** Login throttling (per API process): failed password logins counted per user name and per client address. */
const authSchema = mapping({
  max_failed_logins_per_user: int(1, 1_000_000).default(10),
  max_failed_logins_per_client: int(1, 1_000_000).default(50),
  /** Failures older than this are forgotten; a throttled user or client waits until enough have aged out. */
  failed_login_window: duration(1, 86400).default(900),
});

const outboundRule = str('a CIDR (10.0.0.0/8), an IP address, a host name or *.domain', 1, 255).regex(/^(\*\.)?[A-Za-z0-9._:-]+(\/\d{1,3})?$/, { error: 'expected a CIDR (10.0.0.0/8), an IP address, a host name or *.domain' });

/** The one guard for the service's outbound connections (registries, webhooks, feeds): image/registry/guard.ts. */
const outboundSchema = mapping({
  /** Always allowed (checked first): CIDRs, addresses, host names, *.domain. */
  allow: list(outboundRule, 'CIDRs, addresses or host names').default([]),
  /** Always refused (after allow): CIDRs, addresses, host names, *.domain. */
  deny: list(outboundRule, 'CIDRs, addresses or host names').default([]),
  /** Loopback (127.0.0.0/8, ::1, localhost, 0.0.0.0): refused unless true. */
  allow_loopback: bool().default(false),
  /** Private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7): allowed unless false. */
  allow_private: bool().default(true),
});

/** Per-account bounds on what the API stores. */
const quotasSchema = mapping({
  /** Images an account may hold (POST /images, imports, watchers); unset: no limit. */
  max_images_per_account: int(1, Number.MAX_SAFE_INTEGER).optional(),
  /** The JSON size of one image's annotations. */
  max_annotation_bytes: size().default(64 * 1024),
});

const adminSchema = mapping({
  /** The bootstrap admin's password: used once, when the admin user is created. */
  password: str('a password of 6 to 128 characters', 6, 128).optional(),
  email: str('an email address', 3, 320).refine((v) => /^[^\s@]+@[^\s@]+$/.test(v), { error: 'expected an email address' }).optional(),
});

/** image/limits.ts Limits, snake_case; sizes accept units. */
const limitsSchema = mapping({
  max_manifest_bytes: size().default(DEFAULT_LIMITS.maxManifestBytes),
  max_config_bytes: size().default(DEFAULT_LIMITS.maxConfigBytes),
  max_uncompressed_bytes: size().default(DEFAULT_LIMITS.maxUncompressedBytes),
  max_entries: int(1, Number.MAX_SAFE_INTEGER).default(DEFAULT_LIMITS.maxEntries),
  max_header_bytes: size().default(DEFAULT_LIMITS.maxHeaderBytes),
  max_path_bytes: size().default(DEFAULT_LIMITS.maxPathBytes),
  max_captured_bytes: size().default(DEFAULT_LIMITS.maxCapturedBytes),
  in_memory_capture_bytes: size(0).default(DEFAULT_LIMITS.inMemoryCaptureBytes),
  max_layers: int(1, 100_000).default(DEFAULT_LIMITS.maxLayers),
  max_compression_ratio: int(1, 1_000_000).default(DEFAULT_LIMITS.maxCompressionRatio),
  ratio_check_after_bytes: size(0).default(DEFAULT_LIMITS.ratioCheckAfterBytes),
});

const contentRule = z.string({ error: 'expected a content rule NAME=regex' }).superRefine((v, ctx) => {
  try {
    parseUserRule(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

const analysisSchema = mapping({
  /** Analyses one worker process runs at once. */
  workers: int(1, 256).default(2),
  /** How long a claimed analysis job is held before another worker may take it over (renewed every third of it while running). */
  lease_seconds: duration(10, 86400).default(30),
  /** Attempts per image before it is marked analysis_failed. */
  max_attempts: int(1, 100).default(3),
  file_digests: bool().default(true),
  /** Evaluate each newly analyzed or imported image against its account's active bundle (issue 19); false leaves images "not evaluated" until checked. */
  auto_evaluate: bool().default(true),
  secrets: bool().default(true),
  retrieve_files: list(str('an absolute path', 2).refine((v) => v.startsWith('/'), { error: 'expected an absolute path' }), 'absolute paths').default([...DEFAULT_RETRIEVED_FILES]),
  content_rules: list(contentRule, 'content rules NAME=regex').default([]),
  /** Where large captured files are spooled; default the OS temporary directory. */
  scratch_dir: str('a directory path', 1).optional(),
  limits: limitsSchema.prefault({}),
  /** The layer cache, shared with the CLI (same directory by default). */
  cache: mapping({
    enabled: bool().default(true),
    /** Default <data_dir>/cache. */
    dir: str('a directory path', 1).optional(),
    max_bytes: size().default(2 * 1024 ** 3),
  }).prefault({}),
});

const baseUrlsSchema = mapping(Object.fromEntries(FEED_SOURCES.map((s) => [s, httpUrl().optional()])) as Record<FeedSource, z.ZodOptional<ReturnType<typeof httpUrl>>>);

const feedsSchema = mapping({
  /** false: never sync online (air-gapped; load data with `lading db import`). */
  enabled: bool().default(true),
  sync_interval_seconds: duration(1, 30 * 86400).default(21600),
  sources: list(oneOf(FEED_SOURCES), 'feed sources').default([...FEED_SOURCES]),
  base_urls: baseUrlsSchema.prefault({}),
});

const watchersSchema = mapping({
  /** How often subscribed tags are resolved for a new digest. */
  tag_interval: duration(1, 7 * 86400).default(600),
  /** How often subscribed repositories are listed for new tags. */
  repo_interval: duration(1, 7 * 86400).default(300),
});

const webhookDestination = mapping({
  url: httpUrl().optional(),
  username: str('a user name', 1, 256).optional(),
  password: str('a password', 1, 1024).optional(),
  verify_tls: bool().optional(),
});

const webhooksSchema = mapping({
  /** The general destination; `<account>` and `<notification_type>` in it are replaced. */
  url: httpUrl().optional(),
  username: str('a user name', 1, 256).optional(),
  password: str('a password', 1, 1024).optional(),
  verify_tls: bool().default(true),
  timeout: duration(0.1, 600).default(10),
  /** A delivery that keeps failing is retried until this long after the notification was made. */
  retry_deadline: duration(0, 30 * 86400).default(3600),
  /** Allow destinations that resolve to link-local or cloud metadata addresses (refused by default). */
  allow_private_targets: bool().default(false),
  types: mapping(Object.fromEntries(NOTIFICATION_TYPES.map((t) => [t, webhookDestination.optional()])) as Record<NotificationType, z.ZodOptional<typeof webhookDestination>>).prefault({}),
});

const cycleTimersSchema = mapping({
  /** How often each worker process reconciles images with their analysis jobs. */
  analyzer_queue: duration(1, 7200).default(5),
  policy_eval: duration(1, 2 * 86400).default(3600),
  /** Re-match stored images against the vulnerability data changed since the last run (and right after each feed sync). */
  vulnerability_scan: duration(1, 2 * 86400).default(300),
  notifications: duration(1, 2 * 86400).default(30),
  image_gc: duration(1, 86400).default(60),
  /** Apply the analysis archive (retention) rules. */
  archive_tasks: duration(1, 5 * 86400).default(43200),
  account_cleanup: duration(1, 86400).default(60),
  heartbeat: duration(1, 3600).default(30),
});

/** Admission webhook modes, as Anchore's admission controller had them. */
export const ADMISSION_MODES = ['policy', 'analysis', 'breakglass'] as const;
export type AdmissionMode = (typeof ADMISSION_MODES)[number];

function regex(what = 'a regular expression') {
  return z.string({ error: `expected ${what}` }).max(1024, { error: `expected ${what} (at most 1024 characters)` }).superRefine((v, ctx) => {
    try {
      new RegExp(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `expected ${what}: ${(e as Error).message}` });
    }
  });
}

/** One selector rule: every condition given must match; the first matching rule chooses the mode. */
const admissionRule = mapping({
  /** Regex over the namespace name of the request. */
  namespace: regex().optional(),
  /** Label or annotation key → regex over its value, on the object's own metadata (Anchore's resource selector). */
  labels: tagged(z.record(z.string(), regex(), { error: 'expected a mapping of label keys to regular expressions' }), 'mapping').optional(),
  /** Regex over the normalised image reference (docker.io/library/nginx:1.25). */
  image: regex().optional(),
  mode: oneOf(ADMISSION_MODES),
  bundle_id: str('a policy bundle id', 1, 256).optional(),
  /** Overrides admission.unknown_images for the images this rule selects. */
  unknown_images: oneOf(['deny', 'allow'] as const).optional(),
});

const admissionSchema = mapping({
  /** The ValidatingAdmissionWebhook endpoint (HTTPS), run by the api role. */
  enabled: bool().default(false),
  listen: mapping({
    host: str('a host name or IP address to bind', 1, 255).default('127.0.0.1'),
    port: int(0, 65535, 'a number').default(8443),
  }).prefault({}),
  /** PEM certificate (chain) and key the webhook serves; required when enabled. */
  tls_cert_file: str('a file path', 1).optional(),
  tls_key_file: str('a file path', 1).optional(),
  /** The account whose catalog, bundles and evaluations decide. */
  account: str('an account name', 1, 256).default('admin'),
  /** The mode when no rule matches. */
  mode: oneOf(ADMISSION_MODES).default('policy'),
  /** The bundle of policy mode when the matching rule names none; default the account's active bundle. */
  bundle_id: str('a policy bundle id', 1, 256).optional(),
  /** What an image Lading has not analyzed gets (policy and analysis modes). */
  unknown_images: oneOf(['deny', 'allow'] as const).default('deny'),
  /** Add images missing from the catalog for analysis, in the background. */
  queue_unknown: bool().default(true),
  /** How long one review may take; an image not decided by then is treated as unknown. */
  decision_timeout: duration(0.1, 30).default(5),
  rules: list(admissionRule, 'selector rules (mappings with mode)').default([]),
});

const metricsSchema = mapping({
  /** Serve /metrics (Prometheus text format); false: /metrics is 404. */
  enabled: bool().default(true),
  /** true: /metrics needs the API's basic or bearer auth (a user of the admin account). */
  auth_required: bool().default(false),
  /** Processes without the api role serve /health, /ready and /metrics on this port (listen.host); unset: none. */
  port: int(1, 65535, 'a number').optional(),
});

/** Where analysis documents are kept (store/objects/), as Anchore's object_store section had it. */
const objectStoreSchema = mapping({
  /** The driver new documents go to; documents already stored stay where they are until `lading db objects migrate`. */
  driver: oneOf(['db', 'dir', 's3'] as const).default('db'),
  compression: oneOf(['zstd', 'gzip', 'none'] as const).default('zstd'),
  /** zstd 1-19 (default 6), gzip 1-9 (default 6). */
  compression_level: int(1, 19).optional(),
  dir: mapping({ path: str('a directory path', 1).optional() }).prefault({}),
  s3: mapping({
    url: httpUrl().optional(),
    bucket: str('a bucket name of 3 to 63 characters', 3, 63).optional(),
    region: str('a region name', 1, 64).optional(),
    prefix: str('a key prefix', 0, 512).default(''),
    path_style: bool().default(false),
    access_key: str('an access key id', 1, 256).optional(),
    secret_key: str('a secret access key', 1, 1024).optional(),
    session_token: str('a session token', 1, 8192).optional(),
    timeout: duration(1, 600).default(30),
  }).prefault({}),
});

const logLevel = z.string({ error: `expected one of ${LOG_LEVELS.join(', ')}` })
  .transform((v) => v.toLowerCase())
  .pipe(z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }));

function pairedCredentials(v: { username?: string | undefined; password?: string | undefined }, ctx: z.core.$RefinementCtx, prefix: (string | number)[]) {
  if ((v.username === undefined) !== (v.password === undefined)) {
    const missing = v.username === undefined ? 'username' : 'password';
    ctx.addIssue({ code: 'custom', path: [...prefix, missing], message: `required together with ${missing === 'username' ? 'password' : 'username'} (basic auth needs both)` });
  }
}

export const configSchema = mapping({
  /** Where the SQLite database, generated keys and caches live. Default $XDG_DATA_HOME/lading or ~/.local/share/lading. */
  data_dir: str('a directory path', 1).optional(),
  /** A file path, sqlite:PATH or postgres://…; default the SQLite file lading.db in data_dir. */
  db_url: str('a file path, sqlite:PATH or postgres://… URL', 1).refine((v) => /^postgres(ql)?:\/\/./i.test(v) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(v), {
    error: 'expected a file path, sqlite:PATH or postgres://… URL',
  }).optional(),
  listen: listenSchema.prefault({}),
  roles: list(oneOf([...ROLES, 'all']), 'roles').min(1, { error: `expected a list of roles (${[...ROLES, 'all'].join(', ')})` })
    .default(['all'])
    .transform((rs): Role[] => (rs.includes('all') ? [...ROLES] : ROLES.filter((r) => rs.includes(r)))),
  log_level: logLevel.default('info'),
  /** Refuses anything only fit for a laptop: no generated admin password, no generated encryption key. */
  production_mode: bool().default(false),
  admin: adminSchema.prefault({}),
  /** The key registry credentials are encrypted with at rest (any string of 16+ characters; derived with scrypt). */
  encryption_key: str('an encryption key of at least 16 characters', 16, 1024).optional(),
  /** Keys used before encryption_key: secrets they encrypted can still be read (and are re-encrypted). */
  previous_encryption_keys: list(str('an encryption key of at least 16 characters', 16, 1024), 'encryption keys').default([]),
  /** Allow awsecr registry records with `awsauto` credentials (the host's AWS credential chain). */
  allow_awsecr_iam_auto: bool().default(false),
  auth: authSchema.prefault({}),
  outbound: outboundSchema.prefault({}),
  quotas: quotasSchema.prefault({}),
  analysis: analysisSchema.prefault({}),
  feeds: feedsSchema.prefault({}),
  watchers: watchersSchema.prefault({}),
  webhooks: webhooksSchema.prefault({}),
  cycle_timers: cycleTimersSchema.prefault({}),
  metrics: metricsSchema.prefault({}),
  admission: admissionSchema.prefault({}),
  object_store: objectStoreSchema.prefault({}),
}).superRefine((c, ctx) => {
  pairedCredentials(c.webhooks, ctx, ['webhooks']);
  if (c.object_store.driver === 's3' && c.object_store.s3.bucket === undefined) {
    ctx.addIssue({ code: 'custom', path: ['object_store', 's3', 'bucket'], message: 'required when object_store.driver is s3' });
  }
  if ((c.object_store.s3.access_key === undefined) !== (c.object_store.s3.secret_key === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['object_store', 's3', c.object_store.s3.access_key === undefined ? 'access_key' : 'secret_key'], message: 'access_key and secret_key are given together (or neither, for AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)' });
  }
  if ((c.listen.tls_cert_file === undefined) !== (c.listen.tls_key_file === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['listen', c.listen.tls_cert_file === undefined ? 'tls_cert_file' : 'tls_key_file'], message: 'tls_cert_file and tls_key_file are given together (or neither, for plain HTTP)' });
  }
  if (c.admission.enabled) {
    for (const k of ['tls_cert_file', 'tls_key_file'] as const) {
      if (c.admission[k] === undefined) ctx.addIssue({ code: 'custom', path: ['admission', k], message: 'required when admission.enabled is true (the API server only calls webhooks over HTTPS)' });
    }
  }
  for (const t of NOTIFICATION_TYPES) {
    const d = c.webhooks.types[t];
    if (d) pairedCredentials(d, ctx, ['webhooks', 'types', t]);
  }
});

/** What the schema accepts (the YAML file's shape). */
export type ConfigInput = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;

/** The validated configuration, with data_dir and db_url resolved. */
export type LadingConfig = Omit<Parsed, 'data_dir' | 'db_url'> & {
  data_dir: string;
  db_url: string;
  /** The file it was read from, if any. */
  config_file?: string;
};

export type WebhookDestination = z.output<typeof webhookDestination>;
export type AdmissionConfig = z.output<typeof admissionSchema>;
export type AdmissionRule = z.output<typeof admissionRule>;

/** Paths whose values are secret: never shown in messages or logs. */
export function isSecretPath(path: readonly (string | number)[]): boolean {
  return path.some((p) => p === 'password' || p === 'encryption_key' || p === 'previous_encryption_keys' || p === 'secret_key' || p === 'session_token');
}

// ---------------------------------------------------------------------------------------------
// Introspection for load.ts: what kind of value lives at a path, and which keys an object has.

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
}

function defOf(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** Strip defaults, optionals and pipes down to the schema that says what the value is. */
function unwrap(schema: z.ZodType): { schema: z.ZodType; kind?: LeafKind } {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const k = leafKind(s);
    if (k) return { schema: s, kind: k };
    const def = defOf(s);
    if (['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch'].includes(def.type) && def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else break;
  }
  return { schema: s };
}

/** The schema at a path (keys of mappings, numbers for list elements), or undefined if there is none. */
export function schemaAt(path: readonly (string | number)[], root: z.ZodType = configSchema): z.ZodType | undefined {
  let s: z.ZodType = root;
  for (const seg of path) {
    const { schema } = unwrap(s);
    const def = defOf(schema);
    if (def.type === 'object' && def.shape && typeof seg === 'string' && Object.hasOwn(def.shape, seg)) s = def.shape[seg]!;
    else if (def.type === 'array' && def.element && typeof seg === 'number') s = def.element;
    else return undefined;
  }
  return s;
}

/** The kind of value at a path, for turning an environment string into it. */
export function kindAt(path: readonly (string | number)[]): LeafKind | undefined {
  const s = schemaAt(path);
  if (!s) return undefined;
  const { schema, kind } = unwrap(s);
  if (kind) return kind;
  switch (defOf(schema).type) {
    case 'number': return 'number';
    case 'boolean': return 'boolean';
    case 'object': return 'mapping';
    case 'array': return 'list';
    default: return 'string';
  }
}

/** The element kind of the list at a path. */
export function elementKindAt(path: readonly (string | number)[]): LeafKind | undefined {
  return kindAt([...path, 0]);
}

/** The keys a mapping at a path accepts (for "did you mean"). */
export function keysAt(path: readonly (string | number)[]): string[] {
  const s = schemaAt(path);
  if (!s) return [];
  const def = defOf(unwrap(s).schema);
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/** Every leaf key path of the schema, dotted (`listen.port`), for documentation checks. */
export function allKeyPaths(root: z.ZodType = configSchema, prefix = ''): string[] {
  const def = defOf(unwrap(root).schema);
  if (def.type !== 'object' || !def.shape) return prefix ? [prefix] : [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(def.shape)) out.push(...allKeyPaths(v, prefix ? `${prefix}.${k}` : k));
  return out;
}
