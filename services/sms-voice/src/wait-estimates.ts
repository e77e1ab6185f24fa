// Routing's estimate of a queued caller's wait, over gRPC. A caller must never be kept from the
// queue by a slow or absent routing service, so any failure falls back to the SLA target.
import { credentials } from '@grpc/grpc-js';
import { bearerMetadata, serviceTokenSource, type SigningKey } from '../../../libs/auth';
import { errorDetails, type Logger } from '../../../libs/observability';
import { RoutingServiceClient } from '../../../libs/proto';
import { unaryCall } from '../../../libs/service';

export interface WaitEstimate {
  position: number;
  estimatedWaitMs: number;
}

export type WaitEstimates = (conversationId: string) => Promise<WaitEstimate | undefined>;

export const noWaitEstimates: WaitEstimates = async () => undefined;

export function routingWaitEstimates(address: string, signer: SigningKey, logger: Logger, timeoutMs = 500): { estimate: WaitEstimates; close(): void } {
  const client = new RoutingServiceClient(address, credentials.createInsecure());
  const token = serviceTokenSource(signer, 'routing');
  const estimate: WaitEstimates = async (conversationId) => {
    try {
      const res = await unaryCall(client, client.getWaitEstimate, { conversationId }, bearerMetadata(await token()), timeoutMs);
      return { position: res.position, estimatedWaitMs: res.estimatedWaitMs };
    } catch (err) {
      logger.warn({ conversationId, ...errorDetails(err) }, 'routing wait estimate unavailable; telling the caller the SLA target');
      return undefined;
    }
  };
  return { estimate, close: () => client.close() };
}
