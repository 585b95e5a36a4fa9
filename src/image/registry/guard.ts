/**
 * The one guard for the service's outbound connections: registries (pulls, token realms,
 * redirects, `?validate=true`), webhooks and feed downloads. A destination is judged by its host
 * name and by every address it resolves to, at connection time (the HTTP agents resolve through
 * `lookup`, so a DNS answer that changes between a check and the connection, a rebind, is judged
 * too); an address literal is judged before connecting. Rules, first match wins:
 *
 * 1. `outbound.allow` (CIDRs, addresses, host names, `*.domain`): allowed;
 * 2. `outbound.deny` (the same forms): refused;
 * 3. link-local (169.254.0.0/16, fe80::/10) and cloud metadata (169.254.169.254, fd00:ec2::254,
 *    100.100.100.200, metadata.google.internal and the like), multicast and broadcast: refused;
 * 4. loopback (127.0.0.0/8, ::1, 0.0.0.0/8, ::, localhost): refused unless `outbound.allow_loopback`;
 * 5. private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7): allowed unless
 *    `outbound.allow_private` is false;
 * 6. anything else: allowed.
 * A refusal is a LadingError DESTINATION_DENIED (HTTP 403) naming the host, the address and the rule.
 * The standalone CLI has no guard: it connects where its user says.
 */
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { LadingError } from '../../errors.js';
import { lazyRequire } from '../../util/lazy.js';

/** The resolver, loaded when a guard first resolves a name (the CLI loads this module and never does). */
const dns = lazyRequire<typeof import('node:dns')>('node:dns');

export interface OutboundPolicy {
  allow: readonly string[];
  deny: readonly string[];
  allowLoopback: boolean;
  allowPrivate: boolean;
  /** Link-local and metadata addresses too (webhooks.allow_private_targets, for webhooks only). */
  allowLinkLocal?: boolean;
}

/** The policy from the configuration's `outbound` section. */
export function outboundPolicy(o: { allow: readonly string[]; deny: readonly string[]; allow_loopback: boolean; allow_private: boolean }): OutboundPolicy {
  return { allow: o.allow, deny: o.deny, allowLoopback: o.allow_loopback, allowPrivate: o.allow_private };
}

const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal', 'metadata.azure.com', 'metadata.tencentyun.com']);

function blockList(entries: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const b = new BlockList();
  for (const [addr, prefix, family] of entries) b.addSubnet(addr, prefix, family);
  return b;
}

/** The ranges, built on first use: the CLI loads this module (http.ts names its errors) but never guards. */
let ranges: { LINK_LOCAL: BlockList; NOT_UNICAST: BlockList; LOOPBACK: BlockList; PRIVATE: BlockList } | undefined;
const RANGES = () => ranges ??= {
  LINK_LOCAL: blockList([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6'], ['fd00:ec2::254', 128, 'ipv6'], ['100.100.100.200', 32, 'ipv4']]),
  NOT_UNICAST: blockList([['224.0.0.0', 4, 'ipv4'], ['240.0.0.0', 4, 'ipv4'], ['ff00::', 8, 'ipv6']]),
  LOOPBACK: blockList([['127.0.0.0', 8, 'ipv4'], ['0.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6'], ['::', 128, 'ipv6']]),
  PRIVATE: blockList([['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['fc00::', 7, 'ipv6']]),
};

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as IPv4; others as they are. */
function normalize(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const a = address.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return { address: mapped[1]!, family: 'ipv4' };
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (hex) {
    const n = (parseInt(hex[1]!, 16) << 16) | parseInt(hex[2]!, 16);
    return { address: [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'), family: 'ipv4' };
  }
  return { address: a, family: isIP(a) === 6 ? 'ipv6' : 'ipv4' };
}

/** A list rule: a CIDR or address (matched against addresses) or a host name / *.domain (matched against the name). */
class RuleList {
  private readonly texts: { text: string; test: (host: string, address?: string) => boolean }[] = [];

  constructor(entries: readonly string[], what: string) {
    for (const raw of entries) {
      const e = raw.trim().toLowerCase();
      const [addr, prefix] = e.split('/');
      const family = isIP(addr ?? '');
      if (family) {
        const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
        if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) throw new LadingError('BAD_INPUT', `${what}: "${raw}" has an invalid prefix length`);
        const one = new BlockList();
        one.addSubnet(addr!, bits, family === 4 ? 'ipv4' : 'ipv6');
        this.texts.push({ text: raw, test: (_h, a) => a !== undefined && one.check(normalize(a).address, normalize(a).family) });
      } else {
        this.texts.push({ text: raw, test: (h) => (e.startsWith('*.') ? h.endsWith(e.slice(1)) : h === e) });
      }
    }
  }

  /** The entry matching a host name or one of its addresses. */
  match(host: string, address?: string): string | undefined {
    const a = address ?? (isIP(host) ? host : undefined);
    return this.texts.find((t) => t.test(host, a))?.text;
  }
}

export class OutboundGuard {
  private readonly allow: RuleList;
  private readonly deny: RuleList;

  constructor(readonly policy: OutboundPolicy) {
    this.allow = new RuleList(policy.allow, 'outbound.allow');
    this.deny = new RuleList(policy.deny, 'outbound.deny');
  }

  /** Why connecting to `host` at `address` (undefined: judge the name only) is refused, or undefined. */
  refusal(hostname: string, address?: string): string | undefined {
    const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase().replace(/\.$/, '');
    const at = address !== undefined && address !== host ? `${host} (${address})` : host;
    if (this.allow.match(host, address)) return undefined;
    const denied = this.deny.match(host, address);
    if (denied) return `outbound connection to ${at} refused: it matches outbound.deny entry "${denied}"`;
    const literal = isIP(host) ? host : address;
    const n = literal !== undefined ? normalize(literal) : undefined;
    if (!this.policy.allowLinkLocal && (METADATA_HOSTS.has(host) || (n && RANGES().LINK_LOCAL.check(n.address, n.family)))) {
      return `outbound connection to ${at} refused: a link-local or cloud metadata address (list it in outbound.allow to permit it)`;
    }
    if (n && (RANGES().NOT_UNICAST.check(n.address, n.family) || n.address === '255.255.255.255')) return `outbound connection to ${at} refused: not a unicast address`;
    const loopbackName = host === 'localhost' || host.endsWith('.localhost');
    if (!this.policy.allowLoopback && (loopbackName || (n && RANGES().LOOPBACK.check(n.address, n.family)))) {
      return `outbound connection to ${at} refused: a loopback address (set outbound.allow_loopback: true, or list it in outbound.allow, to permit it)`;
    }
    if (!this.policy.allowPrivate && n && RANGES().PRIVATE.check(n.address, n.family)) {
      return `outbound connection to ${at} refused: a private address and outbound.allow_private is false (list it in outbound.allow to permit it)`;
    }
    return undefined;
  }

  /** Throws DESTINATION_DENIED when the URL's host name (or address literal) is refused. */
  checkUrl(url: URL): void {
    const reason = this.refusal(url.hostname);
    if (reason) throw new LadingError('DESTINATION_DENIED', reason);
  }

  /** Throws DESTINATION_DENIED when any of the addresses a host resolved to is refused. */
  checkAddresses(hostname: string, addresses: readonly { address: string }[]): void {
    for (const a of addresses) {
      const reason = this.refusal(hostname, a.address);
      if (reason) throw new LadingError('DESTINATION_DENIED', reason);
    }
  }

  /**
   * For a request that goes through a proxy (the proxy connects, so no `lookup` of ours runs): the
   * destination's name, then every address it resolves to here. A name this host cannot resolve (a
   * network where only the proxy resolves names) is judged by the name alone.
   */
  async checkProxied(hostname: string): Promise<void> {
    const host = hostname.replace(/^\[(.*)\]$/, '$1');
    const early = this.refusal(host);
    if (early) throw new LadingError('DESTINATION_DENIED', early);
    if (isIP(host)) return;
    let addresses: { address: string }[];
    try {
      addresses = await dns().promises.lookup(host, { all: true, verbatim: true });
    } catch {
      return;
    }
    this.checkAddresses(host, addresses);
  }

  /** A `lookup` for HTTP agents: resolves, then refuses the connection if any address is refused. */
  lookup(): LookupFunction {
    return ((hostname: string, options: { all?: boolean }, callback: (err: Error | null, ...rest: unknown[]) => void) => {
      dns().lookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err);
        try {
          this.checkAddresses(hostname, addresses);
        } catch (e) {
          return callback(e as Error);
        }
        if (options?.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      });
    }) as unknown as LookupFunction;
  }
}

/** The DESTINATION_DENIED error inside a network error (an agent's lookup refused), if any. */
export function deniedCause(e: unknown): LadingError | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 6; depth++) {
    if (cur instanceof LadingError && cur.code === 'DESTINATION_DENIED') return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}
