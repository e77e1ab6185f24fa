// The gRPC services behind the read endpoints, called as the integration API itself with a
// short-lived service token: routing for queue figures, customer-record for customers and for
// ended conversations (its search index keeps every conversation; routing only the open ones).
import { credentials } from '@grpc/grpc-js';
import { bearerMetadata, serviceTokenSource, type SigningKey } from '#libs/auth';
import {
  CustomerRecordServiceClient,
  RoutingServiceClient,
  type GetCustomerRequest,
  type GetCustomerResponse,
  type GetHistoryRequest,
  type GetHistoryResponse,
  type QueueStats,
  type SearchConversationsRequest,
  type SearchConversationsResponse,
} from '#libs/proto';
import { routingChannel, unaryCall } from '#libs/service';
import { UnavailableProblem } from './problems';

export interface Backends {
  queueStats(): Promise<QueueStats[]>;
  customer(request: GetCustomerRequest): Promise<GetCustomerResponse>;
  history(request: GetHistoryRequest): Promise<GetHistoryResponse>;
  recordedConversations(request: SearchConversationsRequest): Promise<SearchConversationsResponse>;
  close(): void;
}

export interface BackendSettings {
  routing?: string;
  customerRecord?: string;
  signer?: SigningKey;
  timeoutMs: number;
}

export function grpcBackends(settings: BackendSettings): Backends {
  const { signer, timeoutMs } = settings;
  const notConfigured = (what: string) => Promise.reject(new UnavailableProblem(`${what} is not configured on this instance`, 60));
  const routingTarget = settings.routing ? routingChannel(settings.routing) : undefined;
  const routing = routingTarget && signer ? new RoutingServiceClient(routingTarget.target, credentials.createInsecure(), routingTarget.options) : undefined;
  const customers = settings.customerRecord && signer ? new CustomerRecordServiceClient(settings.customerRecord, credentials.createInsecure()) : undefined;
  const routingToken = signer && serviceTokenSource(signer, 'routing');
  const customerToken = signer && serviceTokenSource(signer, 'customer-record');
  return {
    async queueStats() {
      if (!routing || !routingToken) return notConfigured('routing');
      return (await unaryCall(routing, routing.getQueueStats, {}, bearerMetadata(await routingToken()), timeoutMs)).queues;
    },
    async customer(request) {
      if (!customers || !customerToken) return notConfigured('customer-record');
      return unaryCall(customers, customers.getCustomer, request, bearerMetadata(await customerToken()), timeoutMs);
    },
    async history(request) {
      if (!customers || !customerToken) return notConfigured('customer-record');
      return unaryCall(customers, customers.getHistory, request, bearerMetadata(await customerToken()), timeoutMs);
    },
    async recordedConversations(request) {
      if (!customers || !customerToken) return notConfigured('customer-record');
      return unaryCall(customers, customers.searchConversations, request, bearerMetadata(await customerToken()), timeoutMs);
    },
    close() {
      routing?.close();
      customers?.close();
    },
  };
}
