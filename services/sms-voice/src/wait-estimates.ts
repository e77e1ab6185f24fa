// Routing's estimate of a queued caller's wait, over gRPC. A caller must never be kept from the
// queue by a slow or absent routing service, so any failure falls back to the SLA target.
import { credentials, Metadata } from '@grpc/grpc-js';
import { serviceTokenSource } from '../../../libs/auth';
import { errorDetails, type Logger } from '../../../libs/observability';
import { RoutingServiceClient, type GetWaitEstimateResponse } from '../../../libs/proto';

export interface WaitEstimate {
  position: number;
  estimatedWaitMs: number;
}

export type WaitEstimates = (conversationId: string) => Promise<WaitEstimate | undefined>;

export const noWaitEstimates: WaitEstimates = async () => undefined;

export function routingWaitEstimates(address: string, secret: string, logger: Logger, timeoutMs = 500): { estimate: WaitEstimates; close(): void } {
  const client = new RoutingServiceClient(address, credentials.createInsecure());
  const token = serviceTokenSource(secret, 'sms-voice');
  const estimate: WaitEstimates = async (conversationId) => {
    try {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${await token()}`);
      const res = await new Promise<GetWaitEstimateResponse>((resolve, reject) =>
        client.getWaitEstimate({ conversationId }, metadata, { deadline: Date.now() + timeoutMs }, (err, r) => (err ? reject(err) : resolve(r))),
      );
      return { position: res.position, estimatedWaitMs: res.estimatedWaitMs };
    } catch (err) {
      logger.warn({ conversationId, ...errorDetails(err) }, 'routing wait estimate unavailable; telling the caller the SLA target');
      return undefined;
    }
  };
  return { estimate, close: () => client.close() };
}
