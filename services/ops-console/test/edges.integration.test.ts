// The console's public edge over real HTTP: the per-address sign-in limit behind a trusted load
// balancer and against forged X-Forwarded-For, Secure cookies and HSTS when its origin is
// https, and /metrics kept off the public port without its bearer token.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueId } from '#libs/testing';
import { PASSWORD, startHarness, type Harness } from './harness';

const ORIGIN = 'https://ops.example.com';
const METRICS_TOKEN = randomBytes(24).toString('hex');
let proxied: Harness;
let plain: Harness;

beforeAll(async () => {
  [proxied, plain] = await Promise.all([
    startHarness({ TRUSTED_PROXIES: '127.0.0.1,::1', OPS_CONSOLE_ORIGIN: ORIGIN, OPS_CONSOLE_SIGNIN_MAX_PER_IP: '3', METRICS_TOKEN }),
    startHarness({ TRUSTED_PROXIES: '10.0.0.0/8', OPS_CONSOLE_SIGNIN_MAX_PER_IP: '3' }),
  ]);
});
afterAll(async () => {
  await Promise.all([proxied?.stop(), plain?.stop()]);
});

/** A sign-in attempt, each with an id of its own so only the address limit counts. */
function signIn(h: Harness, origin: string, forwardedFor: string | undefined, id = uniqueId('guess').toLowerCase(), password = 'wrong password!!') {
  return fetch(`${h.console.url}/api/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    body: JSON.stringify({ id, password }),
  });
}

describe('ops console edge', () => {
  it('behind a trusted load balancer, limits sign-in attempts per client, not for everyone behind it', async () => {
    for (let i = 0; i < 3; i++) expect((await signIn(proxied, ORIGIN, '198.51.100.1')).status).toBe(401);
    expect((await signIn(proxied, ORIGIN, '198.51.100.1')).status).toBe(429);
    expect((await signIn(proxied, ORIGIN, '198.51.100.2')).status).toBe(401);
    const ops = await signIn(proxied, ORIGIN, '198.51.100.3', proxied.ids.ops, PASSWORD);
    expect(ops.status).toBe(200);
    // The origin is https: the cookie is Secure and the answer carries HSTS.
    expect(ops.headers.get('set-cookie')).toMatch(/; Secure$/);
    expect(ops.headers.get('strict-transport-security')).toBe('max-age=31536000');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy, and sends no HSTS over http', async () => {
    const origin = plain.console.url;
    for (let i = 0; i < 3; i++) expect((await signIn(plain, origin, `198.51.100.${20 + i}`)).status).toBe(401);
    const forged = await signIn(plain, origin, '198.51.100.99');
    expect(forged.status).toBe(429);
    expect(forged.headers.get('strict-transport-security')).toBeNull();
  });

  it('serves /metrics only with the bearer token, and not at all without one configured; health stays open', async () => {
    expect((await fetch(`${proxied.console.url}/metrics`)).status).toBe(401);
    const scraped = await fetch(`${proxied.console.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('process_cpu');
    expect((await fetch(`${plain.console.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${plain.console.url}/healthz`)).status).toBe(200);
  });
});
