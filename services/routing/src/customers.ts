// Customer flags and account manager from customer-record, when that service is configured.
// Routing works without it (no flags); a slow or failing look-up never holds a contact back.
import { credentials } from '@grpc/grpc-js';
import { bearerMetadata } from '../../../libs/auth';
import { flagsOn } from '../../../libs/contact';
import { CustomerRecordServiceClient, type ContactReceived, type GetCustomerContextResponse } from '../../../libs/proto';
import { unaryCall } from '../../../libs/service';
import type { Logger } from '../../../libs/observability';
import { errorDetails } from '../../../libs/observability';
import type { CustomerInfo } from './core/engine';

export type CustomerLookup = (contact: ContactReceived) => Promise<CustomerInfo>;

export const noCustomerLookup: CustomerLookup = async () => ({});

/**
 * After this many failed look-ups in a row, customer-record is not asked for a while: contacts
 * are routed without flags at once instead of each waiting out the deadline.
 */
const FAILURES_BEFORE_PAUSE = 5;
const PAUSE_MS = 5000;

export function customerRecordLookup(address: string, token: () => Promise<string>, logger: Logger, timeoutMs = 250): { lookup: CustomerLookup; close(): void } {
  const client = new CustomerRecordServiceClient(address, credentials.createInsecure());
  let failures = 0;
  let pausedUntil = 0;
  const lookup: CustomerLookup = async (contact) => {
    if (!contact.sender || Date.now() < pausedUntil) return {};
    try {
      const request = { customerId: '', identity: contact.sender, recentConversations: 1, conversationId: contact.conversationId, reason: '' };
      const response = await unaryCall(client, client.getCustomerContext, request, bearerMetadata(await token()), timeoutMs);
      failures = 0;
      return customerInfo(response);
    } catch (err) {
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

export function customerInfo(response: GetCustomerContextResponse): CustomerInfo {
  return {
    customerId: response.customer?.customerId,
    name: response.customer?.displayName,
    flags: flagsOn(response),
    accountManagerId: response.account?.managerAgentId || undefined,
  };
}
