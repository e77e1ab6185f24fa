// Routing's estimate of a queued caller's wait, over gRPC. A caller must never be kept from the
// queue by a slow or absent routing service, so any failure falls back to the SLA target.
import { credentials } from '@grpc/grpc-js';
import { bearerMetadata, serviceTokenSource, type SigningKey } from '#libs/auth';
import { errorDetails, type Logger } from '#libs/observability';
import { RoutingServiceClient } from '#libs/proto';
import { ConfigError } from '#libs/config';
import { routingChannel, unaryCall } from '#libs/service';
import type { SmsVoiceConfig } from './config';

export interface WaitEstimate {
  position: number;
  estimatedWaitMs: number;
  /** While the queue is closed: what the caller is told of the opening, and the weekly hours. */
  closedNotice?: string;
  hours?: string;
}

export type WaitEstimates = (conversationId: string) => Promise<WaitEstimate | undefined>;

export const noWaitEstimates: WaitEstimates = async () => undefined;

export function routingWaitEstimates(address: string, signer: SigningKey, logger: Logger, timeoutMs = 500): { estimate: WaitEstimates; close(): void } {
  const channel = routingChannel(address);
  const client = new RoutingServiceClient(channel.target, credentials.createInsecure(), channel.options);
  const token = serviceTokenSource(signer, 'routing');
  const estimate: WaitEstimates = async (conversationId) => {
    try {
      const res = await unaryCall(client, client.getWaitEstimate, { conversationId }, bearerMetadata(await token()), timeoutMs);
      return { position: res.position, estimatedWaitMs: res.estimatedWaitMs, closedNotice: res.closedNotice, hours: res.hours };
    } catch (err) {
      logger.warn({ conversationId, ...errorDetails(err) }, 'routing wait estimate unavailable; telling the caller the SLA target');
      return undefined;
    }
  };
  return { estimate, close: () => client.close() };
}

/** Routing's estimates when ROUTING_GRPC_ADDR is set, signed with sms-voice's own key; undefined without it. */
export function routingWaitEstimatesFor(
  config: Pick<SmsVoiceConfig, 'ROUTING_GRPC_ADDR' | 'AUTH_PRIVATE_KEY_FILE'>,
  logger: Logger,
): ReturnType<typeof routingWaitEstimates> | undefined {
  if (!config.ROUTING_GRPC_ADDR) return undefined;
  if (!config.AUTH_PRIVATE_KEY_FILE)
    throw new ConfigError([
      { variable: 'AUTH_PRIVATE_KEY_FILE', message: 'must be set when ROUTING_GRPC_ADDR is: sms-voice signs its calls to routing with its own key' },
    ]);
  return routingWaitEstimates(config.ROUTING_GRPC_ADDR, config.AUTH_PRIVATE_KEY_FILE, logger);
}
