// Both gRPC services describe themselves over server reflection to a client that has none of
// our stubs or schemas, without a token; the calls it describes still need one.
import { credentials, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoutingServiceClient } from '#libs/proto';
import { dropDatabase, testContext, uniqueId } from '#libs/testing';
import { startHarness, type Harness } from '../../services/customer-record/test/harness';
import { configFor } from '../../services/routing/test/helpers';
import { startRouting } from '../../services/routing/src/service';
import { reflectionClient } from './reflection-client';

describe('gRPC server reflection', () => {
  let customerRecord: Harness;
  const routingCtx = testContext('routing');
  const routingDb = uniqueId('routing_refl').replace(/-/g, '_');
  let routingPort = 0;

  beforeAll(async () => {
    customerRecord = await startHarness({ env: { PROJECTION_ENABLED: 'false' } });
    routingPort = (await startRouting(routingCtx, configFor(routingDb, uniqueId('routing-refl')))).grpcPort;
  }, 60_000);
  afterAll(async () => {
    await routingCtx.stop();
    await customerRecord?.stop();
    if (customerRecord) await dropDatabase(customerRecord.database);
  });

  it('routing lists its service and describes a method and its request, without a token', async () => {
    const reflection = reflectionClient(`127.0.0.1:${routingPort}`);
    try {
      expect(await reflection.listServices()).toEqual(['contactcenter.v1.RoutingService']);
      expect(await reflection.describeMethod('contactcenter.v1.RoutingService.GetQueueStats')).toMatchObject({
        inputType: '.contactcenter.v1.GetQueueStatsRequest',
        outputType: '.contactcenter.v1.GetQueueStatsResponse',
        serverStreaming: false,
      });
      const watch = await reflection.describeMethod('contactcenter.v1.RoutingService.WatchAssignments');
      expect(watch.serverStreaming).toBe(true);
      expect((await reflection.describeMethod('contactcenter.v1.RoutingService.SetPresence')).inputFields).toEqual(['agent_id', 'presence']);
    } finally {
      reflection.close();
    }
    // What reflection describes is still refused without a token.
    const anonymous = new RoutingServiceClient(`127.0.0.1:${routingPort}`, credentials.createInsecure());
    await expect(new Promise((resolve, reject) => anonymous.getQueueStats({}, (err, r) => (err ? reject(err) : resolve(r))))).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
    });
    anonymous.close();
  });

  it('customer-record lists its service and describes a method and its request, without a token', async () => {
    const reflection = reflectionClient(`127.0.0.1:${customerRecord.service.grpcPort}`);
    try {
      expect(await reflection.listServices()).toEqual(['contactcenter.v1.CustomerRecordService']);
      const method = await reflection.describeMethod('contactcenter.v1.CustomerRecordService.GetHistory');
      expect(method).toMatchObject({ inputType: '.contactcenter.v1.GetHistoryRequest', outputType: '.contactcenter.v1.GetHistoryResponse' });
      expect(method.inputFields).toContain('customer_id');
      await expect(reflection.describeMethod('contactcenter.v1.NoSuchService.Call')).rejects.toThrow(/refused/);
    } finally {
      reflection.close();
    }
    await expect(customerRecord.call('getHistory', { customerId: 'c-1' }, null)).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it('is not served with GRPC_REFLECTION=false', async () => {
    const hidden = await startHarness({ env: { PROJECTION_ENABLED: 'false', GRPC_REFLECTION: 'false' } });
    const reflection = reflectionClient(`127.0.0.1:${hidden.service.grpcPort}`);
    try {
      await expect(reflection.listServices()).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
    } finally {
      reflection.close();
      await hidden.stop();
      await dropDatabase(hidden.database);
    }
  });
});
