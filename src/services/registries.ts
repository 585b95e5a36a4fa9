/**
 * Registry credentials per account (table from store/migrations/0006-registries.ts), used for
 * every pull the account makes: adding an image (tag → digest) and its analysis.
 *
 * - A record names `host[:port][/repo-prefix]`, optionally ending with `*`; its type is docker_v2
 *   (a username and password) or awsecr (an AWS access key id and secret, or `awsauto` for the
 *   default credential chain; the pull then uses an ECR token). `registry_verify` false reaches the
 *   registry without certificate verification.
 * - The password is encrypted with SecretBox (keys from config/keys.ts), bound to
 *   `registry:<account>/<registry>`; it is never returned and never logged.
 * - Which record a pull uses is Anchore's rule (`matchRegistry`): longest registry string first; a
 *   record matches if it ends with `*` and `registry/repo` starts with the rest, or contains `/`
 *   and equals `registry/repo`, or equals the registry host[:port].
 */
import { X509Certificate } from 'node:crypto';
import type { LadingConfig } from '../config/schema.js';
import { resolveEncryptionKeys } from '../config/keys.js';
import { LadingError } from '../errors.js';
import { RegistryAuth, TokenCache } from '../image/registry/auth.js';
import { RegistryClient } from '../image/registry/client.js';
import type { RegistryCredentials } from '../image/registry/credentials.js';
import { ecrCredentials, parseEcrHost, type EcrOptions } from '../image/registry/ecr.js';
import { HttpClient, discard, readBody, type HttpOptions } from '../image/registry/http.js';
import { registryPortProblem, type ImageReference } from '../image/reference.js';
import type { SourceOptions } from '../image/sources/index.js';
import { SecretBox } from '../store/secrets.js';
import type { RegistryRow, RegistryRows, RegistryWrite } from '../store/registries.js';

export const REGISTRY_TYPES = ['docker_v2', 'awsecr'] as const;
export type RegistryType = (typeof REGISTRY_TYPES)[number];
/** awsecr user/password meaning "the default AWS credential chain". */
export const AWS_AUTO = 'awsauto';


/** A stored record as it may be shown: no password. */
export interface RegistryRecord {
  account: string;
  registry: string;
  name: string;
  type: RegistryType;
  user: string;
  verify: boolean;
  /** Extra CA certificates (PEM) this registry's certificate is checked against. */
  caCert?: string;
  createdAt: string;
  lastUpdated: string;
}

export interface RegistryInput {
  registry: string;
  name?: string;
  type: RegistryType;
  user: string;
  pass: string;
  verify: boolean;
  /** Extra CA certificates (PEM) for this registry, on top of the system ones. */
  caCert?: string;
}

/** What a pull needs from the matching record. */
export interface RegistryAccess {
  /** The record that matched. */
  registry: string;
  credentials: RegistryCredentials;
  /** The host, when the record says not to verify its certificate. */
  insecureRegistries: string[];
  /** The record's CA certificates (PEM), if it has any. */
  caCert?: string;
}

/** A reason the registry string cannot be stored, or undefined when it is fine. */
export function registryProblem(registry: string): string | undefined {
  if (!registry.trim()) return 'registry is empty';
  if (/\s/.test(registry)) return 'registry contains whitespace';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(registry)) return 'registry must start with a host name or IP, without a URL scheme (http://, https://)';
  if (registry.endsWith('/')) return "registry cannot end with '/'";
  if (registry.slice(0, -1).includes('*')) return "a '*' may only end the registry";
  if (registry.length > 1024) return 'registry is longer than 1024 characters';
  return registryPortProblem(registryHost(registry));
}

/** The host[:port] a registry string names (before any repository prefix or `*`). */
export function registryHost(registry: string): string {
  return registry.replace(/\*$/, '').split('/')[0]!;
}

/** The record a pull of `registry/repository` uses (Anchore's rule, see the module comment). */
export function matchRegistry<T extends { registry: string }>(records: readonly T[], registry: string, repository: string): T | undefined {
  const full = `${registry}/${repository}`;
  const ordered = [...records].sort((a, b) => b.registry.length - a.registry.length || a.registry.localeCompare(b.registry));
  return ordered.find(({ registry: r }) => {
    if (r.endsWith('*')) return full.startsWith(r.slice(0, -1));
    if (r.includes('/')) return r === full;
    return r === registry;
  });
}

/** Source options for a pull with the access a record gives (the base's insecure hosts kept). */
export function withRegistryAccess(base: SourceOptions, access: RegistryAccess | undefined): SourceOptions {
  if (!access) return base;
  const insecure = [...(base.insecureRegistries ?? []), ...access.insecureRegistries];
  return {
    ...base, credentials: access.credentials, ...(insecure.length ? { insecureRegistries: insecure } : {}),
    ...(access.caCert ? { caPem: access.caCert } : {}),
  };
}

/** The most CA text a registry record may carry. */
const MAX_CA_CERT = 64 * 1024;

/** A reason `pem` is not one or more PEM certificates, or undefined when it is. */
export function caCertProblem(pem: string): string | undefined {
  if (pem.length > MAX_CA_CERT) return `registry_ca_cert is longer than ${MAX_CA_CERT} characters`;
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return 'registry_ca_cert holds no PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)';
  for (const [i, b] of blocks.entries()) {
    try {
      new X509Certificate(b);
    } catch (e) {
      return `registry_ca_cert: certificate ${i + 1} of ${blocks.length} cannot be read (${(e as Error).message})`;
    }
  }
  return undefined;
}

/** HTTP settings for a login check: a user is waiting for the answer. */
const LOGIN_HTTP: Partial<HttpOptions> = {
  maxAttempts: 2, connectTimeoutMs: 10_000, headersTimeoutMs: 20_000,
  tlsHint: 'use --ca-cert FILE or --insecure; in the API, registry_ca_cert or registry_verify: false',
};

/**
 * Log in to a docker_v2 registry: probe `/v2/`, then ask it again with the credentials (Basic,
 * or a bearer token from its token service). Throws a LadingError carrying the registry's answer.
 */
export async function checkLogin(host: string, credentials: RegistryCredentials, options: { insecure: boolean; http?: Partial<HttpOptions> }): Promise<void> {
  const insecureRegistries = options.insecure ? [host] : [];
  const httpOptions = { ...LOGIN_HTTP, ...options.http, insecureRegistries };
  const client = new RegistryClient(host, { credentials, credentialLookup: false, insecureRegistries, http: httpOptions });
  const http = new HttpClient(httpOptions);
  try {
    const base = await client.ping();
    const auth = new RegistryAuth({ registry: host, http, credentials: async () => credentials, cache: new TokenCache() });
    const what = `registry ${host}`;
    const res = await auth.send([], (authorization) => http.request({ url: `${base}/v2/`, headers: authorization ? { authorization } : {}, what }));
    if (res.status >= 200 && res.status < 300) return void (await discard(res));
    let detail = '';
    try {
      const doc = JSON.parse((await readBody(res, 64 * 1024, what)).toString('utf8')) as { errors?: { code?: string; message?: string }[] };
      detail = (doc.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).filter(Boolean).join('; ');
    } catch {
      await discard(res);
    }
    throw new LadingError(res.status === 401 || res.status === 403 ? 'UNAUTHORIZED' : 'REGISTRY',
      `${what} answered HTTP ${res.status}${detail ? ` (${detail})` : ''} to user ${credentials.username ?? ''}`);
  } finally {
    await client.close();
    await http.close();
  }
}

// ---------------------------------------------------------------------------------------------

export interface RegistryStoreOptions {
  /** Whether awsecr records may use `awsauto` (config allow_awsecr_iam_auto). Default false. */
  allowAwsAuto?: boolean;
  /** ECR API options (an endpoint for VPC endpoints and tests). */
  ecr?: EcrOptions;
  /** HTTP settings for login checks. */
  http?: Partial<HttpOptions>;
}

type KeyConfig = Pick<LadingConfig, 'encryption_key' | 'previous_encryption_keys' | 'production_mode' | 'data_dir'> & Partial<Pick<LadingConfig, 'allow_awsecr_iam_auto'>>;

function toRecord(r: RegistryRow): RegistryRecord {
  return {
    account: r.account,
    registry: r.registry,
    name: r.registry_name,
    type: r.registry_type as RegistryType,
    user: r.registry_user,
    verify: Number(r.registry_verify) !== 0,
    ...(r.registry_ca_cert ? { caCert: r.registry_ca_cert } : {}),
    createdAt: r.created_at,
    lastUpdated: r.last_updated,
  };
}

/** Registry credentials: sealed and opened here, validated, turned into pull credentials; the rows are store/registries.ts's. */
export class RegistryStore {
  private readonly rows: RegistryRows;
  private secretBox?: SecretBox;

  private readonly options: RegistryStoreOptions;

  /** `options.allowAwsAuto` defaults to the configuration's allow_awsecr_iam_auto. */
  constructor(rows: RegistryRows, private readonly config: KeyConfig, options: RegistryStoreOptions = {}) {
    this.rows = rows;
    this.options = { allowAwsAuto: config.allow_awsecr_iam_auto ?? false, ...options };
  }

  /** The SecretBox, made on first use (production mode without encryption_key fails here, naming it). */
  private box(): SecretBox {
    this.secretBox ??= new SecretBox(resolveEncryptionKeys(this.config).keys);
    return this.secretBox;
  }

  /** Throws (naming encryption_key) when no key is configured to store a password with. */
  requireEncryption(): void {
    this.box();
  }

  private static context(account: string, registry: string): string {
    return `registry:${account}/${registry}`;
  }

  async list(account: string): Promise<RegistryRecord[]> {
    return (await this.rows.list(account)).map(toRecord);
  }

  async get(account: string, registry: string): Promise<RegistryRecord | undefined> {
    const row = await this.rows.get(account, registry);
    return row ? toRecord(row) : undefined;
  }

  /** The stored password, decrypted. */
  async password(account: string, registry: string): Promise<string | undefined> {
    const envelope = await this.rows.passwordEnvelope(account, registry);
    return envelope === undefined ? undefined : this.box().decrypt(envelope, RegistryStore.context(account, registry));
  }

  /** The row fields of an input, its password sealed. */
  private sealed(account: string, input: RegistryInput): RegistryWrite {
    return {
      registry_name: input.name ?? input.registry,
      registry_type: input.type,
      registry_user: input.user,
      registry_pass: this.box().encrypt(input.pass, RegistryStore.context(account, input.registry)),
      registry_verify: input.verify ? 1 : 0,
      registry_ca_cert: input.caCert ?? null,
    };
  }

  /** Store a new record; undefined when the account already has one for this registry. */
  async add(account: string, input: RegistryInput): Promise<RegistryRecord | undefined> {
    if (!(await this.rows.insert(account, input.registry, this.sealed(account, input), new Date().toISOString()))) return undefined;
    return this.get(account, input.registry);
  }

  /** Replace a record's fields (its registry string stays); undefined when there is none. */
  async update(account: string, input: RegistryInput): Promise<RegistryRecord | undefined> {
    if (!(await this.rows.update(account, input.registry, this.sealed(account, input), new Date().toISOString()))) return undefined;
    return this.get(account, input.registry);
  }

  delete(account: string, registry: string): Promise<boolean> {
    return this.rows.delete(account, registry);
  }

  /** Refuse what can never be used: `awsauto` when not allowed, an awsecr record on a host that is not ECR. */
  usageProblem(input: Pick<RegistryInput, 'registry' | 'type' | 'user' | 'pass'>): { status: 'forbidden' | 'invalid'; message: string } | undefined {
    const auto = input.user === AWS_AUTO || input.pass === AWS_AUTO;
    if (auto && (input.type !== 'awsecr' || !this.options.allowAwsAuto)) {
      return { status: 'forbidden', message: `'${AWS_AUTO}' is not enabled in service configuration${input.type === 'awsecr' ? '' : ' (and is only for registry_type awsecr)'}` };
    }
    if (input.type === 'awsecr' && !parseEcrHost(registryHost(input.registry))) {
      return { status: 'invalid', message: `registry_type awsecr needs an Amazon ECR host (<account>.dkr.ecr.<region>.amazonaws.com), not ${registryHost(input.registry)}` };
    }
    return undefined;
  }

  /** Try the credentials against the registry: a docker_v2 login, or an ECR token for awsecr. */
  async validate(input: RegistryInput): Promise<void> {
    const host = registryHost(input.registry);
    if (input.type === 'awsecr') {
      await this.credentialsOf(host, input.type, input.user, input.pass);
      return;
    }
    if (!host || host.includes('*')) throw new LadingError('BAD_INPUT', `cannot validate ${input.registry}: it names no single host (add it with validate=false)`);
    const http = { ...this.options.http, ...(input.caCert ? { caPem: input.caCert } : {}) };
    await checkLogin(host, { username: input.user, password: input.pass }, { insecure: !input.verify, http });
  }

  private async credentialsOf(host: string, type: RegistryType, user: string, pass: string): Promise<RegistryCredentials> {
    if (type === 'docker_v2') return { username: user, password: pass };
    const ecr = this.options.ecr ?? {};
    if (user === AWS_AUTO || pass === AWS_AUTO) {
      if (!this.options.allowAwsAuto) throw new LadingError('UNAUTHORIZED', `registry ${host} uses '${AWS_AUTO}', which is not enabled in service configuration`);
      return ecrCredentials(host, ecr);
    }
    return ecrCredentials(host, { ...ecr, keys: { accessKeyId: user, secretAccessKey: pass } });
  }

  /** The credentials and TLS setting an account's pull of `ref` uses, or undefined (anonymous). */
  async registryCredentialsFor(account: string, ref: Pick<ImageReference, 'registry' | 'repository'>): Promise<RegistryAccess | undefined> {
    const row = matchRegistry(await this.rows.accessRows(account), ref.registry, ref.repository);
    if (!row) return undefined;
    const pass = this.box().decrypt(row.registry_pass, RegistryStore.context(account, row.registry));
    const credentials = await this.credentialsOf(ref.registry, row.registry_type as RegistryType, row.registry_user, pass);
    return {
      registry: row.registry, credentials, insecureRegistries: Number(row.registry_verify) === 0 ? [ref.registry] : [],
      ...(row.registry_ca_cert ? { caCert: row.registry_ca_cert } : {}),
    };
  }
}
