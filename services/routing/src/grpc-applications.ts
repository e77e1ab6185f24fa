// The integration API's calls: it reads conversations and acts on them for an application
// named in each request (only its service token may make these calls; the grants are in
// grpc.ts). What an application may do is the core's (core/applications.ts).
import { channelName } from '#libs/contact';
import type { RoutingServiceServer } from '#libs/proto';
import { InvalidArgumentError, NotFoundError } from '#libs/service/grpc-errors';
import { checkFilter, conversationPage, liveConversation, type ConversationFilter } from './conversation-list';
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
    startConversation: unary('StartConversation', [], async (_caller, req) => {
      const channel = channelName(req.channel);
      if (!channel) throw new InvalidArgumentError('channel is not a known channel');
      if (!req.recipient?.value) throw new InvalidArgumentError('recipient is required');
      if (!/^conv-[A-Za-z0-9-]{1,80}$/.test(req.conversationId))
        throw new InvalidArgumentError('conversation_id must be conv- and up to 80 letters, digits or -');
      if (!req.customerId || req.reference.length > 20) throw new InvalidArgumentError('customer_id is required; reference is at most 20 characters');
      const { engine, runner } = current();
      const started = await runner.run(() =>
        engine.startConversation({
          ...req,
          application: application(req.application),
          channel,
          recipient: req.recipient!,
          subject: req.subject,
          text: req.text,
        }),
      );
      return { conversation: liveConversation(started.conversation, engine.policy), outboundMessageId: started.messageId, created: started.created };
    }),
  };
}
