// gRPC to routing and customer-record, each call signed with the signed-in person's own token,
// so the services see (and audit) who asked, with that person's role.
import { credentials, status, type ClientReadableStream, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { bearerMetadata, tokenSource, type Audience, type Role, type SigningKey } from '#libs/auth';
import { routingChannel, unaryCall, type UnaryMethod } from '#libs/service';
import { injectContext, inSpan, SpanKind } from '#libs/tracing';
import type { CustomerRef } from './forms';
import {
  CustomerRecordServiceClient,
  RoutingServiceClient,
  type GetCustomerContextResponse,
  type GetPromiseResponse,
  type SetPromiseRequest,
  type SetPromiseResponse,
  type GetHistoryResponse,
  type GetQueueStatsResponse,
  type GetWaitEstimateResponse,
  type ListAgentsResponse,
  type OpenAttachmentResponse,
  type RegisterAgentRequest,
  type ReplyResponse,
  type SearchConversationsRequest,
  type SearchConversationsResponse,
  type SetPresenceResponse,
  type StartConversationRequest,
  type StartConversationResponse,
  type WatchAssignmentsResponse,
  type Presence,
  type Attachment,
} from '#libs/proto';

export interface Caller {
  id: string;
  role: Role;
}

/** A failed call with the service's status, for the HTTP layer to answer in words. */
export class BackendError extends Error {
  constructor(
    readonly service: 'routing' | 'customer-record',
    readonly code: status,
    readonly details: string,
  ) {
    super(`${service}: ${details}`);
    this.name = 'BackendError';
  }
}

type Unary<Req, Res> = UnaryMethod<Req, Res>;

export class Backends {
  readonly routing: InstanceType<typeof RoutingServiceClient>;
  readonly record: InstanceType<typeof CustomerRecordServiceClient>;
  private readonly tokens = new Map<string, () => Promise<string>>();

  constructor(
    routingAddr: string,
    recordAddr: string,
    private readonly signer: SigningKey,
    private readonly timeoutMs = 5000,
  ) {
    const channel = routingChannel(routingAddr);
    this.routing = new RoutingServiceClient(channel.target, credentials.createInsecure(), channel.options);
    this.record = new CustomerRecordServiceClient(recordAddr, credentials.createInsecure());
  }

  close(): void {
    this.routing.close();
    this.record.close();
  }

  /** The person's own token for one service (10 minutes long, renewed at half its life) as call metadata. */
  private async metadata(caller: Caller, audience: Audience): Promise<Metadata> {
    const key = `${audience}:${caller.role}:${caller.id}`;
    let token = this.tokens.get(key);
    if (!token) this.tokens.set(key, (token = tokenSource(this.signer, caller, audience)));
    return bearerMetadata(await token());
  }

  private async call<Req, Res>(service: 'routing' | 'customer-record', caller: Caller, method: Unary<Req, Res>, client: object, req: Req): Promise<Res> {
    const md = await this.metadata(caller, service);
    // A CLIENT span whose context rides in the metadata: routing links it to the conversation's trace.
    return inSpan(`desk call ${service}`, { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'grpc', 'rpc.service': service } }, () => {
      injectContext((name, value) => md.set(name, value));
      return unaryCall(client, method, req, md, this.timeoutMs).catch((err: ServiceError) => {
        throw new BackendError(service, err.code, err.details || err.message);
      });
    });
  }

  private r<Req, Res>(caller: Caller, method: Unary<Req, Res>, req: Req): Promise<Res> {
    return this.call('routing', caller, method, this.routing, req);
  }

  registerAgent(caller: Caller, req: RegisterAgentRequest) {
    return this.r(caller, this.routing.registerAgent as unknown as Unary<RegisterAgentRequest, unknown>, req);
  }
  setPresence(caller: Caller, presence: Presence): Promise<SetPresenceResponse> {
    return this.r(caller, this.routing.setPresence as unknown as Unary<object, SetPresenceResponse>, { agentId: '', presence });
  }
  accept(caller: Caller, conversationId: string) {
    return this.r(caller, this.routing.acceptOffer as unknown as Unary<object, unknown>, { conversationId });
  }
  decline(caller: Caller, conversationId: string) {
    return this.r(caller, this.routing.declineOffer as unknown as Unary<object, unknown>, { conversationId });
  }
  reply(caller: Caller, conversationId: string, text: string, subject: string, attachments: Attachment[] = []): Promise<ReplyResponse> {
    return this.r(caller, this.routing.reply as unknown as Unary<object, ReplyResponse>, { conversationId, text, subject, attachments });
  }
  escalate(caller: Caller, conversationId: string, note: string, skill: string) {
    return this.r(caller, this.routing.escalate as unknown as Unary<object, unknown>, { conversationId, note, skill });
  }
  transfer(caller: Caller, conversationId: string, toAgentId: string, toQueue: string, note: string) {
    return this.r(caller, this.routing.transfer as unknown as Unary<object, unknown>, { conversationId, toAgentId, toQueue, note });
  }
  handBack(caller: Caller, conversationId: string, note: string) {
    return this.r(caller, this.routing.handBack as unknown as Unary<object, unknown>, { conversationId, note });
  }
  resolve(caller: Caller, conversationId: string, disposition: string) {
    return this.r(caller, this.routing.resolve as unknown as Unary<object, unknown>, { conversationId, disposition });
  }
  reassign(caller: Caller, conversationId: string, toAgentId: string) {
    return this.r(caller, this.routing.reassign as unknown as Unary<object, unknown>, { conversationId, toAgentId });
  }
  setPromise(caller: Caller, req: SetPromiseRequest): Promise<SetPromiseResponse> {
    return this.r(caller, this.routing.setPromise as unknown as Unary<SetPromiseRequest, SetPromiseResponse>, req);
  }
  getPromise(caller: Caller, conversationId: string): Promise<GetPromiseResponse> {
    return this.r(caller, this.routing.getPromise as unknown as Unary<object, GetPromiseResponse>, { conversationId });
  }
  waitEstimate(caller: Caller, conversationId: string): Promise<GetWaitEstimateResponse> {
    return this.r(caller, this.routing.getWaitEstimate as unknown as Unary<object, GetWaitEstimateResponse>, { conversationId });
  }
  queueStats(caller: Caller): Promise<GetQueueStatsResponse> {
    return this.r(caller, this.routing.getQueueStats as unknown as Unary<object, GetQueueStatsResponse>, {});
  }
  /** A conversation the person starts (routing authors its first message as them). */
  startConversation(caller: Caller, req: StartConversationRequest): Promise<StartConversationResponse> {
    return this.r(caller, this.routing.startConversation as unknown as Unary<StartConversationRequest, StartConversationResponse>, req);
  }
  /** The queues' opening hours (a supervisor's): JSON, as routing keeps and checks them. */
  calendars(caller: Caller): Promise<{ calendarsJson: string }> {
    return this.r(caller, this.routing.getCalendars as unknown as Unary<object, { calendarsJson: string }>, {});
  }
  setCalendars(caller: Caller, calendarsJson: string): Promise<{ calendarsJson: string }> {
    return this.r(caller, this.routing.setCalendars as unknown as Unary<object, { calendarsJson: string }>, { calendarsJson });
  }
  listAgents(caller: Caller): Promise<ListAgentsResponse> {
    return this.r(caller, this.routing.listAgents as unknown as Unary<object, ListAgentsResponse>, {});
  }

  /** The agent's live stream of offers, assignments and customer messages. */
  async watch(caller: Caller): Promise<ClientReadableStream<WatchAssignmentsResponse>> {
    return this.routing.watchAssignments({}, await this.metadata(caller, 'routing'));
  }

  /**
   * The customer card of a conversation. customer-record checks that the conversation is the
   * caller's (agents, experts) and that the customer is its customer; with no ref it reads the
   * conversation's own customer. A supervisor's reason is passed on and audited there.
   */
  customerContext(caller: Caller, ref: CustomerRef | null, conversationId: string, reason = ''): Promise<GetCustomerContextResponse> {
    return this.call('customer-record', caller, this.record.getCustomerContext as unknown as Unary<object, GetCustomerContextResponse>, this.record, {
      customerId: ref && 'customerId' in ref ? ref.customerId : '',
      identity: ref && 'identity' in ref ? ref.identity : undefined,
      recentConversations: 5,
      conversationId,
      reason,
    });
  }

  /** Conversations the caller may find (customer-record decides what each role sees), audited there. */
  searchConversations(caller: Caller, req: SearchConversationsRequest): Promise<SearchConversationsResponse> {
    return this.call('customer-record', caller, this.record.searchConversations as unknown as Unary<object, SearchConversationsResponse>, this.record, req);
  }

  /** May this person open this file of this conversation? customer-record decides and audits (refusals too). */
  openAttachment(caller: Caller, conversationId: string, storageRef: string, reason = ''): Promise<OpenAttachmentResponse> {
    return this.call('customer-record', caller, this.record.openAttachment as unknown as Unary<object, OpenAttachmentResponse>, this.record, {
      conversationId,
      storageRef,
      reason,
    });
  }

  history(caller: Caller, customerId: string, conversationId: string, reason = ''): Promise<GetHistoryResponse> {
    return this.call('customer-record', caller, this.record.getHistory as unknown as Unary<object, GetHistoryResponse>, this.record, {
      customerId,
      pageSize: 200,
      pageToken: '',
      channel: 0,
      conversationId,
      reason,
    });
  }
}
