// Which address a request comes from. Behind a load balancer every socket's peer is the
// balancer, so per-address limits would put every client in one bucket; X-Forwarded-For names
// the client, but anyone can send that header. It is read only from hops named in
// TRUSTED_PROXIES, right to left: each trusted hop vouches for the address to its left, and the
// first address not trusted is the client. A header from an untrusted peer is ignored.
import type http from 'node:http';
import { BlockList, isIP } from 'node:net';
import { z } from '../config';

export class TrustedProxyError extends Error {
  constructor(readonly entry: string) {
    super(`"${entry.slice(0, 60)}" is not an IP address or CIDR range (such as 10.0.0.0/8 or fd00::/8)`);
    this.name = 'TrustedProxyError';
  }
}

/** The proxies whose X-Forwarded-For is believed; empty (the default) believes none. */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const entry of entries) this.add(entry.trim());
    this.size = entries.length;
  }

  private add(entry: string): void {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    if (!family || extra !== undefined) throw new TrustedProxyError(entry);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) return this.list.addAddress(address, type);
    const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (!(bits >= 0 && bits <= (family === 4 ? 32 : 128))) throw new TrustedProxyError(entry);
    this.list.addSubnet(address, bits, type);
  }

  trusts(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.size > 0 && this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** An address as one form: IPv4-mapped IPv6 (::ffff:10.0.0.1) as plain IPv4, lower case. */
function normaliseAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return (mapped ? mapped[1]! : address).toLowerCase();
}

/** One X-Forwarded-For entry as an address, or undefined when it is none ("unknown", a name, garbage). */
function forwardedAddress(entry: string): string | undefined {
  let value = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(value);
  if (bracketed) value = bracketed[1]!;
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}$/.test(value)) value = value.slice(0, value.lastIndexOf(':'));
  return isIP(value) ? normaliseAddress(value) : undefined;
}

/** The client's address: the socket's peer, or what trusted proxies in front of it forwarded. */
export function clientAddress(req: http.IncomingMessage, trusted: TrustedProxies): string {
  let client = normaliseAddress(req.socket.remoteAddress ?? 'unknown');
  if (!trusted.trusts(client)) return client;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = forwardedAddress(hops[i]!);
    // A hop that is no address ends the walk: the last one vouched for is as far as we can see.
    if (!hop) return client;
    client = hop;
    if (!trusted.trusts(hop)) return hop;
  }
  return client;
}

/** TRUSTED_PROXIES: comma-separated addresses and CIDR ranges of the load balancers in front. */
export const trustedProxyConfig = {
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((s, ctx) => {
      try {
        return new TrustedProxies(
          s
            .split(',')
            .map((e) => e.trim())
            .filter(Boolean),
        );
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
        return z.NEVER;
      }
    }),
};
