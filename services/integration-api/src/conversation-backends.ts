// Routing's calls behind the /v1/conversations routes, made as the integration API itself with a
// short-lived service token; each names the application of the API key the request came with.
import { credentials } from '@grpc/grpc-js';
import { bearerMetadata, serviceTokenSource, type SigningKey } from '#libs/auth';
import {
  RoutingServiceClient,
  type AddNoteRequest,
  type AddNoteResponse,
  type GetConversationResponse,
  type ListConversationsRequest,
  type ListConversationsResponse,
  type PostApplicationMessageRequest,
  type PostApplicationMessageResponse,
  type ResolveForApplicationRequest,
  type StartConversationRequest,
  type StartConversationResponse,
  type TransferForApplicationRequest,
} from '#libs/proto';
import { routingChannel, unaryCall } from '#libs/service';
import { UnavailableProblem } from './problems';

export interface ConversationBackend {
  list(request: ListConversationsRequest): Promise<ListConversationsResponse>;
  get(conversationId: string): Promise<GetConversationResponse>;
  postMessage(request: PostApplicationMessageRequest): Promise<PostApplicationMessageResponse>;
  addNote(request: AddNoteRequest): Promise<AddNoteResponse>;
  resolve(request: ResolveForApplicationRequest): Promise<void>;
  transfer(request: TransferForApplicationRequest): Promise<void>;
  start(request: StartConversationRequest): Promise<StartConversationResponse>;
  close(): void;
}

export function grpcConversationBackend(settings: { routing?: string; signer?: SigningKey; timeoutMs: number }): ConversationBackend {
  const { signer, timeoutMs } = settings;
  const target = settings.routing ? routingChannel(settings.routing) : undefined;
  const client = target && signer ? new RoutingServiceClient(target.target, credentials.createInsecure(), target.options) : undefined;
  const token = signer && serviceTokenSource(signer, 'routing');
  const call = async <Req, Res>(pick: (c: RoutingServiceClient) => Parameters<typeof unaryCall<Req, Res>>[1], request: Req): Promise<Res> => {
    if (!client || !token) throw new UnavailableProblem('routing is not configured on this instance', 60);
    return unaryCall(client, pick(client), request, bearerMetadata(await token()), timeoutMs);
  };
  return {
    list: (request) => call((c) => c.listConversations, request),
    get: (conversationId) => call((c) => c.getConversation, { conversationId }),
    postMessage: (request) => call((c) => c.postApplicationMessage, request),
    addNote: (request) => call((c) => c.addNote, request),
    resolve: async (request) => void (await call((c) => c.resolveForApplication, request)),
    transfer: async (request) => void (await call((c) => c.transferForApplication, request)),
    start: (request) => call((c) => c.startConversation, request),
    close: () => client?.close(),
  };
}
