import { afterAll, describe, expect, it } from 'vitest';
import { ChannelCredentials, makeGenericClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { testContext } from '../testing';
import { serveOps } from './ops';
import { startGrpcServer } from './grpc';

describe('health, readiness and metrics', () => {
  const ctx = testContext('ops-test');
  afterAll(() => ctx.stop());

  it('serves /healthz, /readyz following its checks, and Prometheus /metrics', async () => {
    let storeUp = false;
    ctx.readiness.add('store', () => storeUp);
    const port = await serveOps(ctx, 0, '127.0.0.1');
    const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);

    expect((await get('/healthz')).status).toBe(200);
    const notReady = await get('/readyz');
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ ready: false, checks: { store: false } });
    storeUp = true;
    expect((await get('/readyz')).status).toBe(200);
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toContain('process_cpu_user_seconds_total{service="ops-test"}');
    expect((await get('/nothing')).status).toBe(404);
  });

  it('answers the standard gRPC health check', async () => {
    const { port } = await startGrpcServer(ctx, { host: '127.0.0.1', port: 0 }, ['contactcenter.v1.Example'], () => {});
    const HealthClient = makeGenericClientConstructor(healthService as ServiceDefinition, 'Health');
    const client = new HealthClient(`127.0.0.1:${port}`, ChannelCredentials.createInsecure()) as unknown as {
      check(req: { service: string }, cb: (err: Error | null, res: { status: string }) => void): void;
      close(): void;
    };
    const answer = await new Promise<{ status: string }>((resolve, reject) =>
      client.check({ service: 'contactcenter.v1.Example' }, (err, res) => (err ? reject(err) : resolve(res))),
    );
    expect(answer.status).toBe('SERVING');
    client.close();
  });
});
