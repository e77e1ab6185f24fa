// Routing's queue statistics over gRPC, called as a service with a short-lived token.
import { credentials, Metadata } from '@grpc/grpc-js';
import { issueToken } from '../../../libs/auth';
import { channelToJSON, RoutingServiceClient, type GetQueueStatsResponse } from '../../../libs/proto';
import { toQueueStat, type QueueStat } from './charts';

export interface QueueStatsSource {
  fetch(): Promise<QueueStat[]>;
  close(): void;
}

export function routingQueueStats(address: string, secret: string, serviceId: string, timeoutMs = 2000): QueueStatsSource {
  const client = new RoutingServiceClient(address, credentials.createInsecure());
  let token: { value: string; expiresAt: number } | undefined;
  const bearer = async () => {
    if (!token || token.expiresAt < Date.now() + 60_000) token = { value: await issueToken(secret, { id: serviceId, role: 'service' }, 3600), expiresAt: Date.now() + 3600_000 };
    return token.value;
  };
  return {
    async fetch() {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${await bearer()}`);
      const response = await new Promise<GetQueueStatsResponse>((resolve, reject) =>
        client.getQueueStats({}, metadata, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res))),
      );
      return response.queues.map((q) => toQueueStat({ ...q, channel: channelToJSON(q.channel) }));
    },
    close: () => client.close(),
  };
}
