/**
 * One webhook POST, with the SSRF check: the destination's host is resolved once, every address
 * it resolves to is checked, and the connection goes to those checked addresses (undici Agent
 * with a pinned `lookup`), so a DNS answer that changes between check and connect (a rebind)
 * cannot reach a refused address. Redirects are not followed (a 3xx is a failed attempt).
 *
 * Refused unless allowed by configuration: link-local addresses (169.254.0.0/16, fe80::/10, and
 * IPv4-mapped forms) and cloud metadata addresses (169.254.169.254, fd00:ec2::254,
 * 100.100.100.200). Loopback and private ranges are allowed: webhook receivers commonly live on
 * the same host or network.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { describeError } from '../../errors.js';

const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');
FORBIDDEN.addAddress('fd00:ec2::254', 'ipv6');
FORBIDDEN.addAddress('100.100.100.200', 'ipv4');

/** True for an address webhooks may not reach unless webhooks.allow_private_targets. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return FORBIDDEN.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export interface PostRequest {
  url: URL;
  body: string;
  /** user:password for basic auth. */
  auth?: { username: string; password: string };
  verifyTls: boolean;
  timeoutMs: number;
  allowPrivateTargets: boolean;
}

export interface PostResult {
  statusCode?: number;
  error?: string;
}

interface Resolved {
  address: string;
  family: number;
}

async function resolveChecked(url: URL, allowPrivate: boolean): Promise<Resolved[] | string> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: Resolved[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await dnsLookup(host, { all: true, verbatim: true });
    } catch (e) {
      return `cannot resolve ${host}: ${describeError(e)}`;
    }
  }
  if (addresses.length === 0) return `cannot resolve ${host}: no addresses`;
  if (!allowPrivate) {
    const bad = addresses.find((a) => isForbiddenAddress(a.address));
    if (bad) return `refused: ${host} resolves to ${bad.address}, a link-local or cloud metadata address (set webhooks.allow_private_targets to allow it)`;
  }
  return addresses;
}

/** A lookup that answers with the addresses already checked, whatever DNS says now. */
function pinnedLookup(addresses: Resolved[]): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  }) as unknown as LookupFunction;
}

/** POST the body; the status code, or the reason nothing was received. Never throws. */
export async function postWebhook(req: PostRequest): Promise<PostResult> {
  const resolved = await resolveChecked(req.url, req.allowPrivateTargets);
  if (typeof resolved === 'string') return { error: resolved };
  const agent = new Agent({
    connect: { lookup: pinnedLookup(resolved), rejectUnauthorized: req.verifyTls, timeout: req.timeoutMs },
    headersTimeout: req.timeoutMs,
    bodyTimeout: req.timeoutMs,
  });
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'lading-notifier' };
  if (req.auth) headers.authorization = `Basic ${Buffer.from(`${req.auth.username}:${req.auth.password}`).toString('base64')}`;
  try {
    const res = await request(req.url, {
      method: 'POST',
      headers,
      body: req.body,
      dispatcher: agent,
      signal: AbortSignal.timeout(req.timeoutMs),
    });
    await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
    return { statusCode: res.statusCode };
  } catch (e) {
    const timedOut = e instanceof Error && (e.name === 'TimeoutError' || /timeout/i.test(e.name));
    return { error: timedOut ? `timed out after ${req.timeoutMs / 1000}s` : describeError(e) };
  } finally {
    await agent.destroy().catch(() => {});
  }
}
