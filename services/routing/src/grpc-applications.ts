// The integration API's calls: it reads conversations and acts on them for an application
// named in each request (only its service token may make these calls; the grants are in
// grpc.ts). What an application may do is the core's (core/applications.ts).
import { channelName } from '#libs/contact';
import type { Caller, Role } from '#libs/auth';
import { type RoutingServiceServer, type StartConversationRequest, Tier } from '#libs/proto';
import { InvalidArgumentError, NotFoundError } from '#libs/service/grpc-errors';
import { checkFilter, conversationPage, liveConversation, type ConversationFilter } from './conversation-list';
import type { Starter } from './core/outreach';
import type { HandlerDeps } from './grpc-calls';

type ApplicationCalls = Pick<
  RoutingServiceServer,
  'listConversations' | 'getConversation' | 'postApplicationMessage' | 'addNote' | 'resolveForApplication' | 'transferForApplication' | 'startConversation'
>;

const APPLICATION = /^[a-z0-9-]{1,40}$/;

function application(name: string): string {
  if (!APPLICATION.test(name)) throw new InvalidArgumentError('application must be 1-40 of a-z, 0-9 and -');
  return name;
}

/** People who may write first to a customer; a supervisor also sends notices to lists. */
const STARTERS: Role[] = ['agent', 'expert', 'supervisor'];
const SKILL = /^[a-z0-9_-]{1,40}$/;

/** The integration API starts for the application it names; a person starts as themselves, for a queue's skill. */
function starterOf(caller: Caller, req: StartConversationRequest, tier: Tier | undefined): Starter {
  if (caller.role === 'service') {
    if (req.skill || req.noticeId) throw new InvalidArgumentError('skill and notice_id are for a person starting a conversation');
    return { application: application(req.application) };
  }
  if (req.application) throw new InvalidArgumentError('application is for the integration API; a person starts as themselves');
  if (req.skill && !SKILL.test(req.skill)) throw new InvalidArgumentError('skill must be 1-40 of a-z, 0-9, _ and -');
  if (req.noticeId && (caller.role !== 'supervisor' || !/^[A-Za-z0-9-]{1,40}$/.test(req.noticeId)))
    throw new InvalidArgumentError('notice_id is 1-40 letters, digits or -, and only a supervisor sends notices');
  return { staffId: caller.id, tier: tier ?? Tier.TIER_FRONT_OFFICE, skill: req.skill, noticeId: req.noticeId };
}

function requestId(id: string): string {
  if (id.length > 200 || /\s/.test(id)) throw new InvalidArgumentError('request_id must be at most 200 characters without spaces');
  return id;
}

export function applicationHandlers({ current, unary }: HandlerDeps): ApplicationCalls {
  return {
    listConversations: unary('ListConversations', [], async (_caller, req) => {
      checkFilter(req);
      const { engine } = current();
      const { page, nextPageToken } = conversationPage(engine.conversations.values(), req as ConversationFilter);
      return { conversations: page.map((c) => liveConversation(c, engine.policy)), nextPageToken };
    }),
    getConversation: unary('GetConversation', [], async (_caller, req) => {
      const { engine } = current();
      const conv = engine.conversationState(req.conversationId);
      if (!conv) throw new NotFoundError(`conversation ${req.conversationId} is unknown`);
      return { conversation: liveConversation(conv, engine.policy) };
    }),
    postApplicationMessage: unary('PostApplicationMessage', [], async (_caller, req) => {
      const { engine, runner } = current();
      const a = { application: application(req.application), conversationId: req.conversationId, requestId: requestId(req.requestId) };
      const { messageId } = await runner.run(() => engine.applicationReply({ ...a, text: req.text, subject: req.subject.slice(0, 500) }));
      return { outboundMessageId: messageId };
    }),
    addNote: unary('AddNote', [], async (_caller, req) => {
      const { engine, runner } = current();
      const a = { application: application(req.application), conversationId: req.conversationId, requestId: requestId(req.requestId) };
      const { noteId } = await runner.run(() => engine.addNote({ ...a, text: req.text }));
      return { noteId };
    }),
    resolveForApplication: unary('ResolveForApplication', [], async (_caller, req) => {
      const { engine, runner } = current();
      await runner.run(() =>
        engine.applicationResolve({ application: application(req.application), conversationId: req.conversationId, disposition: req.disposition }),
      );
      return {};
    }),
    transferForApplication: unary('TransferForApplication', [], async (_caller, req) => {
      if (Boolean(req.toAgentId) === Boolean(req.toQueue)) throw new InvalidArgumentError('give exactly one of to_agent_id and to_queue');
      const { engine, runner } = current();
      const target = { toAgentId: req.toAgentId || undefined, toQueue: req.toQueue || undefined, note: req.note };
      await runner.run(() => engine.applicationTransfer({ application: application(req.application), conversationId: req.conversationId, target }));
      return {};
    }),
    startConversation: unary('StartConversation', STARTERS, async (caller, req) => {
      const channel = channelName(req.channel);
      if (!channel) throw new InvalidArgumentError('channel is not a known channel');
      if (!req.recipient?.value) throw new InvalidArgumentError('recipient is required');
      if (!/^conv-[A-Za-z0-9-]{1,80}$/.test(req.conversationId))
        throw new InvalidArgumentError('conversation_id must be conv- and up to 80 letters, digits or -');
      if (!req.customerId || req.reference.length > 20) throw new InvalidArgumentError('customer_id is required; reference is at most 20 characters');
      const { engine, runner } = current();
      const starter = starterOf(caller, req, engine.agents.get(caller.id)?.tier);
      const started = await runner.run(() =>
        engine.startConversation({ ...req, starter, channel, recipient: req.recipient!, subject: req.subject, text: req.text }),
      );
      return { conversation: liveConversation(started.conversation, engine.policy), outboundMessageId: started.messageId, created: started.created };
    }),
  };
}
