// Where a subscription may send: an http(s) URL without credentials whose host is, and resolves
// to, only public unicast addresses, never loopback, private (RFC 1918, fc00::/7), link-local
// (169.254/16 with the cloud metadata address, fe80::/10), unspecified, multicast, carrier-grade
// NAT, documentation, 6to4/NAT64/Teredo (which can wrap an internal IPv4) or other reserved ranges.
// The URL is checked when the subscription is made and again at every attempt, where the lookup
// that the connection itself uses is the one checked (a name that resolves to a public address
// at creation and to an internal one later, DNS rebinding, is refused), and so is the address the
// socket actually connected to. WHATWG URL parsing turns odd notations (`http://2130706433/`,
// `http://0x7f.1/`, `http://[::ffff:127.0.0.1]/`) into the address they mean before the check.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export class TargetRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetRefusedError';
  }
}

/** Ranges `WEBHOOK_ALLOW_PRIVATE_TARGETS` lets through, for a receiver on a developer's machine; link-local (metadata) never. */
const PRIVATE_RANGES = new Set(['loopback', 'private', 'uniqueLocal', 'carrierGradeNat']);

export const MAX_URL_LENGTH = 2000;

/** True when a connection to this address may be made. */
export function isAllowedAddress(address: string, allowPrivate: boolean): boolean {
  if (!ipaddr.isValid(address)) return false;
  // process() reads an IPv4-mapped IPv6 address (::ffff:10.0.0.1) as the IPv4 address it is.
  const range = ipaddr.process(address).range();
  return range === 'unicast' || (allowPrivate && PRIVATE_RANGES.has(range));
}

/** The URL, parsed and checked as far as it can be without DNS; TargetRefusedError says why not. */
export function checkTargetUrl(raw: string, allowPrivate: boolean): URL {
  if (raw.length > MAX_URL_LENGTH) throw new TargetRefusedError(`url: at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefusedError('url: not a valid absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TargetRefusedError('url: must be http or https');
  if (url.username || url.password) throw new TargetRefusedError('url: must not carry credentials (user:password@)');
  if (url.hash) throw new TargetRefusedError('url: must not have a fragment');
  const host = hostOf(url);
  if (ipaddr.isValid(host)) {
    if (!isAllowedAddress(host, allowPrivate)) throw new TargetRefusedError(`url: ${host} is not a public address`);
  } else if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost') || !host.includes('.'))) {
    throw new TargetRefusedError(`url: ${host} is not a public host name`);
  }
  return url;
}

/** The host without IPv6 brackets. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Resolves the URL's host as a connection would and checks every address (at creation). */
export async function checkTargetResolves(url: URL, allowPrivate: boolean, timeoutMs = 3000): Promise<void> {
  const host = hostOf(url);
  if (ipaddr.isValid(host)) return;
  const addresses = await new Promise<LookupAddress[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TargetRefusedError(`url: ${host} did not resolve within ${timeoutMs} ms`)), timeoutMs);
    dnsLookup(host, { all: true }, (err, found) => {
      clearTimeout(timer);
      if (err) reject(new TargetRefusedError(`url: ${host} does not resolve (${err.code ?? 'lookup failed'})`));
      else resolve(found);
    });
  });
  const refused = addresses.find((a) => !isAllowedAddress(a.address, allowPrivate));
  if (refused) throw new TargetRefusedError(`url: ${host} resolves to ${refused.address}, which is not a public address`);
}

/**
 * The lookup an attempt's connection uses: the name is resolved once, here, and refused if any
 * address it resolves to is not allowed; the connection goes to an address this checked.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.find((a) => !isAllowedAddress(a.address, allowPrivate));
      if (refused || addresses.length === 0) {
        const error = Object.assign(new TargetRefusedError(`${hostname} resolves to ${refused?.address ?? 'nothing'}, which is not a public address`), {
          code: 'EREFUSEDTARGET',
        });
        return callback(error, '', 0);
      }
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
