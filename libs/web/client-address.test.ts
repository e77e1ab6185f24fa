import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../config';
import { clientAddress, TrustedProxies, TrustedProxyError, trustedProxyConfig } from './client-address';

const request = (peer: string, forwarded?: string | string[]) =>
  ({ socket: { remoteAddress: peer }, headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded } }) as unknown as http.IncomingMessage;

describe('client address', () => {
  const none = new TrustedProxies([]);
  const balancer = new TrustedProxies(['10.0.0.0/8', 'fd00::/8', '192.0.2.7']);

  it('is the socket peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(clientAddress(request('203.0.113.9', '198.51.100.1'), none)).toBe('203.0.113.9');
    expect(clientAddress(request('::ffff:203.0.113.9', '198.51.100.1'), none)).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(clientAddress(request('203.0.113.9', '198.51.100.1, 10.1.2.3'), balancer)).toBe('203.0.113.9');
  });

  it('reads the client from a trusted proxy, right to left, skipping trusted hops', () => {
    expect(clientAddress(request('10.0.0.5', '198.51.100.1'), balancer)).toBe('198.51.100.1');
    expect(clientAddress(request('::ffff:10.0.0.5', '198.51.100.1, 192.0.2.7, 10.9.9.9'), balancer)).toBe('198.51.100.1');
    expect(clientAddress(request('fd00::1', '2001:db8::42'), balancer)).toBe('2001:db8::42');
  });

  it('never believes what the client wrote to the left of the first untrusted hop', () => {
    // The client sent "1.1.1.1" itself; the balancer appended the address it really saw.
    expect(clientAddress(request('10.0.0.5', '1.1.1.1, 198.51.100.1'), balancer)).toBe('198.51.100.1');
  });

  it('joins repeated headers and reads hops with ports', () => {
    expect(clientAddress(request('10.0.0.5', ['1.1.1.1', '198.51.100.1:4711']), balancer)).toBe('198.51.100.1');
    expect(clientAddress(request('10.0.0.5', '[2001:db8::42]:443'), balancer)).toBe('2001:db8::42');
  });

  it('stops at a hop that is no address and keeps the last vouched-for one', () => {
    expect(clientAddress(request('10.0.0.5', 'unknown'), balancer)).toBe('10.0.0.5');
    expect(clientAddress(request('10.0.0.5', '198.51.100.1, garbage, 10.0.0.6'), balancer)).toBe('10.0.0.6');
    expect(clientAddress(request('10.0.0.5'), balancer)).toBe('10.0.0.5');
  });

  it('is the leftmost hop when every hop is trusted', () => {
    expect(clientAddress(request('10.0.0.5', '10.0.0.7, 10.0.0.6'), balancer)).toBe('10.0.0.7');
  });

  it('refuses a trusted-proxy entry that is not an address or range, naming the variable', () => {
    expect(() => new TrustedProxies(['10.0.0.0/33'])).toThrow(TrustedProxyError);
    expect(() => new TrustedProxies(['lb.example.com'])).toThrow(TrustedProxyError);
    expect(() => new TrustedProxies(['10.0.0.1/8/2'])).toThrow(TrustedProxyError);
    expect(() => loadConfig(trustedProxyConfig, { TRUSTED_PROXIES: '10.0.0.0/8, nope' })).toThrow(ConfigError);
    expect(loadConfig(trustedProxyConfig, {}).TRUSTED_PROXIES.trusts('127.0.0.1')).toBe(false);
    expect(loadConfig(trustedProxyConfig, { TRUSTED_PROXIES: '127.0.0.1,::1' }).TRUSTED_PROXIES.trusts('::1')).toBe(true);
  });
});
