import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config';
import { closeServer, createOpsHandler, listen, metricsConfig, Readiness } from './http';
import { createMetricsRegistry } from './metrics';

const TOKEN = 'metrics-token-0123456789-abcdefghijklmnop';
const servers: http.Server[] = [];
const serve = async (handler: ReturnType<typeof createOpsHandler>) => {
  const server = http.createServer((req, res) => handler(req, res) || res.writeHead(404).end('not found'));
  servers.push(server);
  return `http://127.0.0.1:${await listen(server, 0)}`;
};
let guarded: string;
let unguarded: string;
let internal: string;

beforeAll(async () => {
  const registry = createMetricsRegistry('ops-handler-test');
  guarded = await serve(createOpsHandler(registry, new Readiness(), { publicPort: { metricsToken: TOKEN } }));
  unguarded = await serve(createOpsHandler(registry, new Readiness(), { publicPort: {} }));
  internal = await serve(createOpsHandler(registry, new Readiness()));
});
afterAll(async () => {
  await Promise.all(servers.map(closeServer));
});

describe('operational paths on a public port', () => {
  it('answers /metrics only to the bearer token there', async () => {
    expect((await fetch(`${guarded}/metrics`)).status).toBe(401);
    expect((await fetch(`${guarded}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await fetch(`${guarded}/metrics`, { headers: { authorization: `Basic ${TOKEN}` } })).status).toBe(401);
    const ok = await fetch(`${guarded}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('process_cpu');
  });

  it('does not serve /metrics at all without a token; health, readiness and internal ports stay as they were', async () => {
    expect((await fetch(`${unguarded}/metrics`)).status).toBe(404);
    for (const base of [guarded, unguarded]) {
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    }
    expect((await fetch(`${internal}/metrics`)).status).toBe(200);
  });

  it('reads METRICS_TOKEN: empty is unset, a short one is refused', () => {
    expect(loadConfig(metricsConfig, { METRICS_TOKEN: '' }).METRICS_TOKEN).toBeUndefined();
    expect(loadConfig(metricsConfig, { METRICS_TOKEN: TOKEN }).METRICS_TOKEN).toBe(TOKEN);
    expect(() => loadConfig(metricsConfig, { METRICS_TOKEN: 'short' })).toThrow(ConfigError);
  });
});

describe('further probes', () => {
  it('answer like /readyz from their own check, which /readyz does not include', async () => {
    let active = false;
    const readiness = new Readiness();
    readiness.add('can take over', () => true);
    const base = await serve(
      createOpsHandler(createMetricsRegistry('probe-test'), readiness, { probes: { '/activez': () => ({ ready: active, detail: 'standby' }) } }),
    );
    const standby = await fetch(`${base}/activez`);
    expect(standby.status).toBe(503);
    expect(await standby.json()).toEqual({ ready: false, checks: { activez: false }, details: { activez: 'standby' } });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    active = true;
    expect((await fetch(`${base}/activez`)).status).toBe(200);
  });
});
