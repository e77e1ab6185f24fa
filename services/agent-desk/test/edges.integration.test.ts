// The desk's public edge over real HTTP: the per-address sign-in limit behind a trusted load
// balancer and against forged X-Forwarded-For, Secure cookies and HSTS from an https public
// URL, and /metrics kept off the public port without its bearer token.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { dropDatabase, MONGODB_URI, testAuthEnv, testContext, uniqueId } from '#libs/testing';
import { agentDeskConfig, startAgentDesk, type RunningAgentDesk } from '../src/service';

const PASSWORD = 'correct horse battery';
const METRICS_TOKEN = randomBytes(24).toString('hex');
const database = uniqueId('desk_edges').replace(/-/g, '_');
const behindProxy = testContext('agent-desk-proxied');
const direct = testContext('agent-desk-direct');
let proxied: RunningAgentDesk;
let plain: RunningAgentDesk;

const start = (ctx: typeof direct, env: Record<string, string>) =>
  startAgentDesk(
    ctx,
    loadConfig(agentDeskConfig, {
      AGENT_DESK_FOLLOW_DELIVERIES: 'false',
      MONGODB_URI,
      HTTP_PORT: '0',
      ...testAuthEnv('agent-desk'),
      AGENT_DESK_SESSION_SECRET: 'agent-desk-edges-test-secret-0123456789',
      STAFF_DB: database,
      AGENT_DESK_SIGNIN_MAX_PER_IP: '3',
      AGENT_DESK_SIGNIN_MAX_PER_ID: '100',
      ROUTING_GRPC_ADDR: '127.0.0.1:9',
      CUSTOMER_RECORD_GRPC_ADDR: '127.0.0.1:9',
      ...env,
    }),
  );

beforeAll(async () => {
  proxied = await start(behindProxy, { TRUSTED_PROXIES: '127.0.0.1,::1', AGENT_DESK_PUBLIC_URL: 'https://desk.example.com', METRICS_TOKEN });
  plain = await start(direct, { TRUSTED_PROXIES: '10.0.0.0/8' });
  await proxied.roster.upsert({ id: 'sue', name: 'Sue Park', role: 'supervisor' }, PASSWORD);
});

afterAll(async () => {
  await Promise.all([behindProxy.stop(), direct.stop()]);
  await dropDatabase(database);
});

/** A sign-in attempt as a browser behind the balancer makes it; each with an id of its own, so only the address limit counts. */
function signIn(desk: RunningAgentDesk, forwardedFor: string | undefined, id = uniqueId('guess').toLowerCase(), password = 'wrong password!!') {
  const base = `http://127.0.0.1:${desk.port}`;
  return fetch(`${base}/api/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    body: JSON.stringify({ id, password }),
  });
}

describe('agent desk edge', () => {
  it('behind a trusted load balancer, limits sign-in attempts per client, not for the whole floor', async () => {
    for (let i = 0; i < 3; i++) expect((await signIn(proxied, '198.51.100.1')).status).toBe(401);
    expect((await signIn(proxied, '198.51.100.1')).status).toBe(429);
    // A client on the other side of the same balancer still signs in.
    expect((await signIn(proxied, '198.51.100.2')).status).toBe(401);
    expect((await signIn(proxied, '203.0.113.7, 198.51.100.3', 'sue', PASSWORD)).status).toBe(200);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy: a forged header stays in its bucket', async () => {
    for (let i = 0; i < 3; i++) expect((await signIn(plain, `198.51.100.${10 + i}`)).status).toBe(401);
    expect((await signIn(plain, '198.51.100.99')).status).toBe(429);
    expect((await signIn(plain, undefined)).status).toBe(429);
  });

  it('sends Secure cookies and Strict-Transport-Security when the public URL is https, neither over http', async () => {
    const res = await signIn(proxied, '198.51.100.40', 'sue', PASSWORD);
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/; Secure$/);
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000');
    const page = await fetch(`http://127.0.0.1:${proxied.port}/`);
    expect(page.headers.get('strict-transport-security')).toBe('max-age=31536000');
    expect((await fetch(`http://127.0.0.1:${plain.port}/`)).headers.get('strict-transport-security')).toBeNull();
  });

  it('serves /metrics only with the bearer token, and not at all without one configured; health stays open', async () => {
    const base = `http://127.0.0.1:${proxied.port}`;
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const scraped = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('process_cpu');
    const unguarded = await fetch(`http://127.0.0.1:${plain.port}/metrics`);
    expect(unguarded.status).toBe(404);
    expect(await unguarded.text()).not.toContain('process_cpu');
    expect((await fetch(`http://127.0.0.1:${plain.port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${plain.port}/readyz`)).status).toBe(200);
  });
});

describe('agent desk cookie settings', () => {
  it('lets an operator turn Secure cookies and HSTS off for an https public URL', () => {
    const config = loadConfig(agentDeskConfig, {
      ...testAuthEnv('agent-desk'),
      AGENT_DESK_SESSION_SECRET: 'x'.repeat(32),
      AGENT_DESK_PUBLIC_URL: 'https://desk.example.com',
      AGENT_DESK_SECURE_COOKIE: 'false',
      AGENT_DESK_HSTS: 'no',
    });
    expect(config).toMatchObject({ AGENT_DESK_SECURE_COOKIE: false, AGENT_DESK_HSTS: false });
    const unset = loadConfig(agentDeskConfig, { ...testAuthEnv('agent-desk'), AGENT_DESK_SESSION_SECRET: 'x'.repeat(32) });
    expect([unset.AGENT_DESK_SECURE_COOKIE, unset.AGENT_DESK_HSTS]).toEqual([undefined, undefined]);
    expect(() =>
      loadConfig(agentDeskConfig, { ...testAuthEnv('agent-desk'), AGENT_DESK_SESSION_SECRET: 'x'.repeat(32), AGENT_DESK_SECURE_COOKIE: 'maybe' }),
    ).toThrow(/AGENT_DESK_SECURE_COOKIE: must be true or false/);
  });
});
