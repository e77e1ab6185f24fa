// Routing's queue statistics over gRPC, called as a service with a short-lived token.
import { credentials } from '@grpc/grpc-js';
import { bearerMetadata, serviceTokenSource, type SigningKey } from '#libs/auth';
import { channelToJSON, RoutingServiceClient } from '#libs/proto';
import { routingChannel, unaryCall } from '#libs/service';
import { toQueueStat, type QueueStat } from './charts';

export interface QueueStatsSource {
  fetch(): Promise<QueueStat[]>;
  close(): void;
}

export function routingQueueStats(address: string, signer: SigningKey, timeoutMs = 2000): QueueStatsSource {
  const channel = routingChannel(address);
  const client = new RoutingServiceClient(channel.target, credentials.createInsecure(), channel.options);
  const token = serviceTokenSource(signer, 'routing');
  return {
    async fetch() {
      const response = await unaryCall(client, client.getQueueStats, {}, bearerMetadata(await token()), timeoutMs);
      return response.queues.map((q) => toQueueStat({ ...q, channel: channelToJSON(q.channel) }));
    },
    close: () => client.close(),
  };
}
