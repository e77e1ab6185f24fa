// routingChannel's service config: behind one name, a standby's UNAVAILABLE is retried on the
// next address until the active instance answers.
import { Server, ServerCredentials, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { RoutingServiceClient, RoutingServiceService, type GetQueueStatsResponse } from '../proto';
import { routingChannel, unaryCall } from './grpc';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.tryShutdown(() => r()))));
});

/** A RoutingService that answers getQueueStats as the active instance or as a standby does. */
async function routing(active: boolean, calls: { n: number }): Promise<number> {
  const server = new Server();
  server.addService(RoutingServiceService, {
    getQueueStats: (_call: unknown, done: (err: Partial<ServiceError> | null, res?: GetQueueStatsResponse) => void) => {
      calls.n++;
      if (active) done(null, { queues: [], lowScoreFollowUps: [] });
      else done({ code: status.UNAVAILABLE, details: 'this is not the active routing instance; reconnect' });
    },
  } as never);
  servers.push(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return port;
}

describe('routingChannel', () => {
  it('reaches the active instance among standbys behind one name', async () => {
    const standby = { n: 0 };
    const active = { n: 0 };
    const ports = [await routing(false, standby), await routing(true, active), await routing(false, standby)];
    // The dns: target of routingChannel resolves one name to several addresses; ipv4: lists them here.
    const { options } = routingChannel('127.0.0.1:1');
    const client = new RoutingServiceClient(`ipv4:${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, credentials.createInsecure(), options);
    try {
      for (let i = 0; i < 6; i++)
        await expect(unaryCall(client, client.getQueueStats, {}, new Metadata(), 5000)).resolves.toEqual({ queues: [], lowScoreFollowUps: [] });
      expect(active.n).toBe(6);
      expect(standby.n).toBeGreaterThan(0);
    } finally {
      client.close();
    }
  });

  it('gives up with UNAVAILABLE when no instance is active', async () => {
    const calls = { n: 0 };
    const { options } = routingChannel('127.0.0.1:1');
    const client = new RoutingServiceClient(`ipv4:127.0.0.1:${await routing(false, calls)}`, credentials.createInsecure(), options);
    try {
      await expect(unaryCall(client, client.getQueueStats, {}, new Metadata(), 5000)).rejects.toMatchObject({ code: status.UNAVAILABLE });
      expect(calls.n).toBe(4);
    } finally {
      client.close();
    }
  });

  it('names the address as a dns: target', () => {
    expect(routingChannel('routing:50052').target).toBe('dns:///routing:50052');
  });
});
