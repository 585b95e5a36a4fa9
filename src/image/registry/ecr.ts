/**
 * Amazon ECR: basic credentials from GetAuthorizationToken, using the AWS default credential
 * chain (environment keys, shared config and profiles, SSO, container and instance roles), or with
 * an access key of its own (an awsecr registry record).
 * The SDK is imported only when an ECR host is met. Tokens (valid 12 h) are cached per host and
 * refreshed five minutes before they expire.
 */
import { createHash } from 'node:crypto';
import { LadingError } from '../../errors.js';
import { lazyRequire } from '../../util/lazy.js';
import type { RegistryCredentials } from './credentials.js';

/** The SDK's CommonJS build, required on first use (from the bundle too, which runs as CommonJS: no dynamic import there). */
const ecrSdk = lazyRequire<typeof import('@aws-sdk/client-ecr')>('@aws-sdk/client-ecr');

export interface EcrHost {
  accountId: string;
  region: string;
  fips: boolean;
}

const ECR_HOST = /^(\d{12})\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/** `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`, or undefined for any other host. */
export function parseEcrHost(host: string): EcrHost | undefined {
  const m = ECR_HOST.exec(host.toLowerCase().replace(/:443$/, ''));
  if (!m) return undefined;
  return { accountId: m[1]!, region: m[3]!, fips: !!m[2] };
}

export interface EcrOptions {
  /** An ECR API endpoint to use instead of the regional one (VPC endpoints, tests). */
  endpoint?: string;
  /** An access key to use instead of the default credential chain. */
  keys?: { accessKeyId: string; secretAccessKey: string };
  now?: () => number;
}

const REFRESH_MARGIN_MS = 5 * 60_000;
const cache = new Map<string, { creds: RegistryCredentials; expiresAt: number }>();
const pending = new Map<string, Promise<RegistryCredentials>>();

/** Forget cached ECR tokens (tests; after a credentials change). */
export function clearEcrCache(): void {
  cache.clear();
}

export async function ecrCredentials(host: string, options: EcrOptions = {}): Promise<RegistryCredentials> {
  const parsed = parseEcrHost(host);
  if (!parsed) throw new LadingError('BAD_INPUT', `${host} is not an Amazon ECR registry host`);
  const now = options.now ?? Date.now;
  const key = [host, options.endpoint ?? '', options.keys?.accessKeyId ?? '', options.keys ? createHash('sha256').update(options.keys.secretAccessKey).digest('hex') : ''].join('\n');
  const hit = cache.get(key);
  if (hit && hit.expiresAt - REFRESH_MARGIN_MS > now()) return hit.creds;
  let p = pending.get(key);
  if (!p) {
    p = fetchEcrToken(host, parsed, options, now, key).finally(() => pending.delete(key));
    pending.set(key, p);
  }
  return p;
}

async function fetchEcrToken(host: string, parsed: EcrHost, options: EcrOptions, now: () => number, key: string): Promise<RegistryCredentials> {
  let sdk: typeof import('@aws-sdk/client-ecr');
  try {
    sdk = ecrSdk();
  } catch (e) {
    throw new LadingError('INTERNAL', `cannot load @aws-sdk/client-ecr for ${host}: ${(e as Error).message}`, { cause: e });
  }
  const client = new sdk.ECRClient({
    region: parsed.region,
    ...(options.keys ? { credentials: { ...options.keys } } : {}),
    ...(parsed.fips ? { useFipsEndpoint: true } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  try {
    const out = await client.send(new sdk.GetAuthorizationTokenCommand({}));
    const data = out.authorizationData?.[0];
    if (!data?.authorizationToken) throw new LadingError('UNAUTHORIZED', `Amazon ECR returned no authorization token for ${host}`);
    const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new LadingError('UNAUTHORIZED', `Amazon ECR returned an authorization token for ${host} that is not "user:password"`);
    const creds = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    const expiresAt = data.expiresAt instanceof Date ? data.expiresAt.getTime() : now() + 12 * 3600_000;
    cache.set(key, { creds, expiresAt });
    return creds;
  } catch (e) {
    if (e instanceof LadingError) throw e;
    const name = (e as { name?: string }).name;
    throw new LadingError('UNAUTHORIZED',
      `cannot get an Amazon ECR token for ${host} (account ${parsed.accountId}, region ${parsed.region}${options.keys ? `, access key ${options.keys.accessKeyId}` : ''}): ${name ? `${name}: ` : ''}${(e as Error).message}`,
      { cause: e });
  } finally {
    client.destroy();
  }
}
