// The DNS the sender checks ask: the configured servers, or the system's. An adapter on node:dns.
import { Resolver } from 'node:dns/promises';
import type { EmailConfig } from './config';

/** What mailauth calls for every look-up: the signature of dns.promises.resolve. */
export type DnsLookup = (name: string, rrtype: string) => Promise<unknown>;

export function dnsLookupFor(config: Pick<EmailConfig, 'EMAIL_DNS_SERVERS' | 'EMAIL_DNS_TIMEOUT_MS'>): DnsLookup {
  // One try per server: the whole check has its own deadline, and a slow server must not hold a
  // mail in DATA for the resolver's default of four tries.
  const resolver = new Resolver({ timeout: config.EMAIL_DNS_TIMEOUT_MS, tries: 1 });
  if (config.EMAIL_DNS_SERVERS.length) resolver.setServers(config.EMAIL_DNS_SERVERS);
  return (name, rrtype) => resolver.resolve(name, rrtype);
}
