/**
 * Outbound HTTP proxies, as curl and Go read them: `https_proxy`/`HTTPS_PROXY` for https URLs,
 * `http_proxy`/`HTTP_PROXY` for http URLs (the lowercase form wins when both are set), and
 * `no_proxy`/`NO_PROXY`: a comma- or space-separated list of hosts reached directly (`*` for all;
 * `example.com` and `.example.com` both match the domain and its subdomains; `host:port` matches that
 * port only; an address or CIDR matches address literals). Loopback hosts are always direct.
 *
 * Every outbound connection of Lading (registry pulls, token realms, feed downloads, webhooks) gets
 * its dispatcher from `dispatcherFor`: a plain undici Agent, or a ProxyAgent that tunnels through the
 * proxy with CONNECT (http and https alike). The outbound guard (guard.ts) still judges the
 * destination: its `lookup` is used for direct connections only; through a proxy the destination's
 * name and the addresses it resolves to here are checked before the request (`checkProxied`), and
 * the proxy itself, set by the operator, is not judged.
 */
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { Dispatcher } from 'undici';
import { Agent, ProxyAgent } from './undici.js';
import { LadingError } from '../../errors.js';

export interface ProxySettings {
  http?: URL;
  https?: URL;
  noProxy: readonly string[];
}

function proxyUrl(name: string, value: string): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LadingError('BAD_INPUT', `${name}: "${value}" is not a proxy URL (expected http://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new LadingError('BAD_INPUT', `${name}: "${value}" uses ${url.protocol.slice(0, -1)}; only http:// and https:// proxies are supported`);
  }
  return url;
}

function envValue(env: NodeJS.ProcessEnv, name: string): [string, string] | undefined {
  for (const n of [name.toLowerCase(), name.toUpperCase()]) {
    const v = env[n]?.trim();
    if (v) return [n, v];
  }
  return undefined;
}

/** The proxy settings of an environment (default: this process's). Throws BAD_INPUT naming a bad variable. */
export function proxySettings(env: NodeJS.ProcessEnv = process.env): ProxySettings {
  const http = envValue(env, 'http_proxy');
  const https = envValue(env, 'https_proxy');
  const no = envValue(env, 'no_proxy');
  return {
    ...(http ? { http: proxyUrl(http[0], http[1]) } : {}),
    ...(https ? { https: proxyUrl(https[0], https[1]) } : {}),
    noProxy: no ? no[1].split(/[\s,]+/).map((e) => e.trim().toLowerCase()).filter(Boolean) : [],
  };
}

function defaultPort(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

function isLoopbackName(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function entryMatches(entry: string, host: string, port: string): boolean {
  if (entry === '*') return true;
  const cidr = /^([0-9a-f.:]+)\/(\d+)$/.exec(entry);
  if (cidr && isIP(cidr[1]!) && isIP(host)) {
    const b = new BlockList();
    const family = isIP(cidr[1]!) === 4 ? 'ipv4' : 'ipv6';
    try {
      b.addSubnet(cidr[1]!, Number(cidr[2]), family);
    } catch {
      return false;
    }
    return isIP(host) === isIP(cidr[1]!) && b.check(host, family);
  }
  let name = entry;
  let wantPort: string | undefined;
  const bracketed = /^\[(.*)\](?::(\d+))?$/.exec(entry);
  if (bracketed) [name, wantPort] = [bracketed[1]!, bracketed[2]];
  else if (!isIP(entry) && /^[^:]+:\d+$/.test(entry)) [name, wantPort] = entry.split(':') as [string, string];
  if (wantPort !== undefined && wantPort !== port) return false;
  const domain = name.replace(/^\*?\./, '');
  return host === domain || host.endsWith(`.${domain}`);
}

/** The proxy a request to `url` goes through, or undefined for a direct connection. */
export function proxyFor(url: URL, settings: ProxySettings): URL | undefined {
  const proxy = url.protocol === 'https:' ? settings.https : settings.http;
  if (!proxy) return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase().replace(/\.$/, '');
  if (isLoopbackName(host)) return undefined;
  const port = defaultPort(url);
  return settings.noProxy.some((e) => entryMatches(e, host, port)) ? undefined : proxy;
}

export interface DispatcherOptions {
  /** TLS and connect settings for the destination (ca, rejectUnauthorized, timeout). */
  connect: { timeout: number; rejectUnauthorized: boolean; ca?: string[] };
  /** The guard's (or a pinned) lookup: used for direct connections only. */
  lookup?: LookupFunction;
  headersTimeout: number;
  bodyTimeout: number;
  keepAliveTimeout?: number;
}

/** A dispatcher for `url`: direct, or through `proxy` (a CONNECT tunnel). */
export function dispatcherFor(proxy: URL | undefined, o: DispatcherOptions): Dispatcher {
  const timeouts = { headersTimeout: o.headersTimeout, bodyTimeout: o.bodyTimeout, ...(o.keepAliveTimeout ? { keepAliveTimeout: o.keepAliveTimeout } : {}) };
  if (!proxy) return new Agent({ ...timeouts, connect: { ...o.connect, ...(o.lookup ? { lookup: o.lookup } : {}) } });
  return new ProxyAgent({
    uri: proxy.href,
    ...timeouts,
    requestTls: o.connect,
    proxyTls: { timeout: o.connect.timeout },
  });
}
