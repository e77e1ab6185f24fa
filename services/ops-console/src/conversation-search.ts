// customer-record's conversation search over gRPC, each call signed with the signed-in person's
// own token (ops or supervisor), so customer-record decides what they see (ops: metadata only)
// and audits who searched. Its refusals come back as the console's HTTP errors, in its words.
import { credentials, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { bearerMetadata, tokenSource, type Caller, type SigningKey } from '#libs/auth';
import {
  CustomerRecordServiceClient,
  type EraseCustomerRequest,
  type EraseCustomerResponse,
  type ExportCustomerRequest,
  type ExportCustomerResponse,
  type FindCustomersRequest,
  type FindCustomersResponse,
  type SearchConversationsRequest,
  type SearchConversationsResponse,
  type StreamCustomerExportRequest,
  type StreamCustomerExportResponse,
} from '#libs/proto';
import { unaryCall } from '#libs/service';
import { BadRequestError, ForbiddenError, HttpError, NotFoundError } from '#libs/web';

export interface ConversationSearch {
  search(caller: Caller, req: SearchConversationsRequest): Promise<SearchConversationsResponse>;
  /** The data-protection officer's requests (privacy-routes.ts), on the same client. */
  exportCustomer(caller: Caller, req: ExportCustomerRequest): Promise<ExportCustomerResponse>;
  eraseCustomer(caller: Caller, req: EraseCustomerRequest): Promise<EraseCustomerResponse>;
  findCustomers(caller: Caller, req: FindCustomersRequest): Promise<FindCustomersResponse>;
  /** The export's chunks as customer-record sends them; its refusal comes as the stream's error. */
  exportStream(caller: Caller, req: StreamCustomerExportRequest): Promise<ClientReadableStream<StreamCustomerExportResponse>>;
  close(): void;
}

/** How long an export may take to arrive whole. */
const EXPORT_DEADLINE_MS = 10 * 60_000;
/** A look-up by name scans the customers (see docs/customer-record.md): it gets longer than other calls. */
const FIND_DEADLINE_MS = 30_000;

export function refusal(err: ServiceError): HttpError {
  if (err.code === status.INVALID_ARGUMENT) return new BadRequestError(err.details);
  if (err.code === status.PERMISSION_DENIED) return new ForbiddenError(err.details);
  if (err.code === status.NOT_FOUND) return new NotFoundError(err.details);
  if (err.code === status.FAILED_PRECONDITION) return new HttpError(409, err.details);
  return new HttpError(503, 'customer-record is not answering; try again');
}

function refused(err: ServiceError): never {
  throw refusal(err);
}

export function customerRecordSearch(address: string, signer: SigningKey, timeoutMs = 5000): ConversationSearch {
  const client = new CustomerRecordServiceClient(address, credentials.createInsecure());
  const tokens = new Map<string, () => Promise<string>>();
  const token = (caller: Caller) => {
    const key = `${caller.role}:${caller.id}`;
    let source = tokens.get(key);
    if (!source) tokens.set(key, (source = tokenSource(signer, caller, 'customer-record')));
    return source();
  };
  return {
    async search(caller, req) {
      return unaryCall(client, client.searchConversations, req, bearerMetadata(await token(caller)), timeoutMs).catch(refused);
    },
    async exportCustomer(caller, req) {
      return unaryCall(client, client.exportCustomer, req, bearerMetadata(await token(caller)), timeoutMs).catch(refused);
    },
    async eraseCustomer(caller, req) {
      return unaryCall(client, client.eraseCustomer, req, bearerMetadata(await token(caller)), timeoutMs).catch(refused);
    },
    async findCustomers(caller, req) {
      return unaryCall(client, client.findCustomers, req, bearerMetadata(await token(caller)), Math.max(timeoutMs, FIND_DEADLINE_MS)).catch(refused);
    },
    async exportStream(caller, req) {
      return client.streamCustomerExport(req, bearerMetadata(await token(caller)), { deadline: Date.now() + EXPORT_DEADLINE_MS });
    },
    close: () => client.close(),
  };
}
