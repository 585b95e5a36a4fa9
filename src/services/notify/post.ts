/**
 * One webhook POST, through the service's outbound guard (image/registry/guard.ts): the
 * destination's host is resolved once, every address it resolves to is checked, and the connection
 * goes to those checked addresses (undici Agent with a pinned `lookup`), so a DNS answer that
 * changes between check and connect (a rebind) cannot reach a refused address. Redirects are not
 * followed (a 3xx is a failed attempt). Through a proxy (image/registry/proxy.ts), the destination's
 * name and addresses are checked here and the proxy connects.
 * A refused destination is a failed attempt naming the rule.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { request } from 'undici';
import { describeError } from '../../errors.js';
import type { OutboundGuard } from '../../image/registry/guard.js';
import { dispatcherFor, proxyFor, proxySettings, type ProxySettings } from '../../image/registry/proxy.js';

export interface PostRequest {
  url: URL;
  body: string;
  /** user:password for basic auth. */
  auth?: { username: string; password: string };
  verifyTls: boolean;
  timeoutMs: number;
  guard: OutboundGuard;
  /** Default: from the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY). */
  proxy?: ProxySettings;
}

export interface PostResult {
  statusCode?: number;
  error?: string;
}

interface Resolved {
  address: string;
  family: number;
}

async function resolveChecked(url: URL, guard: OutboundGuard): Promise<Resolved[] | string> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const early = guard.refusal(host);
  if (early) return `refused: ${early}`;
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
  for (const a of addresses) {
    const reason = guard.refusal(host, a.address);
    if (reason) return `refused: ${reason}`;
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
  // Through a proxy (HTTPS_PROXY etc., proxy.ts) the proxy connects: the destination is judged here first.
  let proxy: URL | undefined;
  try {
    proxy = proxyFor(req.url, req.proxy ?? proxySettings());
  } catch (e) {
    return { error: describeError(e) };
  }
  let lookup: LookupFunction | undefined;
  if (proxy) {
    try {
      await req.guard.checkProxied(req.url.hostname);
    } catch (e) {
      return { error: `refused: ${describeError(e)}` };
    }
  } else {
    const resolved = await resolveChecked(req.url, req.guard);
    if (typeof resolved === 'string') return { error: resolved };
    lookup = pinnedLookup(resolved);
  }
  const agent = dispatcherFor(proxy, {
    connect: { rejectUnauthorized: req.verifyTls, timeout: req.timeoutMs },
    ...(lookup ? { lookup } : {}),
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
