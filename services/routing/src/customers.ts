// Customer flags and account manager from customer-record, when that service is configured.
// Routing works without it (no flags); a slow or failing look-up never holds a contact back.
import { credentials, status } from '@grpc/grpc-js';
import { bearerMetadata, serviceTokenSource } from '#libs/auth';
import { flagsOn, senderMayActForOthers } from '#libs/contact';
import { CustomerRecordServiceClient, type ContactReceived, type GetCustomerContextResponse } from '#libs/proto';
import { unaryCall, type ServiceContext } from '#libs/service';
import type { Logger } from '#libs/observability';
import { errorDetails } from '#libs/observability';
import type { RoutingConfig } from './config';
import type { CustomerInfo } from './core/engine';

export type CustomerLookup = (contact: ContactReceived) => Promise<CustomerInfo>;

const noCustomerLookup: CustomerLookup = async () => ({});

/** The configured look-up: customer-record's, closed with the service, or none when it has no address. */
export function configuredCustomerLookup(ctx: ServiceContext, config: RoutingConfig): CustomerLookup {
  // checkRoutingConfig refuses an address without routing's own key.
  if (!config.CUSTOMER_RECORD_GRPC_ADDR || !config.AUTH_PRIVATE_KEY_FILE) return noCustomerLookup;
  const token = serviceTokenSource(config.AUTH_PRIVATE_KEY_FILE, 'customer-record');
  const client = customerRecordLookup(config.CUSTOMER_RECORD_GRPC_ADDR, token, ctx.logger, config.ROUTING_CUSTOMER_LOOKUP_TIMEOUT_MS);
  ctx.onStop('customer-record client', () => client.close());
  return client.lookup;
}

/**
 * After this many failed look-ups in a row, customer-record is not asked for a while: contacts
 * are routed without flags at once instead of each waiting out the deadline.
 */
const FAILURES_BEFORE_PAUSE = 5;
const PAUSE_MS = 5000;

export function customerRecordLookup(
  address: string,
  token: () => Promise<string>,
  logger: Logger,
  timeoutMs = 250,
): { lookup: CustomerLookup; close(): void } {
  const client = new CustomerRecordServiceClient(address, credentials.createInsecure());
  let failures = 0;
  let pausedUntil = 0;
  const lookup: CustomerLookup = async (contact) => {
    if (!contact.sender || Date.now() < pausedUntil) return {};
    try {
      // A contact made for a customer under a mandate is routed with that customer's flags and account manager.
      const onBehalfOf = senderMayActForOthers(contact) ? contact.onBehalfOf : undefined;
      const request = { customerId: '', identity: contact.sender, recentConversations: 1, conversationId: contact.conversationId, reason: '', onBehalfOf };
      const response = await unaryCall(client, client.getCustomerContext, request, bearerMetadata(await token()), timeoutMs);
      failures = 0;
      return customerInfo(response);
    } catch (err) {
      // A sender customer-record does not know yet is an answer: a new customer, without flags.
      if ((err as { code?: number }).code === status.NOT_FOUND) {
        failures = 0;
        return {};
      }
      failures += 1;
      if (failures >= FAILURES_BEFORE_PAUSE && Date.now() >= pausedUntil) {
        pausedUntil = Date.now() + PAUSE_MS;
        logger.warn({ failures, pauseMs: PAUSE_MS, ...errorDetails(err) }, 'customer-record keeps failing; routing without customer flags for a while');
      } else if (failures < FAILURES_BEFORE_PAUSE) {
        logger.warn({ conversationId: contact.conversationId, ...errorDetails(err) }, 'customer-record look-up failed; routing without customer flags');
      }
      return {};
    }
  };
  return { lookup, close: () => client.close() };
}

function customerInfo(response: GetCustomerContextResponse): CustomerInfo {
  return {
    customerId: response.customer?.customerId,
    name: response.customer?.displayName,
    flags: flagsOn(response),
    accountManagerId: response.account?.managerAgentId || undefined,
  };
}
